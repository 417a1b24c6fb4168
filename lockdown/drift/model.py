"""The drift report: what differs between an installed environment and its lock.

Pure data. :mod:`lockdown.drift.compare` fills it; the reporters in
:mod:`lockdown.report` render it (text, JSON, Prometheus textfile, JUnit).
The exit code of ``lockdown check`` is a bitmask computed from it.

The records are typed named tuples rather than dataclasses: they are just as
immutable, and ``lockdown check`` runs from cron every few minutes, where
importing :mod:`dataclasses` (and :mod:`inspect` with it) would be a large
share of the whole run. Copies with changes: ``report._replace(...)``.

No ``from __future__ import annotations`` here: with string annotations,
``NamedTuple`` compiles each field's annotation at import time.
"""

from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

if TYPE_CHECKING:
    from lockdown.audit.model import AuditReport

#: Bumped when a field of the JSON rendering changes meaning or disappears.
SCHEMA_VERSION = 1

Level = Literal["versions", "files", "artifacts"]
LEVELS: tuple[Level, ...] = ("versions", "files", "artifacts")

PackageDriftKind = Literal["unexpected", "missing", "version", "source"]
FileDriftKind = Literal[
    #: content differs: ``S`` size and/or ``5`` digest, as ``rpm -V`` prints them
    "modified",
    #: listed in RECORD, not on disk
    "missing",
    #: on disk in site-packages, owned by no distribution
    "unowned",
    #: a RECORD entry that points outside the environment (never followed)
    "escape",
    #: a symlink that points outside the environment (never followed)
    "symlink",
    #: the installed RECORD itself disagrees with the locked wheel's RECORD
    "record",
]
Severity = Literal["high", "normal"]

#: Every kind, in display order (the reports list each one, even when zero).
PACKAGE_KINDS: tuple[PackageDriftKind, ...] = get_args(PackageDriftKind)
FILE_KINDS: tuple[FileDriftKind, ...] = get_args(FileDriftKind)

#: Exit code bits (DESIGN.md).
EXIT_UNEXPECTED = 1
EXIT_MISSING = 2
EXIT_CHANGED = 4
EXIT_FILES = 8
#: ``check --audit``: an installed version is known vulnerable or malicious (not ignored).
EXIT_VULNERABLE = 32


class PackageDrift(NamedTuple):
    """One package that is not as the lock says."""

    name: str
    kind: PackageDriftKind
    #: The locked version (``None`` for an unexpected package).
    expected: str | None
    #: The installed version (``None`` for a missing package).
    installed: str | None
    #: One line for people: what exactly differs.
    detail: str


class FileDrift(NamedTuple):
    """One file that is not as its RECORD (or the locked wheel) says."""

    #: Path relative to the environment's root (``lib/python3.11/site-packages/x.py``).
    path: str
    kind: FileDriftKind
    #: The owning distribution, if any.
    package: str | None
    #: ``rpm -V`` style flags: ``S`` size differs, ``5`` digest differs.
    flags: str = ""
    severity: Severity = "normal"
    detail: str = ""


class DriftReport(NamedTuple):
    """The result of one ``lockdown check``."""

    lock: str
    #: sha256 of the lock file's bytes.
    lock_sha256: str
    target: str
    python_version: str
    level: Level
    expected: int
    installed: int
    packages: tuple[PackageDrift, ...] = ()
    files: tuple[FileDrift, ...] = ()
    #: ``verified`` (with ``signer``), ``unsigned`` (no bundle), or ``not-checked``.
    signature: Literal["verified", "unsigned", "not-checked"] = "not-checked"
    signer: str | None = None
    #: Whether ``lockdown guard`` is in place in the target venv.
    guarded: bool | None = None
    #: Unix time the check started, and how long it took.
    checked_at: float = 0.0
    duration_seconds: float = 0.0
    files_checked: int = 0
    notes: tuple[str, ...] = ()
    #: The locked packages installed exactly as locked: ``(name, version)``, by
    #: name. Empty when the producer does not list them (only counts them).
    matching: tuple[tuple[str, str], ...] = ()
    #: PEP 740: packages in the whole lock, and how many of them record verified
    #: ``attestation-identities``; ``None`` when not known (a conda lock).
    lock_packages: int | None = None
    lock_attested: int | None = None
    #: ``check --audit``: the installed versions against advisories; ``None`` without it.
    audit: "AuditReport | None" = None

    @property
    def attested_share(self) -> float | None:
        """The share of the lock's packages that are attested (0 to 1), when known."""
        if self.lock_packages is None or self.lock_attested is None:
            return None
        return self.lock_attested / self.lock_packages if self.lock_packages else 0.0

    def counts(self) -> dict[str, int]:
        """Drifted packages by kind and drifted files by kind (always every key)."""
        out = {f"packages_{k}": 0 for k in PACKAGE_KINDS}
        out |= {f"files_{k}": 0 for k in FILE_KINDS}
        for package in self.packages:
            out[f"packages_{package.kind}"] += 1
        for file in self.files:
            out[f"files_{file.kind}"] += 1
        return out

    @property
    def in_sync(self) -> bool:
        """No drift at all."""
        return not self.packages and not self.files

    def exit_code(self) -> int:
        """The bitmask: 1 unexpected, 2 missing, 4 changed version or source, 8 files,
        32 (``--audit``) a known-vulnerable or malicious version installed."""
        code = 0
        kinds = {p.kind for p in self.packages}
        if "unexpected" in kinds:
            code |= EXIT_UNEXPECTED
        if "missing" in kinds:
            code |= EXIT_MISSING
        if kinds & {"version", "source"}:
            code |= EXIT_CHANGED
        if self.files:
            code |= EXIT_FILES
        if self.audit is not None and self.audit.active:
            code |= EXIT_VULNERABLE
        return code
