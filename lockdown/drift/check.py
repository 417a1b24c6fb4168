"""What ``check`` needs of a lock and a target: the expected set, the wheels' level.

The steps of the check itself are in :mod:`lockdown.commands.check`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.drift.model import FileDrift

if TYPE_CHECKING:
    from packaging.pylock import Package

    from lockdown.config import Config
    from lockdown.drift.compare import ExpectedPin, LockedSource
    from lockdown.drift.fastpath import CachedTarget
    from lockdown.env.python_env import InstalledDist, TargetInfo
    from lockdown.lock.pylock import LockFile


def _expected(
    lock: LockFile, target: TargetInfo, extras: Collection[str], groups: Collection[str] | None
) -> dict[str, ExpectedPin]:
    """The lock's packages that apply to the target, as pins."""
    from lockdown.drift.compare import ExpectedPin  # noqa: PLC0415
    from lockdown.env.python_env import normalize_name  # noqa: PLC0415
    from lockdown.lock.export import Selection, applicable_packages  # noqa: PLC0415
    from lockdown.lock.pylock import check_origins  # noqa: PLC0415

    # Each package's index as the lock recorded it: one of the lock's own indexes and pins.
    check_origins(lock)
    wanted = applicable_packages(
        lock, Selection(environment=target.environment, extras=extras, groups=groups)
    )
    lock_dir = lock.path.absolute().parent
    return {
        normalize_name(p.name): ExpectedPin(
            version=str(p.version) if p.version is not None else None,
            from_index=bool(p.wheels or p.sdist),
            source=locked_source(p, lock_dir),
        )
        for p in wanted
    }


def locked_source(package: Package, lock_dir: Path) -> LockedSource | None:
    """The package's PEP 751 source beyond "an index": its index URL, vcs, directory or archive.

    Relative paths are relative to the lock file's directory (PEP 751).
    """
    from lockdown.drift.compare import LockedSource  # noqa: PLC0415

    def location(url: str | None, path: str | None) -> str:
        if url:
            return url
        return (lock_dir / path).absolute().as_uri() if path else ""

    if package.vcs is not None:
        vcs = package.vcs
        return LockedSource(
            kind="vcs",
            url=location(vcs.url, vcs.path),
            revision=vcs.commit_id,
            vcs=vcs.type,
            subdirectory=vcs.subdirectory or "",
        )
    if package.directory is not None:
        directory = package.directory
        return LockedSource(
            kind="directory",
            url=location(None, directory.path),
            subdirectory=directory.subdirectory or "",
        )
    if package.archive is not None:
        archive = package.archive
        return LockedSource(
            kind="archive",
            url=location(archive.url, archive.path),
            revision=str(archive.hashes.get("sha256", "")).lower(),
            subdirectory=archive.subdirectory or "",
        )
    if package.index and (package.wheels or package.sdist):
        return LockedSource(kind="index", url=package.index)
    return None


def expected_entry(
    lock: LockFile, target: TargetInfo, extras: Collection[str], groups: Collection[str] | None
) -> CachedTarget:
    """What the check needs of the lock and the target, in the fast path's cacheable form."""
    from lockdown.drift.fastpath import CachedTarget, pins_of, sources_of  # noqa: PLC0415

    expected = _expected(lock, target, extras, groups)
    return CachedTarget(
        expected=pins_of(expected),
        sources=sources_of(expected),
        site_packages=tuple(str(p) for p in target.site_packages),
        prefix=str(target.prefix),
        executable=str(target.executable),
        in_venv=target.in_venv,
        python_version=target.environment.get("python_full_version", "?"),
        lock_packages=len(lock.pylock.packages),
        lock_attested=sum(1 for p in lock.pylock.packages if p.attestation_identities),
    )


def against_wheels(
    lock: LockFile,
    target: TargetInfo,
    installed: Sequence[InstalledDist],
    extras: Collection[str],
    groups: Collection[str] | None,
    cache_dir: Path | None,
    config: Config | None,
) -> tuple[list[FileDrift], int]:
    """The ``artifacts`` level: installed files against the locked, hash-verified wheels."""
    from lockdown.artifacts import ArtifactCache, ensure_cache_dir  # noqa: PLC0415
    from lockdown.drift.wheels import check_against_wheels  # noqa: PLC0415
    from lockdown.env.install import select_artifacts  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    selected = select_artifacts(lock, target, extras=extras, groups=groups, allow_build=True)
    from lockdown.config.http import http_settings  # noqa: PLC0415 - urllib3 waits for a download

    cache = ArtifactCache(
        ensure_cache_dir(cache_dir or default_cache_dir()), http=http_settings(config)
    )
    by_name = {d.name: d for d in installed}
    return check_against_wheels(selected, by_name, target, cache, source=str(lock.path))
