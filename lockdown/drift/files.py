"""Compare an installed environment's files with its RECORDs: the ``files`` level.

Everything here reads files; nothing of the target environment is imported
or executed. Paths from RECORD files are confined to the environment's root:
an entry that escapes it, or a symlink that points outside, is reported and
never followed. A symlink inside the root where RECORD lists a regular file is
reported too (``modified``, flag ``L``): wheels hold no symlinks.
"""

from __future__ import annotations

import base64
import csv
import errno
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
    """RECORD (CSV: path, ``sha256=<urlsafe-b64>``, size) into entries; bad rows skipped.

    Never raises: a row that is not CSV ends the parse there, and the files it
    would have listed are then owned by nobody, which the files level reports.
    """
    entries = []
    decode = base64.urlsafe_b64decode
    rows = csv.reader(io.StringIO(text, newline=""))
    while True:
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error:
            break
        if not row or not row[0]:
            continue
        digest = None
        if len(row) > 1 and row[1].startswith("sha256="):
            raw = row[1][7:]
            try:
                digest = decode(raw + "=" * (-len(raw) % 4)).hex()
            except ValueError:
                digest = "invalid"
        size = int(row[2]) if len(row) > 2 and row[2].isascii() and row[2].isdigit() else None
        entries.append(RecordEntry(row[0], digest, size))
    return entries


def read_record(dist: InstalledDist) -> list[RecordEntry]:
    """The installed RECORD of ``dist`` (empty when unreadable)."""
    try:
        data = (dist.dist_info / "RECORD").read_bytes()
    except OSError:
        return []
    return parse_record(data.decode("utf-8", "surrogateescape"))


#: Hashing runs on several threads when RECORD's sizes average at least this.
THREADED_AVERAGE_SIZE = 8192
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
#: What a worker found wrong with one file: the job and the drift kind and flags
#: (``L`` in the flags: a symlink stands where a regular file was recorded).
_Finding = tuple[_Job, Literal["missing", "symlink", "modified"], str]


#: One owner of files: its name, the directory its paths are relative to, and its entries.
Owner = tuple[str, str, Sequence[RecordEntry]]


def check_files(
    installed: Sequence[InstalledDist], root: Path, *, workers: int | None = None
) -> FileCheck:
    """Every file of every distribution against its installed RECORD (``rpm -V`` style).

    A wheel cannot carry a symlink, so every RECORD entry names a regular
    file: a symlink in its place is reported (flag ``L``) wherever it points.
    """
    owners = ((d.name, os.path.realpath(d.dist_info.parent), read_record(d)) for d in installed)
    return check_recorded(owners, root, workers=workers, symlinks_allowed=False)


def check_recorded(
    owners: Iterable[Owner],
    root: Path,
    *,
    workers: int | None = None,
    symlinks_allowed: bool = True,
) -> FileCheck:
    """Every recorded file (a RECORD, or a conda-meta ``paths_data``) against its record.

    1. Each entry is confined to ``root``: lexically, and through the real
       path of its directory. An entry that escapes is reported, never opened.
    2. The confined files are looked at (see :func:`_look_at_all`): symlink out
       of the root, missing, size differs from the record, then the content's
       sha256 — on several threads when the files are large.

    ``symlinks_allowed=False`` when every entry names a regular file (a
    RECORD): a symlink in its place, even one pointing inside the root, is
    then ``modified`` with the ``rpm -V`` link flag ``L``, its target never
    read. Conda packages ship symlinks, so their records allow them.
    """
    root_s = os.path.realpath(root)
    drift: list[FileDrift] = []
    owned: set[str] = set()
    jobs: list[_Job] = []
    real_dir = _RealDirs()
    # 1. Confinement, on this thread.
    for owner, site, entries in owners:
        site_sep = site + os.sep
        for entry in entries:
            path = entry.path
            # A plain path is already normal; any other is normalized (an absolute
            # one, which escapes, replaces the site as os.path.join does).
            full = site_sep + path if _plain(path) else os.path.normpath(os.path.join(site, path))
            # Lexically inside, and no symlinked directory on the way leads out.
            if not _inside(full, root_s) or not _inside(real_dir(os.path.dirname(full)), root_s):
                drift.append(
                    FileDrift(
                        path=display(entry.path),
                        kind="escape",
                        package=owner,
                        severity="high",
                        detail="RECORD entry points outside the environment; not followed",
                    )
                )
                continue
            owned.add(full)
            jobs.append((full, entry, owner))
    # 2. Each file on disk, on every core.
    checked = sum(1 for _, entry, _ in jobs if entry.sha256 is not None)
    found = _look_at_all(jobs, root_s, workers, symlinks_allowed=symlinks_allowed)
    for (full, _entry, package), kind, flags in found:
        path = display(os.path.relpath(full, root_s))
        if "L" in flags:
            drift.append(
                FileDrift(
                    path=path,
                    kind=kind,
                    package=package,
                    flags=flags,
                    detail=f"replaced by a symlink to {_link_target(full)}",
                )
            )
        elif kind == "symlink":
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


def _link_target(path: str) -> str:
    """What a symlink says it points to, printable (never followed)."""
    try:
        return display(os.readlink(path))
    except OSError:
        return "?"


def _plain(path: str) -> bool:
    """A relative POSIX path whose every component is a plain name (normpath would keep it)."""
    return (
        os.sep == "/"
        and bool(path)
        and path[0] not in "/."
        and "//" not in path
        and "/." not in path
        and not path.endswith("/")
    )


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


#: Open flags for hashing: never follow a symlink (a link is judged, not read).
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OPEN_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _look_at(job: _Job, root: str, symlinks_allowed: bool = True) -> _Finding | None:
    """One confined file against its RECORD entry: what is wrong with it, if anything.

    A file with a digest is opened without following a symlink and measured
    on the open descriptor (open, fstat, read: no separate lstat); a symlink
    found that way, or an entry without a digest, gets one ``lstat``.
    """
    full, entry, _package = job
    if entry.sha256 is None or not _NOFOLLOW:
        return _look_by_lstat(job, root, symlinks_allowed)
    try:
        fd = os.open(full, _OPEN_FLAGS)
    except FileNotFoundError:
        return None if full.endswith(".pyc") else (job, "missing", "")
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # the last component is a symlink
            return _look_by_lstat(job, root, symlinks_allowed)
        raise _unreadable(full, exc) from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise _unreadable(full, IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR)))
        if entry.size is not None and status.st_size != entry.size:
            return (job, "modified", "S5")  # another size is another digest: not read
        if _sha256_of(fd, status.st_size) != entry.sha256:
            return (job, "modified", "5")
    except OSError as exc:
        raise _unreadable(full, exc) from None
    finally:
        os.close(fd)
    return None


def _look_by_lstat(job: _Job, root: str, symlinks_allowed: bool = True) -> _Finding | None:
    """The same judgement from an ``lstat`` (symlinks, entries without a digest)."""
    full, entry, _package = job
    try:
        status = os.lstat(full)
    except FileNotFoundError:
        if entry.sha256 is not None and not full.endswith(".pyc"):
            return (job, "missing", "")
        return None
    if stat.S_ISLNK(status.st_mode):
        if not _inside(os.path.realpath(full), root):
            return (job, "symlink", "")  # out of the root: high severity, never followed
        # A regular file was recorded: a link in its place is a change, whatever
        # the target holds (it may be another recorded file, byte-identical or not).
        return None if symlinks_allowed else (job, "modified", "L")
    if entry.sha256 is None:
        return None  # RECORD itself, and files installers list without a hash
    if entry.size is not None and status.st_size != entry.size:
        return (job, "modified", "S5")
    try:
        if content_sha256(full, status.st_size) != entry.sha256:
            return (job, "modified", "5")
    except FileNotFoundError:  # removed since its lstat
        return (job, "missing", "")
    except OSError as exc:
        raise _unreadable(full, exc) from None
    return None


def _sha256_of(fd: int, size: int) -> str:
    """sha256 of an open file: small ones in one read, large ones in chunks."""
    if size > WHOLE_READ_LIMIT:
        digest = hashlib.sha256()
        buffer = bytearray(1 << 18)
        view = memoryview(buffer)
        while count := os.readv(fd, [buffer]):
            digest.update(view[:count])
        return digest.hexdigest()
    data = os.read(fd, size + 1)
    if len(data) > size:  # it grew since fstat: hash all of it
        chunks = [data]
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        data = b"".join(chunks)
    return hashlib.sha256(data).hexdigest()


def _unreadable(path: str, exc: OSError) -> UsageError:
    return UsageError(
        f"{display(path)}: cannot read: {exc.strerror}",
        hint="run the check as a user who can read the whole environment",
    )


def _look_at_all(
    jobs: Sequence[_Job], root: str, workers: int | None, *, symlinks_allowed: bool = True
) -> list[_Finding]:
    """:func:`_look_at` for every job, on ``workers`` threads; the findings in any order.

    By default, one thread per CPU (at most 8) when the files are large enough
    for hashing to dominate (RECORD's sizes average 8 KiB or more); for small
    files the per-file bookkeeping holds the GIL and one thread is faster.
    """
    if workers is None:
        declared = sum(entry.size or 0 for _full, entry, _package in jobs)
        large = declared >= THREADED_AVERAGE_SIZE * len(jobs)
        workers = min(8, os.cpu_count() or 1) if large else 1
    count = workers
    pending = iter(jobs)  # shared: each next() hands one file to one thread

    def work() -> list[_Finding]:
        return [
            found for job in pending if (found := _look_at(job, root, symlinks_allowed)) is not None
        ]

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
    """Every file under ``top`` and every symlink (to a file or a directory), not
    following links and skipping ``__pycache__``; the directory entries' types
    come from ``scandir``, so no ``stat`` per entry."""
    pending = [top]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if entry.is_symlink():
                yield entry.path
            elif entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    pending.append(entry.path)
            else:
                yield entry.path
