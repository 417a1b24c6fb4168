"""The gate's vulnerability rule: new or changed versions with known advisories.

Pure: the findings (:mod:`lockdown.audit.match`, already told about the
ignores), the policy, the approvals and the clock's reading are passed in.
Rules, for each new or changed version that has findings:

1. a known-malicious version (an OSV ``MAL-`` entry) is blocked; no approval
   and no ignore admits it;
2. a version whose every other finding is ignored (an ignore in force) is
   admitted, saying which ignore;
3. ``vulnerable = "warn"`` admits a known-vulnerable version, saying so;
4. a valid approval for ``name==version`` admits it;
5. anything else is blocked, naming the advisories and the nearest version
   that fixes them.

``vulnerable = "off"`` means the caller looks nothing up at all.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from lockdown.config.policy import Policy
from lockdown.policy.approvals import Approval, find_approval
from lockdown.policy.gate import GateResult, Verdict

if TYPE_CHECKING:
    from lockdown.audit.model import Finding


def _advisories(findings: Sequence[Finding]) -> str:
    parts = []
    for finding in findings:
        aliases = f" ({', '.join(finding.aliases)})" if finding.aliases else ""
        fixed = f", fixed in {finding.nearest_fix}" if finding.nearest_fix else ", no fix known"
        parts.append(f"{finding.id}{aliases}, {finding.severity}{fixed}")
    return "; ".join(parts)


def judge_vulnerable(
    findings: Sequence[Finding],
    *,
    policy: Policy,
    approvals: Sequence[Approval],
    now: datetime,
) -> list[Verdict]:
    """One verdict per package version with findings; see the module docstring."""
    by_version: dict[tuple[str, str], list[Finding]] = {}
    for finding in findings:
        by_version.setdefault((finding.package.name, finding.package.version), []).append(finding)
    verdicts = []
    for (name, version), found in sorted(by_version.items()):
        admitted, reason, approval = _judge_one(found, policy, approvals, name, version, now)
        verdicts.append(
            Verdict(
                name=name,
                version=version,
                change=None,
                admitted=admitted,
                reason=reason,
                approval=approval,
                fix=None
                if admitted
                else f"remove {name} from the project's requirements"
                if any(f.malicious for f in found)
                else f'lockdown approve {name}=={version} --reason "\u2026"',
            )
        )
    return verdicts


def _judge_one(
    found: Sequence[Finding],
    policy: Policy,
    approvals: Sequence[Approval],
    name: str,
    version: str,
    now: datetime,
) -> tuple[bool, str, Approval | None]:
    """(admitted, reason, the approval that admitted it) for one package version."""
    from lockdown.audit.match import nearest_fix  # noqa: PLC0415

    # 1. malicious
    malicious = [f for f in found if f.malicious]
    if malicious:
        return (
            False,
            f"known malicious: {', '.join(f.id for f in malicious)} ({malicious[0].summary}); "
            "no approval or ignore admits it",
            None,
        )
    # 2. every finding ignored
    counting = [f for f in found if f.active]
    if not counting:
        ignores = "; ".join(
            f"{f.id} ignored until {f.ignored_by.expires:%Y-%m-%d %H:%M} UTC: {f.ignored_by.reason}"
            for f in found
            if f.ignored_by is not None
        )
        return True, f"known vulnerable: {ignores}", None
    fix = nearest_fix(counting)
    text = f"known vulnerable: {_advisories(counting)}; " + (
        f"nearest fixed version {fix}" if fix else "no fixed version known"
    )
    expired = [f.expired_ignore for f in counting if f.expired_ignore is not None]
    if expired:
        text += "; ignore expired " + ", ".join(
            f"{i.id} ({i.expires:%Y-%m-%d %H:%M} UTC)" for i in expired
        )
    # 3. warn
    if policy.vulnerable == "warn":
        return True, f"{text}; vulnerable = 'warn'", None
    # 4. an approval
    approval = find_approval(approvals, name, version, now)
    if approval is not None:
        return True, f"{text}; {approval.describe()}", approval
    # 5. blocked
    return False, f"{text}; needs an upgrade, an ignore or an approval", None


def with_verdicts(result: GateResult, verdicts: Sequence[Verdict]) -> GateResult:
    """``result`` with more verdicts (the vulnerability rule's) after its own."""
    if not verdicts:
        return result
    return dataclasses.replace(result, verdicts=(*result.verdicts, *verdicts))
