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
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Collection
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands.verify import load_lock
from lockdown.config import DEFAULT_KEEP
from lockdown.drift.check import against_wheels, expected_entry
from lockdown.drift.model import DriftReport, FileDrift, Level

if TYPE_CHECKING:
    from lockdown.config import Config
    from lockdown.env.python_env import TargetInfo
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
    files: list[FileDrift] = []
    checked = 0
    if level in ("files", "artifacts"):
        from lockdown.drift.files import check_files, unowned_files  # noqa: PLC0415

        result = check_files(installed, prefix)
        files = result.drift + unowned_files(site_packages, result.owned, prefix)
        checked = result.checked
    if lock is not None and target is not None and level == "artifacts":
        more, wheel_checked = against_wheels(
            lock, target, installed, extras, groups, cache_dir, config
        )
        seen = {(f.path, f.kind) for f in files}
        files += [f for f in more if (f.path, f.kind) not in seen]
        checked += wheel_checked
    return DriftReport(
        lock=str(lock_path),
        lock_sha256=lock_sha256,
        target=str(prefix if entry.in_venv else entry.executable),
        python_version=entry.python_version,
        level=level,
        expected=len(entry.expected),
        installed=len(installed),
        packages=tuple(packages),
        files=tuple(sorted(files, key=lambda f: (f.path, f.kind))),
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
