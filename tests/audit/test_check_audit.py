"""``lockdown check --audit``: the drift report with the installed versions' findings.

A real venv installed by ``lockdown install`` from the lock of advisory-named
wheels is checked against it: in sync (no drift bits), yet exit bit 32 for
the known-vulnerable and malicious versions, in every report format.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.audit.conftest import ADVISORIES
from tests.conftest import CliResult

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_check_audit_in_every_format(vulnerable_project: Path, cli: Cli, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    assert cli("install", "--project", vulnerable_project, "--venv", venv).code == 0
    base = ("check", "--project", vulnerable_project, "--venv", venv)
    # Without --audit: in sync, exit 0, nothing about advisories.
    plain = cli(*base)
    assert plain.code == 0, plain.err
    assert "\naudit: " not in plain.out
    # Text: in sync, but exit 32, and the findings listed.
    text = cli(*base, "--audit", "--db", ADVISORIES)
    assert text.code == 32, text.err
    lines = text.out.splitlines()
    assert f"audit: directory {ADVISORIES} (2663 advisories, newest entry 2026-09-04, " in (
        text.out
    )
    assert "audit: MALICIOUS  0requests 0.0.1  MAL-2026-15859" in lines
    assert "audit: high       idna 3.6  PYSEC-2024-60 (CVE-2024-3651); fixed in 3.7" in lines
    assert "audit: 5 findings in 4 packages (1 malicious, 1 high, 3 unknown)" in lines
    # JSON.
    doc = json.loads(cli(*base, "--db", ADVISORIES, "--format", "json").out)
    assert doc["exit_code"] == 32
    assert doc["in_sync"] is True
    assert doc["audit"]["summary"] == {
        "findings": 5,
        "ignored": 0,
        "malicious": 1,
        "by_severity": {
            "malicious": 1,
            "critical": 0,
            "high": 1,
            "medium": 0,
            "low": 0,
            "unknown": 3,
        },
    }
    assert doc["audit"]["database"]["advisories"] == 2663
    # Prometheus textfile.
    prom = tmp_path / "lockdown.prom"
    result = cli(*base, "--audit", "--db", ADVISORIES, "--format", "prometheus", "-o", prom)
    assert result.code == 32
    got = samples(prom.read_text())
    assert got[("lockdown_check_exit_code", ())] == 32
    assert {
        severity: got[("lockdown_vulnerabilities", (("severity", severity),))]
        for severity in ("critical", "high", "medium", "low", "unknown")
    } == {"critical": 0, "high": 1, "medium": 0, "low": 0, "unknown": 3}
    assert got[("lockdown_malicious_packages", ())] == 1
    assert got[("lockdown_vulnerabilities_ignored", ())] == 0
    assert got[("lockdown_audit_advisories", ())] == 2663
    assert got[("lockdown_audit_database_age_seconds", ())] > 0
    # JUnit.
    junit = ET.fromstring(cli(*base, "--db", ADVISORIES, "--format", "junit").out)  # noqa: S314
    cases = {
        str(case.get("name")): case
        for case in junit.iter("testcase")
        if case.get("classname") == "lockdown.audit"
    }
    assert sorted(cases) == ["0requests 0.0.1", "idna 3.6", "jinja2 2.10", "requests 2.30.0"]
    failure = cases["0requests 0.0.1"].find("failure")
    assert failure is not None
    assert failure.get("type") == "malicious"
    assert failure.get("message") == "0requests 0.0.1 is known malicious"
    vulnerable = cases["jinja2 2.10"].find("failure")
    assert vulnerable is not None
    assert vulnerable.get("type") == "vulnerable"
    assert "PYSEC-2021-66" in (vulnerable.text or "")


def test_a_check_whose_database_is_unusable_fails_and_says_so(
    vulnerable_project: Path, cli: Cli, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    assert cli("install", "--project", vulnerable_project, "--venv", venv).code == 0
    empty = tmp_path / "empty"
    empty.mkdir()
    prom = tmp_path / "lockdown.prom"
    result = cli(
        "check", "--project", vulnerable_project, "--venv", venv, "--db", empty,
        "--format", "prometheus", "-o", prom,
    )  # fmt: skip
    assert result.code == 70
    assert "holds no advisories" in result.err
    got = samples(prom.read_text())
    assert got[("lockdown_check_failed", (("reason", "environment"),))] == 1
    assert ("lockdown_vulnerabilities", (("severity", "high"),)) not in got
