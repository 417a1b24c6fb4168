"""What an audit looks at and what it finds: pure data, no I/O.

A :class:`Package` is one pinned or installed name and version; a
:class:`Finding` is one advisory matching one package, with the ignore that
silences it (or the one that expired); an :class:`AuditReport` is the whole
answer, with the :class:`DatabaseInfo` saying which advisories were used and
how old they are. The reporters in :mod:`lockdown.report.audit` render it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from lockdown.config.audit import Ignore
    from lockdown.lock.model import LockedPackage

#: Severity levels, most severe first. ``malicious`` is an OSV ``MAL-`` entry.
Severity = Literal["malicious", "critical", "high", "medium", "low", "unknown"]
SEVERITIES: tuple[Severity, ...] = ("malicious", "critical", "high", "medium", "low", "unknown")

#: ``lockdown audit`` exits with this when any finding is not ignored.
EXIT_FINDINGS = 1

DatabaseKind = Literal["directory", "zip", "osv-api"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Package:
    """One name and version to audit."""

    #: ``PyPI`` or ``conda``.
    ecosystem: str
    #: PEP 503-normalized for PyPI; as conda writes it for conda.
    name: str
    version: str
    #: For a conda package: whether it is a Python package (depends on ``python``),
    #: and so matched against the PyPI advisories of the same name.
    python: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Finding:
    """One advisory that matches one package."""

    package: Package
    id: str
    aliases: tuple[str, ...]
    summary: str
    severity: Severity
    #: The highest CVSS base score given, if any.
    score: float | None
    #: Versions that fix it, above the audited one, lowest first (empty: no fix known).
    fixed: tuple[str, ...]
    url: str | None
    #: The ignore that silences it now (never for a malicious package).
    ignored_by: Ignore | None = None
    #: An ignore that matched it but has expired (the finding counts again).
    expired_ignore: Ignore | None = None

    @property
    def malicious(self) -> bool:
        """The package version is known malicious (an OSV ``MAL-`` entry)."""
        return self.severity == "malicious"

    @property
    def active(self) -> bool:
        """It counts: not silenced by an ignore in force."""
        return self.ignored_by is None

    @property
    def nearest_fix(self) -> str | None:
        """The lowest version above the audited one that fixes it."""
        return self.fixed[0] if self.fixed else None


@dataclass(frozen=True, slots=True, kw_only=True)
class DatabaseInfo:
    """Which advisories an audit used, and how old they are."""

    kind: DatabaseKind
    #: The directory, the zip file, or the API's URL.
    location: str
    #: sha256 of the database's content (directory or zip); ``None`` for the API.
    digest: str | None
    #: How many advisories it holds (for the API: how many were fetched).
    advisories: int
    #: The newest ``modified`` time of any advisory in it.
    newest: datetime | None
    #: For the API: when the oldest answer used was fetched.
    fetched_at: datetime | None = None
    #: Files (or members) that could not be read: ``path: why``, one line each.
    unreadable: tuple[str, ...] = ()
    #: Whether the index came from lockdown's cache (directory and zip).
    cached: bool = False

    @property
    def as_of(self) -> datetime | None:
        """What the database's age is measured from: the fetch time, else the newest entry."""
        return self.fetched_at or self.newest

    def age(self, now: datetime) -> timedelta | None:
        """How old the database is at ``now``; ``None`` when it cannot be told."""
        as_of = self.as_of
        return None if as_of is None else max(now - as_of, timedelta(0))


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditReport:
    """The answer of one audit."""

    #: What was audited: a lock file, a venv, an interpreter or a conda prefix.
    target: str
    kind: Literal["lock", "conda-lock", "environment", "conda-prefix"]
    packages: tuple[Package, ...]
    findings: tuple[Finding, ...]
    database: DatabaseInfo
    audited_at: datetime
    notes: tuple[str, ...] = ()

    @property
    def active(self) -> tuple[Finding, ...]:
        """The findings that count (not silenced by an ignore in force)."""
        return tuple(f for f in self.findings if f.active)

    @property
    def malicious(self) -> tuple[Finding, ...]:
        """The findings of known-malicious packages."""
        return tuple(f for f in self.findings if f.malicious)

    def counts(self) -> dict[str, int]:
        """Active findings by severity (every level, 0 when none)."""
        out: dict[str, int] = dict.fromkeys(SEVERITIES, 0)
        for finding in self.active:
            out[finding.severity] += 1
        return out

    def exit_code(self) -> int:
        """``lockdown audit``'s exit code: 0 clean, 1 when any finding counts."""
        return EXIT_FINDINGS if self.active else 0


def describe_age(age: timedelta | None) -> str:
    """``3 days old``, ``5 hours old``, ``under a minute old``, ``of unknown age``."""
    if age is None:
        return "of unknown age"
    seconds = int(age.total_seconds())
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} old"
    return "under a minute old"


def describe_database(info: DatabaseInfo, now: datetime) -> str:
    """One line: which database, how many advisories, how old, its digest."""
    what = {"directory": "directory", "zip": "export zip", "osv-api": "OSV API"}[info.kind]
    parts = [f"{info.advisories} advisories"]
    if info.kind == "osv-api":
        if info.fetched_at is not None:
            parts.append(f"answers fetched {info.fetched_at:%Y-%m-%d %H:%M} UTC")
    elif info.newest is not None:
        parts.append(f"newest entry {info.newest:%Y-%m-%d}")
    parts.append(describe_age(info.age(now)))
    if info.digest:
        parts.append(f"sha256 {info.digest[:12]}")
    if info.unreadable:
        parts.append(f"{len(info.unreadable)} unreadable files skipped")
    return f"{what} {info.location} ({', '.join(parts)})"


def conda_packages(packages: Sequence[LockedPackage]) -> list[Package]:
    """A conda lock's packages: its ``pip:`` wheels as PyPI ones; a conda package that
    depends on ``python`` is a Python package (matched against PyPI's advisories)."""
    from lockdown.names import normalize_name  # noqa: PLC0415

    return sorted(
        {
            Package(ecosystem="PyPI", name=normalize_name(p.name), version=p.version)
            if p.conda.manager == "pip"
            else Package(
                ecosystem="conda",
                name=p.name,
                version=p.version,
                python="python" in p.conda.depends,
            )
            for p in packages
        },
        key=lambda p: (p.name, p.version, p.ecosystem),
    )
