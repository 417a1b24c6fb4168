"""The resolver interface: what every backend takes and what it must return.

A backend turns :class:`ResolveRequest` into a :class:`Resolution`: exact pins
and, for each, every artifact with its URL, size, sha256 and upload time. The
lock writer does not care which backend produced it; the ``environments`` of a
resolution say honestly what the backend's answer covers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from lockdown.project import ProjectInputs

#: Environment variables that must not reach a resolver: a user's pip or uv
#: settings would silently change what gets locked.
SCRUBBED_PREFIXES = ("PIP_", "UV_")
#: Variables with those prefixes that only move caches, never results.
HARMLESS = frozenset({"UV_CACHE_DIR", "PIP_CACHE_DIR", "PIP_NO_CACHE_DIR", "UV_NO_CACHE"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """One file of a locked package, as the index describes it."""

    url: str
    #: The file name (the last path segment of ``url``).
    filename: str
    sha256: str
    #: Size in bytes, when the index says.
    size: int | None
    #: PEP 700 upload time, when the index says; never invented.
    upload_time: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedPackage:
    """One pinned distribution and its artifacts."""

    name: str
    version: str
    #: When this package applies (PEP 508, with ``extras`` / ``dependency_groups``).
    marker: str | None
    #: The simple-API URL of the index it came from.
    index: str | None
    wheels: tuple[Artifact, ...]
    sdist: Artifact | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveRequest:
    """What to resolve and where from."""

    inputs: ProjectInputs
    #: The environments to resolve for (PEP 508 markers).
    environments: tuple[str, ...]
    #: The primary index (already defaulted to uv/pip's default).
    index_url: str
    extra_index_urls: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Resolution:
    """A backend's answer."""

    packages: tuple[LockedPackage, ...]
    #: The environments this resolution is valid for. A universal resolver
    #: returns the requested ones; a single-interpreter resolver returns a
    #: marker describing just that interpreter.
    environments: tuple[str, ...]
    resolver: str
    resolver_version: str


class Resolver(Protocol):
    """A resolver backend."""

    #: The name used in config and recorded in the lock (``uv``, ``pip-tools``).
    name: str

    def version(self) -> str:
        """The backend's version, recorded in the lock."""
        ...

    def resolve(self, request: ResolveRequest) -> Resolution:
        """Resolve ``request``; raise a LockdownError subclass on failure."""
        ...


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
