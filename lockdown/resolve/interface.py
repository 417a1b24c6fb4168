"""The resolver interface: what every backend takes and what it must return.

A backend turns :class:`ResolveRequest` into a
:class:`~lockdown.lock.model.Resolution` (the model, one layer down, which
knows nothing of its producers): exact pins and, for each, every artifact with
its URL, size, sha256 and upload time. The lock writer does not care which
backend produced it; the ``environments`` of a resolution say honestly what
the backend's answer covers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Protocol

from lockdown.project import ProjectInputs
from lockdown.tools import isolated_environ, uv_binary

__all__ = [
    "ResolveRequest",
    "Resolver",
    "isolated_environ",
    "utc_timestamp",
    "uv_binary",
]

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.lock.model import Resolution


@dataclass(frozen=True, slots=True, kw_only=True)
class ResolveRequest:
    """What to resolve and where from."""

    inputs: ProjectInputs
    #: The environments to resolve for (PEP 508 markers).
    environments: tuple[str, ...]
    #: True when ``environments`` are candidates (lockdown's defaults): the backend
    #: need not serve each one, lockdown keeps those the result can install.
    #: False: every environment must be served (the project listed them).
    environments_are_candidates: bool = False
    #: The primary index (already defaulted to uv/pip's default).
    index_url: str
    extra_index_urls: tuple[str, ...] = ()
    #: ``name==version`` pins to keep when they still satisfy the inputs (the
    #: previous lock's versions, minus what ``--upgrade-package`` names).
    preferences: tuple[str, ...] = ()
    #: Cooldown: ignore every file uploaded after this moment (UTC).
    exclude_newer: datetime | None = None
    #: Packages the cooldown does not apply to, and the moment to use for them instead.
    exclude_newer_exempt: tuple[str, ...] = ()
    #: The lock's "now": the moment exempt packages are limited to.
    now: datetime | None = None
    #: What this backend left behind when it made the previous lock (uv: its
    #: ``uv.lock``), to start from; ``None`` to resolve afresh. Only a head
    #: start: the result is judged against the previous lock like any other.
    resolver_state: bytes | None = None
    #: ``(name, index URL)``: packages to resolve from that index only (names more
    #: than one index serves, pinned by ``[tool.lockdown.sources]`` or by the
    #: previous lock), sorted by name.
    index_pins: tuple[tuple[str, str], ...] = ()
    #: Timeouts and retries for the backend's requests and lockdown's own; ``None``:
    #: the environment's (:func:`lockdown.config.http.http_settings`).
    http: HttpSettings | None = None


def utc_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, to the second (``2026-11-19T10:00:00Z``), as resolvers take it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Resolver(Protocol):
    """A resolver backend."""

    #: The name used in config and recorded in the lock (``uv``, ``pip-tools``).
    name: str
    #: True when the backend never locks a yanked release that only a dependency
    #: pins exactly (uv); then only the project's own exact pins can bring one in.
    refuses_yanked_dependencies: bool

    def version(self) -> str:
        """The backend's version, recorded in the lock."""
        ...

    def resolve(self, request: ResolveRequest) -> Resolution:
        """Resolve ``request``; raise a LockdownError subclass on failure."""
        ...
