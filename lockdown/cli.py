"""The ``lockdown`` command line: parse argv, call one function, map errors to exit codes.

No logic lives here. Every command is a small function that calls into the
library; errors are caught in one place (:func:`main`) and printed as one line,
with a traceback only under ``--verbose``.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence, Sized
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, NoReturn, Protocol, cast

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
    import argparse

    # What a command's function receives: argparse's namespace, or a namespace
    # with the same attributes from fast_check_args.
    from argparse import Namespace as Args
    from typing import TextIO

    from lockdown.config import Config
    from lockdown.drift.model import DriftReport
    from lockdown.lock.condalock import CondaLock
    from lockdown.lock.pylock import LockFile
    from lockdown.policy.advisories import GateAudit
    from lockdown.policy.gate import GateResult

Handler = Callable[["Args", Reporter], int]


def _cmd_lock(args: Args, reporter: Reporter) -> int:
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
    if args.conda is not None:
        return _lock_conda(args, reporter)
    result = lock_project(
        args.project,
        resolver=args.resolver,
        reporter=reporter,
        cache_dir=args.cache_dir,
        verify_artifacts=args.verify_artifacts,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package or (),
    )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if result.blocked:
        _vulnerability_line(result.vulnerabilities, sys.stderr)
        return _blocked(result.gate, result.path)
    if not args.quiet:
        from lockdown.policy.render import render_findings  # noqa: PLC0415
        from lockdown.report.lock_summary import summarize  # noqa: PLC0415

        print(summarize(result))
        if result.gate.changes or result.gate.verdicts:
            # A first lock has no changes, but may have admitted verdicts (a known
            # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
            print("changes:" if result.gate.changes else "admitted:")
            sys.stdout.write(render_text(result.gate))
        elif result.gate.findings:
            print("\n".join(render_findings(result.gate)))
    return EXIT_OK


def _vulnerability_line(audit: GateAudit | None, stream: TextIO, *, always: bool = False) -> None:
    """What the vulnerability rule checked against what (``always``: also when it did not)."""
    if audit is not None and (always or audit.database is not None):
        from datetime import datetime, timezone  # noqa: PLC0415

        print(f"lockdown: {audit.line(datetime.now(timezone.utc))}", file=stream)


def _blocked(gate: GateResult, path: Path) -> int:
    """Print what the gate blocked, and the commands that would admit it; exit 3."""
    from lockdown.policy.render import render_text  # noqa: PLC0415

    count = len(gate.blocked)
    print(
        f"lockdown: {count} change{'s' if count != 1 else ''} blocked by policy; "
        f"{path.name} unchanged",
        file=sys.stderr,
    )
    sys.stderr.write(render_text(gate, admitted=False))
    return EXIT_BLOCKED


def _lock_conda(args: Args, reporter: Reporter) -> int:
    from lockdown.conda.lock import lock_conda  # noqa: PLC0415

    if args.check or args.resolver:
        raise UsageError(
            "--conda locks with py-rattler; --check and --resolver apply to Python locks only"
        )
    environment = Path(args.project) / args.conda if args.conda else None
    with reporter.status("solving the conda environment"):
        outcome = lock_conda(
            Path(args.project),
            environment_file=environment,
            upgrade=args.upgrade,
            upgrade_packages=args.upgrade_package or (),
            reporter=reporter,
        )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if outcome.blocked:
        _vulnerability_line(outcome.vulnerabilities, sys.stderr)
        return _blocked(outcome.gate, outcome.path)
    if not args.quiet:
        names = {p.name for p in outcome.packages}
        print(
            f"locked {len(names)} conda packages ({len(outcome.packages)} archives, md5 and "
            f"sha256 pinned) for {', '.join(outcome.platforms)} -> {outcome.path.name} "
            f"({'updated' if outcome.changed else 'unchanged'})"
        )
        _vulnerability_line(outcome.vulnerabilities, sys.stdout, always=True)
        if outcome.gate.changes or outcome.gate.verdicts:
            # A first lock has no changes, but may have admitted verdicts (a known
            # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
            print("changes:" if outcome.gate.changes else "admitted:")
            sys.stdout.write(render_text(outcome.gate))
    return EXIT_OK


def _cmd_approve(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.approve import approve  # noqa: PLC0415

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


def _cmd_diff(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.diff import diff  # noqa: PLC0415
    from lockdown.fsutil import atomic_write  # noqa: PLC0415
    from lockdown.policy.render import render  # noqa: PLC0415

    if args.base is not None and args.new is not None:
        raise UsageError("with --base, give at most one file (the new lock)")
    old, new = (None, args.old) if args.base is not None else (args.old, args.new)
    result = diff(args.project, old=old, new=new, base=args.base, notify=reporter.note)
    text = render(result, args.format)
    if args.output is not None:
        atomic_write(args.output, text.encode("utf-8"))
    elif not args.quiet or result.blocked:
        sys.stdout.write(text)
    return EXIT_BLOCKED if result.blocked else EXIT_OK


def _cmd_init(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.init import init  # noqa: PLC0415
    from lockdown.lock.run import plan_environments  # noqa: PLC0415

    path = init(
        args.project,
        standalone=args.standalone,
        plan_environments=lambda project: plan_environments(project, reporter),
    )
    if not args.quiet:
        where = path.name if args.standalone else f"[tool.lockdown] in {path.name}"
        print(f"wrote {where}; review it, then run lockdown lock")
    return EXIT_OK


def _cmd_export(args: Args, reporter: Reporter) -> int:
    from lockdown.fsutil import atomic_write  # noqa: PLC0415
    from lockdown.lock.export import Selection  # noqa: PLC0415

    sbom = args.format in ("cyclonedx", "spdx")
    if args.platform is not None and not sbom:
        raise UsageError("--platform selects a conda lock's platform for --format cyclonedx|spdx")
    if sbom:
        # Said before anything is read, so a missing extra is the one line the user sees.
        from lockdown.report.sbom import require_sbom  # noqa: PLC0415

        require_sbom(args.format)
    path = _export_path(args)
    selection = None
    if not sbom or args.python is not None or args.extra or args.group:
        selection = Selection(
            environment=_marker_environment(args.python),
            extras=args.extra or (),
            groups=args.group or None,
        )
    if sbom:
        from lockdown.fsutil import default_cache_dir  # noqa: PLC0415
        from lockdown.lock.export import sbom_inventory  # noqa: PLC0415
        from lockdown.report.sbom import render_sbom  # noqa: PLC0415

        inventory = sbom_inventory(
            path, selection=selection, platform=args.platform, cache_root=default_cache_dir()
        )
        data = render_sbom(inventory, args.format)
        unread = [c for c in inventory.components if not c.metadata_read]
        if unread and inventory.licenses_from == "lock":
            reporter.note(
                f"no license for {len(unread)} of {len(inventory.components)} packages: the "
                "lock records none for them (their index declares no core metadata file for "
                "their wheels, or they have only sdists)"
            )
        elif unread:
            reporter.note(
                f"no license for {len(unread)} of {len(inventory.components)} packages: the "
                "lock records no licenses, and none of their files is in the artifact cache "
                "(lockdown install fetches them; lockdown lock records licenses), or they "
                "have only sdists"
            )
    else:
        from lockdown.lock.export import render_export  # noqa: PLC0415
        from lockdown.lock.pylock import read_lock  # noqa: PLC0415

        assert selection is not None  # noqa: S101 - always chosen for a requirements export
        data = render_export(read_lock(path), selection, args.format).encode("utf-8")
    if args.output is None:
        sys.stdout.write(data.decode("utf-8"))
    else:
        atomic_write(args.output, data)
        reporter.note(f"wrote {args.output}")
    return EXIT_OK


def _export_path(args: Args) -> Path:
    """``--lock``, else the project's conda lock for ``--platform``, else its configured lock."""
    if args.lock is not None:
        return Path(args.lock)
    if args.platform is not None:
        from lockdown.config.conda import CONDA_LOCK  # noqa: PLC0415

        return Path(args.project) / CONDA_LOCK
    from lockdown.config import load_config  # noqa: PLC0415

    config, _ = load_config(args.project)
    return config.output_path


def _marker_environment(python: str | None) -> dict[str, str]:
    """The PEP 508 environment of ``python`` (an interpreter path), or of this one."""
    if python is not None:
        from lockdown.env.python_env import inspect_interpreter  # noqa: PLC0415

        return dict(inspect_interpreter(python).environment)
    from packaging.markers import default_environment  # noqa: PLC0415

    return {str(k): str(v) for k, v in default_environment().items()}


def _colors(output: Path | None) -> bool:
    """ANSI colors for a text report: only to a terminal, and never with ``NO_COLOR`` set."""
    return output is None and not os.environ.get("NO_COLOR") and sys.stdout.isatty()


def _optional_config(project: Path) -> Config | None:
    """The project's config when it has one (a bad one is still an error).

    For the commands that work from a lock (never ``lock`` itself), so the
    settings only ``lock`` uses are type-checked, not parsed: see
    :func:`lockdown.config.parse_config`.
    """
    # The names are spelled here so a run with no config never imports the config module.
    if not (project / "pyproject.toml").is_file() and not (project / "lockdown.toml").is_file():
        return None
    from lockdown.config import load_config  # noqa: PLC0415

    return load_config(project, lock_settings=False)[0]


def _target(args: Args, config: Config | None) -> Path:
    if args.file is not None:
        return Path(str(args.file))
    if config is not None:
        return config.output_path
    return Path(args.project) / "pylock.toml"


def _cmd_keygen(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.keygen import keygen  # noqa: PLC0415

    private, public = keygen(args.keyfile)
    if not args.quiet:
        print(f"wrote {private} (encrypted, mode 0600) and {public}")
    return EXIT_OK


def _cmd_sign(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.sign import sign_file  # noqa: PLC0415

    config = _optional_config(args.project)
    path = _target(args, config)
    with reporter.status(f"signing {path.name}"):
        bundle = sign_file(
            path,
            key=args.key,
            identity_token=args.identity_token,
            staging=args.staging,
            trust_config=args.trust_config,
            config=config,
            bundle_path=args.bundle,
            notify=reporter.note,
        )
    if not args.quiet:
        print(f"signed {path} -> {bundle}")
    return EXIT_OK


def _cmd_verify(args: Args, reporter: Reporter) -> int:
    import dataclasses  # noqa: PLC0415

    from lockdown.commands.verify import verify  # noqa: PLC0415
    from lockdown.config.trust import SigstoreInstance  # noqa: PLC0415
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
    trusted = flags_policy is not None or (configured is not None and not configured.empty)
    lock = None
    if trusted or not args.provenance:
        result = verify(
            path,
            config=config,
            flags_policy=flags_policy,
            bundle_path=args.bundle,
            as_lock=True if args.as_lock else None,
        )
        lock = result.lock
        if not args.quiet:
            print(f"verified {path}: signed by {result.verified.signer}{result.lock_note}")
    if args.provenance:
        _verify_provenance(path, lock, config, signed=trusted, reporter=reporter, quiet=args.quiet)
    return EXIT_OK


def _verify_provenance(
    path: Path,
    lock: LockFile | None,
    config: Config | None,
    *,
    signed: bool,
    reporter: Reporter,
    quiet: bool,
) -> None:
    """``verify --provenance``: every attested file's PEP 740 provenance, fetched again."""
    from lockdown.lock.attest import check_locked_provenance, provenance_root  # noqa: PLC0415
    from lockdown.lock.pylock import read_lock  # noqa: PLC0415

    if lock is None:
        if signed:
            raise UsageError(
                f"{path}: --provenance checks a PEP 751 lock, and this file is not one",
                hint="pass the pylock.toml, or --as-lock",
            )
        lock = read_lock(path)
    with reporter.status("fetching PEP 740 provenance from the lock's indexes"):
        packages, files = check_locked_provenance(lock, trusted_root=provenance_root(config))
    if quiet:
        return
    unsigned = "" if signed else " (signature not checked: no trust policy)"
    if not packages:
        print(f"{path}: records no attestation identities; no provenance to check{unsigned}")
        return
    print(
        f"verified {path} provenance: {packages} attested package{'s' if packages != 1 else ''} "
        f"({files} file{'s' if files != 1 else ''}) still attested by the publishers the lock "
        f"records{unsigned}"
    )


def _conda_lock_path(args: Args, config: Config | None) -> Path:
    """``--lock``, else the configured conda lock, else ``conda-lock.yml`` in the project."""
    from lockdown.config.conda import CONDA_LOCK  # noqa: PLC0415

    if args.lock is not None:
        return Path(args.lock)
    if config is not None:
        return config.conda_output_path
    return Path(args.project) / CONDA_LOCK


def _install_conda(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.install import install_conda  # noqa: PLC0415

    if (
        args.venv
        or args.python
        or args.extra
        or args.group
        or args.installer
        or args.level != "versions"
        or args.insecure_no_verify_provenance
    ):
        raise UsageError(
            "--prefix installs a conda environment; it takes none of --venv, --python, "
            "--extra, --group, --installer, --level, --insecure-no-verify-provenance"
        )
    config = _optional_config(args.project)
    lock_path = _conda_lock_path(args, config)
    # Verified first when the flag or [tool.lockdown.trust] requires it; then the
    # verified bytes are the ones installed from.
    lock, _signer = _conda_lock(lock_path, config, args.require_signature)
    outcome = install_conda(
        lock_path,
        args.prefix,
        dry_run=args.dry_run,
        cache_dir=args.cache_dir,
        lock=lock,
        status=reporter.status,
    )
    if not args.quiet:
        _print_plan(outcome.plan, args.prefix, lock_path, args.dry_run, created=outcome.created)
    return EXIT_CHANGED if args.dry_run and not outcome.plan.in_sync else EXIT_OK


class _Plan(Protocol):
    """What the venv and the conda install plans both offer for printing."""

    @property
    def selected(self) -> Sized: ...
    @property
    def add(self) -> Sized: ...
    @property
    def change(self) -> Sized: ...
    @property
    def remove(self) -> Sized: ...
    @property
    def in_sync(self) -> bool: ...
    def lines(self) -> list[str]: ...


def _print_plan(
    plan: _Plan, target: Path, lock_path: Path, dry_run: bool, *, created: bool
) -> None:
    """An install's plan, a change a line, then one summary line (venv or conda prefix)."""
    for line in plan.lines():
        print(line)
    if plan.in_sync:
        print(f"{target} is in sync with {lock_path.name} ({len(plan.selected)} packages)")
    elif dry_run:
        print(
            f"would add {len(plan.add)}, change {len(plan.change)}, remove "
            f"{len(plan.remove)} in {target} (dry run: nothing changed)"
        )
    else:
        print(
            f"added {len(plan.add)}, changed {len(plan.change)}, removed {len(plan.remove)} "
            f"in {target}{' (created)' if created else ''}"
        )


def _cmd_install(args: Args, reporter: Reporter) -> int:
    from lockdown.commands.install import install  # noqa: PLC0415

    if args.prefix is not None:
        return _install_conda(args, reporter)

    if args.insecure_no_verify_provenance:
        # Said even with --quiet: a check was turned off.
        print(
            "lockdown: warning: PEP 740 provenance not checked (--insecure-no-verify-provenance)",
            file=sys.stderr,
        )
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
        level=args.level,
        notify=reporter.note,
        status=reporter.status,
        verify_provenance=not args.insecure_no_verify_provenance,
    )
    if not args.quiet:
        if outcome.signer:
            print(f"verified {lock_path}: signed by {outcome.signer}")
        if outcome.provenance is not None and outcome.provenance[0]:
            packages, files = outcome.provenance
            print(
                f"verified provenance: {packages} package{'s' if packages != 1 else ''} "
                f"({files} file{'s' if files != 1 else ''}) still attested by their locked "
                "publishers"
            )
        target = outcome.python.parent.parent if args.venv else outcome.python
        _print_plan(
            outcome.plan, target, Path(lock_path), args.dry_run, created=outcome.created_venv
        )
    return EXIT_CHANGED if args.dry_run and not outcome.plan.in_sync else EXIT_OK


def _cmd_guard(args: Args, reporter: Reporter) -> int:
    from lockdown.env.guard import install_guard, remove_guard  # noqa: PLC0415

    if args.remove:
        removed = remove_guard(args.venv)
        if not args.quiet:
            print(f"guard removed from {args.venv}" if removed else f"no guard in {args.venv}")
        return EXIT_OK
    from lockdown.commands.verify import load_lock  # noqa: PLC0415

    config = _optional_config(args.project)
    lock_path = _lock_path(args, config)
    lock, _signer = load_lock(
        Path(lock_path), config=config, require_signature=args.require_signature
    )
    constraints = install_guard(
        args.venv, lock, extras=args.extra or (), groups=args.group, notify=reporter.note
    )
    if not args.quiet:
        print(f"guarded {args.venv}: pip there is constrained by {constraints}")
    return EXIT_OK


def _cmd_check(args: Args, reporter: Reporter) -> int:
    started = time.time()
    try:
        config = _optional_config(args.project)
        if args.prefix is not None:
            report = _check_conda(args, config)
        else:
            from lockdown.commands.check import run_check  # noqa: PLC0415

            report = run_check(
                _lock_path(args, config),
                venv=args.venv,
                python=args.python,
                config=config,
                level=args.level,
                extras=args.extra or (),
                groups=args.group,
                require_signature=args.require_signature,
                cache_dir=args.cache_dir,
            )
        if args.audit or args.db is not None:
            # Imported here: a check without --audit pays nothing for it.
            from lockdown.audit.service import audit_drift  # noqa: PLC0415

            report = report._replace(
                audit=audit_drift(
                    report,
                    prefix=args.prefix,
                    config=config,
                    db=args.db,
                    cache_dir=args.cache_dir,
                    notify=reporter.note,
                )
            )
    except Exception as exc:
        if args.format == "prometheus" and args.output is not None:
            # Monitoring must see a failed check, not a stale "all good".
            from lockdown.report.prometheus import failure_reason, render_failure  # noqa: PLC0415
            from lockdown.report.render import write_report  # noqa: PLC0415

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
        # Imported here: a quiet text check (cron, exit code only) renders nothing.
        from lockdown.report.render import render, write_report  # noqa: PLC0415

        write_report(render(report, args.format, color=_colors(args.output)), args.output)
    return report.exit_code()


def _cmd_audit(args: Args, reporter: Reporter) -> int:
    from lockdown.audit.service import run_audit  # noqa: PLC0415
    from lockdown.report.audit import render  # noqa: PLC0415
    from lockdown.report.render import write_report  # noqa: PLC0415

    max_age = None
    if args.max_db_age is not None:
        from lockdown.config.audit import parse_age  # noqa: PLC0415

        max_age = parse_age(args.max_db_age, "--max-db-age")
    config = _optional_config(args.project)
    # A spinner on a terminal: a first audit indexes the whole database (seconds).
    with reporter.status("auditing against the advisory database"):
        report, lines = run_audit(
            project=args.project,
            config=config,
            lock=args.lock,
            venv=args.venv,
            python=args.python,
            prefix=args.prefix,
            db=args.db,
            api_url=args.api_url.rstrip("/") if args.api_url else None,
            max_db_age=max_age,
            cache_dir=args.cache_dir,
            notify=reporter.note,
        )
    if not (args.quiet and args.format == "text" and args.output is None):
        write_report(render(report, args.format, lines), args.output)
    return report.exit_code()


def _check_conda(args: Args, config: Config | None) -> DriftReport:
    from lockdown.commands.check import run_conda_check  # noqa: PLC0415

    if args.venv or args.python or args.extra or args.group:
        raise UsageError(
            "--prefix checks a conda environment; it takes none of --venv, --python, "
            "--extra, --group"
        )
    lock_path = _conda_lock_path(args, config)
    lock, signer = _conda_lock(lock_path, config, args.require_signature)
    return run_conda_check(
        lock_path,
        args.prefix,
        level=args.level,
        lock=lock,
        signer=signer,
        cache_dir=args.cache_dir,
    )


def _conda_lock(
    lock_path: Path, config: Config | None, require_signature: bool
) -> tuple[CondaLock | None, str | None]:
    """The conda lock verified first when required (its verified bytes, parsed), and the signer."""
    from lockdown.sign import signature_required  # noqa: PLC0415

    if not signature_required(config, require_signature):
        return None, None
    from lockdown.commands.verify import verify  # noqa: PLC0415

    # Checked as a conda lock too (sha256 and md5 pinned, URLs over https or
    # from allowed channels), parsed from the very bytes that verified.
    verified = verify(lock_path, config=config, flags_policy=None, as_lock="conda")
    assert verified.conda_lock is not None  # noqa: S101 - as_lock="conda" always parses
    return verified.conda_lock, verified.verified.signer


def _lock_path(args: Args, config: Config | None) -> Path:
    """``--lock``, else the project's configured lock, else ``pylock.toml`` here."""
    if args.lock is not None:
        return Path(args.lock)
    return config.output_path if config is not None else Path(args.project) / "pylock.toml"


#: Each command's function, by the name argparse stores in ``command``.
HANDLERS: dict[str, Handler] = {
    "init": _cmd_init,
    "lock": _cmd_lock,
    "diff": _cmd_diff,
    "approve": _cmd_approve,
    "export": _cmd_export,
    "keygen": _cmd_keygen,
    "sign": _cmd_sign,
    "verify": _cmd_verify,
    "install": _cmd_install,
    "guard": _cmd_guard,
    "check": _cmd_check,
    "audit": _cmd_audit,
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser (see :func:`lockdown.cli_args.build_parser`)."""
    from lockdown.cli_args import build_parser as build  # noqa: PLC0415

    return build(command)


#: ``check``'s options that take a value, and the attribute each sets.
_CHECK_VALUES = {
    "--project": "project",
    "--venv": "venv",
    "--python": "python",
    "--lock": "lock",
    "--level": "level",
    "--format": "format",
    "-o": "output",
    "--output": "output",
    "--cache-dir": "cache_dir",
    "--prefix": "prefix",
    "--db": "db",
}
_CHECK_LISTS = {"--extra": "extra", "--group": "group"}
_CHECK_FLAGS = {
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
    "--require-signature": "require_signature",
    "--audit": "audit",
}
_CHECK_CHOICES = {
    "level": ("versions", "files", "artifacts"),
    "format": ("text", "json", "prometheus", "junit"),
}
_CHECK_PATHS = frozenset({"project", "venv", "lock", "output", "cache_dir", "prefix", "db"})


def fast_check_args(argv: Sequence[str]) -> Args | None:
    """``check``'s arguments read without argparse, or ``None`` to let argparse read them.

    Only the plain forms are read here — each option spelled in full (or
    ``-o``/``-q``/``-v``) with its value as the next word, every value a valid
    choice. Anything else (``--help``, ``--opt=value``, abbreviations, unknown
    or repeated-in-error words, a value that looks like an option) returns
    ``None``, and argparse parses it, errors and help included. The result has
    exactly the attributes argparse would give (a test holds the two equal):
    ``check`` runs from cron every few minutes, and importing and building
    argparse is a sizeable share of such a run.
    """
    if not argv or argv[0] != "check":
        return None
    values: dict[str, object] = {
        "command": "check",
        "project": Path.cwd(),
        "verbose": False,
        "quiet": False,
        "venv": None,
        "python": None,
        "lock": None,
        "level": "versions",
        "format": "text",
        "output": None,
        "extra": None,
        "group": None,
        "require_signature": False,
        "cache_dir": None,
        "prefix": None,
        "audit": False,
        "db": None,
    }
    words = iter(argv[1:])
    for word in words:
        if word in _CHECK_FLAGS:
            values[_CHECK_FLAGS[word]] = True
            continue
        dest = _CHECK_VALUES.get(word) or _CHECK_LISTS.get(word)
        value = next(words, None)
        if dest is None or value is None or value.startswith("-"):
            return None
        if dest in _CHECK_CHOICES and value not in _CHECK_CHOICES[dest]:
            return None
        if word in _CHECK_LISTS:
            current = values[dest]
            values[dest] = [*current, value] if isinstance(current, list) else [value]
        else:
            values[dest] = Path(value) if dest in _CHECK_PATHS else value
    return cast("Args", SimpleNamespace(**values))


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
            import gc  # noqa: PLC0415 - lockdown._entry turned it off for start-up

            gc.enable()
        reporter = Reporter(quiet=args.quiet)
        return HANDLERS[args.command](args, reporter)
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
