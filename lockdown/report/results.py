"""What each command returns: what it did, for :func:`lockdown.report.emit` to say.

A result holds the facts, not the words: :func:`lockdown.report.messages.say`
turns each into the exact lines (and the exit code). ``lock`` returns the
:mod:`lockdown.report.outcomes` types, and ``check``
:class:`lockdown.report.DriftResult` (kept off this module: ``check``'s cron
path does not import :mod:`dataclasses`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from lockdown.report.outcomes import CheckOutcome, CondaLockOutcome, LockOutcome

if TYPE_CHECKING:
    from lockdown.audit.model import AuditReport
    from lockdown.policy.approvals import Approval
    from lockdown.policy.gate import GateResult
    from lockdown.report.plan import PrintablePlan


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyPairWritten:
    """``keygen``: the key pair it wrote."""

    private: Path
    public: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardInstalled:
    """``guard``: the venv whose pip is now constrained, and the constraints file."""

    venv: Path
    constraints: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class GuardRemoved:
    """``guard --remove``: whether there was a guard to remove."""

    venv: Path
    removed: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Approved:
    """``approve``: the approval recorded, and the approvals file it went to."""

    path: Path
    approval: Approval


@dataclass(frozen=True, slots=True, kw_only=True)
class SettingsWritten:
    """``init``: the file the starter settings went to."""

    path: Path
    #: A ``lockdown.toml`` (``--standalone``) rather than ``[tool.lockdown]`` in pyproject.
    standalone: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Signed:
    """``sign``: the file signed and the bundle written."""

    path: Path
    bundle: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Verified:
    """``verify``: whose signature was accepted, and what ``--provenance`` found."""

    path: Path
    #: Who signed the file; ``None``: the signature was not checked (no trust policy).
    signer: str | None
    #: What the file was checked as besides its signature (``VerifiedFile.lock_note``).
    lock_note: str = ""
    #: ``--provenance``: (attested packages, files) checked again; ``None``: not asked.
    provenance: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Installed:
    """``install`` (a venv, or a conda prefix): its plan and what was checked before it."""

    plan: PrintablePlan
    #: The venv (or interpreter, or conda prefix) the plan is for.
    target: Path
    lock: Path
    dry_run: bool
    #: Whether the venv was created by this run.
    created: bool
    #: Who signed the lock, when its signature was verified.
    signer: str | None = None
    #: PEP 740: (packages, files) whose provenance was checked again; ``None``: not checked.
    provenance: tuple[int, int] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GateReport:
    """``diff``: the gate's verdicts on a change, in ``format``, for stdout or ``output``."""

    gate: GateResult
    #: One of :data:`lockdown.report.gate.FORMATS`.
    format: str
    output: Path | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Exported:
    """``export``: the lock rendered (requirements, constraints, an SBOM), for stdout or a file."""

    data: bytes
    output: Path | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditResult:
    """``audit``: the report, in ``format``, for stdout or ``output``."""

    report: AuditReport
    format: str
    output: Path | None
    #: The line of each package in the lock audited (SARIF locations).
    lines: Mapping[str, int] = field(default_factory=dict)


#: Every result a command but ``check`` returns.
Result: TypeAlias = (
    KeyPairWritten
    | GuardInstalled
    | GuardRemoved
    | Approved
    | SettingsWritten
    | Signed
    | Verified
    | Installed
    | LockOutcome
    | CheckOutcome
    | CondaLockOutcome
    | GateReport
    | Exported
    | AuditResult
)
