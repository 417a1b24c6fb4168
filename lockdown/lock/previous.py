"""The lock being replaced, read fail-closed (shared by the Python and the conda lock)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from lockdown.errors import LockFileError

T = TypeVar("T")


def read_previous(path: Path, read: Callable[[Path], T]) -> T | None:
    """The lock being replaced (``read`` parses it); ``None`` when there is none.

    One that cannot be read stops the run (fail closed): without it, changes
    cannot be judged. Shared by the Python and the conda lock.
    """
    if not path.exists():
        return None
    try:
        return read(path)
    except LockFileError as exc:
        raise LockFileError(
            f"the current lock cannot be read, so changes cannot be judged: {exc.message}",
            hint=f"restore {path.name} from version control, or move it away to lock afresh",
        ) from None
