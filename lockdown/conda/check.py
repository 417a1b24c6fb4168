"""``lockdown check --prefix``: a conda environment against its ``conda-lock.yml``.

1. Read the lock once; its packages for this machine's platform are expected.
2. Read ``conda-meta/*.json``: what the prefix says it holds.
3. ``versions``: missing, unexpected, other version or build, other archive
   (sha256) or channel.
4. ``files``: every file a record lists against ``sha256_in_prefix`` (a file
   whose prefix placeholder was rewritten) or ``sha256``; sizes only for files
   that were not rewritten; ``.pyc`` files and directories skipped; paths
   confined to the prefix.
5. ``artifacts``: conda-meta can be forged, and installed files are hardlinks
   into the package cache, so neither is an independent witness. Each
   installed package's locked archive is fetched into the content-addressed
   cache (sha256-checked against the lock first) and its own
   ``info/paths.json`` is the reference: every file it ships must be listed
   with the same digest by conda-meta (else a high-severity ``record``
   finding), and every file without a prefix placeholder must have exactly
   that content on disk.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lockdown.conda.lockfile import CondaLock, CondaPackage, read_conda_lock
from lockdown.conda.prefix import CondaRecord, read_prefix
from lockdown.drift.model import DriftReport, FileDrift, Level, PackageDrift
from lockdown.env.python_env import InstalledDist
from lockdown.errors import IntegrityError

#: conda-meta path types that carry no content to check.
_SKIPPED_TYPES = frozenset({"directory", "pyc_file", "unix_python_entry_point"})


#: (sys.platform, machine) → conda subdir, for the machines conda builds for.
_SUBDIRS = {
    ("linux", "x86_64"): "linux-64",
    ("linux", "aarch64"): "linux-aarch64",
    ("linux", "ppc64le"): "linux-ppc64le",
    ("linux", "s390x"): "linux-s390x",
    ("darwin", "x86_64"): "osx-64",
    ("darwin", "arm64"): "osx-arm64",
    ("win32", "AMD64"): "win-64",
    ("win32", "ARM64"): "win-arm64",
}


def current_platform() -> str:
    """This machine's conda subdir (``linux-64``, ``osx-arm64``...).

    Worked out from the interpreter's platform (``check`` runs from cron and
    should not import py-rattler for this); rattler answers for anything else.
    """
    import platform  # noqa: PLC0415

    known = _SUBDIRS.get((sys.platform, platform.machine()))
    if known is not None:
        return known
    import rattler  # noqa: PLC0415

    return str(rattler.Subdir.current())


def locked_for_here(lock: CondaLock, platform: str) -> dict[str, CondaPackage]:
    """The lock's packages for ``platform``, by name; none at all is an error."""
    expected = {p.name: p for p in lock.for_platform(platform)}
    if not expected:
        raise IntegrityError(
            f"{lock.path}: nothing is locked for {platform} (locked: {', '.join(lock.platforms)})",
            hint="add the platform to the conda inputs and re-lock",
        )
    return expected


def compare_conda(
    expected: dict[str, CondaPackage], installed: dict[str, CondaRecord]
) -> list[PackageDrift]:
    """Missing, unexpected, other version/build, other archive or channel (pure)."""
    drift = []
    for name in sorted(expected):
        want, have = expected[name], installed.get(name)
        locked = f"{want.version} ({want.build})"
        if have is None:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="missing",
                    expected=locked,
                    installed=None,
                    detail="not installed",
                )
            )
            continue
        actual = f"{have.version} ({have.build})"
        if (have.version, have.build) != (want.version, want.build):
            drift.append(
                PackageDrift(
                    name=name,
                    kind="version",
                    expected=locked,
                    installed=actual,
                    detail=f"{actual} installed, {locked} locked",
                )
            )
        elif have.sha256 and have.sha256 != want.sha256:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="source",
                    expected=locked,
                    installed=actual,
                    detail=f"installed from an archive with sha256 {have.sha256[:12]}..., "
                    f"the lock pins {want.sha256[:12]}...",
                )
            )
        elif have.channel and have.channel != want.channel:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="source",
                    expected=locked,
                    installed=actual,
                    detail=f"installed from channel {have.channel}; the lock says {want.channel}",
                )
            )
    for name in sorted(set(installed) - set(expected)):
        have = installed[name]
        drift.append(
            PackageDrift(
                name=name,
                kind="unexpected",
                expected=None,
                installed=f"{have.version} ({have.build})",
                detail="installed, not in the lock",
            )
        )
    return drift


def _compare_pip(
    wanted: list[CondaPackage], conda: list[CondaPackage], prefix: Path, platform: str
) -> tuple[list[PackageDrift], list[InstalledDist]]:
    """The ``pip:`` wheels against the prefix's dist-info: drift, and the dists found."""
    from lockdown.conda.pip import python_of, site_packages  # noqa: PLC0415
    from lockdown.drift.compare import describe_direct_url  # noqa: PLC0415
    from lockdown.env.python_env import installed_distributions  # noqa: PLC0415

    site = site_packages(prefix, platform, python_of(conda))
    have: dict[str, InstalledDist] = {d.name: d for d in installed_distributions([site])}
    drift = []
    found = []
    for want in sorted(wanted, key=lambda p: p.name):
        dist = have.get(want.name)
        label = f"pip {want.name}"
        if dist is None:
            drift.append(
                PackageDrift(
                    name=label,
                    kind="missing",
                    expected=want.version,
                    installed=None,
                    detail="not installed",
                )
            )
            continue
        found.append(dist)
        if dist.version != want.version:
            drift.append(
                PackageDrift(
                    name=label,
                    kind="version",
                    expected=want.version,
                    installed=dist.version,
                    detail=f"{dist.version} installed, {want.version} locked",
                )
            )
        elif dist.direct_url is not None:
            drift.append(
                PackageDrift(
                    name=label,
                    kind="source",
                    expected=want.version,
                    installed=dist.version,
                    detail=describe_direct_url(dist.direct_url) + "; the lock pins a wheel",
                )
            )
    return drift, found


def check_prefix_files(records: list[CondaRecord], prefix: Path) -> tuple[list[FileDrift], int]:
    """Every recorded file of every package, confined to the prefix; drift and files checked."""
    import os  # noqa: PLC0415

    from lockdown.drift.files import RecordEntry, check_recorded  # noqa: PLC0415

    root = os.path.realpath(prefix)
    owners = [
        (
            r.name,
            root,
            [
                RecordEntry(f.path, f.sha256, f.size)
                for f in r.files
                if f.path_type not in _SKIPPED_TYPES and not f.path.endswith(".pyc")
            ],
        )
        for r in records
    ]
    result = check_recorded(owners, prefix)
    return result.drift, result.checked


def check_against_archives(
    expected: dict[str, CondaPackage],
    records: list[CondaRecord],
    prefix: Path,
    *,
    lock_path: Path,
    cache_dir: Path | None,
) -> tuple[list[FileDrift], int]:
    """The ``artifacts`` level: installed files and records against each locked archive."""
    import os  # noqa: PLC0415

    import rattler  # noqa: PLC0415

    from lockdown.artifacts import ArtifactCache, ensure_cache_dir, verify_all  # noqa: PLC0415
    from lockdown.drift.files import RecordEntry, check_recorded  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir, link_or_copy  # noqa: PLC0415

    todo = [
        (record, expected[record.name])
        for record in records
        if record.name in expected
        and (record.version, record.build)
        == (expected[record.name].version, expected[record.name].build)
    ]
    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    verified = verify_all(cache, [p.expected(lock_path) for _record, p in todo], rehash=True)
    drift: list[FileDrift] = []
    owners = []
    root = os.path.realpath(prefix)
    for record, package in todo:
        archive = verified[package.sha256]
        named = archive.parent.parent.parent / "links" / package.sha256 / package.filename
        link_or_copy(archive, named)
        listed = {f.path: f for f in record.files}
        entries = []
        for entry in rattler.PathsJson.from_package_archive(named).paths:
            path = str(entry.relative_path)
            if not entry.path_type.hardlink or path.endswith(".pyc") or entry.sha256 is None:
                continue
            digest = entry.sha256.hex()
            mine = listed.get(path)
            if mine is None or (mine.archive_sha256 is not None and mine.archive_sha256 != digest):
                drift.append(
                    FileDrift(
                        path=path,
                        kind="record",
                        package=record.name,
                        severity="high",
                        detail="conda-meta does not record it as the locked archive ships it",
                    )
                )
            if entry.prefix_placeholder is None:
                entries.append(RecordEntry(path, digest, entry.size_in_bytes))
        owners.append((record.name, root, entries))
    result = check_recorded(owners, prefix)
    return drift + result.drift, result.checked


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
    """Check the conda environment at ``prefix`` against ``lock_path``.

    ``lock``: the lock already read (and verified, by ``signer``); else it is read here.
    """
    started, tick = clock(), time.perf_counter()
    # 1. The lock.
    lock = lock or read_conda_lock(lock_path)
    here = platform or current_platform()
    expected = locked_for_here(lock, here)
    # 2. The prefix.
    records = read_prefix(prefix)
    installed = {r.name: r for r in records}
    # 3. Packages (the pip: wheels through the prefix's dist-info).
    packages = compare_conda(expected, installed)
    pip_wanted = lock.for_platform(here, "pip")
    pip_dists: list[InstalledDist] = []
    if pip_wanted:
        pip_drift, pip_dists = _compare_pip(pip_wanted, list(expected.values()), prefix, here)
        packages += pip_drift
    # 4. Files.
    files: list[FileDrift] = []
    checked = 0
    if level in ("files", "artifacts"):
        files, checked = check_prefix_files(records, prefix)
        if pip_dists:
            from lockdown.drift.files import check_files  # noqa: PLC0415

            result = check_files(pip_dists, prefix)
            files += result.drift
            checked += result.checked
    if level == "artifacts":
        more, more_checked = check_against_archives(
            expected, records, prefix, lock_path=lock_path, cache_dir=cache_dir
        )
        seen = {(f.path, f.kind) for f in files}
        files += [f for f in more if (f.path, f.kind) not in seen]
        checked += more_checked
    return DriftReport(
        lock=str(lock_path),
        lock_sha256=hashlib.sha256(lock.data).hexdigest(),
        target=str(prefix),
        python_version=f"conda {here}",
        level=level,
        expected=len(expected) + len(pip_wanted),
        installed=len(installed),
        packages=tuple(packages),
        files=tuple(sorted(files, key=lambda f: (f.path, f.kind))),
        signature="verified" if signer else "not-checked",
        signer=signer,
        checked_at=started,
        duration_seconds=time.perf_counter() - tick,
        files_checked=checked,
    )
