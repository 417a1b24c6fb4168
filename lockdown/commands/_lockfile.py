"""Which lock a command uses, and the project's config when it has one.

:func:`find_lock` is THE one place that finds a command's lock: ``--lock``
when given, else the configured output (``pylock.toml``, or the conda lock
for a conda ``--prefix``), else the default name in the project.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lockdown.errors import UsageError

if TYPE_CHECKING:
    from lockdown.config import Config
    from lockdown.sign.verify import LockKind

#: Which lock: the Python one, the conda one, or (``audit``) whichever exists, Python first.
Wanted = Literal["pylock", "conda", "either"]


def find_lock(
    project: Path, config: Config | None, *, given: object = None, kind: Wanted = "pylock"
) -> Path:
    """``given`` (``--lock FILE``), else the configured lock of ``kind``, else its default name."""
    if given is not None:
        return Path(str(given))
    if kind == "conda":
        from lockdown.config.conda import CONDA_LOCK  # noqa: PLC0415

        return config.conda_output_path if config is not None else Path(project) / CONDA_LOCK
    pylock = config.output_path if config is not None else Path(project) / "pylock.toml"
    if kind == "pylock" or pylock.exists():
        return pylock
    conda = find_lock(project, config, kind="conda")
    if conda.exists():
        return conda
    raise UsageError(
        f"no lock to audit: neither {pylock} nor {conda} exists",
        hint="pass --lock FILE, or --venv/--python/--prefix for an environment",
    )


def optional_config(project: Path, *, lock_settings: bool = False) -> Config | None:
    """The project's config when it has one (a bad one is still an error).

    By default for the commands that work from a lock, so the settings only
    ``lock`` uses are type-checked, not parsed: see
    :func:`lockdown.config.parse_config`. ``lock_settings`` parses them too
    (``diff``, ``lock --conda``).
    """
    # The names are spelled here so a run with no config never imports the config module.
    if not (project / "pyproject.toml").is_file() and not (project / "lockdown.toml").is_file():
        return None
    from lockdown.config import load_config  # noqa: PLC0415

    return load_config(project, lock_settings=lock_settings)[0]


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
