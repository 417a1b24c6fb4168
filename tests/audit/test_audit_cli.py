"""``lockdown audit`` of a lock written by ``lockdown lock``, against the real advisories.

Every output form, the exit codes, ignores (with a frozen clock), and the
ways the database can be unusable — each refusal with its exact message.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lockdown.commands.audit import run_audit
from lockdown.config import load_config
from tests.audit.conftest import ADVISORIES
from tests.conftest import CliResult

Cli = Callable[..., CliResult]


def test_text_names_the_database_its_age_and_every_finding(
    vulnerable_project: Path, cli: Cli
) -> None:
    result = cli("audit", "--project", vulnerable_project, "--db", ADVISORIES)
    assert result.code == 1, result.err
    lines = result.out.splitlines()
    assert lines[0] == f"audit of {vulnerable_project / 'pylock.toml'} (5 packages)"
    assert lines[1].startswith(f"database: directory {ADVISORIES} (2663 advisories, newest entry ")
    assert " old, sha256 " in lines[1]
    body = "\n".join(lines[2:])
    assert "  MALICIOUS  0requests 0.0.1  MAL-2026-15859\n" in body
    assert "  high       idna 3.6  PYSEC-2024-60 (CVE-2024-3651); fixed in 3.7\n" in body
    assert (
        "requests 2.30.0  PYSEC-2023-74 (CVE-2023-32681, GHSA-j8r2-6x86-q33q); fixed in 2.31.0"
        in body
    )
    assert "jinja2 2.10  PYSEC-2019-217" in body
    assert "jinja2 2.10  PYSEC-2021-66" in body
    # Malicious first.
    assert body.index("MALICIOUS") < body.index("idna 3.6")
    assert lines[-1].startswith("5 findings in 4 packages (1 malicious, 1 high")


def test_json_follows_the_documented_schema(vulnerable_project: Path, cli: Cli) -> None:
    result = cli("audit", "--project", vulnerable_project, "--db", ADVISORIES, "--format", "json")
    assert result.code == 1
    doc = json.loads(result.out)
    assert doc["schema_version"] == 1
    assert doc["kind"] == "lock"
    assert doc["packages"] == 5
    assert doc["database"]["kind"] == "directory"
    assert doc["database"]["advisories"] == 2663
    assert doc["database"]["age_seconds"] > 0
    assert len(doc["database"]["sha256"]) == 64
    assert doc["summary"]["findings"] == 5
    assert doc["summary"]["malicious"] == 1
    got = {(f["package"], f["version"], f["id"]) for f in doc["findings"]}
    assert got == {
        ("0requests", "0.0.1", "MAL-2026-15859"),
        ("idna", "3.6", "PYSEC-2024-60"),
        ("jinja2", "2.10", "PYSEC-2019-217"),
        ("jinja2", "2.10", "PYSEC-2021-66"),
        ("requests", "2.30.0", "PYSEC-2023-74"),
    }
    requests = next(f for f in doc["findings"] if f["package"] == "requests")
    assert requests["aliases"] == ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"]
    assert requests["fixed"] == ["2.31.0"]
    assert requests["ignored"] is None


def test_sarif_2_1_0_locates_findings_in_the_lock(
    vulnerable_project: Path, cli: Cli, tmp_path: Path
) -> None:
    out = tmp_path / "audit.sarif"
    result = cli(
        "audit", "--project", vulnerable_project, "--db", ADVISORIES, "--format", "sarif", "-o", out
    )
    assert result.code == 1
    assert result.out == ""
    doc = json.loads(out.read_text())
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    assert run["tool"]["driver"]["name"] == "lockdown"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert rules["MAL-2026-15859"]["properties"]["security-severity"] == "10.0"
    assert rules["PYSEC-2024-60"]["properties"]["security-severity"] == "7.5"
    lock_lines = (vulnerable_project / "pylock.toml").read_text().splitlines()
    for result_ in run["results"]:
        location = result_["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == str(vulnerable_project / "pylock.toml")
        line = lock_lines[location["region"]["startLine"] - 1]
        package = result_["partialFingerprints"]["package/v1"].split(":")[1].split("@")[0]
        assert line == f'name = "{package}"'
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["MAL-2026-15859"] == "error"


def test_a_clean_lock_exits_0(tmp_path: Path, cli: Cli, vulnerable_project: Path) -> None:
    lock = tmp_path / "pylock.toml"
    text = (vulnerable_project / "pylock.toml").read_text()
    # Only the package no advisory names: cut the others out of a copy of the real lock.
    blocks = text.split("\n[[packages]]\n")
    kept = [b for b in blocks[1:] if b.startswith('name = "certifi-safe"')]
    lock.write_text(blocks[0] + "".join("\n[[packages]]\n" + b for b in kept))
    result = cli("audit", "--lock", lock, "--db", ADVISORIES, "--project", tmp_path)
    assert result.code == 0, result.err
    assert result.out.splitlines()[-1] == "no known vulnerable or malicious packages"


IGNORES = """
[tool.lockdown.audit]
db = "{db}"

[[tool.lockdown.audit.ignore]]
id = "CVE-2023-32681"
reason = "no proxies in production"
expires = 2026-06-30

[[tool.lockdown.audit.ignore]]
id = "PYSEC-2024-60"
reason = "idna only sees our own host names"
expires = 2026-03-31
package = "idna"
"""


@pytest.fixture
def ignoring_project(vulnerable_project: Path, tmp_path: Path) -> Path:
    root = tmp_path / "svc"
    shutil.copytree(vulnerable_project, root)
    with (root / "pyproject.toml").open("a") as handle:
        handle.write(IGNORES.format(db=ADVISORIES))
    return root


def test_ignores_with_a_frozen_clock(ignoring_project: Path) -> None:
    config, _ = load_config(ignoring_project)
    report, _lines = run_audit(
        project=ignoring_project,
        config=config,
        clock=lambda: datetime(2026, 6, 1, tzinfo=timezone.utc),
    )
    by_id = {f.id: f for f in report.findings}
    # In force: silenced, with its reason.
    assert not by_id["PYSEC-2023-74"].active
    assert by_id["PYSEC-2023-74"].ignored_by is not None
    # Expired on 2026-04-01 00:00 UTC (it counted through 2026-03-31): back, and says so.
    idna = by_id["PYSEC-2024-60"]
    assert idna.active
    assert idna.expired_ignore is not None
    assert idna.expired_ignore.expires == datetime(2026, 4, 1, tzinfo=timezone.utc)
    assert len(report.active) == 4
    from lockdown.report.audit import render_text

    text = render_text(report)
    assert "             ignored: no proxies in production (until 2026-07-01 00:00 UTC)" in text
    assert (
        "             ignore expired 2026-04-01 00:00 UTC (was: idna only sees our own host names)"
        in text
    )
    assert text.splitlines()[-1].endswith("; 1 ignored")


def test_the_last_day_of_an_ignore_still_counts(ignoring_project: Path) -> None:
    config, _ = load_config(ignoring_project)
    report, _ = run_audit(
        project=ignoring_project,
        config=config,
        clock=lambda: datetime(2026, 3, 31, 23, 59, tzinfo=timezone.utc),
    )
    assert {f.id for f in report.findings if not f.active} == {"PYSEC-2023-74", "PYSEC-2024-60"}


def test_a_malicious_id_cannot_be_ignored(ignoring_project: Path, cli: Cli) -> None:
    pyproject = ignoring_project / "pyproject.toml"
    with pyproject.open("a") as handle:
        handle.write(
            '\n[[tool.lockdown.audit.ignore]]\nid = "MAL-2026-15859"\nreason = "test"\n'
            "expires = 2027-01-01\n"
        )
    before = pyproject.read_bytes()
    result = cli("audit", "--project", ignoring_project)
    assert result.code == 64
    assert result.err == (
        f"lockdown: error: {pyproject}: [tool.lockdown] audit ignore[2]: MAL-2026-15859 is a "
        "malicious-package entry; it cannot be ignored; remove the package from the lock instead\n"
    )
    assert pyproject.read_bytes() == before


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('id = "X-1"\nreason = "r"\n', "ignore[2] (X-1) needs expires (a date such as 2026-12-31)"),
        ('id = "X-1"\nexpires = 2027-01-01\n', "ignore[2] (X-1) needs a reason"),
        (
            'id = "X-1"\nreason = "r"\nexpires = "2027-01-01"\n',
            "ignore[2] (X-1) expires must be a TOML date such as 2026-12-31 (not quoted)",
        ),
        ('id = "X-1"\nreason = "r"\nexpires = 2027-01-01\nuntil = 1\n', "unknown key 'until'"),
    ],
)
def test_bad_ignores_are_refused(
    ignoring_project: Path, cli: Cli, entry: str, message: str
) -> None:
    with (ignoring_project / "pyproject.toml").open("a") as handle:
        handle.write("\n[[tool.lockdown.audit.ignore]]\n" + entry)
    result = cli("audit", "--project", ignoring_project)
    assert result.code == 64
    assert message in result.err
    assert result.out == ""


def test_max_db_age_fails_closed(vulnerable_project: Path, cli: Cli) -> None:
    result = cli("audit", "--project", vulnerable_project, "--db", ADVISORIES, "--max-db-age", "7d")
    assert result.code == 70
    assert result.err.startswith(f"lockdown: error: the advisory database {ADVISORIES} is ")
    assert "(newest entry 2026-09-04), older than the maximum age of 7 days" in result.err
    assert result.out == ""


def test_an_empty_database_is_an_error_not_a_pass(
    vulnerable_project: Path, cli: Cli, tmp_path: Path
) -> None:
    empty = tmp_path / "empty-db"
    empty.mkdir()
    result = cli("audit", "--project", vulnerable_project, "--db", empty)
    assert result.code == 70
    assert "holds no advisories: nothing can be checked against it" in result.err
    assert result.out == ""


def test_a_damaged_file_warns_in_one_line_and_the_audit_goes_on(
    vulnerable_project: Path, cli: Cli, tmp_path: Path
) -> None:
    db = tmp_path / "db"
    shutil.copytree(ADVISORIES / "pypa" / "vulns" / "requests", db / "requests")
    (db / "requests" / "BROKEN.json").write_text('{"id": "BROKEN", "affected": [')
    result = cli("audit", "--project", vulnerable_project, "--db", db, "--format", "json")
    assert result.code == 1
    warnings = [line for line in result.err.splitlines() if "BROKEN" in line]
    assert warnings == [
        f"lockdown: advisory database {db}: requests/BROKEN.json: invalid JSON: "
        "Expecting value: line 1 column 31 (char 30); skipped"
    ]
    doc = json.loads(result.out)
    assert doc["database"]["unreadable"] == [
        "requests/BROKEN.json: invalid JSON: Expecting value: line 1 column 31 (char 30)"
    ]
    assert {f["id"] for f in doc["findings"]} == {"PYSEC-2023-74"}


def test_no_database_is_a_usage_error(vulnerable_project: Path, cli: Cli) -> None:
    result = cli("audit", "--project", vulnerable_project)
    assert result.code == 64
    assert result.err == (
        "lockdown: error: no advisory database given; pass --db DIR_OR_ZIP or --api-url [URL], "
        "or set [tool.lockdown.audit] db or api-url\n"
    )


def test_no_lock_to_audit(tmp_path: Path, cli: Cli) -> None:
    result = cli("audit", "--project", tmp_path, "--db", ADVISORIES)
    assert result.code == 64
    assert "no lock to audit" in result.err


def test_a_bad_max_db_age_is_a_usage_error(vulnerable_project: Path, cli: Cli) -> None:
    result = cli(
        "audit", "--project", vulnerable_project, "--db", ADVISORIES, "--max-db-age", "soon"
    )
    assert result.code == 64
    assert result.err == (
        "lockdown: error: --max-db-age: 'soon' is not a duration; write it like '7 days', "
        "'14d', '12h' or '2 weeks'\n"
    )
    assert result.out == ""
