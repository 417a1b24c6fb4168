"""``lockdown check``: the steps, from lock and target to a :class:`DriftReport`.

1. Read the lock once (verifying its signature first when required).
2. Ask the target interpreter for its markers and paths (isolated, no site).
3. Expected set: the lock's packages whose markers apply to the target.
   Steps 1 to 3 come from the fast path's cache (:mod:`lockdown.drift.fastpath`)
   when no signature is required and the level is not ``artifacts``.
4. Installed set: the target's dist-info directories.
5. ``versions``: missing, unexpected, other version, other source.
6. ``files``: every installed file against its RECORD, and files owned by
   nobody (``.pth`` and ``sitecustomize`` flagged high).
7. ``artifacts``: every shipped file against the RECORD inside the locked
   wheel, itself hash-verified against the lock first.

``check --prefix`` (:func:`run_conda_check`) takes the same steps for a conda
environment: its lock, conda-meta for the installed set, the same comparison
with the conda part, and the same two file levels (:func:`file_levels`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.drift.check import against_wheels, expected_entry
from lockdown.drift.model import DriftReport, FileDrift, Level
from lockdown.errors import EXIT_INTERNAL, LockdownError, UsageError
from lockdown.names import DEFAULT_KEEP
from lockdown.progress import Reporter
from lockdown.report import DriftResult

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from lockdown.config import Config
    from lockdown.env.python_env import TargetInfo
    from lockdown.lock.condalock import CondaLock
    from lockdown.lock.pylock import LockFile


def run_check(
    lock_path: Path,
    *,
    venv: Path | None = None,
    python: str | None = None,
    config: Config | None = None,
    level: Level = "versions",
    extras: Collection[str] = (),
    groups: Collection[str] | None = None,
    require_signature: bool = False,
    cache_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> DriftReport:
    """Check one environment against ``lock_path``; see the module docstring for the steps."""
    from lockdown.drift.compare import compare_packages  # noqa: PLC0415
    from lockdown.env.guard import is_guarded  # noqa: PLC0415
    from lockdown.env.python_env import installed_distributions, target_interpreter  # noqa: PLC0415
    from lockdown.sign import signature_required  # noqa: PLC0415

    started, tick = clock(), time.perf_counter()
    needs_signature = signature_required(config, require_signature)
    ignore = config.keep if config is not None else DEFAULT_KEEP
    interpreter, _exists = target_interpreter(venv, python, path_fallback=True)
    # 1. to 3. The lock, the target's facts and the expected set.
    lock: LockFile | None = None
    target: TargetInfo | None = None
    signer: str | None = None
    if level == "artifacts" or needs_signature:
        # The lock itself is needed: to verify it, or for its artifacts.
        from lockdown.commands.verify import load_lock  # noqa: PLC0415 - not the cron path
        from lockdown.env.python_env import inspect_interpreter  # noqa: PLC0415

        lock, signer = load_lock(lock_path, config=config, require_signature=needs_signature)
        target = inspect_interpreter(interpreter)
        entry = expected_entry(lock, target, extras, groups)
        lock_sha256 = hashlib.sha256(lock.data).hexdigest()
    else:
        # The cron path: from the cache when nothing the answer depends on changed.
        from lockdown.drift.fastpath import cached  # noqa: PLC0415

        entry, lock_sha256 = cached(
            lock_path,
            interpreter,
            extras=extras,
            groups=groups,
            cache_dir=cache_dir,
            purpose="check",
            compute=lambda lock, target: expected_entry(lock, target, extras, groups),
        )
    # 4. What the target holds.
    site_packages = [Path(p) for p in entry.site_packages]
    prefix = Path(entry.prefix)
    installed = installed_distributions(site_packages)
    # 5. Packages.
    packages = compare_packages(entry.pins(), installed, ignore=ignore)
    drifted = {p.name for p in packages}
    versions: dict[str, str] = {d.name: d.version for d in installed}
    matching = tuple(
        (name, versions[name])
        for name in sorted(entry.expected)
        if name in versions and name not in drifted
    )

    # 6. and 7. Files.
    def venv_files() -> tuple[list[FileDrift], int]:
        from lockdown.drift.files import check_files, unowned_files  # noqa: PLC0415

        result = check_files(installed, prefix)
        return result.drift + unowned_files(site_packages, result.owned, prefix), result.checked

    def venv_artifacts() -> tuple[list[FileDrift], int]:
        if lock is None or target is None:  # always read for artifacts
            return [], 0
        return against_wheels(lock, target, installed, extras, groups, cache_dir, config)

    files, checked = file_levels(level, venv_files, venv_artifacts)
    return DriftReport(
        lock=str(lock_path),
        lock_sha256=lock_sha256,
        target=str(prefix if entry.in_venv else entry.executable),
        python_version=entry.python_version,
        level=level,
        expected=len(entry.expected),
        installed=len(installed),
        packages=tuple(packages),
        files=files,
        signature="verified" if signer else "not-checked",
        signer=signer,
        guarded=is_guarded(prefix) if entry.in_venv else None,
        checked_at=started,
        duration_seconds=time.perf_counter() - tick,
        files_checked=checked,
        matching=matching,
        lock_packages=entry.lock_packages,
        lock_attested=entry.lock_attested,
    )


#: One level's check: its findings and how many files it checked.
FileLevel = Callable[[], tuple[list[FileDrift], int]]


def file_levels(
    level: Level, files: FileLevel, artifacts: FileLevel
) -> tuple[tuple[FileDrift, ...], int]:
    """Steps 6 and 7 for either ecosystem: the ``files`` level, then the ``artifacts``
    level's findings that the first did not already make; sorted, and the files checked."""
    found: list[FileDrift] = []
    checked = 0
    if level in ("files", "artifacts"):
        found, checked = files()
    if level == "artifacts":
        more, more_checked = artifacts()
        seen = {(f.path, f.kind) for f in found}
        found += [f for f in more if (f.path, f.kind) not in seen]
        checked += more_checked
    return tuple(sorted(found, key=lambda f: (f.path, f.kind))), checked


def run_conda_check(
    lock_path: Path,
    prefix: Path,
    *,
    level: Level = "versions",
    platform: str | None = None,
    lock: CondaLock | None = None,
    signer: str | None = None,
    cache_dir: Path | None = None,
    clock: Callable[[], float] = time.time,
) -> DriftReport:
    """Check the conda environment at ``prefix`` against ``lock_path``: the steps of
    :func:`run_check` with a conda lock's, conda-meta's and the archives' parts.

    1. The lock (``lock``: already read and verified, by ``signer``); its packages
       for this machine's platform are expected.
    2. ``conda-meta/*.json``: what the prefix says it holds.
    3. ``versions``: :func:`lockdown.drift.compare.compare` with the conda part
       (version and build, archive sha256, channel), and the ``pip:`` wheels
       against the prefix's dist-info.
    4. ``files``: conda-meta's files (:mod:`lockdown.drift.conda_files`), the
       ``pip:`` wheels against their RECORDs, and files nobody owns.
    5. ``artifacts``: against the locked archives and wheels themselves
       (:mod:`lockdown.drift.archives`); needs py-rattler, which is asked for
       before any work.
    """
    from lockdown.drift.compare import CONDA, CONDA_PIP, compare  # noqa: PLC0415
    from lockdown.env.conda_meta import current_platform, read_prefix  # noqa: PLC0415
    from lockdown.env.conda_python import python_of, site_packages  # noqa: PLC0415
    from lockdown.env.python_env import InstalledDist, installed_distributions  # noqa: PLC0415
    from lockdown.lock.condalock import locked_for_here, read_conda_lock, require  # noqa: PLC0415

    started, tick = clock(), time.perf_counter()
    if level == "artifacts":
        require()  # archives are read with py-rattler: say so before any work
    # 1. The lock.
    lock = lock or read_conda_lock(lock_path)
    here = platform or current_platform()
    expected = locked_for_here(lock, here)
    conda = list(expected.values())
    # 2. The prefix.
    records = read_prefix(prefix)
    installed = {r.name: r for r in records}
    # 3. Packages (the pip: wheels through the prefix's dist-info).
    packages = compare(expected, records, CONDA)
    pip_wanted = lock.for_platform(here, "pip")
    pip_dists: list[InstalledDist] = []
    if pip_wanted:
        site = site_packages(prefix, here, python_of(conda))
        have: dict[str, InstalledDist] = {d.name: d for d in installed_distributions([site])}
        wanted = {p.name: p for p in pip_wanted}
        packages += compare(wanted, have.values(), CONDA_PIP)
        pip_dists = [have[name] for name in sorted(wanted) if name in have]

    # 4. Files: conda-meta's, the pip: wheels' RECORDs, and what nobody owns.
    def prefix_files() -> tuple[list[FileDrift], int]:
        from lockdown.drift.conda_files import check_prefix_files, unowned_in_prefix  # noqa: PLC0415
        from lockdown.drift.files import check_files  # noqa: PLC0415

        result = check_prefix_files(records, prefix)
        found, checked, owned = list(result.drift), result.checked, set(result.owned)
        if pip_dists:
            pip_result = check_files(pip_dists, prefix)
            found += pip_result.drift
            checked += pip_result.checked
            owned |= pip_result.owned
        return found + unowned_in_prefix(prefix, owned), checked

    # 5. Against the locked archives and wheels themselves.
    def prefix_artifacts() -> tuple[list[FileDrift], int]:
        from lockdown.drift.archives import (  # noqa: PLC0415
            check_against_archives,
            pip_against_wheels,
        )

        more, checked = check_against_archives(
            expected, records, prefix, lock_path=lock_path, cache_dir=cache_dir, platform=here
        )
        if pip_dists:
            wheels, wheel_checked = pip_against_wheels(
                pip_wanted, pip_dists, conda, prefix, here, lock_path=lock_path, cache_dir=cache_dir
            )
            more += wheels
            checked += wheel_checked
        return more, checked

    files, checked = file_levels(level, prefix_files, prefix_artifacts)
    return DriftReport(
        lock=str(lock_path),
        lock_sha256=hashlib.sha256(lock.data).hexdigest(),
        target=str(prefix),
        python_version=f"conda {here}",
        level=level,
        expected=len(expected) + len(pip_wanted),
        installed=len(installed),
        packages=tuple(packages),
        files=files,
        signature="verified" if signer else "not-checked",
        signer=signer,
        checked_at=started,
        duration_seconds=time.perf_counter() - tick,
        files_checked=checked,
    )


def run(args: Args, reporter: Reporter) -> DriftResult:
    """``lockdown check`` from its parsed arguments: check; the result is the report to write.

    A failed run still writes a Prometheus file, so monitoring sees the failure.
    """
    started = time.time()
    try:
        config = optional_config(args.project)
        if args.prefix is not None:
            report = _check_conda(args, config)
        else:
            report = run_check(
                find_lock(args.project, config, given=args.lock),
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
            from lockdown.commands.audit import audit_drift  # noqa: PLC0415

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
    return DriftResult(report=report, format=args.format, output=args.output)


def _check_conda(args: Args, config: Config | None) -> DriftReport:
    if args.venv or args.python or args.extra or args.group:
        raise UsageError(
            "--prefix checks a conda environment; it takes none of --venv, --python, "
            "--extra, --group"
        )
    from lockdown.commands.verify import load_conda_lock  # noqa: PLC0415

    lock_path = find_lock(args.project, config, given=args.lock, kind="conda")
    lock, signer = load_conda_lock(lock_path, config, args.require_signature)
    return run_conda_check(
        lock_path,
        args.prefix,
        level=args.level,
        lock=lock,
        signer=signer,
        cache_dir=args.cache_dir,
    )
