"""Compare an installed environment's files with its RECORDs: the ``files`` level.

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
import stat
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from lockdown.drift.compare import display
from lockdown.drift.model import FileDrift
from lockdown.env.python_env import InstalledDist
from lockdown.errors import UsageError
from lockdown.fsutil import file_sha256

#: uv's and virtualenv's own site hook: ``_virtualenv.pth`` holding exactly this line.
VENV_HOOK_PTH = "_virtualenv.pth"
VENV_HOOK_CONTENT = "import _virtualenv"
VENV_HOOK_MODULE = "_virtualenv.py"
#: Files that run code at every interpreter start when placed in site-packages.
STARTUP_HOOKS = frozenset({"sitecustomize.py", "usercustomize.py"})


class RecordEntry(NamedTuple):
    """One RECORD row: the path as written, and the declared digest (hex) and size."""

    path: str
    sha256: str | None
    size: int | None


def parse_record(text: str) -> list[RecordEntry]:
    """RECORD (CSV: path, ``sha256=<urlsafe-b64>``, size) into entries; bad rows skipped."""
    entries = []
    decode = base64.urlsafe_b64decode
    for row in csv.reader(io.StringIO(text)):
        if not row or not row[0]:
            continue
        digest = None
        if len(row) > 1 and row[1].startswith("sha256="):
            raw = row[1][7:]
            try:
                digest = decode(raw + "=" * (-len(raw) % 4)).hex()
            except ValueError:
                digest = "invalid"
        size = int(row[2]) if len(row) > 2 and row[2].isdigit() else None
        entries.append(RecordEntry(row[0], digest, size))
    return entries


def read_record(dist: InstalledDist) -> list[RecordEntry]:
    """The installed RECORD of ``dist`` (empty when unreadable)."""
    try:
        data = (dist.dist_info / "RECORD").read_bytes()
    except OSError:
        return []
    return parse_record(data.decode("utf-8", "surrogateescape"))


#: Files up to this size are read whole and hashed in one call; larger ones in chunks.
WHOLE_READ_LIMIT = 1 << 20


def content_sha256(path: str, size: int) -> str:
    """sha256 of a file whose size is known: small files in one read, no buffer to zero."""
    if size > WHOLE_READ_LIMIT:
        return file_sha256(path)
    with open(path, "rb", buffering=0) as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


class FileCheck(NamedTuple):
    """The result of checking files: drift found, files hashed, paths owned."""

    drift: list[FileDrift]
    checked: int
    owned: set[str]


#: A file to look at: its full path, its RECORD entry and its distribution's name.
_Job = tuple[str, RecordEntry, str]
#: What a worker found wrong with one file: the job and the drift kind and flags.
_Finding = tuple[_Job, Literal["missing", "symlink", "modified"], str]


def check_files(
    installed: Sequence[InstalledDist], root: Path, *, workers: int | None = None
) -> FileCheck:
    """Every file of every distribution against its installed RECORD (``rpm -V`` style).

    1. Each RECORD entry is confined to ``root``: lexically, and through the
       real path of its directory. An entry that escapes is reported, never
       opened.
    2. ``workers`` threads (default: one per CPU, at most 8) then look at the
       confined files: one ``lstat`` (symlink out of the root, missing, size
       differs from RECORD), then the content's sha256. System calls and
       hashing release the GIL, so this part runs on every core.
    """
    root_s = os.path.realpath(root)
    drift: list[FileDrift] = []
    owned: set[str] = set()
    jobs: list[_Job] = []
    real_dir = _RealDirs()
    # 1. Confinement, on this thread.
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
            jobs.append((full, entry, dist.name))
    # 2. Each file on disk, on every core.
    checked = sum(1 for _, entry, _ in jobs if entry.sha256 is not None)
    for (full, _entry, package), kind, flags in _look_at_all(jobs, root_s, workers):
        path = display(os.path.relpath(full, root_s))
        if kind == "symlink":
            drift.append(
                FileDrift(
                    path=path,
                    kind="symlink",
                    package=package,
                    severity="high",
                    detail="symlink points outside the environment; not followed",
                )
            )
        else:
            drift.append(FileDrift(path=path, kind=kind, package=package, flags=flags))
    return FileCheck(drift=drift, checked=checked, owned=owned)


class _RealDirs:
    """``os.path.realpath`` of directories, memoized, each from its parent's answer.

    Thousands of files share a few hundred directories; ``realpath`` of each
    would ``lstat`` every component of its path again. From the parent's real
    path, a directory costs one ``lstat``, and a full ``realpath`` only when it
    is itself a symlink.
    """

    def __init__(self) -> None:
        self._known: dict[str, str] = {}

    def __call__(self, directory: str) -> str:
        known = self._known.get(directory)
        if known is not None:
            return known
        parent, name = os.path.split(directory)
        if not name or parent == directory:
            real = os.path.realpath(directory)
        else:
            candidate = os.path.join(self(parent), name)
            real = os.path.realpath(candidate) if os.path.islink(candidate) else candidate
        self._known[directory] = real
        return real


def _look_at(job: _Job, root: str) -> _Finding | None:
    """One confined file against its RECORD entry: what is wrong with it, if anything."""
    full, entry, _package = job
    try:
        status = os.lstat(full)
    except FileNotFoundError:
        if entry.sha256 is not None and not full.endswith(".pyc"):
            return (job, "missing", "")
        return None
    if stat.S_ISLNK(status.st_mode):
        return None if _inside(os.path.realpath(full), root) else (job, "symlink", "")
    if entry.sha256 is None:
        return None  # RECORD itself, and files installers list without a hash
    if entry.size is not None and status.st_size != entry.size:
        return (job, "modified", "S5")  # another size is another digest: not read
    try:
        if content_sha256(full, status.st_size) != entry.sha256:
            return (job, "modified", "5")
    except FileNotFoundError:  # removed since its lstat
        return (job, "missing", "")
    except OSError as exc:
        raise UsageError(
            f"{display(full)}: cannot read: {exc.strerror}",
            hint="run the check as a user who can read the whole environment",
        ) from None
    return None


def _look_at_all(jobs: Sequence[_Job], root: str, workers: int | None) -> list[_Finding]:
    """:func:`_look_at` for every job, on ``workers`` threads; the findings in any order."""
    count = workers or min(8, os.cpu_count() or 1)
    pending = iter(jobs)  # shared: each next() hands one file to one thread

    def work() -> list[_Finding]:
        return [found for job in pending if (found := _look_at(job, root)) is not None]

    if count <= 1 or len(jobs) < 2 * count:
        return work()
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415 - files level only

    with ThreadPoolExecutor(max_workers=count) as pool:
        futures = [pool.submit(work) for _ in range(count)]
        return [found for future in futures for found in future.result()]


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
