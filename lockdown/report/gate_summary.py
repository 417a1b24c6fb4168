"""What a lock run says about its gate: the blocked changes, the vulnerability database line."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import EXIT_BLOCKED

if TYPE_CHECKING:
    from typing import TextIO

    from lockdown.policy.advisories import GateAudit
    from lockdown.policy.gate import GateResult


def write_vulnerability_line(
    audit: GateAudit | None, stream: TextIO, *, always: bool = False
) -> None:
    """What the vulnerability rule checked against what (``always``: also when it did not)."""
    if audit is not None and (always or audit.database is not None):
        from datetime import datetime, timezone  # noqa: PLC0415

        print(f"lockdown: {audit.line(datetime.now(timezone.utc))}", file=stream)


def write_blocked(gate: GateResult, path: Path) -> int:
    """Print what the gate blocked, and the commands that would admit it; exit 3."""
    from lockdown.policy.render import render_text  # noqa: PLC0415

    count = len(gate.blocked)
    print(
        f"lockdown: {count} change{'s' if count != 1 else ''} blocked by policy; "
        f"{path.name} unchanged",
        file=sys.stderr,
    )
    sys.stderr.write(render_text(gate, admitted=False))
    return EXIT_BLOCKED
