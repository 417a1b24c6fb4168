"""What ``lock``, ``lock --conda`` and ``lock --check`` return (said by report/messages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockdown.lock.attestation import AttestationSummary
    from lockdown.lock.model import LockedPackage, Resolution
    from lockdown.policy.advisories import GateAudit
    from lockdown.policy.gate import GateResult


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOutcome:
    """What ``lock`` did."""

    path: Path
    #: False when the new lock is byte-identical to the old one (or it was blocked).
    changed: bool
    resolution: Resolution
    #: The gate's verdicts; when any blocks, nothing was written.
    gate: GateResult
    #: What the provenance step found; ``None`` with ``provenance = "off"``.
    attestations: AttestationSummary | None = None
    #: What the vulnerability rule looked up, and where (``None``: not reached).
    vulnerabilities: GateAudit | None = None
    #: Indexes whose pages declare no core metadata: their new packages have no license record.
    unlicensed: tuple[str, ...] = ()

    @property
    def blocked(self) -> bool:
        """Whether the gate blocked the new lock (the old one was left as it was)."""
        return bool(self.gate.blocked)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """Whether the lock is current with its inputs."""

    path: Path
    current: bool
    #: One line saying why it is stale (empty when current).
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaLockOutcome:
    """What ``lock --conda`` did."""

    path: Path
    changed: bool
    #: Every entry locked: one per package and platform (conda archives and pip wheels).
    packages: tuple[LockedPackage, ...]
    platforms: tuple[str, ...]
    #: The gate's verdicts; when any blocks, nothing was written.
    gate: GateResult
    #: What the vulnerability rule looked up, and where.
    vulnerabilities: GateAudit | None = None

    @property
    def blocked(self) -> bool:
        """Whether the gate blocked the new lock (the old one was left as it was)."""
        return bool(self.gate.blocked)
