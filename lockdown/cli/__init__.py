"""The ``lockdown`` command line: parse argv, call one command, map errors to exit codes.

No logic lives here: each command is ``run(args, reporter)`` in its module
of :mod:`lockdown.commands`, imported only when it runs; it returns a result
that :func:`lockdown.report.emit` says and turns into the exit code. The
grammar is :mod:`lockdown.cli.args`, the fast argv path for cron checks
:mod:`lockdown.cli.fast`. Errors are caught in one place (:func:`main`) and
printed as one line, with a traceback only under ``--verbose``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, NoReturn

from lockdown.cli.fast import fast_check_args
from lockdown.errors import EXIT_INTERNAL, EXIT_OK, LockdownError
from lockdown.progress import Reporter
from lockdown.report import emit

if TYPE_CHECKING:
    import argparse

    # What a command's function receives: argparse's namespace, or a namespace
    # with the same attributes from fast_check_args.
    from argparse import Namespace as Args

    from lockdown.report import DriftResult
    from lockdown.report.results import Result

__all__ = ["HANDLERS", "build_parser", "fast_check_args", "main", "main_entry"]

Handler = Callable[["Args", Reporter], "Result | DriftResult"]


def _command(name: str) -> Handler:
    """The ``run`` of :mod:`lockdown.commands.<name>`, imported when the command runs."""

    def run(args: Args, reporter: Reporter) -> Result | DriftResult:
        result: Result | DriftResult = import_module(f"lockdown.commands.{name}").run(
            args, reporter
        )
        return result

    run.__name__ = run.__qualname__ = f"run_{name}"
    return run


#: Each command's function, by the name argparse stores in ``command``.
HANDLERS: dict[str, Handler] = {
    name: _command(name)
    for name in (
        "init",
        "lock",
        "diff",
        "approve",
        "export",
        "keygen",
        "sign",
        "verify",
        "install",
        "guard",
        "check",
        "audit",
    )
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser (see :func:`lockdown.cli.args.build_parser`)."""
    from lockdown.cli.args import build_parser as build  # noqa: PLC0415

    return build(command)


def main(argv: Sequence[str] | None = None) -> int:
    """Run lockdown with ``argv``; return the exit code (never raises)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args_list or "--verbose" in args_list
    try:
        args: Args | None = fast_check_args(args_list)
        if args is None:
            first = args_list[0] if args_list else None
            args = build_parser(first).parse_args(args_list)
        if args.command != "check":
            import gc  # noqa: PLC0415 - lockdown.cli._entry turned it off for start-up

            gc.enable()
        reporter = Reporter(quiet=args.quiet)
        return emit(HANDLERS[args.command](args, reporter), quiet=args.quiet)
    except LockdownError as exc:
        if verbose:
            import traceback  # noqa: PLC0415 - only --verbose shows one

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
            import traceback  # noqa: PLC0415 - only --verbose shows one

            traceback.print_exc()
        print(
            f"lockdown: internal error: {type(exc).__name__}: {exc} "
            "(run with --verbose for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL


def main_entry() -> NoReturn:
    """Console-script entry point: run, flush, and leave without interpreter teardown.

    Everything lockdown writes is complete before :func:`main` returns (files
    are written atomically and fsynced, worker pools are joined), so the
    interpreter's shutdown — garbage-collecting every module, a sizeable part
    of a cron ``check`` — has nothing left to do; native extensions that crash
    while being torn down (py-rattler) cannot turn a result into a failure.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (BrokenPipeError, ValueError):  # a reader that went away; a closed stream
            pass
        except OSError:
            code = code or EXIT_INTERNAL  # output that could not be written is a failure
    os._exit(code)
