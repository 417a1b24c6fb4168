"""An audit's findings for people and machines: text, JSON (``schema_version``), SARIF 2.1.0.

Every form says which database was used and how old it is. Malicious
packages come first, then by severity; ignored findings are listed after the
ones that count, each with its reason and expiry; a finding whose ignore
expired says so. SARIF puts each finding at its package's line in the lock
(or at the environment's path), ignored ones as suppressed results, and
gives GitHub code scanning a ``security-severity`` per rule.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Literal, get_args

from lockdown import __version__
from lockdown.audit.model import (
    SEVERITIES,
    AuditReport,
    DatabaseInfo,
    Finding,
    describe_database,
)
from lockdown.config.audit import Ignore
from lockdown.errors import UsageError

#: Bumped when a field of the JSON form changes meaning or disappears.
SCHEMA_VERSION = 1
Format = Literal["text", "json", "sarif"]
FORMATS: tuple[Format, ...] = get_args(Format)
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_RANK = {level: rank for rank, level in enumerate(SEVERITIES)}


def ordered(findings: Sequence[Finding]) -> list[Finding]:
    """Counting findings first, most severe first, then by package and id."""
    return sorted(
        findings,
        key=lambda f: (not f.active, _RANK[f.severity], f.package.name, f.package.version, f.id),
    )


def _ids(finding: Finding) -> str:
    return finding.id + (f" ({', '.join(finding.aliases)})" if finding.aliases else "")


def _ignore_text(ignore: Ignore) -> str:
    return f"{ignore.reason} (until {ignore.expires:%Y-%m-%d %H:%M} UTC)"


def render_text(report: AuditReport) -> str:
    """A header naming the target and the database, a line per finding, a summary line."""
    lines = [
        f"audit of {report.target} ({len(report.packages)} packages)",
        f"database: {describe_database(report.database, report.audited_at)}",
    ]
    for note in report.notes:
        lines.append(f"note: {note}")
    for finding in ordered(report.findings):
        lines.append(f"  {finding_line(finding)}")
        if finding.summary:
            lines.append(f"             {finding.summary}")
        if finding.ignored_by is not None:
            lines.append(f"             ignored: {_ignore_text(finding.ignored_by)}")
        if finding.expired_ignore is not None:
            lines.append(
                f"             ignore expired {finding.expired_ignore.expires:%Y-%m-%d %H:%M} UTC "
                f"(was: {finding.expired_ignore.reason})"
            )
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def summary_line(report: AuditReport) -> str:
    """``3 findings in 2 packages (1 malicious, 2 high); 1 ignored`` or ``no known …``."""
    active = report.active
    ignored = len(report.findings) - len(active)
    tail = f"; {ignored} ignored" if ignored else ""
    if not active:
        return f"no known vulnerable or malicious packages{tail}"
    counts = report.counts()
    by = ", ".join(f"{counts[level]} {level}" for level in SEVERITIES if counts[level])
    packages = len({(f.package.name, f.package.version) for f in active})
    return (
        f"{len(active)} finding{'s' if len(active) != 1 else ''} in {packages} "
        f"package{'s' if packages != 1 else ''} ({by}){tail}"
    )


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def _ignore_json(ignore: Ignore | None) -> dict[str, Any] | None:
    if ignore is None:
        return None
    return {
        "id": ignore.id,
        "reason": ignore.reason,
        "expires": _time(ignore.expires),
        "package": ignore.package,
    }


def database_json(info: DatabaseInfo, now: datetime) -> dict[str, Any]:
    """The database as the JSON forms (audit and check) give it."""
    age = info.age(now)
    return {
        "kind": info.kind,
        "location": info.location,
        "sha256": info.digest,
        "advisories": info.advisories,
        "newest_entry": _time(info.newest),
        "fetched_at": _time(info.fetched_at),
        "age_seconds": None if age is None else int(age.total_seconds()),
        "unreadable": list(info.unreadable),
    }


def finding_json(finding: Finding) -> dict[str, Any]:
    """One finding as the JSON forms give it."""
    return {
        "package": finding.package.name,
        "version": finding.package.version,
        "ecosystem": finding.package.ecosystem,
        "id": finding.id,
        "aliases": list(finding.aliases),
        "summary": finding.summary,
        "severity": finding.severity,
        "score": finding.score,
        "malicious": finding.malicious,
        "fixed": list(finding.fixed),
        "url": finding.url,
        "ignored": _ignore_json(finding.ignored_by),
        "expired_ignore": _ignore_json(finding.expired_ignore),
    }


def render_json(report: AuditReport) -> str:
    """The report as JSON; the schema is in the README (``schema_version`` 1)."""
    doc = {
        "schema_version": SCHEMA_VERSION,
        "target": report.target,
        "kind": report.kind,
        "audited_at": _time(report.audited_at),
        **check_json(report),
        "notes": list(report.notes),
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _sarif_level(finding: Finding) -> str:
    if finding.severity in ("malicious", "critical", "high"):
        return "error"
    if finding.severity == "medium":
        return "warning"
    return "note"


def _security_severity(finding: Finding) -> str:
    """GitHub's ``security-severity`` (a CVSS-like number as a string)."""
    if finding.malicious:
        return "10.0"
    if finding.score is not None:
        return f"{finding.score:.1f}"
    return {"critical": "9.0", "high": "7.0", "medium": "5.0", "low": "2.0"}.get(
        finding.severity, "5.0"
    )


def render_sarif(report: AuditReport, lines: Mapping[str, int] | None = None) -> str:
    """SARIF 2.1.0: one rule per advisory, one result per finding, located in the lock."""
    lines = lines or {}
    findings = ordered(report.findings)
    rules: dict[str, dict[str, Any]] = {}
    for finding in findings:
        rules.setdefault(
            finding.id,
            {
                "id": finding.id,
                "name": "MaliciousPackage" if finding.malicious else "VulnerablePackage",
                "shortDescription": {"text": finding.summary or finding.id},
                "helpUri": finding.url,
                "properties": {
                    "security-severity": _security_severity(finding),
                    "tags": ["security", "malicious" if finding.malicious else "vulnerability"],
                    "aliases": list(finding.aliases),
                },
                "defaultConfiguration": {"level": _sarif_level(finding)},
            },
        )
    for rule in rules.values():
        if rule["helpUri"] is None:
            del rule["helpUri"]
    uri = report.target
    results = []
    for finding in findings:
        fix = f" Fixed in {', '.join(finding.fixed)}." if finding.fixed else ""
        what = "is malicious" if finding.malicious else f"has a known vulnerability ({finding.id})"
        location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
        line = lines.get(finding.package.name)
        if line is not None:
            location["region"] = {"startLine": line}
        result: dict[str, Any] = {
            "ruleId": finding.id,
            "level": _sarif_level(finding),
            "message": {
                "text": f"{finding.package.name} {finding.package.version} {what}: "
                f"{finding.summary}.{fix}".replace("..", ".")
            },
            "locations": [{"physicalLocation": location}],
            "partialFingerprints": {
                "package/v1": f"{finding.package.ecosystem}:{finding.package.name}"
                f"@{finding.package.version}:{finding.id}"
            },
        }
        if finding.ignored_by is not None:
            result["suppressions"] = [
                {"kind": "external", "justification": _ignore_text(finding.ignored_by)}
            ]
        results.append(result)
    doc = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "lockdown",
                        "version": __version__,
                        "rules": list(rules.values()),
                    }
                },
                "properties": {
                    "database": database_json(report.database, report.audited_at),
                },
                "results": results,
            }
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def finding_line(finding: Finding) -> str:
    """``MALICIOUS 0requests 0.0.1 MAL-…`` / ``high idna 3.6 PYSEC-… (CVE-…); fixed in 3.7``."""
    label = (
        "MALICIOUS" if finding.malicious else "ignored" if not finding.active else finding.severity
    )
    package = f"{finding.package.name} {finding.package.version}"
    if finding.package.ecosystem == "conda":
        package += " (conda)"
    fix = (
        f"; fixed in {', '.join(finding.fixed)}"
        if finding.fixed
        else ("" if finding.malicious else "; no fixed version known")
    )
    return f"{label:<9}  {package}  {_ids(finding)}{fix}"


def check_lines(report: AuditReport) -> list[str]:
    """The ``check --audit`` part of the text report: the database, each finding, a summary."""
    lines = [f"audit: {describe_database(report.database, report.audited_at)}"]
    for finding in ordered(report.findings):
        line = f"audit: {finding_line(finding)}"
        if finding.expired_ignore is not None:
            line += f" (ignore expired {finding.expired_ignore.expires:%Y-%m-%d %H:%M} UTC)"
        lines.append(line)
    lines.append(f"audit: {summary_line(report)}")
    return lines


def check_json(report: AuditReport) -> dict[str, Any]:
    """The ``audit`` member of ``check``'s JSON report (the audit JSON's fields, less target)."""
    return {
        "database": database_json(report.database, report.audited_at),
        "packages": len(report.packages),
        "summary": {
            "findings": len(report.active),
            "ignored": len(report.findings) - len(report.active),
            "malicious": sum(1 for f in report.active if f.malicious),
            "by_severity": report.counts(),
        },
        "findings": [finding_json(f) for f in ordered(report.findings)],
    }


def render(report: AuditReport, fmt: str, lines: Mapping[str, int] | None = None) -> str:
    """``report`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "text":
        return render_text(report)
    if fmt == "json":
        return render_json(report)
    if fmt == "sarif":
        return render_sarif(report, lines)
    raise UsageError(f"unknown audit format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")
