"""The gate: every change between two locks, and every locked package, judged by policy.

Pure: the caller supplies both sides (:mod:`~lockdown.policy.changes`), the
policy, the approvals, the clock's reading, the cooldown cutoff and which
changed versions the index marks yanked. Nothing here reads a file or the
network, so every rule is tested on its own.

Rules for every package of the new lock (whether it changed or not):

1. ``deny``: a package matching a deny rule is blocked (no approval admits it).
2. ``require-wheels``: a package with no wheel is blocked.
3. ``allowed-indexes`` (``allowed-channels`` for conda archives): a package from any
   other index (or from none) is blocked.
4. cooldown: an artifact uploaded after the cutoff, or with no upload time, is
   blocked unless the package is in ``cooldown-exempt`` (judged once per
   version: the first such file of all its entries, markers or conda platforms);
5. ``yanked = "deny"``: a version the index has yanked is blocked (the caller
   asks the index about new and changed packages only: a release yanked after
   it was locked does not stop every later re-lock).
5a. ``provenance = "require"``: a package no verified PEP 740 attestation
   covers is blocked unless it is in ``provenance-exempt``.

Rules for every change:

6. removals are admitted (they add no code, and follow from a judged change);
7. an index change (same name, another index: dependency confusion), and
   unless ``provenance = "off"`` a publisher change or the loss of
   attestations (an account takeover publishes from elsewhere), needs an
   approval whatever ``upgrades`` and ``auto-approve`` say;
8. otherwise a class listed in ``auto-approve``, a valid matching approval,
   or (for upgrades and downgrades only) ``upgrades = "allow"`` admits the
   change; anything else is blocked. New packages and source changes need an
   approval unless ``auto-approve`` lists ``new`` / ``source``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lockdown.config.fields import format_duration
from lockdown.config.policy import Policy, deny_rules
from lockdown.lock.model import LockedPackage
from lockdown.names import index_key
from lockdown.policy.approvals import Approval, find_approval
from lockdown.policy.changes import Change, change_set


@dataclass(frozen=True, slots=True, kw_only=True)
class Verdict:
    """The gate's answer about one change, or one package breaking a rule."""

    name: str
    version: str | None
    #: The change judged; ``None`` for a rule broken by a package that did not change.
    change: Change | None
    admitted: bool
    #: Why, in a few words (``minor upgrade; needs approval``).
    reason: str
    #: The approval that admitted it, if one did.
    approval: Approval | None = None
    #: What to run to admit it, when an approval can.
    fix: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class GateResult:
    """Everything the gate found."""

    #: ``None`` for a first lock (nothing to compare with).
    changes: tuple[Change, ...] | None
    verdicts: tuple[Verdict, ...]
    #: What is worth knowing but blocks nothing (a pinned name another index also serves).
    findings: tuple[str, ...] = ()
    #: (name, version) → the approval that admitted it: the first verdict's that has one.
    _approved: Mapping[tuple[str, str | None], Approval] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        # Built once: the lock writer asks about every package of the lock.
        approved: dict[tuple[str, str | None], Approval] = {}
        for verdict in self.verdicts:
            if verdict.approval is not None:
                approved.setdefault((verdict.name, verdict.version), verdict.approval)
        object.__setattr__(self, "_approved", approved)

    @property
    def blocked(self) -> tuple[Verdict, ...]:
        """The verdicts that block the new lock."""
        return tuple(v for v in self.verdicts if not v.admitted)

    def approval_for(self, name: str, version: str) -> Approval | None:
        """The approval that admitted ``name==version``, if one did."""
        return self._approved.get((name, version))


def judge(
    old: Sequence[LockedPackage] | None,
    new: Sequence[LockedPackage],
    *,
    policy: Policy,
    approvals: Sequence[Approval],
    now: datetime,
    cutoff: datetime | None,
    yanked: Mapping[tuple[str, str], str] | None = None,
    channels: bool = False,
) -> GateResult:
    """Judge ``new`` against ``old`` (``None``: a first lock); see the module docstring.

    ``channels``: ``new`` are conda archives, whose allowlist (rule 3) is
    ``allowed-channels`` rather than ``allowed-indexes``.
    """
    young = _too_young(new, policy, cutoff)
    # Parsed once for the whole lock, not once a package (thousands on a big lock).
    denied = deny_rules(policy)
    setting = "allowed-channels" if channels else "allowed-indexes"
    listed = policy.allowed_channels if channels else policy.allowed_indexes
    allowed = {index_key(u) for u in listed}
    verdicts = [
        v
        for state in new
        for v in _rules(
            state,
            policy,
            denied,
            allowed,
            young.pop((state.name, state.version), []),
            yanked or {},
            setting,
        )
    ]
    changes = None
    if old is not None:
        changes = tuple(change_set(old, new))
        verdicts += [_judge_change(c, policy=policy, approvals=approvals, now=now) for c in changes]
    return GateResult(changes=changes, verdicts=tuple(_unique(verdicts)))


def _too_young(
    packages: Sequence[LockedPackage], policy: Policy, cutoff: datetime | None
) -> dict[tuple[str, str], list[str]]:
    """(name, version) → the cooldown's reason, for the first file of a version that is
    too young (or of unknown age), looking at its entries in order."""
    found: dict[tuple[str, str], list[str]] = {}
    if cutoff is None or policy.min_release_age is None:
        return found
    age = format_duration(policy.min_release_age)
    for package in packages:
        key = (package.name, package.version)
        if package.name not in policy.cooldown_exempt and not found.get(key):
            found[key] = _cooldown(package, cutoff, age)
    return found


def _rules(
    state: LockedPackage,
    policy: Policy,
    denied: Sequence[tuple[str, str, Any]],
    allowed: Set[str | None],
    young: list[str],
    yanked: Mapping[tuple[str, str], str],
    index_setting: str = "allowed-indexes",
) -> list[Verdict]:
    """The rules one package breaks; ``denied`` is :func:`deny_rules`, ``allowed`` the
    keys of ``allowed-indexes``."""
    found: list[str] = []
    # 1. deny
    for text, name, specifier in denied:
        if name == state.name and (
            not specifier or specifier.contains(state.version, prereleases=True)
        ):
            found.append(f"denied by policy (deny: {text!r})")
    # 2. require-wheels
    if policy.require_wheels and not state.has_wheels:
        found.append("no wheel (require-wheels = true)")
    # 3. allowed-indexes
    if allowed:
        if state.index is None:
            found.append(f"not from a package index ({index_setting} is set)")
        elif index_key(state.index) not in allowed:
            found.append(f"from {state.index}, which is not in {index_setting}")
    # 4. cooldown (found for the whole version by _too_young, said by its first entry)
    found += young
    # 5. yanked
    reason = yanked.get((state.name, state.version))
    if reason is not None and policy.yanked == "deny":
        why = f": {reason}" if reason else ""
        found.append(f"version {state.version} is yanked{why} (yanked = 'deny')")
    # 5a. provenance = "require"
    if (
        policy.provenance == "require"
        and not state.attestation_identities
        and state.name not in policy.provenance_exempt
    ):
        found.append(
            "not attested: no verified PEP 740 provenance "
            "(provenance = 'require'; list it in provenance-exempt)"
        )
    return [
        Verdict(name=state.name, version=state.version, change=None, admitted=False, reason=r)
        for r in found
    ]


def _cooldown(state: LockedPackage, cutoff: datetime, age: str) -> list[str]:
    """The first artifact too young (or of unknown age) for the cooldown, if any."""
    for artifact in state.artifacts:
        if artifact.upload_time is None:
            return [
                f"{artifact.filename} has no upload time, so its age is unknown "
                f"(min-release-age = {age!r}; list the package in cooldown-exempt)"
            ]
        if artifact.upload_time > cutoff:
            return [
                f"{artifact.filename} was uploaded {artifact.upload_time:%Y-%m-%d %H:%M} UTC, "
                f"after the cooldown cutoff {cutoff:%Y-%m-%d %H:%M} UTC "
                f"(min-release-age = {age!r})"
            ]
    return []


def _judge_change(
    change: Change,
    *,
    policy: Policy,
    approvals: Sequence[Approval],
    now: datetime,
) -> Verdict:
    version = change.new_version
    # 6. removals
    if change.kind == "removed" or version is None:
        return Verdict(
            name=change.name,
            version=change.old_version,
            change=change,
            admitted=True,
            reason="removed",
        )
    # 7. an index change (dependency confusion) admits nothing but an approval;
    # 8. otherwise "allow" covers moves of a locked package (not new packages or new
    # artifacts for a version), then auto-approve, then an approval.
    pinned = change.index_changed or (
        change.publisher_change is not None and policy.provenance != "off"
    )
    if not pinned:
        if policy.upgrades == "allow" and change.kind in ("upgraded", "downgraded"):
            return _admitted(change, version, f"{change.detail}; upgrades = 'allow'")
        if change.classification in policy.auto_approve:
            return _admitted(change, version, f"{change.detail}; auto-approved")
    approval = find_approval(approvals, change.name, version, now)
    if approval is not None:
        return _admitted(change, version, f"{change.detail}; {approval.describe()}", approval)
    why = (
        " (a package keeps its first index)"
        if change.index_changed
        else " (a package keeps its publisher)"
        if pinned
        else ""
    )
    return Verdict(
        name=change.name,
        version=version,
        change=change,
        admitted=False,
        reason=f"{change.detail}; needs approval{why}",
        fix=f'lockdown approve {change.name}=={version} --reason "\u2026"',
    )


def _admitted(
    change: Change, version: str, reason: str, approval: Approval | None = None
) -> Verdict:
    return Verdict(
        name=change.name,
        version=version,
        change=change,
        admitted=True,
        reason=reason,
        approval=approval,
    )


def _unique(verdicts: list[Verdict]) -> list[Verdict]:
    """One verdict per (package, version, reason): several entries of a version say it once."""
    seen: set[tuple[str, str | None, str]] = set()
    out = []
    for verdict in verdicts:
        key = (verdict.name, verdict.version, verdict.reason)
        if key not in seen:
            seen.add(key)
            out.append(verdict)
    return out
