"""An install's plan as the user reads it: a change a line, then one summary line."""

from __future__ import annotations

from collections.abc import Sized
from pathlib import Path
from typing import Protocol


class PrintablePlan(Protocol):
    """What the venv and the conda install plans both offer for printing."""

    @property
    def selected(self) -> Sized: ...
    @property
    def add(self) -> Sized: ...
    @property
    def change(self) -> Sized: ...
    @property
    def remove(self) -> Sized: ...
    @property
    def in_sync(self) -> bool: ...
    def lines(self) -> list[str]: ...


def plan_text(
    plan: PrintablePlan, target: Path, lock_path: Path, dry_run: bool, *, created: bool
) -> str:
    """An install's plan, a change a line, then one summary line (venv or conda prefix)."""
    lines = list(plan.lines())
    if plan.in_sync:
        lines.append(f"{target} is in sync with {lock_path.name} ({len(plan.selected)} packages)")
    elif dry_run:
        lines.append(
            f"would add {len(plan.add)}, change {len(plan.change)}, remove "
            f"{len(plan.remove)} in {target} (dry run: nothing changed)"
        )
    else:
        lines.append(
            f"added {len(plan.add)}, changed {len(plan.change)}, removed {len(plan.remove)} "
            f"in {target}{' (created)' if created else ''}"
        )
    return "".join(f"{line}\n" for line in lines)
