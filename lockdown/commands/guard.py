"""``lockdown guard``: constrain a venv's pip to the lock (or remove the guard)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.commands.verify import load_lock
from lockdown.progress import Reporter
from lockdown.report.results import GuardInstalled, GuardRemoved

if TYPE_CHECKING:
    from argparse import Namespace as Args


def run(args: Args, reporter: Reporter) -> GuardInstalled | GuardRemoved:
    """``lockdown guard`` from its parsed arguments: install or remove the guard."""
    from lockdown.env.guard import install_guard, remove_guard  # noqa: PLC0415

    if args.remove:
        return GuardRemoved(venv=args.venv, removed=remove_guard(args.venv))

    config = optional_config(args.project)
    lock_path = find_lock(args.project, config, given=args.lock)
    lock, _signer = load_lock(
        Path(lock_path), config=config, require_signature=args.require_signature
    )
    constraints = install_guard(
        args.venv, lock, extras=args.extra or (), groups=args.group, notify=reporter.note
    )
    return GuardInstalled(venv=args.venv, constraints=constraints)
