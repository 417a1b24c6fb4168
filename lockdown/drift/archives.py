"""A conda prefix against its locked archives themselves (the ``artifacts`` level).

conda-meta can be forged, and installed files are hardlinks into the package
cache, so neither is an independent witness. Each installed package's locked
archive is fetched into the content-addressed cache (sha256-checked against
the lock first) and its own ``info/paths.json`` is the reference
(``noarch: python`` paths mapped to the prefix's site-packages and scripts,
as installers map them):

a. every file it ships must be listed by conda-meta with the archive's
   digest, and a ``sha256_in_prefix`` the file can have in this prefix
   (else a high-severity ``record`` finding);
b. every file conda-meta lists must be shipped by the archive (or be one
   installers create: ``.pyc`` files, entry points), else ``record``;
c. every file must have exactly the archive's content on disk; a file with
   a prefix placeholder must have the archive's content with the prefix
   written in, rebuilt as conda and rattler write it
   (:mod:`lockdown.drift.placeholder`);
d. the ``pip:`` wheels against the RECORDs inside the locked wheels
   (:func:`lockdown.drift.wheels.check_against_wheels`).

Reading archives needs py-rattler (the ``conda`` extra).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lockdown.drift.conda_files import CREATED_TYPES
from lockdown.drift.model import FileDrift

if TYPE_CHECKING:
    from lockdown.drift.files import RecordEntry
    from lockdown.env.conda_meta import CondaRecord, PrefixFile
    from lockdown.env.python_env import InstalledDist
    from lockdown.lock.model import LockedPackage


class _Shipped(NamedTuple):
    """One entry of a locked archive's ``info/paths.json``, at its installed path."""

    path: str
    #: The path inside the archive (differs for ``noarch: python``).
    member: str
    hardlink: bool
    sha256: str | None
    size: int | None
    #: ``(placeholder, "text" | "binary")`` for a file the installer rewrites.
    placeholder: tuple[str, str] | None


def _python_layout(platform: str, python: str | None) -> tuple[str, str] | None:
    """Where ``noarch: python`` files go in the prefix: (site-packages, scripts), relative."""
    if python is None:
        return None
    from lockdown.env.conda_python import scripts, site_packages  # noqa: PLC0415

    return site_packages(Path(), platform, python).as_posix(), scripts(Path(), platform).as_posix()


def _installed_at(member: str, layout: tuple[str, str] | None) -> str:
    """A ``noarch: python`` archive member's installed path (``site-packages/`` moves)."""
    if layout is None:
        return member
    for folder, target in (("site-packages", layout[0]), ("python-scripts", layout[1])):
        if member.startswith(folder + "/"):
            return target + member[len(folder) :]
    return member


def _read_archive(archive: Path, layout: tuple[str, str] | None) -> list[_Shipped]:
    """The archive's ``info/paths.json``, each path where installers put it."""
    import rattler  # noqa: PLC0415

    noarch_python = bool(rattler.IndexJson.from_package_archive(archive).noarch.python)
    shipped = []
    for entry in rattler.PathsJson.from_package_archive(archive).paths:
        member = str(entry.relative_path)
        placeholder = entry.prefix_placeholder
        shipped.append(
            _Shipped(
                path=_installed_at(member, layout) if noarch_python else member,
                member=member,
                hardlink=bool(entry.path_type.hardlink),
                sha256=entry.sha256.hex() if entry.sha256 is not None else None,
                size=entry.size_in_bytes,
                placeholder=(
                    (str(placeholder.placeholder), str(placeholder.file_mode.mode))
                    if placeholder is not None
                    else None
                ),
            )
        )
    return shipped


def _read_members(wanted: dict[Path, list[str]]) -> dict[tuple[Path, str], bytes | None]:
    """The bytes of some members of some archives (each archive streamed once)."""
    import asyncio  # noqa: PLC0415

    from rattler.package_streaming import PackageArchive  # noqa: PLC0415

    async def read_all() -> dict[tuple[Path, str], bytes | None]:
        out: dict[tuple[Path, str], bytes | None] = {}
        for archive, members in wanted.items():
            package = await PackageArchive.from_path(archive)
            found = await package.read_files(members)
            out.update({(archive, m): found.get(m) for m in members})
        return out

    return asyncio.run(read_all()) if wanted else {}


def _locked_archives(
    todo: Sequence[tuple[CondaRecord, LockedPackage]],
    layout: tuple[str, str] | None,
    *,
    lock_path: Path,
    cache_dir: Path | None,
) -> tuple[list[tuple[CondaRecord, Path, list[_Shipped]]], dict[tuple[Path, str], bytes | None]]:
    """Each locked archive, sha256-checked against the lock, then read: its paths, and
    the bytes of its files with a prefix placeholder."""
    from lockdown.artifacts import (  # noqa: PLC0415
        ArtifactCache,
        ensure_cache_dir,
        under_its_name,
        verify_all,
    )
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    verified = verify_all(
        cache, [p.file for _record, p in todo], source=str(lock_path), rehash=True
    )
    archives: list[tuple[CondaRecord, Path, list[_Shipped]]] = []
    members: dict[Path, list[str]] = {}
    for record, package in todo:
        # The verified file under its real name (rattler reads the format from it),
        # in a directory named by its digest, so no other archive can take the name.
        named = under_its_name(verified[package.file.sha256], package.file)
        shipped = _read_archive(named, layout)
        archives.append((record, named, shipped))
        wanted = [s.member for s in shipped if s.placeholder is not None and s.hardlink]
        if wanted:
            members[named] = wanted
    return archives, _read_members(members)


def check_against_archives(
    expected: dict[str, LockedPackage],
    records: list[CondaRecord],
    prefix: Path,
    *,
    lock_path: Path,
    cache_dir: Path | None,
    platform: str | None = None,
) -> tuple[list[FileDrift], int]:
    """The ``artifacts`` level: installed files and records against each locked archive.

    See the module docstring (step 5, a to c).
    """
    from lockdown.lock.condalock import require  # noqa: PLC0415

    require()
    from lockdown.drift.compare import display  # noqa: PLC0415
    from lockdown.drift.files import RecordEntry  # noqa: PLC0415
    from lockdown.drift.placeholder import installed_candidates  # noqa: PLC0415
    from lockdown.env.conda_meta import current_platform  # noqa: PLC0415

    here = platform or current_platform()
    todo = [
        (record, expected[record.name])
        for record in records
        if record.name in expected
        and (record.version, record.build)
        == (expected[record.name].version, expected[record.name].conda.build)
    ]
    python = expected.get("python")
    layout = _python_layout(here, python.version if python is not None else None)
    archives, contents = _locked_archives(todo, layout, lock_path=lock_path, cache_dir=cache_dir)
    # The prefix as an installer may have spelled it when it wrote it into files.
    spellings = list(dict.fromkeys([os.path.abspath(prefix), os.path.realpath(prefix)]))
    root = os.path.realpath(prefix)
    drift: list[FileDrift] = []
    owners: list[tuple[str, str, list[RecordEntry]]] = []
    #: (package, displayed path) → the other contents a placeholder file may have.
    alternatives: dict[tuple[str, str], list[tuple[str, int | None]]] = {}
    for record, named, shipped in archives:
        listed = {f.path: f for f in record.files}
        entries: list[RecordEntry] = []
        for item in shipped:
            if not item.hardlink or item.path.endswith(".pyc") or item.sha256 is None:
                continue
            # c. What the file must hold: the archive's bytes, with the prefix written in.
            allowed: list[tuple[str, int | None]] = [(item.sha256, item.size)]
            if item.placeholder is not None:
                data = contents.get((named, item.member))
                if data is None or hashlib.sha256(data).hexdigest() != item.sha256:
                    drift.append(_record_drift(item.path, record.name, _UNREADABLE))
                    continue
                placeholder, mode = item.placeholder
                allowed = [
                    (hashlib.sha256(c).hexdigest(), len(c))
                    for c in installed_candidates(data, placeholder, mode, spellings, here)
                ]
                key = (record.name, display(os.path.relpath(os.path.join(root, item.path), root)))
                alternatives[key] = allowed[1:]
            entries.append(RecordEntry(item.path, allowed[0][0], allowed[0][1]))
            # a. conda-meta must describe the file as the archive ships it.
            wrong = _misrecorded(listed.get(item.path), item, {digest for digest, _ in allowed})
            if wrong is not None:
                drift.append(_record_drift(item.path, record.name, wrong))
        # b. conda-meta must list nothing the archive does not ship.
        drift += _listed_not_shipped(record, {s.path for s in shipped})
        owners.append((record.name, root, entries))
    found, checked = _check_contents(owners, alternatives, prefix)
    return drift + found, checked


def _misrecorded(mine: PrefixFile | None, item: _Shipped, in_prefix: set[str]) -> str | None:
    """What is wrong with conda-meta's entry for a file the archive ships, if anything."""
    if mine is None:
        return _NOT_LISTED
    if mine.archive_sha256 is not None and mine.archive_sha256 != item.sha256:
        return _OTHER_DIGEST
    if mine.sha256_in_prefix is not None and mine.sha256_in_prefix not in in_prefix:
        return _OTHER_IN_PREFIX
    return None


_UNREADABLE = "the locked archive's info/paths.json does not describe its own file"
_NOT_LISTED = "conda-meta does not list it; the locked archive ships it"
_OTHER_DIGEST = "conda-meta records another sha256 than the locked archive ships"
_OTHER_IN_PREFIX = (
    "conda-meta's sha256_in_prefix is not the locked archive's file with this prefix written in"
)


def _record_drift(path: str, package: str, detail: str) -> FileDrift:
    from lockdown.drift.compare import display  # noqa: PLC0415

    return FileDrift(
        path=display(path), kind="record", package=package, severity="high", detail=detail
    )


def _listed_not_shipped(record: CondaRecord, shipped: set[str]) -> list[FileDrift]:
    """Paths conda-meta lists (``paths_data`` or ``files``) that the locked archive lacks."""
    types = {f.path: f.path_type for f in record.files}
    extra = sorted(
        path
        for path in {*types, *record.names}
        if path not in shipped
        and types.get(path, "hardlink") not in CREATED_TYPES
        and not path.endswith(".pyc")
    )
    return [
        _record_drift(path, record.name, "conda-meta lists it; the locked archive does not ship it")
        for path in extra
    ]


def _check_contents(
    owners: Sequence[tuple[str, str, Sequence[RecordEntry]]],
    alternatives: dict[tuple[str, str], list[tuple[str, int | None]]],
    prefix: Path,
) -> tuple[list[FileDrift], int]:
    """Every file against its first expected content; a prefix-placeholder file that
    differs is tried against its other possible contents before it is reported."""
    from lockdown.drift.files import RecordEntry, check_recorded  # noqa: PLC0415

    # Only regular files are checked here (the archive's hardlink entries).
    result = check_recorded(owners, prefix, symlinks_allowed=False)
    root = os.path.realpath(prefix)
    drift = list(result.drift)
    round_ = 0
    while True:
        retry = [
            f
            for f in drift
            if f.kind == "modified"
            and f.package is not None
            and round_ < len(alternatives.get((f.package, f.path), ()))
        ]
        if not retry:
            return drift, result.checked
        again = check_recorded(
            [
                (
                    f.package or "",
                    root,
                    [RecordEntry(f.path, *alternatives[(f.package or "", f.path)][round_])],
                )
                for f in retry
            ],
            prefix,
            symlinks_allowed=False,
        )
        still = {(f.package, f.path) for f in again.drift}
        matched = {(f.package, f.path) for f in retry} - still
        drift = [f for f in drift if f.kind != "modified" or (f.package, f.path) not in matched]
        round_ += 1


def pip_against_wheels(
    wanted: Sequence[LockedPackage],
    dists: Sequence[InstalledDist],
    conda: Sequence[LockedPackage],
    prefix: Path,
    platform: str,
    *,
    lock_path: Path,
    cache_dir: Path | None,
) -> tuple[list[FileDrift], int]:
    """Step 5d: the ``pip:`` wheels' files against the RECORDs inside the locked wheels."""
    from lockdown.artifacts import ArtifactCache, ensure_cache_dir  # noqa: PLC0415
    from lockdown.drift.wheels import check_against_wheels  # noqa: PLC0415
    from lockdown.env.conda_python import (  # noqa: PLC0415
        interpreter,
        marker_environment,
        python_of,
        scripts,
        site_packages,
    )
    from lockdown.env.install import Selected  # noqa: PLC0415
    from lockdown.env.python_env import TargetInfo  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415
    from lockdown.names import normalize_name  # noqa: PLC0415

    python = python_of(conda)
    # The prefix's Python described from the outside: it is never run by a check.
    target = TargetInfo(
        executable=interpreter(prefix, platform),
        environment=marker_environment(platform, python),
        tags=(),
        site_packages=(site_packages(prefix, platform, python),),
        scripts=scripts(prefix, platform),
        prefix=prefix,
        in_venv=False,
    )
    selected = [
        Selected(name=normalize_name(w.name), version=w.version, artifact=w.file) for w in wanted
    ]
    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    return check_against_wheels(
        selected, {d.name: d for d in dists}, target, cache, source=str(lock_path)
    )
