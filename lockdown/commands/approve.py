"""``lockdown approve``: record an approval for one version in the project's approvals file."""

from __future__ import annotations

import getpass
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.config import load_config
from lockdown.config.fields import parse_duration
from lockdown.errors import UsageError
from lockdown.policy.approvals import Approval, append_approval, parse_target
from lockdown.progress import Reporter
from lockdown.report.results import Approved
from lockdown.timestamps import Clock, utc_now

if TYPE_CHECKING:
    from argparse import Namespace as Args


def approve(
    project_dir: Path,
    target: str,
    *,
    reason: str,
    by: str | None = None,
    expires: str = "30d",
    clock: Clock = utc_now,
) -> tuple[Path, Approval]:
    """Record an approval for ``target`` (``name==version``) in the project's approvals file."""
    name, specifier = parse_target(target)
    if not reason.strip():
        raise UsageError("an approval needs a reason", hint='pass --reason "why this version"')
    now = clock()
    if expires == "never":
        until = None
    else:
        try:
            until = now + parse_duration(expires)
        except UsageError as exc:
            raise UsageError(f"--expires: {exc.message}", hint=exc.hint) from None
        if until <= now:
            raise UsageError("--expires must be in the future", hint="e.g. --expires 14d")
    config, _ = load_config(project_dir)
    approval = Approval(
        package=name,
        version=specifier,
        reason=reason.strip(),
        approved_by=(by or _who()).strip(),
        approved_at=now,
        expires=until,
    )
    if not approval.approved_by:
        raise UsageError("an approval needs an approver", hint="pass --by NAME")
    append_approval(config.approvals_path, approval)
    return config.approvals_path, approval


def _who() -> str:
    """The approver by default: git's user.email, else the login name."""
    try:
        proc = subprocess.run(
            ["git", "config", "user.email"], capture_output=True, text=True, check=False
        )
        if proc.returncode == 0 and proc.stdout.strip():
            return proc.stdout.strip()
    except OSError:
        pass
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return ""


def run(args: Args, reporter: Reporter) -> Approved:
    """``lockdown approve`` from its parsed arguments: record it; the result says what was."""
    path, approval = approve(
        args.project, args.target, reason=args.reason, by=args.by, expires=args.expires
    )
    return Approved(path=path, approval=approval)
