"""The TOML field validators every settings table uses: the leaf of the config package.

Each function takes one raw value, where it came from (the file and the key),
and returns the typed value or raises :class:`~lockdown.errors.ConfigError`
naming both. This module depends on :mod:`lockdown.errors` alone (packaging is
imported inside the functions that need it), so every sub-settings parser in
:mod:`lockdown.config` can use it without importing anything else.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from lockdown.errors import ConfigError, UsageError


def reject_unknown(
    table: Mapping[str, Any], known: frozenset[str], *, source: Path, where: str
) -> None:
    """An unknown key is an error naming it (a typo must never silently drop a setting)."""
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{source}: unknown key {unknown[0]!r} in {where}",
            hint=f"known keys: {', '.join(sorted(known))}",
        )


def string(value: object, key: str, source: Path) -> str:
    """A string, or an error naming ``key`` and the type found."""
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string, not {type(value).__name__}")
    return value


def string_list(value: object, key: str, source: Path) -> list[str]:
    """A list of strings, or an error naming ``key``."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {key} must be a list of strings")
    return cast("list[str]", value)


def parse_index_url(value: object, key: str, source: Path) -> str:
    """An index URL from the config: http(s) or file, normalized to end in ``/``."""
    url = string(value, key, source)
    if not url.startswith(("https://", "http://", "file://")):
        raise ConfigError(
            f"{source}: {key} {url!r} is not an http(s) or file URL",
            hint="give the simple API URL of the index",
        )
    return url.rstrip("/") + "/"


def normalize_marker(text: str) -> str:
    """A marker in packaging's normal form, single-quoted as in PEP 508 examples.

    Single quotes keep markers readable inside TOML strings (no escaping).
    """
    from packaging.markers import Marker  # noqa: PLC0415

    normal = str(Marker(text))
    return normal if "'" in normal else normal.replace('"', "'")


def marker(value: str, where: str, source: Path) -> str:
    """A PEP 508 marker, normalized; an invalid one is an error naming ``where``."""
    from packaging.markers import InvalidMarker  # noqa: PLC0415

    try:
        return normalize_marker(value)
    except InvalidMarker as exc:
        first = str(exc).splitlines()[0]
        raise ConfigError(f"{source}: {where}: invalid marker {value!r}: {first}") from None


_DURATION = re.compile(r"^\s*(\d+)\s*(w|weeks?|d|days?|h|hours?|m|min|minutes?)\s*$", re.IGNORECASE)
_UNITS = {"w": "weeks", "d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """``7 days``, ``7d``, ``2 weeks``, ``12h``, ``30 minutes`` into a timedelta.

    A usage error (not a config error): flags such as ``--expires`` take durations too.
    """
    match = _DURATION.match(text)
    if match is None:
        raise UsageError(
            f"{text!r} is not a duration", hint="write it like '7 days', '14d', '12h' or '2 weeks'"
        )
    unit = _UNITS[match.group(2)[0].lower()]
    try:
        return timedelta(**{unit: int(match.group(1))})
    except OverflowError:
        raise UsageError(
            f"{text!r} is too long a duration", hint="give at most a few years"
        ) from None


def parse_age(text: str, where: str) -> timedelta:
    """A duration such as ``7 days`` for a setting or flag ``where`` names (a config error)."""
    try:
        return parse_duration(text)
    except UsageError as exc:
        raise ConfigError(f"{where}: {exc.message}", hint=exc.hint) from None


def duration(value: object, key: str, source: Path) -> timedelta:
    """A duration setting such as ``7 days``, or an error naming ``key``."""
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string such as '7 days'")
    return parse_age(value, f"{source}: {key}")


def format_duration(value: timedelta) -> str:
    """The shortest exact form: ``7 days``, ``12 hours``, ``90 minutes``."""
    seconds = int(value.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
