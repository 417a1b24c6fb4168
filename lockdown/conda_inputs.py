"""What a conda environment asks for: ``environment.yml`` and/or ``[tool.lockdown.conda]``.

Both say the same things — channels, dependencies (conda match specs),
platforms, and a ``pip:`` list — and are read into one frozen
:class:`CondaInputs`; every value is checked, and an unknown key is an error.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lockdown.config.conda import CondaSettings
from lockdown.errors import ConfigError, InputError

ENVIRONMENT_KEYS = frozenset(
    {"name", "channels", "dependencies", "platforms", "prefix", "variables", "category"}
)
#: Platforms locked unless the inputs say otherwise.
DEFAULT_PLATFORMS = ("linux-64", "osx-arm64", "win-64")


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaInputs:
    """One conda environment's inputs, normalized."""

    #: Channel URLs or names, in priority order.
    channels: tuple[str, ...]
    #: Conda match specs (``python >=3.11``, ``numpy 1.26.*``).
    dependencies: tuple[str, ...]
    #: Platforms (subdirs) to lock: ``linux-64``, ``osx-arm64``, ``win-64``...
    platforms: tuple[str, ...]
    #: The ``pip:`` section (PEP 508 requirements), locked by the Python path.
    pip: tuple[str, ...] = ()
    #: The files read, for conda-lock's ``sources``.
    sources: tuple[str, ...] = ()

    def digest(self) -> str:
        """sha256 of everything that changes the solution (``lock --check`` compares it)."""
        payload = {
            "channels": list(self.channels),
            "dependencies": sorted(self.dependencies),
            "platforms": sorted(self.platforms),
            "pip": sorted(self.pip),
        }
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
        return hashlib.sha256(blob).hexdigest()


def read_environment_yml(path: Path) -> dict[str, Any]:
    """``environment.yml`` as a mapping; every failure is one line naming the file."""
    import yaml  # noqa: PLC0415 - conda-lock depends on PyYAML

    from lockdown.fsutil import MAX_SETTINGS_BYTES  # noqa: PLC0415

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_SETTINGS_BYTES + 1)
        if len(raw) > MAX_SETTINGS_BYTES:
            raise InputError(f"{path}: larger than {MAX_SETTINGS_BYTES >> 20} MB; refused")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise InputError(f"{path}: nested too deeply", hint="fix the file and retry") from None
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0]
        raise InputError(f"{path}: invalid YAML: {first}", hint="fix the file and retry") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: an environment file is a mapping (name, channels, dependencies)")
    unknown = sorted(set(data) - ENVIRONMENT_KEYS)
    if unknown:
        raise InputError(
            f"{path}: unknown key {unknown[0]!r}",
            hint=f"known keys: {', '.join(sorted(ENVIRONMENT_KEYS))}",
        )
    return data


def conda_inputs(
    table: CondaSettings | None, environment: Mapping[str, Any] | None, *, source: Path
) -> CondaInputs:
    """Merge ``[tool.lockdown.conda]`` (``table``) and an environment file (``environment``).

    Channels and dependencies from both are kept (the config's first); the
    config's ``platforms`` win over the file's.
    """
    table = table or CondaSettings()
    environment = environment or {}
    channels = list(table.channels)
    channels += [
        c
        for c in _strings(environment.get("channels", []), "channels", source)
        if c not in channels
    ]
    dependencies = list(table.dependencies)
    pip: list[str] = []
    for index, item in enumerate(environment.get("dependencies", []) or []):
        if isinstance(item, str):
            dependencies.append(item)
        elif isinstance(item, dict) and set(item) == {"pip"}:
            pip += _strings(item["pip"], f"dependencies[{index}].pip", source)
        else:
            raise InputError(f"{source}: dependencies[{index}] must be a match spec or a pip: list")
    platforms = (
        list(table.platforms)
        if table.platforms is not None
        else _strings(environment.get("platforms", list(DEFAULT_PLATFORMS)), "platforms", source)
    )
    if not channels:
        raise InputError(f"{source}: no channels", hint="list at least one channel")
    if not dependencies:
        raise InputError(f"{source}: no dependencies to lock")
    if not platforms:
        raise InputError(f"{source}: platforms is empty", hint="e.g. ['linux-64']")
    _check_specs(dependencies, source)
    _check_platforms(platforms, source)
    return CondaInputs(
        channels=tuple(channels),
        dependencies=tuple(dependencies),
        platforms=tuple(dict.fromkeys(platforms)),
        pip=tuple(pip),
    )


def _strings(value: object, key: str, source: Path) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{source}: {key} must be a list of strings")
    return list(value)


def _check_specs(specs: Sequence[str], source: Path) -> None:
    from rattler import MatchSpec  # noqa: PLC0415

    for spec in specs:
        try:
            MatchSpec(spec)
        except Exception as exc:  # rattler raises its own error types
            raise InputError(
                f"{source}: invalid conda match spec {spec!r}: {str(exc).splitlines()[0]}"
            ) from None


def _check_platforms(platforms: Sequence[str], source: Path) -> None:
    from rattler import Subdir  # noqa: PLC0415

    for name in platforms:
        try:
            Subdir(name)
        except Exception:  # rattler raises its own error types
            raise InputError(
                f"{source}: unknown conda platform {name!r}",
                hint="e.g. linux-64, linux-aarch64, osx-64, osx-arm64, win-64",
            ) from None
