"""The JUnit XML report of ``lockdown check``, for CI systems that show test results.

One ``<testsuite>`` (inside ``<testsuites>``) with:

* one ``<testcase classname="lockdown.packages" name="NAME">`` per locked
  package, in name order: failing with ``<failure type="KIND" message="…">``
  when it drifted, passing (its version in ``<system-out>``) when it matches;
* one passing ``<testcase classname="lockdown.packages" name="(other locked
  packages)">`` only for matching packages the report counts but does not
  name (a report whose producer lists no ``matching`` packages);
* one failing testcase per unexpected package, in name order;
* one ``<testcase classname="lockdown.files" name="files">`` aggregating file
  drift: failing when any file drifted, skipped at the ``versions`` level.

Built with :mod:`xml.etree.ElementTree`; every name from disk goes through
:func:`lockdown.report.text.printable`, so the document stays valid XML 1.0.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from lockdown.drift.model import FILE_KINDS, PACKAGE_KINDS, DriftReport, PackageDrift
from lockdown.report.text import (
    drift_phrases,
    file_line,
    package_line,
    printable,
)

#: The name of the testcase that stands for matching packages a report counts but does not name.
IN_SYNC_CASE = "(other locked packages)"

_MESSAGES = {
    "missing": "{name} {expected} is locked but not installed",
    "unexpected": "{name} {installed} is installed but not in the lock",
    "version": "{name} is {installed}, the lock says {expected}",
    "source": "{name} {installed} is not installed from the locked source",
}


def failure_message(package: PackageDrift) -> str:
    """One sentence for a drifted package, made from its fields (plus the detail for a source)."""
    text = _MESSAGES[package.kind].format(
        name=printable(package.name),
        expected=printable(package.expected or "?"),
        installed=printable(package.installed or package.expected or "?"),
    )
    if package.kind == "source" and package.detail:
        text += f": {printable(package.detail)}"
    return f"{package.kind}: {text}"


def failure_body(package: PackageDrift) -> str:
    """The failure's body: the text report's line, then the detail when the line lacks it."""
    line = package_line(package)
    if package.detail and package.kind != "source":
        line += f"\n  {printable(package.detail)}"
    return line


def _timestamp(unix: float) -> str:
    # JUnit's schema wants ISO 8601 without a zone; the value is UTC.
    moment = dt.datetime.fromtimestamp(unix, tz=dt.timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


@dataclass(frozen=True, slots=True, kw_only=True)
class JUnitCase:
    """One ``<testcase>``: passing, failing (``failure_*`` set) or skipped."""

    classname: str
    name: str
    failure_type: str | None = None
    failure_message: str = ""
    failure_text: str = ""
    skipped: str | None = None
    output: str | None = None


def package_cases(report: DriftReport) -> list[JUnitCase]:
    """One case per locked package (drifted or matching) by name, then unexpected packages."""
    by_name: dict[str, list[PackageDrift]] = {}
    for package in sorted(report.packages, key=lambda p: PACKAGE_KINDS.index(p.kind)):
        by_name.setdefault(package.name, []).append(package)

    def failing(name: str) -> JUnitCase:
        drifts = by_name[name]
        # A testcase holds one <failure>: several drifts of one package share it.
        return JUnitCase(
            classname="lockdown.packages",
            name=printable(name),
            failure_type=",".join(d.kind for d in drifts),
            failure_message="; ".join(failure_message(d) for d in drifts),
            failure_text="\n".join(failure_body(d) for d in drifts),
        )

    def passing(name: str, version: str) -> JUnitCase:
        return JUnitCase(
            classname="lockdown.packages",
            name=printable(name),
            output=f"{printable(name)} {printable(version)} installed as locked",
        )

    locked = sorted(n for n, drifts in by_name.items() if drifts[0].kind != "unexpected")
    unexpected = sorted(n for n, drifts in by_name.items() if drifts[0].kind == "unexpected")
    matching = dict(report.matching)
    ordered = sorted({*locked, *(n for n in matching if n not in by_name)})
    cases = [
        failing(name) if name in by_name else passing(name, matching[name]) for name in ordered
    ]
    unnamed = report.expected - len(ordered)
    if unnamed > 0:
        cases.append(
            JUnitCase(
                classname="lockdown.packages",
                name=IN_SYNC_CASE,
                output=f"{unnamed} of {report.expected} locked packages match the lock",
            )
        )
    cases += [failing(name) for name in unexpected]
    return cases


def files_case(report: DriftReport) -> JUnitCase:
    """The ``files`` testcase: skipped at ``versions``, failing when any file drifted."""
    if report.level == "versions":
        return JUnitCase(
            classname="lockdown.files", name="files", skipped="level versions does not check files"
        )
    if not report.files:
        return JUnitCase(
            classname="lockdown.files",
            name="files",
            output=f"{report.files_checked} files checked, all match",
        )
    return JUnitCase(
        classname="lockdown.files",
        name="files",
        failure_type="files",
        failure_message=", ".join(drift_phrases(report, packages=False)),
        failure_text="\n".join(
            file_line(f)
            for f in sorted(report.files, key=lambda f: (f.path, FILE_KINDS.index(f.kind)))
        ),
    )


def _properties(report: DriftReport) -> list[tuple[str, str]]:
    facts = [
        ("target", printable(report.target)),
        ("python_version", printable(report.python_version)),
        ("lock", printable(report.lock)),
        ("lock_sha256", report.lock_sha256),
        ("level", report.level),
        ("signature", report.signature),
    ]
    if report.signer is not None:
        facts.append(("signer", printable(report.signer)))
    if report.guarded is not None:
        facts.append(("guarded", str(report.guarded).lower()))
    facts.append(("exit_code", str(report.exit_code())))
    return facts


def audit_cases(report: DriftReport) -> list[JUnitCase]:
    """``check --audit``: one failing case per package version with a finding that counts,
    or one passing case saying which database found none."""
    audit = report.audit
    if audit is None:
        return []
    from lockdown.audit.model import describe_database  # noqa: PLC0415
    from lockdown.report.audit import finding_line  # noqa: PLC0415

    database = describe_database(audit.database, audit.audited_at)
    by_package: dict[tuple[str, str], list[str]] = {}
    kinds: dict[tuple[str, str], str] = {}
    for finding in audit.active:
        key = (finding.package.name, finding.package.version)
        by_package.setdefault(key, []).append(finding_line(finding))
        if finding.malicious or key not in kinds:
            kinds[key] = "malicious" if finding.malicious else "vulnerable"
    if not by_package:
        return [
            JUnitCase(
                classname="lockdown.audit",
                name="known vulnerabilities",
                output=f"none known; database: {database}",
            )
        ]
    return [
        JUnitCase(
            classname="lockdown.audit",
            name=printable(f"{name} {version}"),
            failure_type=kinds[(name, version)],
            failure_message=printable(f"{name} {version} is known {kinds[(name, version)]}"),
            failure_text=printable("\n".join([*lines, f"database: {database}"])),
        )
        for (name, version), lines in sorted(by_package.items())
    ]


def render_junit(report: DriftReport) -> str:
    """The JUnit XML document, UTF-8, indented, newline-terminated."""
    cases = [*package_cases(report), files_case(report), *audit_cases(report)]
    counts = {
        "tests": str(len(cases)),
        "failures": str(sum(1 for c in cases if c.failure_type is not None)),
        "errors": "0",
        "skipped": str(sum(1 for c in cases if c.skipped is not None)),
        "time": f"{report.duration_seconds:.3f}",
    }
    suites = ET.Element("testsuites", {"name": "lockdown check", **counts})
    suite = ET.SubElement(
        suites,
        "testsuite",
        {"name": "lockdown check", **counts, "timestamp": _timestamp(report.checked_at)},
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in _properties(report):
        ET.SubElement(properties, "property", name=name, value=value)
    for case in cases:
        element = ET.SubElement(
            suite, "testcase", classname=case.classname, name=case.name, time="0"
        )
        if case.failure_type is not None:
            failure = ET.SubElement(
                element, "failure", type=case.failure_type, message=case.failure_message
            )
            failure.text = case.failure_text
        if case.skipped is not None:
            ET.SubElement(element, "skipped", message=case.skipped)
        if case.output is not None:
            ET.SubElement(element, "system-out").text = case.output
    if report.notes:
        ET.SubElement(suite, "system-out").text = "\n".join(printable(n) for n in report.notes)
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
