"""The model every lock is made of: artifacts, locked packages, a resolution.

Pure data, no I/O. The resolver backends (:mod:`lockdown.resolve`) produce a
:class:`Resolution`; the lock writer (:mod:`lockdown.lock.pylock`), the
upgrade gate and the reports read it. The model knows nothing of its
producers: nothing here imports :mod:`lockdown.resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lockdown.lock.attestation import Publisher

__all__ = ["Artifact", "LockedPackage", "Resolution"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    """One file of a locked package, as the index describes it (or a lock records it).

    The one artifact type: the resolvers produce it, the lock writer writes it,
    the gate compares it (old lock against new resolution).
    """

    url: str
    #: The file name (the last path segment of ``url``).
    filename: str
    sha256: str
    #: Size in bytes, when the index (or the lock) says.
    size: int | None = None
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
    #: PEP 740: the Trusted Publishers whose attestations over every file verified
    #: (PEP 751 ``attestation-identities``); empty when not attested or not checked.
    attestation_identities: frozenset[Publisher] = frozenset()
    #: Its direct dependencies among the resolution's packages, as (normalized
    #: name, version or ``None`` when the name is unambiguous); ``None`` when
    #: the backend does not say. Written as PEP 751 ``dependencies``.
    dependencies: tuple[tuple[str, str | None], ...] | None = None


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
    #: What the backend can start from next time (see ``ResolveRequest.resolver_state``).
    resolver_state: bytes | None = None
