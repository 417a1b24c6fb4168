"""The network settings: ``http-timeout``, ``http-retries``, ``http-backoff`` and their variables.

``[tool.lockdown]`` may set each; ``LOCKDOWN_HTTP_TIMEOUT``, ``LOCKDOWN_HTTP_RETRIES``
and ``LOCKDOWN_HTTP_BACKOFF`` override the file; the defaults are uv's.
:mod:`lockdown.net` is the transport these settings drive.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lockdown.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from lockdown.config import Config

ENV_TIMEOUT: Final = "LOCKDOWN_HTTP_TIMEOUT"
ENV_RETRIES: Final = "LOCKDOWN_HTTP_RETRIES"
ENV_BACKOFF: Final = "LOCKDOWN_HTTP_BACKOFF"

#: Seconds one connect or one read may wait (uv's default too).
DEFAULT_TIMEOUT: Final = 30.0
#: Tries after the first (uv's default too).
DEFAULT_RETRIES: Final = 3
#: The backoff factor: retries wait 0, 2, 4, 8 ... times this many seconds (plus jitter).
DEFAULT_BACKOFF: Final = 0.5
#: No pause between tries is longer than this many seconds.
BACKOFF_MAX: Final = 30.0
#: The bounds a setting may take (beyond them it is a typo, not a choice).
_LIMITS: Final = {"timeout": 3600.0, "retries": 100, "backoff": 60.0}


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpSettings:
    """How patient lockdown is with a server."""

    #: Seconds a connect or a single read may wait (not the whole transfer).
    timeout: float = DEFAULT_TIMEOUT
    #: How many times a failed request is tried again (0: never).
    retries: int = DEFAULT_RETRIES
    #: The backoff factor in seconds: the n-th retry waits ``backoff * 2**(n-1)``
    #: (the first at once), at most :data:`BACKOFF_MAX`, plus up to ``backoff`` of jitter.
    backoff: float = DEFAULT_BACKOFF

    @property
    def tries(self) -> int:
        """The most times one request is made."""
        return self.retries + 1


def parse_timeout(
    value: object, where: str, *, error: type[UsageError] = ConfigError, text: bool = False
) -> float:
    """A timeout in seconds: a number above 0 (and at most an hour)."""
    number = _number(value, text=text)
    if number is None or not 0 < number <= _LIMITS["timeout"]:
        raise error(
            f"{where} {value!r} is not a number of seconds above 0 (at most 3600)",
            hint="for example 30",
        )
    return number


def parse_retries(
    value: object, where: str, *, error: type[UsageError] = ConfigError, text: bool = False
) -> int:
    """A retry count: a whole number from 0 to 100."""
    number = _number(value, text=text)
    if number is None or not number.is_integer() or not 0 <= number <= _LIMITS["retries"]:
        raise error(
            f"{where} {value!r} is not a whole number of retries from 0 to 100",
            hint="for example 3",
        )
    return int(number)


def parse_backoff(
    value: object, where: str, *, error: type[UsageError] = ConfigError, text: bool = False
) -> float:
    """A backoff factor in seconds: a number from 0 to 60."""
    number = _number(value, text=text)
    if number is None or not 0 <= number <= _LIMITS["backoff"]:
        raise error(
            f"{where} {value!r} is not a number of seconds from 0 to 60",
            hint="for example 0.5",
        )
    return number


def _number(value: object, *, text: bool) -> float | None:
    """``value`` as a finite number: an int or float, or (``text``) a number written out."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and text:
        try:
            value = float(value.strip())
        except ValueError:
            return None
    if isinstance(value, (int, float)) and math.isfinite(value):
        return float(value)
    return None


#: The keys ``[tool.lockdown]`` takes, their environment variables and parsers.
SETTINGS: Final = {
    "http-timeout": (ENV_TIMEOUT, "timeout", parse_timeout),
    "http-retries": (ENV_RETRIES, "retries", parse_retries),
    "http-backoff": (ENV_BACKOFF, "backoff", parse_backoff),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpOverrides:
    """The ``http-*`` keys a settings table sets, validated; ``None``: not set there."""

    timeout: float | None = None
    retries: int | None = None
    backoff: float | None = None

    def values(self) -> dict[str, Any]:
        """The settings given, by :class:`HttpSettings` field name."""
        return {
            name: value
            for name, value in (
                ("timeout", self.timeout),
                ("retries", self.retries),
                ("backoff", self.backoff),
            )
            if value is not None
        }


def parse_http_table(table: Mapping[str, Any], *, source: Path, where: str) -> HttpOverrides:
    """The ``http-*`` keys of a settings table, validated."""

    def where_of(key: str) -> str:
        return f"{source}: {where} {key}"

    timeout, retries, backoff = (
        table.get(k) for k in ("http-timeout", "http-retries", "http-backoff")
    )
    return HttpOverrides(
        timeout=None if timeout is None else parse_timeout(timeout, where_of("http-timeout")),
        retries=None if retries is None else parse_retries(retries, where_of("http-retries")),
        backoff=None if backoff is None else parse_backoff(backoff, where_of("http-backoff")),
    )


def http_settings(
    config: Config | None = None, *, environ: Mapping[str, str] | None = None
) -> HttpSettings:
    """The settings in force: the environment's variables over the config's keys over defaults.

    A bad variable is a usage error (exit 64) naming it, raised before any request.
    """
    values = config.http.values() if config is not None and config.http is not None else {}
    source = os.environ if environ is None else environ
    for env, field, parse in SETTINGS.values():
        raw = source.get(env)
        if raw is not None and raw.strip():
            values[field] = parse(raw, env, error=UsageError, text=True)
    return HttpSettings(**values)
