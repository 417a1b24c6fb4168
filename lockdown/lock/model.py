"""The model every lock is made of: artifacts, locked packages, a resolution.

Pure data, no I/O. The resolver backends (:mod:`lockdown.resolve`) produce a
:class:`Resolution`; the lock readers (:mod:`lockdown.lock.pylock`,
:mod:`lockdown.lock.condalock`) produce :class:`LockedPackage` too, and the lock
writers, the upgrade gate, the drift comparison and the reports read it. A conda
archive is a :class:`LockedPackage` with an ``archive`` and a :class:`CondaBuild`
(what only conda records). The model knows nothing of its producers: nothing
here imports :mod:`lockdown.resolve`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # A type only: reading a conda lock (``check --prefix``) builds the model
    # without importing the attestation module.
    from lockdown.lock.attestation import Publisher

__all__ = ["Artifact", "CondaBuild", "LockedPackage", "Resolution"]


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
class CondaBuild:
    """What only a conda lock records about a package: one build for one platform.

    A ``conda-lock.yml`` entry is one package on one platform: a conda archive
    from a channel, or (``manager = "pip"``) a wheel from its ``pip:`` section.
    """

    #: The conda platform (subdir) it is locked for: ``linux-64``, ``osx-arm64``...
    platform: str
    #: ``conda`` for an archive from a channel, ``pip`` for a wheel of the ``pip:`` section.
    manager: Literal["conda", "pip"] = "conda"
    #: The build string (``h1234_0``); empty for a wheel.
    build: str = ""
    #: The archive's md5 (conda-lock records both digests); empty for a wheel.
    md5: str = ""
    #: Its dependencies as conda-lock records them (name → version spec).
    depends: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedPackage:
    """One pinned distribution and its artifacts.

    The one locked-package type: a resolver's pin, a ``pylock.toml`` entry as
    the gate reads it, and a ``conda-lock.yml`` entry (with ``conda_build`` set:
    :func:`lockdown.lock.condalock.conda_entry` makes one).
    """

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
    #: PEP 751 ``archive``: a file that is neither a wheel nor an sdist (a
    #: direct-URL archive; a conda package's ``.conda`` / ``.tar.bz2``).
    archive: Artifact | None = None
    #: ``[packages.tool.lockdown.approval]`` of the lock it was read from, if any.
    approval: Mapping[str, Any] | None = None
    #: ``[packages.tool.lockdown] also-served-by``: other indexes serving the name (shadows).
    also_served_by: tuple[str, ...] = ()
    #: Set for a ``conda-lock.yml`` entry (read it as :attr:`conda`): its
    #: platform, manager, build, md5 and dependencies.
    conda_build: CondaBuild | None = None

    @property
    def conda(self) -> CondaBuild:
        """What the conda lock records of this entry; only conda-lock entries have it
        (for any other, a ``TypeError``: code that reads conda locks asks for it)."""
        build = self.conda_build
        if build is None:
            raise TypeError(f"{self.name} {self.version} is not a conda-lock entry")
        return build

    @property
    def file(self) -> Artifact:
        """The one file of a conda-lock entry: its archive, or (``pip:``) its wheel."""
        return self.archive if self.archive is not None else self.wheels[0]

    @property
    def artifacts(self) -> tuple[Artifact, ...]:
        """Every file: the wheels (in their order), then the sdist, then the archive."""
        files = self.wheels
        if self.sdist is not None:
            files = (*files, self.sdist)
        if self.archive is not None:
            files = (*files, self.archive)
        return files

    @property
    def has_wheels(self) -> bool:
        """True when it installs without a build: a wheel is locked, or it is a conda
        package (``require-wheels`` is a Python rule; a conda archive is a binary)."""
        return bool(self.wheels) or self.conda_build is not None

    @property
    def hashes(self) -> frozenset[str]:
        """The sha256 of every artifact."""
        return frozenset(a.sha256 for a in self.artifacts)


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
