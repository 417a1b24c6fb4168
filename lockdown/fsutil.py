"""Filesystem safety: atomic writes and a per-project run lock.

Nothing lost: a file is written to a temp file in the same directory, fsynced,
then renamed over the old one, so a failed or interrupted run leaves the
previous file byte-identical and a reader never sees half a file.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from lockdown.errors import LockdownError, UsageError


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically (temp file, fsync, rename, fsync dir)."""
    directory = path.parent
    mode = 0o644
    with contextlib.suppress(FileNotFoundError):
        mode = path.stat().st_mode & 0o7777
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def run_lock(target: Path, *, timeout: float = 600.0) -> Iterator[None]:
    """Serialize lockdown runs that write ``target`` (e.g. two ``lock`` runs at once).

    The lock file lives in the temp directory, keyed by the target's absolute
    path, so the project tree gets no clutter.
    """
    from filelock import FileLock, Timeout  # noqa: PLC0415 - only writers need it

    key = hashlib.sha256(str(target.resolve()).encode()).hexdigest()[:20]
    lock = FileLock(Path(tempfile.gettempdir()) / f"lockdown-{key}.lock")
    try:
        with lock.acquire(timeout=timeout):
            yield
    except Timeout:
        raise LockdownError(
            f"another lockdown run has held the lock on {target} for {timeout:.0f}s",
            hint="wait for it to finish or stop it",
        ) from None
