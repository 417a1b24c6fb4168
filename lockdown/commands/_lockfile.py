"""Which lock a command uses: THE one place that finds it (``--lock``, the config, the defaults)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockdown.config import Config
    from lockdown.sign.verify import LockKind


def configured_lock_kind(path: Path, config: Config | None) -> LockKind | None:
    """``pylock`` / ``conda`` when ``path`` is the project's configured lock of that kind."""
    if config is None:
        return None
    target = _resolved(path)
    if target == _resolved(config.output_path):
        return "pylock"
    if target == _resolved(config.conda_output_path):
        return "conda"
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare as given
        return path.absolute()
