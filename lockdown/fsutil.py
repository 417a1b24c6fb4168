"""Filesystem safety: atomic writes and a per-project run lock.

Nothing lost: a file is written to a temp file in the same directory, fsynced,
then renamed over the old one, so a failed or interrupted run leaves the
previous file byte-identical and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from lockdown.errors import LockdownError, UsageError


def atomic_write(
    path: Path, data: bytes, *, mode: int | None = None, overwrite: bool = True
) -> None:
    """Write ``path`` atomically: temp file in the same directory, fsync, rename, fsync dir.

    ``mode`` is applied exactly (the umask does not apply); by default a new
    file gets 0644 and a replaced file keeps its mode. The temp file is created
    0600, so content meant to stay private is never readable by others, not
    even while it is written. With ``overwrite=False`` the file is linked into
    place instead of renamed, which fails if the name exists (no race).
    """
    directory = path.parent
    if mode is None:
        mode = 0o644
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o7777
    import tempfile  # noqa: PLC0415 - `check` on its cron path writes nothing

    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:  # a full disk, a quota, an I/O error: the old file stays
            raise LockdownError(
                f"cannot write {path}: {exc.strerror or exc}; the previous version is unchanged",
                hint="free some space or check the file system",
            ) from None
        if overwrite:
            try:
                os.replace(tmp, path)
            except OSError as exc:  # a read-only file system, a directory in the way
                raise LockdownError(
                    f"cannot write {path}: {exc.strerror or exc}; the previous version is "
                    "unchanged",
                    hint="check the file system and the path",
                ) from None
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise UsageError(
                    f"{path} already exists", hint="remove it or choose another name"
                ) from None
            except OSError as exc:
                raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    # The new name is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _private_run_dir() -> Path:
    """``<tmp>/lockdown-<uid>``, created 0700; refused unless this user owns it (no link)."""
    import stat  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    uid = os.getuid() if hasattr(os, "getuid") else 0
    path = Path(tempfile.gettempdir()) / f"lockdown-{uid}"
    try:
        path.mkdir(mode=0o700, exist_ok=True)
        info = path.lstat()
    except OSError as exc:
        raise UsageError(f"cannot create {path}: {exc.strerror}") from None
    if (
        not stat.S_ISDIR(info.st_mode)
        or (hasattr(os, "getuid") and info.st_uid != uid)
        or info.st_mode & 0o077
    ):
        raise UsageError(
            f"{path} is not a private directory of this user (owner, mode or type is wrong)",
            hint="remove it; another user may have created it to interfere with lockdown",
        )
    return path


@contextlib.contextmanager
def run_lock(target: Path, *, timeout: float = 600.0) -> Iterator[None]:
    """Serialize lockdown runs that write ``target`` (e.g. two ``lock`` runs at once).

    The lock file lives in a directory of the temp directory that only this
    user owns (so another local user can neither hold it nor plant a link
    there), keyed by the target's absolute path, so the project tree gets no
    clutter. Runs of different users on one target are not serialized.

    An advisory lock on that file (``flock``; ``msvcrt.locking`` on Windows),
    released by the kernel when the holder exits, even by SIGKILL. Not the
    filelock package: importing it (asyncio and all) costs more than uv's
    whole install of a small lock.
    """
    import time  # noqa: PLC0415

    key = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:20]
    path = _private_run_dir() / f"{key}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except OSError as exc:
        raise UsageError(f"cannot open the run lock {path}: {exc.strerror}") from None
    try:
        deadline = time.monotonic() + timeout
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                raise LockdownError(
                    f"another lockdown run has held the lock on {target} for {timeout:.0f}s",
                    hint="wait for it to finish or stop it",
                )
            time.sleep(0.05)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _try_lock(fd: int) -> bool:
    """Take the exclusive lock on ``fd`` if no one holds it; whether it was taken."""
    import errno  # noqa: PLC0415

    try:
        if sys.platform == "win32":  # pragma: no cover - tested on POSIX only
            import msvcrt  # noqa: PLC0415

            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        else:
            import fcntl  # noqa: PLC0415

            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK):
            return False
        raise
    return True


def _unlock(fd: int) -> None:
    if sys.platform == "win32":  # pragma: no cover - tested on POSIX only
        import msvcrt  # noqa: PLC0415

        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
    else:
        import fcntl  # noqa: PLC0415

        fcntl.flock(fd, fcntl.LOCK_UN)


#: The largest lock (or signed file) lockdown reads: far beyond any real lock
#: (a thousand packages on six platforms is a few MB), far below a memory problem.
MAX_LOCK_BYTES = 256 << 20
#: The largest settings file (pyproject.toml, lockdown.toml, approvals) read.
MAX_SETTINGS_BYTES = 16 << 20


def read_lock_bytes(
    path: Path,
    *,
    what: str = "lock file",
    hint: str = "run lockdown lock",
    limit: int = MAX_LOCK_BYTES,
) -> bytes:
    """The bytes of ``path``, read once; missing, unreadable or absurdly large is one line."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise UsageError(f"{path}: {what} not found", hint=hint) from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read {what}: {exc.strerror}") from None
    if len(data) > limit:
        raise UsageError(f"{path}: larger than {limit >> 20} MB; not a {what} lockdown reads")
    return data


_HEX_DIGITS = frozenset("0123456789abcdef")


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a sha256 digest as lockdown stores it: 64 lowercase hex digits."""
    return len(value) == 64 and _HEX_DIGITS.issuperset(value)


def file_sha256(path: str | os.PathLike[str]) -> str:
    """The sha256 of a file's content (hex), read in chunks into one reused buffer."""
    with open(path, "rb") as handle:
        if sys.version_info >= (3, 11):
            return hashlib.file_digest(handle, "sha256").hexdigest()
        digest = hashlib.sha256()  # pragma: no cover - Python 3.10
        while chunk := handle.read(1 << 18):  # pragma: no cover
            digest.update(chunk)
        return digest.hexdigest()  # pragma: no cover


#: Overrides where lockdown caches artifacts and the check fast path's answers.
ENV_CACHE_DIR = "LOCKDOWN_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$LOCKDOWN_CACHE_DIR``, else the platform's user cache directory + ``lockdown``."""
    override = os.environ.get(ENV_CACHE_DIR)
    if override:
        return Path(override)
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "lockdown" / "Cache"
    if sys.platform == "darwin":  # pragma: no cover - exercised on macOS only
        return Path.home() / "Library" / "Caches" / "lockdown"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "lockdown"


def link_or_copy(source: Path, target: Path) -> None:
    """Make ``target`` the verified ``source`` itself (a hard link: same inode, same mtime)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        import shutil  # noqa: PLC0415

        shutil.copyfile(source, target)


def prune_directory(directory: Path, *, keep: int, max_age: float, now: float) -> list[Path]:
    """Remove the files of ``directory`` beyond the ``keep`` newest, and those older than
    ``max_age`` seconds at ``now`` (by modification time); return what was removed.

    For caches: a file that cannot be read or removed is left alone, and files
    being written (``atomic_write``'s hidden temp files) are not counted.
    """
    entries = []
    with contextlib.suppress(OSError), os.scandir(directory) as found:
        for entry in found:
            if entry.name.startswith("."):
                continue
            with contextlib.suppress(OSError):
                if entry.is_file(follow_symlinks=False):
                    entries.append((entry.stat(follow_symlinks=False).st_mtime, entry.name))
    entries.sort(reverse=True)
    removed = []
    for number, (mtime, name) in enumerate(entries):
        if number >= keep or now - mtime > max_age:
            path = directory / name
            with contextlib.suppress(OSError):
                path.unlink()
                removed.append(path)
    return removed
