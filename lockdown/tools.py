"""The external tools lockdown runs (uv, pip): where they are, and a clean environment.

Kept apart from the resolver code so commands that only install or verify do
not import what resolving needs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache

from lockdown.errors import ResolutionError

#: Environment variables that must not reach a resolver: a user's pip or uv
#: settings would silently change what gets locked.
SCRUBBED_PREFIXES = ("PIP_", "UV_")
#: Variables with those prefixes that only move caches, never results.
HARMLESS = frozenset({"UV_CACHE_DIR", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "UV_NO_CACHE"})


def isolated_environ(
    base: Mapping[str, str] | None = None,
) -> tuple[dict[str, str], list[str]]:
    """A copy of the environment without pip/uv settings, and the names dropped.

    The caller reports the dropped names, so a stray setting is never applied
    silently and never ignored silently either.
    """
    source = os.environ if base is None else base
    env: dict[str, str] = {}
    dropped: list[str] = []
    for key, value in source.items():
        if key.startswith(SCRUBBED_PREFIXES) and key not in HARMLESS:
            dropped.append(key)
            continue
        env[key] = value
    # pip reads its config files unless told not to; uv is run with --no-config.
    env["PIP_CONFIG_FILE"] = os.devnull
    return env, sorted(dropped)


@cache
def uv_binary() -> str:
    """The uv executable that ships with lockdown's own ``uv`` dependency."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415 - only commands that run uv need it

        return find_uv_bin()
    except (ImportError, FileNotFoundError):
        raise ResolutionError(
            "uv is not installed next to lockdown", hint="reinstall lockdown (it depends on uv)"
        ) from None
