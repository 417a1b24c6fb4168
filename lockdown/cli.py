"""The ``lockdown`` command line: parse argv, call one function, map errors to exit codes.

No logic lives here. Every command is a small function that calls into the
library; errors are caught in one place (:func:`main`) and printed as one line,
with a traceback only under ``--verbose``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from lockdown import __version__
from lockdown.errors import (
    EXIT_BLOCKED,
    EXIT_CHANGED,
    EXIT_INTERNAL,
    EXIT_OK,
    LockdownError,
    UsageError,
)
from lockdown.progress import Reporter

if TYPE_CHECKING:
    from lockdown.config import Config

Handler = Callable[[argparse.Namespace, Reporter], int]


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Help with descriptions and examples kept as written, sized to the terminal.

    argparse's own formatter imports :mod:`shutil` just to ask for the terminal
    width, and argparse makes one while parsing; the width is asked here
    directly, so ``check`` from cron does not pay for ``shutil``'s imports.
    """

    def __init__(
        self,
        prog: str,
        indent_increment: int = 2,
        max_help_position: int = 24,
        width: int | None = None,
    ) -> None:
        if width is None:
            width = _columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)


def _columns() -> int:
    """``$COLUMNS``, else the terminal's width, else 80 (what shutil would answer)."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as exit 64, in lockdown's one-line style."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)

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
    if args.upgrade and args.upgrade_package:
        raise UsageError("--upgrade and --upgrade-package cannot be used together")
    result = lock_project(
        args.project,
        resolver=args.resolver,
        reporter=reporter,
        cache_dir=args.cache_dir,
        verify_artifacts=not args.insecure_no_verify_artifacts,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package or (),
    )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if result.blocked:
        count = len(result.gate.blocked)
        print(
            f"lockdown: {count} change{'s' if count != 1 else ''} blocked by policy; "
            f"{result.path.name} unchanged",
            file=sys.stderr,
        )
        sys.stderr.write(render_text(result.gate, admitted=False))
        return EXIT_BLOCKED
    if not args.quiet:
        from lockdown.report.lock_summary import summarize  # noqa: PLC0415

        print(summarize(result))
        if result.gate.changes:
            print("changes:")
            sys.stdout.write(render_text(result.gate))
    return EXIT_OK


def _cmd_approve(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.policy.service import approve  # noqa: PLC0415

    path, approval = approve(
        args.project, args.target, reason=args.reason, by=args.by, expires=args.expires
    )
    if not args.quiet:
        until = f" until {approval.expires:%Y-%m-%d %H:%M} UTC" if approval.expires else ""
        print(
            f"approved {approval.package}{approval.version} by {approval.approved_by}"
            f"{until} -> {path.name}"
        )
    return EXIT_OK


def _cmd_diff(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.fsutil import atomic_write  # noqa: PLC0415
    from lockdown.policy.render import render  # noqa: PLC0415
    from lockdown.policy.service import diff  # noqa: PLC0415

    if args.base is not None and args.new is not None:
        raise UsageError("with --base, give at most one file (the new lock)")
    old, new = (None, args.old) if args.base is not None else (args.old, args.new)
    result = diff(args.project, old=old, new=new, base=args.base)
    text = render(result, args.format)
    if args.output is not None:
        atomic_write(args.output, text.encode("utf-8"))
    elif not args.quiet or result.blocked:
        sys.stdout.write(text)
    return EXIT_BLOCKED if result.blocked else EXIT_OK


def _cmd_init(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.policy.service import init  # noqa: PLC0415

    path = init(args.project, standalone=args.standalone)
    if not args.quiet:
        where = path.name if args.standalone else f"[tool.lockdown] in {path.name}"
        print(f"wrote {where}; review it, then run lockdown lock")
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
        from lockdown.env.python_env import inspect_interpreter  # noqa: PLC0415

        environment = inspect_interpreter(args.python).environment
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


def _optional_config(project: Path) -> Config | None:
    """The project's config when it has one (a bad one is still an error)."""
    # The names are spelled here so a run with no config never imports the config module.
    if not (project / "pyproject.toml").is_file() and not (project / "lockdown.toml").is_file():
        return None
    from lockdown.config import load_config  # noqa: PLC0415

    return load_config(project)[0]


def _target(args: argparse.Namespace, config: Config | None) -> Path:
    if args.file is not None:
        return Path(str(args.file))
    if config is not None:
        return config.output_path
    return Path(args.project) / "pylock.toml"


def _cmd_keygen(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.sign.service import keygen  # noqa: PLC0415

    private, public = keygen(args.keyfile)
    if not args.quiet:
        print(f"wrote {private} (encrypted, mode 0600) and {public}")
    return EXIT_OK


def _cmd_sign(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.sign.service import sign_file  # noqa: PLC0415

    config = _optional_config(args.project)
    path = _target(args, config)
    staging = args.staging or bool(config and config.trust and config.trust.instance.staging)
    with reporter.status(f"signing {path.name}"):
        bundle = sign_file(
            path,
            key=args.key,
            identity_token=args.identity_token,
            staging=staging,
            trust_config=args.trust_config,
            bundle_path=args.bundle,
            notify=reporter.note,
        )
    if not args.quiet:
        print(f"signed {path} -> {bundle}")
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, reporter: Reporter) -> int:
    import dataclasses  # noqa: PLC0415

    from lockdown.sign.service import verify  # noqa: PLC0415
    from lockdown.sign.sigstore_keyless import SigstoreInstance  # noqa: PLC0415
    from lockdown.sign.trust import policy_from_flags  # noqa: PLC0415

    config = _optional_config(args.project)
    path = _target(args, config)
    configured = config.trust if config is not None else None
    base = configured.instance if configured is not None else SigstoreInstance()
    # Flags choose where keyless signatures are checked (replacing the configured
    # choice, since staging, a trusted root and a trust config exclude each other)...
    if args.staging or args.trusted_root or args.trust_config:
        instance = SigstoreInstance(
            staging=args.staging,
            trusted_root=args.trusted_root,
            trust_config=args.trust_config,
            online=args.online,
        )
    else:
        instance = dataclasses.replace(base, online=args.online)
    # ...and signer flags replace the configured signers entirely.
    flags_policy = None
    if args.identity or args.identity_regex or args.issuer or args.key:
        flags_policy = policy_from_flags(
            identities=args.identity or (),
            issuer=args.issuer,
            identity_regex=args.identity_regex or (),
            keys=args.key or (),
            instance=instance,
        )
    elif config is not None and configured is not None:
        config = dataclasses.replace(
            config, trust=dataclasses.replace(configured, instance=instance)
        )
    result = verify(path, config=config, flags_policy=flags_policy, bundle_path=args.bundle)
    if not args.quiet:
        print(f"verified {path}: signed by {result.verified.signer}")
    return EXIT_OK


def _cmd_install(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.env.install import install  # noqa: PLC0415

    config = _optional_config(args.project)
    lock_path = _lock_path(args, config)
    outcome = install(
        Path(lock_path),
        venv=args.venv,
        python=args.python,
        config=config,
        require_signature=args.require_signature,
        extras=args.extra or (),
        groups=args.group,
        allow_build=args.allow_build,
        dry_run=args.dry_run,
        installer=args.installer,
        cache_dir=args.cache_dir,
        notify=reporter.note,
        status=reporter.status,
    )
    plan = outcome.plan
    if not args.quiet:
        if outcome.signer:
            print(f"verified {lock_path}: signed by {outcome.signer}")
        for line in plan.lines():
            print(line)
        target = outcome.python.parent.parent if args.venv else outcome.python
        if plan.in_sync:
            print(
                f"{target} is in sync with {Path(lock_path).name} ({len(plan.selected)} packages)"
            )
        elif args.dry_run:
            print(
                f"would add {len(plan.add)}, change {len(plan.change)}, remove "
                f"{len(plan.remove)} in {target} (dry run: nothing changed)"
            )
        else:
            print(
                f"added {len(plan.add)}, changed {len(plan.change)}, removed {len(plan.remove)} "
                f"in {target}{' (created)' if outcome.created_venv else ''}"
            )
    return EXIT_CHANGED if args.dry_run and not plan.in_sync else EXIT_OK


def _cmd_guard(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.env.guard import install_guard, remove_guard  # noqa: PLC0415

    if args.remove:
        removed = remove_guard(args.venv)
        if not args.quiet:
            print(f"guard removed from {args.venv}" if removed else f"no guard in {args.venv}")
        return EXIT_OK
    config = _optional_config(args.project)
    lock_path = _lock_path(args, config)
    constraints = install_guard(
        args.venv, Path(lock_path), extras=args.extra or (), groups=args.group
    )
    if not args.quiet:
        print(f"guarded {args.venv}: pip there is constrained by {constraints}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace, reporter: Reporter) -> int:
    from lockdown.drift.check import run_check  # noqa: PLC0415
    from lockdown.report.render import render, write_report  # noqa: PLC0415

    started = time.time()
    try:
        config = _optional_config(args.project)
        lock_path = _lock_path(args, config)
        report = run_check(
            Path(lock_path),
            venv=args.venv,
            python=args.python,
            config=config,
            level=args.level,
            extras=args.extra or (),
            groups=args.group,
            require_signature=args.require_signature,
            cache_dir=args.cache_dir,
        )
    except Exception as exc:
        if args.format == "prometheus" and args.output is not None:
            # Monitoring must see a failed check, not a stale "all good".
            from lockdown.report.prometheus import failure_reason, render_failure  # noqa: PLC0415

            code = exc.exit_code if isinstance(exc, LockdownError) else EXIT_INTERNAL
            text = render_failure(
                failure_reason(exc),
                checked_at=started,
                exit_code=code,
                duration_seconds=time.time() - started,
            )
            write_report(text, args.output)
        raise
    if not (args.quiet and args.format == "text" and args.output is None):
        write_report(render(report, args.format), args.output)
    return report.exit_code()


def _selection_args(parser: argparse.ArgumentParser, verb: str) -> None:
    """``--extra`` / ``--group``: which of the lock's extras and dependency groups apply."""
    parser.add_argument("--extra", action="append", metavar="NAME", help=f"{verb} an extra")
    parser.add_argument(
        "--group", action="append", metavar="NAME", help=f"{verb} a dependency group"
    )


def _lock_path(args: argparse.Namespace, config: Config | None) -> Path:
    """``--lock``, else the project's configured lock, else ``pylock.toml`` here."""
    if args.lock is not None:
        return Path(args.lock)
    return config.output_path if config is not None else Path(args.project) / "pylock.toml"


def _add_lock(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``lock`` command's arguments."""
    lock = sub.add_parser(
        "lock",
        parents=[common],
        help="resolve the project into a hashed PEP 751 pylock.toml",
        description="Resolve pyproject.toml (or lockdown.toml) into pylock.toml: every "
        "artifact pinned by URL, size and sha256, for every configured environment.",
        epilog="examples:\n  lockdown lock\n  lockdown lock --check   "
        "# exit 1 if pylock.toml is stale (no network)\n"
        "  lockdown lock --upgrade-package requests\n"
        "  lockdown lock --resolver pip-tools\n"
        "exit 3: a change is blocked by [tool.lockdown.policy]; pylock.toml is unchanged",
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
        "--upgrade",
        action="store_true",
        help="let every package move (default: keep locked versions while they still fit)",
    )
    lock.add_argument(
        "--upgrade-package",
        action="append",
        metavar="NAME",
        help="let this package move (repeatable); the others keep their locked versions",
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


def _add_export(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``export`` command's arguments."""
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
    )
    export.add_argument("--format", choices=("requirements", "constraints"), default="requirements")
    export.add_argument("--lock", type=Path, metavar="FILE", help="the lock file to export")
    export.add_argument(
        "--python", metavar="EXE", help="export for this interpreter's platform and version"
    )
    _selection_args(export, "include")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here (default: stdout)"
    )
    export.set_defaults(handler=_cmd_export)


def _add_keygen(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``keygen`` command's arguments."""
    keygen = sub.add_parser(
        "keygen",
        parents=[common],
        help="create an ECDSA P-256 key pair for signing without Sigstore",
        description="Write KEYFILE (private key, encrypted with a passphrase from "
        "$LOCKDOWN_KEY_PASSWORD or a prompt; mode 0600) and KEYFILE's .pub (public key).",
        epilog="examples:\n  lockdown keygen release.key      # -> release.key + release.pub\n"
        "  LOCKDOWN_KEY_PASSWORD=... lockdown keygen keys/site.key",
    )
    keygen.add_argument("keyfile", type=Path, metavar="KEYFILE")
    keygen.set_defaults(handler=_cmd_keygen)


def _add_sign(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``sign`` command's arguments."""
    sign = sub.add_parser(
        "sign",
        parents=[common],
        help="sign a lock file (Sigstore keyless, or --key) -> FILE.sigstore.json",
        description="Sign FILE (default: the project's pylock.toml) and write a Sigstore "
        "bundle next to it. Without --key: keyless, with the ambient CI identity (GitHub "
        "Actions, GitLab, Buildkite, ...), --identity-token, $SIGSTORE_ID_TOKEN, or a "
        "browser on a terminal.",
        epilog="examples:\n  lockdown sign                       # in CI: keyless\n"
        "  lockdown sign --key release.key     # air-gapped sites\n"
        "  lockdown sign conda-lock.yml",
    )
    sign.add_argument("file", nargs="?", metavar="FILE", help="the file to sign")
    sign.add_argument("--key", type=Path, metavar="KEYFILE", help="sign with this private key")
    sign.add_argument("--identity-token", metavar="TOKEN", help="OIDC identity token (keyless)")
    sign.add_argument("--staging", action="store_true", help="use Sigstore's staging instance")
    sign.add_argument("--trust-config", type=Path, metavar="FILE", help="a private Sigstore")
    sign.add_argument("--bundle", type=Path, metavar="FILE", help="write the bundle here")
    sign.set_defaults(handler=_cmd_sign)


def _add_verify(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``verify`` command's arguments."""
    verify = sub.add_parser(
        "verify",
        parents=[common],
        help="verify a lock file's signature (offline) and what the lock pins",
        description="Verify FILE (default: the project's pylock.toml) against its "
        "FILE.sigstore.json bundle and the trust policy in [tool.lockdown.trust] (or the "
        "signers given as flags, which replace it). Never touches the network unless "
        "--online. For a lock, also checks that every artifact is pinned by sha256.",
        epilog="examples:\n  lockdown verify\n"
        "  lockdown verify --identity https://github.com/acme/svc/.github/workflows/"
        "lock.yml@refs/heads/main \\\n"
        "                  --issuer https://token.actions.githubusercontent.com\n"
        "  lockdown verify --key release.pub",
    )
    verify.add_argument("file", nargs="?", metavar="FILE", help="the file to verify")
    verify.add_argument("--bundle", type=Path, metavar="FILE", help="the bundle to check")
    verify.add_argument("--identity", action="append", metavar="I", help="accepted identity")
    verify.add_argument(
        "--identity-regex", action="append", metavar="RE", help="accepted identity (regex)"
    )
    verify.add_argument("--issuer", metavar="URL", help="the identity's OIDC issuer")
    verify.add_argument(
        "--key", action="append", type=Path, metavar="PUB", help="accepted public key"
    )
    verify.add_argument("--staging", action="store_true", help="Sigstore's staging instance")
    verify.add_argument(
        "--trusted-root", type=Path, metavar="FILE", help="a private Sigstore's trusted root"
    )
    verify.add_argument(
        "--trust-config", type=Path, metavar="FILE", help="a private Sigstore's trust config"
    )
    verify.add_argument(
        "--online", action="store_true", help="refresh Sigstore's trusted root over TUF"
    )
    verify.set_defaults(handler=_cmd_verify)


def _add_install(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``install`` command's arguments."""
    install = sub.add_parser(
        "install",
        parents=[common],
        help="make a venv match the lock exactly (verify everything first)",
        description="Create or sync a virtual environment to the lock: select one artifact "
        "per package for the target interpreter, download and verify ALL of them (sha256 and "
        "size) before changing anything, install them with no index access, remove what the "
        "lock does not list.",
        epilog="examples:\n  lockdown install --venv /srv/app/.venv\n"
        "  lockdown install --python /usr/bin/python3.11 --venv .venv --dry-run\n"
        "  lockdown install --venv .venv --extra postgres --require-signature",
    )
    install.add_argument("--venv", type=Path, metavar="DIR", help="the venv (created if missing)")
    install.add_argument("--python", metavar="EXE", help="the interpreter (for a new venv)")
    install.add_argument("--lock", type=Path, metavar="FILE", help="the lock to install")
    _selection_args(install, "install")
    install.add_argument(
        "--dry-run", action="store_true", help="print the plan; exit 1 if it would change"
    )
    install.add_argument(
        "--require-signature", action="store_true", help="refuse a lock whose signature fails"
    )
    install.add_argument(
        "--allow-build", action="store_true", help="build sdists when there is no wheel"
    )
    install.add_argument("--installer", choices=("uv", "pip"), help="what applies the files")
    install.add_argument("--cache-dir", type=Path, metavar="DIR", help="the artifact cache")
    install.set_defaults(handler=_cmd_install)


def _add_check(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``check`` command's arguments."""
    check = sub.add_parser(
        "check",
        parents=[common],
        help="compare an installed environment with its lock (drift check)",
        description="Compare a venv (or interpreter) with the lock: packages (versions "
        "level), every installed file against its RECORD (files), or against the RECORD "
        "inside the locked, hash-verified wheel (artifacts). Exit code: 0 in sync, else a "
        "bitmask: 1 unexpected, 2 missing, 4 changed version or source, 8 modified files.",
        epilog="examples:\n  lockdown check --venv /srv/app/.venv\n"
        "  lockdown check --python /srv/app/.venv/bin/python --level files\n"
        "  lockdown check --venv /srv/app/.venv --format prometheus \\\n"
        "      --output /var/lib/node_exporter/textfile_collector/lockdown.prom\n"
        "  lockdown check --venv /srv/app/.venv --format json | jq .",
    )
    check.add_argument("--venv", type=Path, metavar="DIR", help="the venv to check")
    check.add_argument("--python", metavar="EXE", help="the interpreter to check")
    check.add_argument("--lock", type=Path, metavar="FILE", help="the lock to compare with")
    check.add_argument("--level", choices=("versions", "files", "artifacts"), default="versions")
    check.add_argument("--format", choices=("text", "json", "prometheus", "junit"), default="text")
    check.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")
    _selection_args(check, "expect")
    check.add_argument(
        "--require-signature", action="store_true", help="refuse a lock that does not verify"
    )
    check.add_argument("--cache-dir", type=Path, metavar="DIR", help="the artifact cache")
    check.set_defaults(handler=_cmd_check)


def _add_guard(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``guard`` command's arguments."""
    guard = sub.add_parser(
        "guard",
        parents=[common],
        help="constrain pip in a venv to the lock's pins",
        description="Write the venv's pip.conf so pip there uses a constraints file made "
        "from the lock: `pip install -U <locked package>` then fails. --remove undoes it.",
        epilog="examples:\n  lockdown guard --venv /srv/app/.venv\n"
        "  lockdown guard --venv /srv/app/.venv --remove",
    )
    guard.add_argument("--venv", type=Path, metavar="DIR", required=True)
    guard.add_argument("--lock", type=Path, metavar="FILE", help="the lock to pin to")
    _selection_args(guard, "pin")
    guard.add_argument("--remove", action="store_true", help="remove the guard")
    guard.set_defaults(handler=_cmd_guard)


def _add_init(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``init`` command's arguments."""
    init = sub.add_parser(
        "init",
        parents=[common],
        help="write a starter [tool.lockdown] (environments, trust, policy)",
        description="Add a commented [tool.lockdown] to pyproject.toml (or write lockdown.toml "
        "with --standalone): environments, trust and the upgrade policy. Existing content "
        "is left as it was; existing lockdown settings are never overwritten.",
        epilog="examples:\n  lockdown init\n  lockdown init --standalone",
    )
    init.add_argument(
        "--standalone", action="store_true", help="write lockdown.toml instead of pyproject.toml"
    )
    init.set_defaults(handler=_cmd_init)


def _add_diff(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``diff`` command's arguments."""
    diff = sub.add_parser(
        "diff",
        parents=[common],
        help="the changes between two locks, judged by policy (exit 3 if any is blocked)",
        description="Compare two locks (or the lock with its version at a git revision) and "
        "judge every change by [tool.lockdown.policy] and the approvals file, offline.",
        epilog="examples:\n  lockdown diff --base origin/main\n"
        "  lockdown diff old/pylock.toml pylock.toml --format markdown",
    )
    diff.add_argument("old", nargs="?", type=Path, help="the old lock (or the new one with --base)")
    diff.add_argument("new", nargs="?", type=Path, help="the new lock (default: the project's)")
    diff.add_argument("--base", metavar="REV", help="the old lock is the one at this git revision")
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("-o", "--output", type=Path, metavar="FILE", help="write the report here")
    diff.set_defaults(handler=_cmd_diff)


def _add_approve(sub: Any, common: argparse.ArgumentParser) -> None:
    """The ``approve`` command's arguments."""
    approve = sub.add_parser(
        "approve",
        parents=[common],
        help="approve a package version for the upgrade gate",
        description="Add an approval to the approvals file (lockdown-approvals.toml): the "
        "next lock admits matching versions until the approval expires.",
        epilog='examples:\n  lockdown approve urllib3==2.6.0 --reason "CVE-2026-1234 fix"\n'
        '  lockdown approve requests==2.33.0 --reason "needed by #412" --by alice '
        "--expires 14d",
    )
    approve.add_argument("target", metavar="NAME==VERSION", help="the package and version")
    approve.add_argument("--reason", required=True, help="why (recorded, and in the lock)")
    approve.add_argument("--by", help="who approves (default: git user.email, else login name)")
    approve.add_argument(
        "--expires", default="30d", help="how long it counts: 14d, 12h, 2w or never (default 30d)"
    )
    approve.set_defaults(handler=_cmd_approve)


#: Each command's name and the function adding its arguments, in ``--help`` order.
_COMMANDS: dict[str, Callable[[Any, argparse.ArgumentParser], None]] = {
    "init": _add_init,
    "lock": _add_lock,
    "diff": _add_diff,
    "approve": _add_approve,
    "export": _add_export,
    "keygen": _add_keygen,
    "sign": _add_sign,
    "verify": _add_verify,
    "install": _add_install,
    "guard": _add_guard,
    "check": _add_check,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser: every command, or only ``command`` (start-up cost for cron runs).

    The full parser is what ``--help`` and any argv not naming a known command
    get; with ``command`` the other commands' parsers are not built at all.
    """
    common = _common()
    parser = _Parser(
        prog="lockdown",
        description="Hashed, signed lockfiles; exact installs; drift checks; gated upgrades.",
    )
    parser.add_argument("--version", action="version", version=f"lockdown {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name, add in _COMMANDS.items():
        if command is None or command not in _COMMANDS or name == command:
            add(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run lockdown with ``argv``; return the exit code (never raises)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    verbose = "-v" in args_list or "--verbose" in args_list
    try:
        first = args_list[0] if args_list else None
        args = build_parser(first).parse_args(args_list)
        reporter = Reporter(quiet=args.quiet)
        handler: Handler = args.handler
        return handler(args, reporter)
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
