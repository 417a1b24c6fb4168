"""What a resolver backend leaves behind to start from next time (uv's ``uv.lock``).

Kept in the cache by the sha256 of the lock it made: a re-lock that moves
nothing hands the backend its own previous answer (uv then asks the index
nothing). A cache, not a record: bounded in count and age, and failing to
read or write it only costs a run its head start.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from pathlib import Path
from typing import Final

from lockdown.fsutil import atomic_write, default_cache_dir, prune_directory

__all__ = [
    "RESOLVER_STATES_KEPT",
    "RESOLVER_STATE_MAX_AGE",
    "load_resolver_state",
    "resolver_state_path",
    "save_resolver_state",
]

#: Resolver states kept per backend (the newest; a big project's uv.lock is ~1 MB).
RESOLVER_STATES_KEPT: Final = 32


#: A state unused for this long (seconds) is removed when the next one is saved.
RESOLVER_STATE_MAX_AGE: Final = 30 * 24 * 3600.0


def resolver_state_path(cache_dir: Path | None, backend: str, lock: bytes) -> Path:
    """Where the backend's state for the lock with these bytes is kept (by their sha256)."""
    digest = hashlib.sha256(lock).hexdigest()
    return (cache_dir or default_cache_dir()) / "resolver-state" / backend / digest


def load_resolver_state(cache_dir: Path | None, backend: str, lock: bytes) -> bytes | None:
    """What ``backend`` left when it made the lock with these bytes; ``None`` if not kept.

    A state read is marked as used now, so pruning keeps the ones in use.
    """
    path = resolver_state_path(cache_dir, backend, lock)
    try:
        state = path.read_bytes()
    except OSError:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)
    return state


def save_resolver_state(cache_dir: Path | None, backend: str, lock: bytes, state: bytes) -> None:
    """Keep ``state`` for the next lock of the project whose lock has these bytes.

    A cache, not a record: failing to write it only costs the next run its head start.
    """
    path = resolver_state_path(cache_dir, backend, lock)
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, state)
    # Bounded: every changed lock leaves a state, and only the newest are worth keeping.
    prune_directory(
        path.parent, keep=RESOLVER_STATES_KEPT, max_age=RESOLVER_STATE_MAX_AGE, now=time.time()
    )
