"""``[tool.lockdown.conda]`` into a typed :class:`CondaSettings`; every key checked.

```toml
[tool.lockdown.conda]
channels = ["conda-forge"]            # in priority order, before environment.yml's
dependencies = ["python >=3.11"]      # conda match specs (checked when locking)
platforms = ["linux-64", "osx-arm64"] # over environment.yml's
environment-file = "environment.yml"  # read as well
output = "conda-lock.yml"             # the conda lock file
```

Types are checked here, when the config is read; the match specs and
platform names are checked when locking (that needs py-rattler).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockdown.config.fields import reject_unknown
from lockdown.errors import ConfigError

CONDA_KEYS = frozenset({"channels", "dependencies", "platforms", "environment-file", "output"})
#: The conda lock file's default name (conda-lock's unified format).
CONDA_LOCK = "conda-lock.yml"


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaSettings:
    """What ``[tool.lockdown.conda]`` says about the project's conda environment."""

    #: Channel URLs or names, in priority order (before the environment file's).
    channels: tuple[str, ...] = ()
    #: Conda match specs, locked with the environment file's.
    dependencies: tuple[str, ...] = ()
    #: Platforms (subdirs) to lock; ``None``: the environment file's, else the defaults.
    platforms: tuple[str, ...] | None = None
    #: An ``environment.yml`` to read too, relative to the project directory.
    environment_file: str | None = None
    #: The conda lock file, relative to the project directory.
    output: str = CONDA_LOCK


def parse_conda(table: Mapping[str, Any], *, source: Path, where: str) -> CondaSettings:
    """Validate ``[tool.lockdown.conda]``."""
    reject_unknown(table, CONDA_KEYS, source=source, where=where)
    platforms = table.get("platforms")
    return CondaSettings(
        channels=_names(table.get("channels", []), f"{where} channels", source),
        dependencies=_names(table.get("dependencies", []), f"{where} dependencies", source),
        platforms=None if platforms is None else _names(platforms, f"{where} platforms", source),
        environment_file=_file(table.get("environment-file"), f"{where} environment-file", source),
        output=_file(table.get("output", CONDA_LOCK), f"{where} output", source) or CONDA_LOCK,
    )


def _names(value: object, where: str, source: Path) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{source}: {where} must be a list of strings")
    return tuple(value)


def _file(value: object, where: str, source: Path) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{source}: {where} must be a file name")
    return value
