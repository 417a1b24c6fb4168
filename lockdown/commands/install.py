"""``lockdown install``: make a venv, or with ``--prefix`` a conda prefix, match the lock."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from lockdown.artifacts import ArtifactCache
from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.commands.check import run_check
from lockdown.commands.verify import load_conda_lock, load_lock
from lockdown.env.install import (
    Installer,
    Notify,
    Plan,
    Selected,
    apply,
    create_venv,
    fetch,
    plan,
    select_artifacts,
)
from lockdown.errors import LockdownError, UsageError
from lockdown.names import DEFAULT_KEEP
from lockdown.progress import Reporter, Status, counted
from lockdown.report.results import Installed

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from packaging.utils import NormalizedName

    from lockdown.config import Config
    from lockdown.drift.fastpath import CachedTarget, SelectedRow
    from lockdown.drift.model import Level
    from lockdown.env.conda_install import CondaInstallOutcome
    from lockdown.env.python_env import TargetInfo
    from lockdown.lock.condalock import CondaLock
    from lockdown.lock.pylock import LockFile


@dataclass(frozen=True, slots=True, kw_only=True)
class InstallOutcome:
    """What ``install`` did (or, with ``dry_run``, would do)."""

    plan: Plan
    python: Path
    created_venv: bool
    dry_run: bool
    #: Who signed the lock, when its signature was verified.
    signer: str | None
    #: PEP 740: (packages, files) whose provenance was checked again before
    #: installing; ``None`` when not checked (nothing to install, or turned off).
    provenance: tuple[int, int] | None = None


def install(
    lock_path: Path,
    *,
    venv: Path | None,
    python: str | None,
    config: Config | None,
    require_signature: bool = False,
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    allow_build: bool = False,
    dry_run: bool = False,
    installer: Installer | None = None,
    cache_dir: Path | None = None,
    level: Level = "versions",
    notify: Notify | None = None,
    status: Callable[[str], Status] | None = None,
    verify_provenance: bool = True,
) -> InstallOutcome:
    """Make the environment match ``lock_path``: plan, fetch and verify all, then apply.

    With ``verify_provenance`` (the default), the packages about to be
    installed whose lock entry records PEP 740 ``attestation-identities`` have
    their provenance fetched again from their index and checked against the
    pinned sha256 and those publishers before anything changes (exit 16).

    At ``level`` ``files`` or ``artifacts``, installed packages are also checked
    as ``lockdown check`` checks them at that level, and those whose files
    drifted are reinstalled from their locked artifacts.
    """
    from lockdown.artifacts import ensure_cache_dir  # noqa: PLC0415
    from lockdown.env.python_env import (  # noqa: PLC0415
        inspect_interpreter,
        installed_distributions,
        target_interpreter,
        venv_python,
    )
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    notify = notify or (lambda _message: None)
    status = status or Reporter(quiet=True).status
    from lockdown.sign import signature_required  # noqa: PLC0415

    # The target: an existing venv's interpreter, or the base one a new venv gets.
    target_python, exists = target_interpreter(venv, python, may_create=True)
    if venv is not None and python is not None and exists:
        notify(
            f"{venv} exists: installing for its own interpreter, not --python {python} "
            "(--python chooses the interpreter of a new venv; remove the venv to change it)"
        )
    signer: str | None = None
    lock: LockFile | None = None
    if signature_required(config, require_signature):
        # 1. and 2. The lock, read once and verified; its selection worked out afresh.

        lock, signer = load_lock(lock_path, config=config, require_signature=True)
        facts = install_facts(lock, inspect_interpreter(target_python), extras, groups, allow_build)
    else:
        # 1. and 2. From the fast path's cache while the lock and the target are unchanged.
        from lockdown.drift.fastpath import cached  # noqa: PLC0415

        facts, _sha256 = cached(
            lock_path,
            target_python,
            extras=extras,
            groups=groups,
            cache_dir=cache_dir,
            purpose=f"install allow-build={allow_build}",
            compute=lambda lock, target: install_facts(lock, target, extras, groups, allow_build),
        )
    if venv is None and not facts.in_venv:
        raise LockdownError(
            f"{target_python} is not a virtual environment; lockdown installs only into venvs",
            hint="pass --venv DIR",
        )
    site_packages = [Path(p) for p in facts.site_packages]
    installed = installed_distributions(site_packages) if exists else []
    selected = tuple(selected_from_row(row) for row in facts.selected)
    keep = config.keep if config is not None else DEFAULT_KEEP
    damaged: dict[str, str] = {}
    if level != "versions" and installed:
        damaged = _damaged(
            lock_path,
            venv=venv,
            python=None if venv is not None else str(target_python),
            config=config,
            level=level,
            extras=extras,
            groups=groups,
            cache_dir=cache_dir,
        )
    the_plan = plan(selected, installed, keep=keep, damaged=damaged)
    venv_exe = venv_python(venv) if venv is not None else Path(facts.executable)
    # In sync and there: done. (A lock that selects nothing still gets its venv.)
    if dry_run or (the_plan.in_sync and exists):
        return InstallOutcome(
            plan=the_plan, python=venv_exe, created_venv=False, dry_run=dry_run, signer=signer
        )
    # 3. The publishers the lock records, checked again for what is installed...
    provenance = None
    if verify_provenance:
        from lockdown.commands._attest import check_locked_provenance, provenance_root  # noqa: PLC0415
        from lockdown.lock.pylock import read_lock  # noqa: PLC0415

        moving = {(s.name, s.version) for s in (*the_plan.add, *(n for _o, n in the_plan.change))}
        with status("checking PEP 740 provenance"):
            provenance = check_locked_provenance(
                lock if lock is not None else read_lock(lock_path),
                cache_dir=cache_dir,
                select=lambda state: (state.name, state.version) in moving,
                trusted_root=provenance_root(config),
            )
    # ...and every artifact fetched and verified before anything changes.
    from lockdown.config.http import http_settings  # noqa: PLC0415 - cheap; urllib3 waits for a download

    cache = ArtifactCache(
        ensure_cache_dir(cache_dir or default_cache_dir()), http=http_settings(config)
    )
    with status("downloading and verifying artifacts") as shown:
        files = fetch(
            the_plan,
            cache,
            source=str(lock_path),
            progress=counted(shown, "downloading and verifying artifacts"),
        )
    # 4. Apply: one install at a time per environment (two at once would interleave).
    from lockdown.fsutil import run_lock  # noqa: PLC0415

    chosen = installer or cast("Installer", config.installer if config is not None else "uv")
    created = False
    with (
        run_lock(venv if venv is not None else venv_exe),
        status(f"installing {len(the_plan.add) + len(the_plan.change)} packages"),
    ):
        # Another install may have created the venv while this one waited.
        if venv is not None and not venv_python(venv).exists():
            create_venv(venv, str(target_python))
            created = True
        apply(the_plan, files, venv_exe, installer=chosen)
    return InstallOutcome(
        plan=the_plan,
        python=venv_exe,
        created_venv=created,
        dry_run=False,
        signer=signer,
        provenance=provenance,
    )


def _damaged(
    lock_path: Path,
    *,
    venv: Path | None,
    python: str | None,
    config: Config | None,
    level: Level,
    extras: Collection[str],
    groups: Collection[str] | None,
    cache_dir: Path | None,
) -> dict[str, str]:
    """Installed packages whose files ``check`` at ``level`` reports, and why (for the plan)."""

    report = run_check(
        lock_path,
        venv=venv,
        python=python,
        config=config,
        level=level,
        extras=extras,
        groups=groups,
        cache_dir=cache_dir,
    )
    # A file can be reported twice (its content, and its RECORD row): count paths.
    paths: dict[str, set[str]] = {}
    for drift in report.files:
        if drift.package is not None:
            paths.setdefault(drift.package, set()).add(drift.path)
    against = "its RECORD" if level == "files" else "the locked wheel"
    return {
        name: f"{len(p)} file{'s differ' if len(p) > 1 else ' differs'} from {against}"
        for name, p in sorted(paths.items())
    }


def install_facts(
    lock: LockFile,
    target: TargetInfo,
    extras: Collection[str],
    groups: Collection[str] | None,
    allow_build: bool,
) -> CachedTarget:
    """What a plan needs of the lock and the target, in the fast path's cacheable form."""
    from lockdown.drift.fastpath import CachedTarget  # noqa: PLC0415

    selected = select_artifacts(lock, target, extras=extras, groups=groups, allow_build=allow_build)
    return CachedTarget(
        expected={},
        site_packages=tuple(str(p) for p in target.site_packages),
        prefix=str(target.prefix),
        executable=str(target.executable),
        in_venv=target.in_venv,
        python_version=target.environment.get("python_full_version", "?"),
        selected=tuple(
            (
                s.name,
                s.version,
                s.artifact.url,
                s.artifact.filename,
                s.artifact.sha256,
                s.artifact.size,
                s.is_sdist,
            )
            for s in selected
        ),
    )


def selected_from_row(row: SelectedRow) -> Selected:
    from lockdown.lock.model import Artifact  # noqa: PLC0415

    name, version, url, filename, sha256, size, is_sdist = row
    return Selected(
        name=cast("NormalizedName", name),
        version=version,
        artifact=Artifact(url=url, filename=filename, sha256=sha256, size=size, upload_time=None),
        is_sdist=is_sdist,
    )


def install_conda(
    lock_path: Path,
    prefix: Path,
    *,
    dry_run: bool = False,
    cache_dir: Path | None = None,
    platform: str | None = None,
    lock: CondaLock | None = None,
    status: Callable[[str], Status] | None = None,
) -> CondaInstallOutcome:
    """Make the conda environment at ``prefix`` match the lock; see the module docstring.

    The whole run, from reading the prefix to the last file installed, holds
    the prefix's run lock: a plan made from what another run is changing
    would be wrong by the time it is applied.
    """
    from lockdown.env.conda_install import install_locked  # noqa: PLC0415
    from lockdown.env.conda_meta import current_platform  # noqa: PLC0415
    from lockdown.fsutil import run_lock  # noqa: PLC0415
    from lockdown.lock.condalock import locked_for_here, read_conda_lock, require  # noqa: PLC0415

    require()

    status = status or Reporter(quiet=True).status
    # 1. The lock.
    lock = lock or read_conda_lock(lock_path)
    here = platform or current_platform()
    selected = list(locked_for_here(lock, here).values())
    # The prefix as installers write it into files (prefix placeholders): absolute.
    prefix = Path(os.path.abspath(prefix))
    with run_lock(prefix):  # one run at a time per prefix, before the prefix is read
        return install_locked(
            lock_path,
            prefix,
            lock=lock,
            here=here,
            selected=selected,
            dry_run=dry_run,
            cache_dir=cache_dir,
            status=status,
        )


def run(args: Args, reporter: Reporter) -> Installed:
    """``lockdown install`` from its parsed arguments: make a venv (or a ``--prefix``) match."""
    if args.prefix is not None:
        return _install_conda(args, reporter)

    if args.insecure_no_verify_provenance:
        # Said before the work, and even with --quiet: a check was turned off.
        reporter.warn("PEP 740 provenance not checked (--insecure-no-verify-provenance)")
    config = optional_config(args.project)
    lock_path = find_lock(args.project, config, given=args.lock)
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
    return Installed(
        plan=outcome.plan,
        target=args.venv if args.venv is not None else outcome.python,
        lock=Path(lock_path),
        dry_run=args.dry_run,
        created=outcome.created_venv,
        signer=outcome.signer,
        provenance=outcome.provenance,
    )


def _install_conda(args: Args, reporter: Reporter) -> Installed:
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
    config = optional_config(args.project)
    lock_path = find_lock(args.project, config, given=args.lock, kind="conda")
    # Verified first when the flag or [tool.lockdown.trust] requires it; then the
    # verified bytes are the ones installed from.
    lock, _signer = load_conda_lock(lock_path, config, args.require_signature)
    outcome = install_conda(
        lock_path,
        args.prefix,
        dry_run=args.dry_run,
        cache_dir=args.cache_dir,
        lock=lock,
        status=reporter.status,
    )
    return Installed(
        plan=outcome.plan,
        target=args.prefix,
        lock=lock_path,
        dry_run=args.dry_run,
        created=outcome.created,
    )
