"""``lockdown check --prefix``: a conda environment against its ``conda-lock.yml``.

1. Read the lock once; its packages for this machine's platform are expected.
2. Read ``conda-meta/*.json``: what the prefix says it holds.
3. ``versions``: missing, unexpected, other version or build, other archive
   (sha256) or channel.
4. ``files``: every file a record lists against ``sha256_in_prefix`` (a file
   whose prefix placeholder was rewritten) or ``sha256``; sizes only for files
   that were not rewritten; ``.pyc`` files and directories skipped; paths
   confined to the prefix. The ``pip:`` wheels against their RECORDs. Files
   in the prefix's site-packages that no record owns are reported, startup
   hooks (``*.pth``, ``sitecustomize.py``, ``usercustomize.py``) with high
   severity, as for venvs.
5. ``artifacts``: conda-meta can be forged, and installed files are hardlinks
   into the package cache, so neither is an independent witness. Each
   installed package's locked archive is fetched into the content-addressed
   cache (sha256-checked against the lock first) and its own
   ``info/paths.json`` is the reference (``noarch: python`` paths mapped to
   the prefix's site-packages and scripts, as installers map them):

   a. every file it ships must be listed by conda-meta with the archive's
      digest, and a ``sha256_in_prefix`` the file can have in this prefix
      (else a high-severity ``record`` finding);
   b. every file conda-meta lists must be shipped by the archive (or be one
      installers create: ``.pyc`` files, entry points), else ``record``;
   c. every file must have exactly the archive's content on disk; a file with
      a prefix placeholder must have the archive's content with the prefix
      written in, rebuilt as conda and rattler write it
      (:mod:`lockdown.conda.placeholder`);
   d. the ``pip:`` wheels against the RECORDs inside the locked wheels
      (:func:`lockdown.drift.wheels.check_against_wheels`).

Only ``artifacts`` needs py-rattler (to read archives); without the
``conda`` extra it says how to get it, like every conda command.
"""

from __future__ import annotations

import hashlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from lockdown.conda.lockfile import CondaLock, CondaPackage, read_conda_lock
from lockdown.conda.prefix import CondaRecord, PrefixFile, read_prefix
from lockdown.drift.model import DriftReport, FileDrift, Level, PackageDrift
from lockdown.env.python_env import InstalledDist
from lockdown.errors import IntegrityError

if TYPE_CHECKING:
    from lockdown.drift.files import FileCheck, RecordEntry

#: conda-meta path types that carry no content to check.
_SKIPPED_TYPES = frozenset({"directory", "pyc_file", "unix_python_entry_point"})
#: conda-meta path types an installer creates itself: never shipped by an archive.
_CREATED_TYPES = _SKIPPED_TYPES | {
    "windows_python_entry_point_script",
    "windows_python_entry_point_exe",
    "linked_package_record",
}

#: conda's subdirs: the last segment of the ``channel`` conda writes into conda-meta.
KNOWN_SUBDIRS = frozenset(
    {
        "noarch",
        "linux-32",
        "linux-64",
        "linux-aarch64",
        "linux-armv6l",
        "linux-armv7l",
        "linux-ppc64",
        "linux-ppc64le",
        "linux-riscv32",
        "linux-riscv64",
        "linux-s390x",
        "osx-64",
        "osx-arm64",
        "win-32",
        "win-64",
        "win-arm64",
        "freebsd-64",
        "emscripten-wasm32",
        "wasi-wasm32",
        "zos-z",
    }
)


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
    from lockdown.conda import require  # noqa: PLC0415

    require()
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


def channel_key(channel: str, subdir: str = "") -> str:
    """A channel as compared: no credentials or token, no trailing subdir or ``/``.

    conda writes a record's ``channel`` as the channel URL with the package's
    subdir (``<url>/linux-64``), rattler as the channel URL, and either may
    write a canonical name (``conda-forge``) instead; the lock has the channel
    URL without subdir. Scheme and host compare case-insensitively.
    """
    text = channel.strip().rstrip("/")
    if "://" in text:
        import re  # noqa: PLC0415
        from urllib.parse import urlsplit  # noqa: PLC0415

        parts = urlsplit(text)
        try:
            port = f":{parts.port}" if parts.port else ""
        except ValueError:
            port = ""
        path = re.sub(r"^/t/[^/]+", "", parts.path).rstrip("/")  # conda's /t/<token>/
        text = f"{parts.scheme.lower()}://{parts.hostname or ''}{port}{path}"
    head, _, last = text.rpartition("/")
    if head and not head.endswith("/") and (last in KNOWN_SUBDIRS or (subdir and last == subdir)):
        text = head
    return text


def same_channel(installed: str, locked: str, subdir: str = "") -> bool:
    """Whether a conda-meta ``channel`` names the lock's channel (see :func:`channel_key`).

    A canonical name (``conda-forge``, ``pkgs/main``) matches a locked channel
    URL that ends with it: the name is all such a record says.
    """
    have, want = channel_key(installed, subdir), channel_key(locked)
    if have == want:
        return True
    return bool(have) and "://" not in have and "://" in want and want.endswith("/" + have)


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
        elif have.channel and not same_channel(have.channel, want.channel, have.subdir):
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


def check_prefix_files(records: list[CondaRecord], prefix: Path) -> FileCheck:
    """Every recorded file of every package, confined to the prefix: drift, count, owned paths."""
    from lockdown.drift.files import FileCheck, RecordEntry, check_recorded  # noqa: PLC0415

    root = os.path.realpath(prefix)

    def owners(links: bool) -> list[tuple[str, str, list[RecordEntry]]]:
        return [
            (
                r.name,
                root,
                [
                    RecordEntry(f.path, f.sha256, f.size)
                    for f in r.files
                    if f.path_type not in _SKIPPED_TYPES
                    and not f.path.endswith(".pyc")
                    and (f.path_type == "softlink") == links
                ],
            )
            for r in records
        ]

    # A file recorded as a regular file (hardlink) that is now a symlink is a
    # change, wherever it points; packages' own softlinks are followed in the prefix.
    files = check_recorded(owners(False), prefix, symlinks_allowed=False)
    links = check_recorded(owners(True), prefix, symlinks_allowed=True)
    return FileCheck(
        drift=[*files.drift, *links.drift],
        checked=files.checked + links.checked,
        owned=files.owned | links.owned,
    )


def site_packages_dirs(prefix: Path) -> list[Path]:
    """The prefix's site-packages directories (any Python), confined to the prefix."""
    root = os.path.realpath(prefix)
    found: dict[str, Path] = {}
    for site in (
        *sorted(prefix.glob("lib/python*/site-packages")),
        prefix / "Lib" / "site-packages",
    ):
        real = os.path.realpath(site)
        if os.path.isdir(real) and real.startswith(root + os.sep):
            found.setdefault(real, site)
    return list(found.values())


def unowned_in_prefix(prefix: Path, owned: set[str]) -> list[FileDrift]:
    """Files in the prefix's site-packages no conda-meta record and no RECORD owns.

    The venv logic (:func:`lockdown.drift.files.unowned_files`): ``*.pth``
    files and ``sitecustomize.py`` / ``usercustomize.py`` run code at every
    interpreter start, so they are high severity.
    """
    from lockdown.drift.files import unowned_files  # noqa: PLC0415

    return unowned_files(site_packages_dirs(prefix), owned, prefix)


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
    if platform.startswith("win-"):
        return "Lib/site-packages", "Scripts"
    major_minor = ".".join(python.split(".")[:2])
    return f"lib/python{major_minor}/site-packages", "bin"


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
    todo: Sequence[tuple[CondaRecord, CondaPackage]],
    layout: tuple[str, str] | None,
    *,
    lock_path: Path,
    cache_dir: Path | None,
) -> tuple[list[tuple[CondaRecord, Path, list[_Shipped]]], dict[tuple[Path, str], bytes | None]]:
    """Each locked archive, sha256-checked against the lock, then read: its paths, and
    the bytes of its files with a prefix placeholder."""
    from lockdown.artifacts import ArtifactCache, ensure_cache_dir, verify_all  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir, link_or_copy  # noqa: PLC0415

    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    verified = verify_all(cache, [p.expected(lock_path) for _record, p in todo], rehash=True)
    archives: list[tuple[CondaRecord, Path, list[_Shipped]]] = []
    members: dict[Path, list[str]] = {}
    for record, package in todo:
        # The verified file under its real name (rattler reads the format from it),
        # in a directory named by its digest, so no other archive can take the name.
        named = verified[package.sha256].parent.parent.parent / "links" / package.sha256
        named = named / package.filename
        link_or_copy(verified[package.sha256], named)
        shipped = _read_archive(named, layout)
        archives.append((record, named, shipped))
        wanted = [s.member for s in shipped if s.placeholder is not None and s.hardlink]
        if wanted:
            members[named] = wanted
    return archives, _read_members(members)


def check_against_archives(
    expected: dict[str, CondaPackage],
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
    from lockdown.conda import require  # noqa: PLC0415

    require()
    from lockdown.conda.placeholder import installed_candidates  # noqa: PLC0415
    from lockdown.drift.compare import display  # noqa: PLC0415
    from lockdown.drift.files import RecordEntry  # noqa: PLC0415

    here = platform or current_platform()
    todo = [
        (record, expected[record.name])
        for record in records
        if record.name in expected
        and (record.version, record.build)
        == (expected[record.name].version, expected[record.name].build)
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
        and types.get(path, "hardlink") not in _CREATED_TYPES
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


def _pip_against_wheels(
    wanted: Sequence[CondaPackage],
    dists: Sequence[InstalledDist],
    conda: Sequence[CondaPackage],
    prefix: Path,
    platform: str,
    *,
    lock_path: Path,
    cache_dir: Path | None,
) -> tuple[list[FileDrift], int]:
    """Step 5d: the ``pip:`` wheels' files against the RECORDs inside the locked wheels."""
    from lockdown.artifacts import ArtifactCache, ensure_cache_dir  # noqa: PLC0415
    from lockdown.conda.pip import (  # noqa: PLC0415
        interpreter,
        marker_environment,
        python_of,
        site_packages,
    )
    from lockdown.drift.wheels import check_against_wheels  # noqa: PLC0415
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
        scripts=prefix / ("Scripts" if platform.startswith("win-") else "bin"),
        prefix=prefix,
        in_venv=False,
    )
    selected = [
        Selected(name=normalize_name(w.name), version=w.version, artifact=w.expected(lock_path))
        for w in wanted
    ]
    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    return check_against_wheels(selected, {d.name: d for d in dists}, target, cache)


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
    if level == "artifacts":
        from lockdown.conda import require  # noqa: PLC0415

        require()  # archives are read with py-rattler: say so before any work
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
    # 4. Files: conda-meta's, the pip: wheels' RECORDs, and what nobody owns.
    files: list[FileDrift] = []
    checked = 0
    if level in ("files", "artifacts"):
        result = check_prefix_files(records, prefix)
        files, checked, owned = list(result.drift), result.checked, set(result.owned)
        if pip_dists:
            from lockdown.drift.files import check_files  # noqa: PLC0415

            pip_result = check_files(pip_dists, prefix)
            files += pip_result.drift
            checked += pip_result.checked
            owned |= pip_result.owned
        files += unowned_in_prefix(prefix, owned)
    # 5. Against the locked archives and wheels themselves.
    if level == "artifacts":
        more, more_checked = check_against_archives(
            expected, records, prefix, lock_path=lock_path, cache_dir=cache_dir, platform=here
        )
        if pip_dists:
            wheels, wheel_checked = _pip_against_wheels(
                pip_wanted,
                pip_dists,
                list(expected.values()),
                prefix,
                here,
                lock_path=lock_path,
                cache_dir=cache_dir,
            )
            more += wheels
            more_checked += wheel_checked
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
