"""Compare an installed environment with its lock: packages, then files.

Everything here reads files; nothing of the target environment is imported
or executed. Paths from RECORD files are confined to the environment's root:
an entry that escapes it, or a symlink that points outside, is reported and
never followed.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.drift.model import FileDrift, PackageDrift
from lockdown.env.python_env import InstalledDist, normalize_name

if TYPE_CHECKING:
    pass

#: uv's and virtualenv's own site hook: ``_virtualenv.pth`` holding exactly this line.
VENV_HOOK_PTH = "_virtualenv.pth"
VENV_HOOK_CONTENT = "import _virtualenv"
VENV_HOOK_MODULE = "_virtualenv.py"
#: Files that run code at every interpreter start when placed in site-packages.
STARTUP_HOOKS = frozenset({"sitecustomize.py", "usercustomize.py"})


def display(path: str) -> str:
    """A path that prints anywhere: undecodable bytes shown as escapes, never an error."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


@dataclass(frozen=True, slots=True)
class ExpectedPin:
    """What the lock expects of one package: its version, and whether from an index."""

    version: str | None
    #: True when the lock pins index artifacts (wheels/sdist), so any direct-URL
    #: install (editable, local path, VCS, URL) is a source change.
    from_index: bool


def compare_packages(
    expected: Mapping[str, ExpectedPin],
    installed: Sequence[InstalledDist],
    *,
    ignore: Iterable[str] = (),
) -> list[PackageDrift]:
    """Missing, unexpected, other version, other source (pure)."""
    have: dict[str, InstalledDist] = {d.name: d for d in installed}
    ignored = {normalize_name(n) for n in ignore}
    drift: list[PackageDrift] = []
    for name in sorted(expected):
        pin = expected[name]
        locked = pin.version
        dist = have.get(name)
        if dist is None:
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
        if (
            locked is not None
            and dist.version != locked
            and (canonicalize_version(dist.version) != canonicalize_version(locked))
        ):
            drift.append(
                PackageDrift(
                    name=name,
                    kind="version",
                    expected=locked,
                    installed=dist.version,
                    detail=f"{dist.version} installed, {locked} locked",
                )
            )
            continue
        if dist.direct_url is not None and pin.from_index:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="source",
                    expected=locked,
                    installed=dist.version,
                    detail=describe_direct_url(dist.direct_url)
                    + "; the lock pins an index artifact",
                )
            )
    for name in sorted(set(have) - set(expected) - ignored):
        dist = have[name]
        drift.append(
            PackageDrift(
                name=name,
                kind="unexpected",
                expected=None,
                installed=dist.version,
                detail="installed, not in the lock",
            )
        )
    return drift


def canonicalize_version(version: str) -> str:
    """Versions compared as PEP 440 says (``1.0`` == ``1.0.0``); raw text if unparseable."""
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def describe_direct_url(direct_url: Mapping[str, object]) -> str:
    """PEP 610 ``direct_url.json`` in words: editable, local directory, VCS or URL."""
    url = str(direct_url.get("url", "?"))
    dir_info = direct_url.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        return f"editable install from {url}"
    if isinstance(dir_info, dict):
        return f"installed from local directory {url}"
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        return f"installed from {vcs.get('vcs', 'VCS')} {url}@{vcs.get('commit_id', '?')}"
    return f"installed from direct URL {url}"


@dataclass(frozen=True, slots=True)
class RecordEntry:
    """One RECORD row: the path as written, and the declared digest and size."""

    path: str
    sha256: str | None
    size: int | None


def parse_record(text: str) -> list[RecordEntry]:
    """RECORD (CSV: path, ``sha256=<urlsafe-b64>``, size) into entries; bad rows skipped."""
    entries = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        digest = None
        if len(row) > 1 and row[1].startswith("sha256="):
            raw = row[1][len("sha256=") :]
            try:
                digest = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).hex()
            except ValueError:
                digest = "invalid"
        size = int(row[2]) if len(row) > 2 and row[2].isdigit() else None
        entries.append(RecordEntry(path=row[0], sha256=digest, size=size))
    return entries


def read_record(dist: InstalledDist) -> list[RecordEntry]:
    """The installed RECORD of ``dist`` (empty when unreadable)."""
    try:
        data = (dist.dist_info / "RECORD").read_bytes()
    except OSError:
        return []
    return parse_record(data.decode("utf-8", "surrogateescape"))


def file_sha256(path: str) -> str:
    """Hash a file in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


@dataclass(slots=True)
class FileCheck:
    """The result of checking files: drift found, files hashed, paths owned."""

    drift: list[FileDrift]
    checked: int
    owned: set[str]


def check_files(installed: Sequence[InstalledDist], root: Path) -> FileCheck:
    """Every file of every distribution against its installed RECORD (``rpm -V`` style)."""
    root_s = os.path.realpath(root)
    drift: list[FileDrift] = []
    owned: set[str] = set()
    checked = 0
    # realpath() of each file's directory, once per directory: thousands of files
    # share a few hundred directories, and each realpath is a chain of lstat calls.
    real_dirs: dict[str, str] = {}

    def real_dir(directory: str) -> str:
        found = real_dirs.get(directory)
        if found is None:
            found = real_dirs[directory] = os.path.realpath(directory)
        return found

    for dist in installed:
        site = os.path.realpath(dist.dist_info.parent)
        for entry in read_record(dist):
            full = os.path.normpath(os.path.join(site, entry.path))
            # Lexically inside, and no symlinked directory on the way leads out.
            if not _inside(full, root_s) or not _inside(real_dir(os.path.dirname(full)), root_s):
                drift.append(
                    FileDrift(
                        path=display(entry.path),
                        kind="escape",
                        package=dist.name,
                        severity="high",
                        detail="RECORD entry points outside the environment; not followed",
                    )
                )
                continue
            owned.add(full)
            if os.path.islink(full):
                if not _inside(os.path.realpath(full), root_s):
                    drift.append(
                        FileDrift(
                            path=display(os.path.relpath(full, root_s)),
                            kind="symlink",
                            package=dist.name,
                            severity="high",
                            detail="symlink points outside the environment; not followed",
                        )
                    )
                continue
            if entry.sha256 is None:
                continue  # RECORD itself, and files installers list without a hash
            try:
                size = os.stat(full).st_size
            except FileNotFoundError:
                if not full.endswith(".pyc"):
                    drift.append(
                        FileDrift(
                            path=display(os.path.relpath(full, root_s)),
                            kind="missing",
                            package=dist.name,
                        )
                    )
                continue
            checked += 1
            if entry.size is not None and size != entry.size:
                # A different size is a different digest: no need to read the file.
                drift.append(
                    FileDrift(
                        path=display(os.path.relpath(full, root_s)),
                        kind="modified",
                        package=dist.name,
                        flags="S5",
                    )
                )
                continue
            if file_sha256(full) != entry.sha256:
                drift.append(
                    FileDrift(
                        path=display(os.path.relpath(full, root_s)),
                        kind="modified",
                        package=dist.name,
                        flags="5",
                    )
                )
    return FileCheck(drift=drift, checked=checked, owned=owned)


def unowned_files(site_packages: Iterable[Path], owned: set[str], root: Path) -> list[FileDrift]:
    """Files in site-packages that no RECORD lists; startup hooks are high severity."""
    root_s = os.path.realpath(root)
    drift = []
    for site_path in site_packages:
        site = os.path.realpath(site_path)
        for path in _walk(site):
            if path in owned or path.endswith(".pyc") or f"{os.sep}__pycache__{os.sep}" in path:
                continue
            name = os.path.basename(path)
            rel = display(os.path.relpath(path, root_s))
            if name == VENV_HOOK_MODULE and os.path.dirname(path) == site:
                continue  # the venv tool's own module; its .pth is checked below
            if name == VENV_HOOK_PTH and _is_venv_hook(path):
                continue
            if os.path.islink(path) and not _inside(os.path.realpath(path), root_s):
                drift.append(
                    FileDrift(
                        path=rel,
                        kind="symlink",
                        package=None,
                        severity="high",
                        detail="symlink points outside the environment; not followed",
                    )
                )
                continue
            hook = name.endswith(".pth") or name in STARTUP_HOOKS
            drift.append(
                FileDrift(
                    path=rel,
                    kind="unowned",
                    package=None,
                    severity="high" if hook else "normal",
                    detail="runs code at every interpreter start"
                    if hook
                    else "owned by no package",
                )
            )
    return drift


def _is_venv_hook(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip() == VENV_HOOK_CONTENT
    except (OSError, UnicodeDecodeError):
        return False


def _walk(top: str) -> Iterator[str]:
    for directory, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            yield os.path.join(directory, name)
        for name in dirs:
            candidate = os.path.join(directory, name)
            if os.path.islink(candidate):
                yield candidate
