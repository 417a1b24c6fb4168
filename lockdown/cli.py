"""The ``lockdown`` command line: parse argv, call one function, map errors to exit codes.

No logic lives here. Every command is a small function that calls into the
library; errors are caught in one place (:func:`main`) and printed as one line,
with a traceback only under ``--verbose``.
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from lockdown import __version__
from lockdown.errors import EXIT_CHANGED, EXIT_INTERNAL, EXIT_OK, LockdownError, UsageError
from lockdown.progress import Reporter

Handler = Callable[[argparse.Namespace, Reporter], int]


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit 64, in lockdown's one-line style."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}", hint=f"see {self.prog} --help")


def _common() -> _Parser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--project",
        type=Path,
        default=Path.cwd(),
        metavar="DIR",
        help="the project directory (default: the current directory)",
    )
    common.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")
    common.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    return common


def _cmd_lock(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.lock.run import check_lock, lock_project  # noqa: PLC0415

    if args.check:
        outcome = check_lock(args.project, resolver=args.resolver)
        if outcome.current:
            if not args.quiet:
                print(f"{outcome.path.name} is up to date")
            return EXIT_OK
        print(f"lockdown: {outcome.reason}; run lockdown lock", file=sys.stderr)
        return EXIT_CHANGED
    result = lock_project(
        args.project,
        resolver=args.resolver,
        reporter=reporter,
        cache_dir=args.cache_dir,
        verify_artifacts=not args.insecure_no_verify_artifacts,
    )
    if not args.quiet:
        from lockdown.report.lock_summary import summarize  # noqa: PLC0415

        print(summarize(result))
    return EXIT_OK


def _cmd_export(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.config import load_config  # noqa: PLC0415
    from lockdown.fsutil import atomic_write  # noqa: PLC0415
    from lockdown.lock.export import Selection, render_export  # noqa: PLC0415
    from lockdown.lock.pylock import read_lock  # noqa: PLC0415

    if args.lock is not None:
        path = args.lock
    else:
        config, _ = load_config(args.project)
        path = config.output_path
    lock = read_lock(path)
    if args.python is not None:
        from lockdown.env.interpreter import marker_environment  # noqa: PLC0415

        environment = marker_environment(args.python)
    else:
        from packaging.markers import default_environment  # noqa: PLC0415

        environment = {str(k): str(v) for k, v in default_environment().items()}
    selection = Selection(
        environment=environment, extras=args.extra or (), groups=args.group or None
    )
    text = render_export(lock, selection, args.format)
    if args.output is None:
        sys.stdout.write(text)
    else:
        atomic_write(args.output, text.encode("utf-8"))
        reporter.note(f"wrote {args.output}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (also used to render --help in docs)."""
    common = _common()
    parser = _Parser(
        prog="lockdown",
        description="Hashed, signed lockfiles; exact installs; drift checks; gated upgrades.",
    )
    parser.add_argument("--version", action="version", version=f"lockdown {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    lock = sub.add_parser(
        "lock",
        parents=[common],
        help="resolve the project into a hashed PEP 751 pylock.toml",
        description="Resolve pyproject.toml (or lockdown.toml) into pylock.toml: every "
        "artifact pinned by URL, size and sha256, for every configured environment.",
        epilog="examples:\n  lockdown lock\n  lockdown lock --check   "
        "# exit 1 if pylock.toml is stale (no network)\n"
        "  lockdown lock --resolver pip-tools",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lock.add_argument(
        "--check",
        action="store_true",
        help="exit 0 if the lock is current with its inputs, 1 if not; never resolves",
    )
    lock.add_argument(
        "--resolver", choices=("uv", "pip-tools"), help="override the configured resolver"
    )
    lock.add_argument(
        "--cache-dir",
        type=Path,
        metavar="DIR",
        help="the content-addressed artifact cache (default: $LOCKDOWN_CACHE_DIR or the "
        "user cache dir)",
    )
    lock.add_argument(
        "--insecure-no-verify-artifacts",
        action="store_true",
        help="trust the index's declared hashes without downloading the files to check them",
    )
    lock.set_defaults(handler=_cmd_lock)

    export = sub.add_parser(
        "export",
        parents=[common],
        help="write the lock as requirements.txt (with hashes) or constraints",
        description="Export the packages of the lock that apply to one environment "
        "(default: the running interpreter) as a pip requirements file with "
        "--hash lines, or as a constraints file.",
        epilog="examples:\n  lockdown export --format requirements > requirements.txt\n"
        "  pip install --require-hashes -r requirements.txt\n"
        "  lockdown export --format constraints --python /usr/bin/python3.12 -o c.txt",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    export.add_argument("--format", choices=("requirements", "constraints"), default="requirements")
    export.add_argument("--lock", type=Path, metavar="FILE", help="the lock file to export")
    export.add_argument(
        "--python", metavar="EXE", help="export for this interpreter's platform and version"
    )
    export.add_argument("--extra", action="append", metavar="NAME", help="include an extra")
    export.add_argument(
        "--group", action="append", metavar="NAME", help="include a dependency group"
    )
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)"
    )
    export.set_defaults(handler=_cmd_export)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run lockdown with ``argv``; return the exit code (never raises)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args_list or "--verbose" in args_list
    try:
        args = build_parser().parse_args(args_list)
        reporter = Reporter(quiet=args.quiet)
        handler: Handler = args.handler
        return handler(args, reporter)
    except LockdownError as exc:
        if verbose:
            traceback.print_exc()
        print(f"lockdown: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except SystemExit as exc:  # --help and --version
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt:
        print("lockdown: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if verbose:
            traceback.print_exc()
        print(
            f"lockdown: internal error: {type(exc).__name__}: {exc} "
            "(run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main_entry() -> NoReturn:
    """Console-script entry point."""
    sys.exit(main())
