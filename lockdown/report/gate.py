"""The gate's verdicts for people and machines: text (terminal, CI log), Markdown, JSON.

``lock`` prints the text form when it blocks; ``diff`` prints any of the
three (Markdown for a pull-request comment). Origin changes (a package
moving to another index: dependency confusion) and publisher changes and
lost attestations (PEP 740) come first, whatever their verdict, as the
likeliest signs of an attack; then blocked verdicts, each with the command
that would admit it when an approval can. Also the lines a lock run says
about its gate: what it blocked, and what the vulnerability rule checked.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from lockdown.policy.gate import GateResult, Verdict

if TYPE_CHECKING:
    from datetime import datetime
    from pathlib import Path

    from lockdown.policy.advisories import GateAudit

#: Bumped when a field of the JSON form changes meaning or disappears.
SCHEMA_VERSION = 1
FORMATS = ("text", "markdown", "json")


def _republished(verdict: Verdict) -> bool:
    change = verdict.change
    return change is not None and (
        change.publisher_change is not None or change.origin_change is not None
    )


def _origin_changes(result: GateResult) -> list[str]:
    """``name version: index changed from A to B``, one per package that moved index."""
    return [
        f"{c.name} {c.new_version}: {c.origin_change}"
        for c in result.changes or ()
        if c.origin_change is not None
    ]


def _ordered(result: GateResult) -> list[Verdict]:
    return sorted(
        result.verdicts,
        key=lambda v: (not _republished(v), v.admitted, v.name, v.version or ""),
    )


def _what(verdict: Verdict) -> str:
    if verdict.change is not None:
        return f"{verdict.name} {verdict.change.arrow}"
    return f"{verdict.name} {verdict.version}"


def render_text(result: GateResult, *, admitted: bool = True) -> str:
    """One line per verdict (``BLOCKED`` first), the fix indented under it."""
    lines = []
    for verdict in _ordered(result):
        if verdict.admitted and not admitted:
            continue
        label = "ok     " if verdict.admitted else "BLOCKED"
        lines.append(f"  {label}  {_what(verdict)} ({verdict.reason})")
        if verdict.fix and not verdict.admitted and verdict.fix not in verdict.reason:
            lines.append(f"           {verdict.fix}")
    if not lines:
        if not admitted and result.verdicts:
            lines.append("  nothing blocked")
        else:
            lines.append("  no changes" if result.changes is not None else "  first lock")
    origins = [f"  ORIGIN   {line}" for line in _origin_changes(result)]
    return "\n".join([*origins, *lines, *render_findings(result)]) + "\n"


def render_findings(result: GateResult) -> list[str]:
    """One ``note`` line per finding (what blocks nothing but is worth knowing)."""
    return [f"  note     {finding}" for finding in result.findings]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(result: GateResult) -> str:
    """A summary line and a table: verdict, package, change, reason (and the fix)."""
    blocked = len(result.blocked)
    changes = len(result.changes or ())
    head = f"**lockdown: {blocked} blocked**" if blocked else "**lockdown: every change admitted**"
    republished = sum(1 for c in result.changes or () if c.publisher_change is not None)
    publishers = (
        f", {republished} publisher change{'s' if republished != 1 else ''} or loss"
        f"{'es' if republished != 1 else ''}"
        if republished
        else ""
    )
    moved = _origin_changes(result)
    origins = f", {len(moved)} origin change{'s' if len(moved) != 1 else ''}" if moved else ""
    lines = [
        f"{head} ({changes} change{'s' if changes != 1 else ''}{origins}{publishers})",
        "",
    ]
    if moved:
        lines += ["**Origin changes** (a package from another index):", ""]
        lines += [*(f"- {_cell(m)}" for m in moved), ""]
    if result.findings:
        lines += ["Findings:", "", *(f"- {_cell(f)}" for f in result.findings), ""]
    if not result.verdicts:
        lines.append("No changes.")
        return "\n".join(lines) + "\n"
    lines += ["| verdict | package | change | why |", "|---|---|---|---|"]
    for verdict in _ordered(result):
        mark = "ok" if verdict.admitted else "**BLOCKED**"
        change = verdict.change.arrow if verdict.change is not None else str(verdict.version)
        why = verdict.reason + (f" \u2014 `{verdict.fix}`" if verdict.fix else "")
        lines.append(f"| {mark} | `{_cell(verdict.name)}` | {_cell(change)} | {_cell(why)} |")
    return "\n".join(lines) + "\n"


def render_json(result: GateResult) -> str:
    """Changes and verdicts as JSON, with ``schema_version``."""

    def verdict(v: Verdict) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": v.name,
            "version": v.version,
            "admitted": v.admitted,
            "reason": v.reason,
            "change": v.change.kind if v.change is not None else None,
            "fix": v.fix,
        }
        if v.approval is not None:
            out["approval"] = {
                k: (x.isoformat() if hasattr(x, "isoformat") else x)
                for k, x in v.approval.record().items()
            }
        return out

    changes = sorted(
        result.changes or (),
        key=lambda c: c.publisher_change is None and c.origin_change is None,
    )
    doc = {
        "schema_version": SCHEMA_VERSION,
        "blocked": len(result.blocked),
        "first_lock": result.changes is None,
        "publisher_changes": sum(1 for c in changes if c.publisher_change is not None),
        "origin_changes": sum(1 for c in changes if c.origin_change is not None),
        "changes": [
            {
                "name": c.name,
                "kind": c.kind,
                "class": c.classification,
                "old_version": c.old_version,
                "new_version": c.new_version,
                "detail": c.detail,
                "publisher_change": c.publisher_change,
                "origin_change": c.origin_change,
            }
            for c in changes
        ],
        "verdicts": [verdict(v) for v in _ordered(result)],
        "findings": list(result.findings),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def render(result: GateResult, fmt: str) -> str:
    """``result`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "markdown":
        return render_markdown(result)
    if fmt == "json":
        return render_json(result)
    return render_text(result)


def vulnerability_line(audit: GateAudit | None, now: datetime, *, always: bool = False) -> str:
    """``lockdown: vulnerabilities: ...`` and a newline: what the vulnerability rule checked
    against what (``always``: also when it checked nothing); empty when there is nothing to say."""
    if audit is not None and (always or audit.database is not None):
        return f"lockdown: {audit.line(now)}\n"
    return ""


def blocked_text(result: GateResult, path: Path) -> str:
    """What the gate blocked (``path`` is left as it was), and the commands that would admit it."""
    count = len(result.blocked)
    head = (
        f"lockdown: {count} change{'s' if count != 1 else ''} blocked by policy; "
        f"{path.name} unchanged\n"
    )
    return head + render_text(result, admitted=False)
