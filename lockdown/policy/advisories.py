"""The advisories behind the lock gate's vulnerability rule: where they come from, one call.

``lock`` (Python and conda) and ``diff`` call :func:`vulnerability_gate`
with the gate's result and the new or changed versions; it looks them up and
adds the verdicts of :func:`lockdown.policy.vulnerable.judge_vulnerable`.

Where the advisories come from (no surprise network):

1. ``[tool.lockdown.policy] vulnerable = "off"``: nowhere; the gate says so;
2. ``[tool.lockdown.audit] db``: that local database, offline, refused when
   empty or older than ``max-db-age`` (exit 70, nothing written);
3. ``[tool.lockdown.audit] api-url``: that OSV API, asked about the new and
   changed versions only (``lock`` names it; ``diff`` stays offline and uses
   only answers already cached there, else says it did not look);
4. neither: the rule is off and the lock says so — unless ``vulnerable`` is
   written in the policy, which then fails closed (exit 64): a policy that
   asks for the rule must get it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.audit.model import DatabaseInfo, Finding, Package, describe_database
from lockdown.errors import ConfigError

if TYPE_CHECKING:
    from lockdown.config.audit import AuditSettings
    from lockdown.config.policy import Policy
    from lockdown.lock.model import LockedPackage
    from lockdown.policy.approvals import Approval
    from lockdown.policy.gate import GateResult
    from lockdown.progress import Reporter

Notify = Callable[[str], None]

#: Why the rule looked nothing up when no database is configured.
NOT_CONFIGURED = "no advisory database configured ([tool.lockdown.audit] db or api-url)"


@dataclass(frozen=True, slots=True, kw_only=True)
class GateAudit:
    """What the vulnerability rule looked at."""

    #: The database used; ``None`` when nothing was looked up.
    database: DatabaseInfo | None
    #: How many new or changed versions were looked up.
    checked: int
    findings: tuple[Finding, ...] = ()
    #: Why nothing was looked up, when nothing was.
    off: str | None = None

    def line(self, now: datetime) -> str:
        """One line for ``lock``'s summary: what was checked against what."""
        if self.database is None:
            return f"vulnerabilities: not checked ({self.off})"
        counting = sum(1 for f in self.findings if f.active)
        found = f"{counting} finding{'s' if counting != 1 else ''}" if counting else "none known"
        return (
            f"vulnerabilities: {self.checked} new or changed version"
            f"{'s' if self.checked != 1 else ''} checked against "
            f"{describe_database(self.database, now)}: {found}"
        )


def packages_of(states: Sequence[LockedPackage]) -> list[Package]:
    """A Python lock's packages (or a resolution's) as the advisory database names them."""
    return [Package(ecosystem="PyPI", name=s.name, version=s.version) for s in states if s.version]


def moving(result: GateResult, packages: Sequence[Package]) -> list[Package]:
    """The new and changed versions among ``packages``, by the gate's change set.

    A first lock (no change set) moves everything; otherwise every change but
    a removal names the version it brings.
    """
    if result.changes is None:
        return list(packages)
    from lockdown.names import normalize_name  # noqa: PLC0415

    brought = {
        (normalize_name(c.name), c.new_version)
        for c in result.changes
        if c.kind != "removed" and c.new_version
    }
    return [p for p in packages if (normalize_name(p.name), p.version) in brought]


def audit_moving(
    packages: Sequence[Package],
    *,
    policy: Policy,
    settings: AuditSettings | None,
    now: datetime,
    cache_dir: Path | None,
    notify: Notify | None = None,
    offline: bool = False,
) -> GateAudit:
    """Look the new and changed versions up where the settings say (module docstring)."""
    from lockdown.audit.match import match  # noqa: PLC0415
    from lockdown.audit.sources import check_database  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    # 1.
    if policy.vulnerable == "off":
        return GateAudit(database=None, checked=0, off="vulnerable = 'off'")
    # 4.
    if settings is None or not settings.configured:
        if policy.vulnerable_set:
            raise ConfigError(
                f"[tool.lockdown.policy] vulnerable = {policy.vulnerable!r} needs an advisory "
                "database, and none is configured",
                hint="set [tool.lockdown.audit] db (offline) or api-url, or vulnerable = 'off'",
            )
        return GateAudit(database=None, checked=0, off=NOT_CONFIGURED)
    if not packages:
        return GateAudit(database=None, checked=0, off="no new or changed versions")
    cache = cache_dir or default_cache_dir()
    # 2. and 3.
    if settings.db is not None:
        from lockdown.audit.sources import open_database  # noqa: PLC0415

        database = open_database(settings.db, cache_dir=cache, notify=notify)
    else:
        from lockdown.audit.sources import api_database  # noqa: PLC0415

        assert settings.api_url is not None  # noqa: S101 - configured means one of the two
        answered = api_database(
            settings.api_url,
            packages,
            cache_dir=cache,
            now=now,
            max_age=settings.max_db_age,
            offline=offline,
            notify=notify,
        )
        if answered is None:
            return GateAudit(
                database=None,
                checked=0,
                off=f"the OSV API {settings.api_url} is not asked offline; lock asks it",
            )
        database = answered
    check_database(database.info, now=now, max_age=settings.max_db_age)
    findings = match(packages, database.lookup, ignores=settings.ignores, now=now)
    return GateAudit(database=database.info, checked=len(packages), findings=tuple(findings))


def vulnerability_gate(
    result: GateResult,
    packages: Sequence[Package],
    *,
    policy: Policy,
    settings: AuditSettings | None,
    approvals: Sequence[Approval],
    now: datetime,
    cache_dir: Path | None = None,
    notify: Notify | None = None,
    offline: bool = False,
    reporter: Reporter | None = None,
) -> tuple[GateResult, GateAudit]:
    """``result`` with the vulnerability rule's verdicts, and what it used.

    ``packages`` are every package of the new lock; the new and changed ones
    among them (:func:`moving`) are looked up. ``reporter`` (instead of
    ``notify``) also shows a spinner on a terminal while they are.
    """
    import contextlib  # noqa: PLC0415

    from lockdown.policy.vulnerable import judge_vulnerable, with_verdicts  # noqa: PLC0415

    if reporter is not None:
        notify = reporter.note
    spinner = (
        reporter.status("checking new versions against the advisory database")
        if reporter is not None
        else contextlib.nullcontext()
    )
    with spinner:
        audit = audit_moving(
            moving(result, packages),
            policy=policy,
            settings=settings,
            now=now,
            cache_dir=cache_dir,
            notify=notify,
            offline=offline,
        )
    verdicts = judge_vulnerable(audit.findings, policy=policy, approvals=approvals, now=now)
    return with_verdicts(result, verdicts), audit
