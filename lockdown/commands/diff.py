"""``lockdown diff``: judge the change between two locks offline, as ``lock``'s gate would.

Writes nothing; the CLI renders the result.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.config import PYPROJECT, STANDALONE, parse_config
from lockdown.config.policy import Policy
from lockdown.errors import (
    ConfigError,
    LockFileError,
    UsageError,
)
from lockdown.lock.pylock import LockFile, locked_packages, parse_lock_bytes, read_lock
from lockdown.policy.approvals import read_approvals
from lockdown.policy.gate import GateResult, judge
from lockdown.policy.origins import OriginResult, shadows_in_lock, with_origins
from lockdown.progress import Reporter
from lockdown.report.results import GateReport
from lockdown.timestamps import Clock, utc_now

if TYPE_CHECKING:
    from argparse import Namespace as Args


def diff(
    project_dir: Path,
    *,
    old: Path | None = None,
    new: Path | None = None,
    base: str | None = None,
    clock: Clock = utc_now,
    notify: Callable[[str], None] | None = None,
) -> GateResult:
    """Judge the change from ``old`` (or the lock at git revision ``base``) to ``new``.

    Offline: the approvals come from the project, the cooldown's cutoff from
    the new lock (never later than ``now - min-release-age``); yanks are
    judged when ``lock`` runs, since only the index knows them. The policy is
    the project's — except with ``base``, where it is the policy as it was at
    ``base`` when there was one: a change cannot relax the gate that judges it
    (``notify`` hears when the two differ). Known vulnerabilities of the new
    and changed versions are judged from ``[tool.lockdown.audit] db`` (or the
    API answers already cached), offline too.
    """
    if (old is None) == (base is None):
        raise UsageError("give the old lock as a file or as --base REV (one of them)")
    config = optional_config(project_dir, lock_settings=True)
    policy = config.policy if config is not None else Policy()
    new_path = find_lock(project_dir, config, given=new)
    new_lock = read_lock(new_path)
    old_lock = read_lock(old) if old is not None else _lock_at(base or "", new_path)
    if base is not None:
        before = _policy_at(base, project_dir)
        if before is not None:
            if before != policy and notify is not None:
                notify(
                    f"the policy differs from the one at {base}; judged by the policy at {base} "
                    "(a change cannot relax the gate that judges it)"
                )
            policy = before
    approvals = read_approvals(config.approvals_path) if config is not None else []
    now = clock()
    cutoff = None
    if policy.min_release_age is not None:
        cutoff = now - policy.min_release_age
        recorded = new_lock.tool.get("cooldown-cutoff")
        if isinstance(recorded, datetime) and recorded.tzinfo is not None:
            cutoff = min(cutoff, recorded.astimezone(timezone.utc))
    new_packages = locked_packages(new_lock)
    result = judge(
        locked_packages(old_lock) if old_lock is not None else None,
        new_packages,
        policy=policy,
        approvals=approvals,
        now=now,
        cutoff=cutoff,
    )
    # The shadows the new lock recorded (asking the indexes is lock's job, not diff's).
    recorded = new_lock.tool.get("sources")
    shadows = shadows_in_lock(new_packages, recorded if isinstance(recorded, dict) else {})
    result = with_origins(result, OriginResult(verdicts=(), shadows=shadows))
    # Known vulnerabilities of the new and changed versions, offline (lockdown.policy.advisories).
    from lockdown.policy.advisories import packages_of, vulnerability_gate  # noqa: PLC0415

    result, vulnerabilities = vulnerability_gate(
        result,
        packages_of(new_packages),
        policy=policy,
        settings=config.audit if config is not None else None,
        approvals=approvals,
        now=now,
        notify=notify,
        offline=True,
    )
    if notify is not None and vulnerabilities.database is not None:
        notify(vulnerabilities.line(now))
    return result


def _git_show(revision: str, path: Path) -> bytes | None:
    """``path`` as it is at git ``revision``; ``None`` when it did not exist there."""
    where = f"{revision}:{path.name}"
    try:
        proc = subprocess.run(
            ["git", "show", f"{revision}:./{path.name}"],
            cwd=path.parent,
            capture_output=True,
            check=False,
        )
    except OSError as exc:
        raise UsageError(f"cannot run git to read {where}: {exc.strerror}") from None
    if proc.returncode != 0:
        message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        first = message[-1] if message else "git show failed"
        if "exists on disk, but not in" in first or "does not exist in" in first:
            return None
        raise UsageError(f"cannot read {where}: {first}", hint="fetch the revision first")
    return proc.stdout


def _lock_at(revision: str, path: Path) -> LockFile | None:
    """The lock as it is at git ``revision``; ``None`` (a first lock) when it did not exist."""
    data = _git_show(revision, path)
    if data is None:
        return None
    where = f"{revision}:{path.name}"
    try:
        raw, model = parse_lock_bytes(data, Path(where))
    except LockFileError as exc:
        raise LockFileError(f"the lock at {revision}: {exc.message}") from None
    return LockFile(path=Path(where), data=data, raw=raw, pylock=model)


def _policy_at(revision: str, project_dir: Path) -> Policy | None:
    """The upgrade policy as the project's settings had it at ``revision``, if they existed."""
    from lockdown._compat import tomllib  # noqa: PLC0415

    for name in (STANDALONE, PYPROJECT):
        data = _git_show(revision, project_dir / name)
        if data is None:
            continue
        where = f"{revision}:{name}"
        try:
            document = tomllib.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError) as exc:
            raise ConfigError(f"{where}: cannot read the settings: {exc}") from None
        if name == PYPROJECT:
            tool = document.get("tool")
            table = tool.get("lockdown") if isinstance(tool, dict) else None
            if table is None:
                return None
        else:
            table = document
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: tool.lockdown must be a table")
        return parse_config(table, source=Path(where), project_dir=project_dir, where=where).policy
    return None


def run(args: Args, reporter: Reporter) -> GateReport:
    """``lockdown diff`` from its parsed arguments: judge; the result is the verdicts to render."""
    if args.base is not None and args.new is not None:
        raise UsageError("with --base, give at most one file (the new lock)")
    old, new = (None, args.old) if args.base is not None else (args.old, args.new)
    result = diff(args.project, old=old, new=new, base=args.base, notify=reporter.note)
    return GateReport(gate=result, format=args.format, output=args.output)
