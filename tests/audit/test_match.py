"""Matching against the real advisories: the known answers of the fixtures' README, and each rule.

The database is the PyPA advisory snapshot plus two OpenSSF malicious-package
entries (``../shared/fixtures/advisories``), opened once for the module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from lockdown.audit.match import affects, in_range, match, nearest_fix, severity_of
from lockdown.audit.model import Finding, Package
from lockdown.audit.osv import Affected, parse_advisory
from lockdown.audit.sources import AdvisoryDatabase, open_database
from lockdown.config.audit import Ignore

ADVISORIES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "advisories"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> AdvisoryDatabase:
    return open_database(ADVISORIES, cache_dir=tmp_path_factory.mktemp("audit-cache"))


def pypi(name: str, version: str) -> Package:
    return Package(ecosystem="PyPI", name=name, version=version)


def ids(database: AdvisoryDatabase, name: str, version: str, **kwargs: object) -> list[str]:
    return [f.id for f in match([pypi(name, version)], database.lookup, now=NOW, **kwargs)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("requests", "2.30.0", ["PYSEC-2023-74"]),
        ("requests", "2.31.0", []),
        ("requests", "2.19.1", ["PYSEC-2018-28", "PYSEC-2023-74"]),
        ("jinja2", "2.10", ["PYSEC-2019-217", "PYSEC-2021-66"]),
        ("idna", "3.6", ["PYSEC-2024-60"]),
        ("idna", "3.7", []),
        ("0requests", "0.0.1", ["MAL-2026-15859"]),
        ("3web-py", "1.0.0", ["MAL-2024-9934"]),
    ],
)
def test_known_answers(
    database: AdvisoryDatabase, name: str, version: str, expected: list[str]
) -> None:
    assert ids(database, name, version) == expected


def test_names_are_matched_normalized(database: AdvisoryDatabase) -> None:
    # The lock and the environment give PEP 503 names; the advisory writes "Jinja2" or "jinja2".
    assert ids(database, "jinja2", "2.10") == ids(database, "jinja2", "2.10.0")


def test_aliases_severity_and_nearest_fix(database: AdvisoryDatabase) -> None:
    [finding] = match([pypi("idna", "3.6")], database.lookup, now=NOW)
    assert finding.aliases == ("CVE-2024-3651",)
    assert finding.fixed == ("3.7",)
    assert finding.nearest_fix == "3.7"
    assert (finding.severity, finding.score) == ("high", 7.5)
    assert not finding.malicious


def test_malicious_entries_are_the_highest_severity(database: AdvisoryDatabase) -> None:
    [finding] = match([pypi("0requests", "0.0.1")], database.lookup, now=NOW)
    assert finding.malicious
    assert finding.severity == "malicious"
    assert finding.summary == "Malicious code in 0requests (PyPI)"
    assert finding.fixed == ()


def test_nearest_fix_of_a_package_fixes_every_finding(database: AdvisoryDatabase) -> None:
    findings = match([pypi("jinja2", "2.10")], database.lookup, now=NOW)
    assert [f.nearest_fix for f in findings] == ["2.10.1", "2.11.3"]
    assert nearest_fix(findings) == "2.11.3"


def test_last_affected_is_inclusive(database: AdvisoryDatabase) -> None:
    # PYSEC-2022-42969: introduced 0, last_affected 1.11.0 (the only such entry in the snapshot).
    assert ids(database, "py", "1.11.0") == ["PYSEC-2022-42969"]
    assert ids(database, "py", "1.11.1") == []


def test_withdrawn_advisories_match_nothing(database: AdvisoryDatabase) -> None:
    # PYSEC-2023-73 lists redis 2.10.0 among its versions, but was withdrawn.
    [withdrawn] = [a for a in database.lookup("PyPI", "redis") if a.id == "PYSEC-2023-73"]
    assert withdrawn.withdrawn is not None
    assert "2.10.0" in withdrawn.affected[0].versions
    assert "PYSEC-2023-73" not in ids(database, "redis", "2.10.0")


def test_git_ranges_are_ignored(database: AdvisoryDatabase) -> None:
    # PYSEC-2023-74 also has a GIT range "introduced: 0"; only its ECOSYSTEM range
    # (introduced 2.3.0) counts, so 2.2.1 is not affected.
    [advisory] = [a for a in database.lookup("PyPI", "requests") if a.id == "PYSEC-2023-74"]
    assert [r.type for r in advisory.affected[0].ranges] == ["ECOSYSTEM"]
    assert "PYSEC-2023-74" not in ids(database, "requests", "2.2.1")


def test_explicit_versions_match_without_a_range() -> None:
    affected = Affected(ecosystem="PyPI", name="x", ranges=(), versions=("1.0.0", "2.0rc1"))
    assert affects(affected, "1.0.0")
    assert affects(affected, "1.0")  # PEP 440-equal to a listed version
    assert affects(affected, "2.0.0rc1")
    assert not affects(affected, "1.0.1")


@pytest.mark.parametrize(
    ("events", "inside", "outside"),
    [
        ([("introduced", "0"), ("fixed", "1.2")], ["0.1", "1.1.9", "1.2rc1"], ["1.2", "2"]),
        ([("introduced", "1.0"), ("last_affected", "1.4")], ["1.0", "1.4"], ["0.9", "1.4.1"]),
        (
            [("introduced", "1.0"), ("fixed", "1.1"), ("introduced", "2.0"), ("fixed", "2.2")],
            ["1.0.5", "2.1"],
            ["1.1", "1.9", "2.2"],
        ),
        ([("introduced", "0"), ("limit", "3.0")], ["2.9"], ["3.0", "3.1"]),
        # Events are ordered by version, not by how they are written.
        ([("fixed", "1.2"), ("introduced", "1.0")], ["1.1"], ["0.9", "1.2"]),
        # An event PEP 440 cannot read is left out.
        ([("introduced", "0"), ("fixed", "not-a-version")], ["99"], []),
    ],
)
def test_range_events(events: list[tuple[str, str]], inside: list[str], outside: list[str]) -> None:
    from packaging.version import Version

    for version in inside:
        assert in_range(Version(version), events), version
    for version in outside:
        assert not in_range(Version(version), events), version


def test_a_version_pep_440_cannot_read_matches_only_by_listing() -> None:
    affected = Affected(
        ecosystem="PyPI",
        name="x",
        ranges=(parse_advisory(_doc([{"introduced": "0"}])).affected[0].ranges[0],),
        versions=("weird-1",),
    )
    assert affects(affected, "weird-1")
    assert not affects(affected, "weird-2")


def _doc(events: list[dict[str, str]], **extra: object) -> dict[str, object]:
    return {
        "id": "TEST-1",
        "affected": [
            {
                "package": {"ecosystem": "PyPI", "name": "x"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
            }
        ],
        **extra,
    }


def test_severity_from_cvss_v4_and_from_database_words() -> None:
    v4 = parse_advisory(
        _doc(
            [{"introduced": "0"}],
            severity=[
                {
                    "type": "CVSS_V4",
                    "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                }
            ],
        )
    )
    assert severity_of(v4) == ("critical", 9.3)
    words = parse_advisory(_doc([{"introduced": "0"}], database_specific={"severity": "MODERATE"}))
    assert severity_of(words) == ("medium", None)
    broken = parse_advisory(
        _doc([{"introduced": "0"}], severity=[{"type": "CVSS_V3", "score": "garbage"}])
    )
    assert severity_of(broken) == ("unknown", None)


def _ignore(ident: str, *, expires: datetime, package: str | None = None) -> Ignore:
    return Ignore(id=ident, reason="not reachable from our code", expires=expires, package=package)


LATER = datetime(2026, 7, 1, tzinfo=timezone.utc)
EARLIER = datetime(2026, 5, 1, tzinfo=timezone.utc)


def _one(database: AdvisoryDatabase, name: str, version: str, ignores: list[Ignore]) -> Finding:
    [finding] = match([pypi(name, version)], database.lookup, ignores=ignores, now=NOW)
    return finding


def test_an_ignore_in_force_silences_a_finding_by_id_or_alias(database: AdvisoryDatabase) -> None:
    by_id = _one(database, "requests", "2.30.0", [_ignore("PYSEC-2023-74", expires=LATER)])
    by_alias = _one(database, "requests", "2.30.0", [_ignore("CVE-2023-32681", expires=LATER)])
    for finding in (by_id, by_alias):
        assert not finding.active
        assert finding.ignored_by is not None
        assert finding.expired_ignore is None


def test_an_expired_ignore_brings_the_finding_back_and_says_so(database: AdvisoryDatabase) -> None:
    finding = _one(database, "requests", "2.30.0", [_ignore("PYSEC-2023-74", expires=EARLIER)])
    assert finding.active
    assert finding.expired_ignore is not None
    assert finding.expired_ignore.expires == EARLIER


def test_an_ignore_for_another_package_does_not_apply(database: AdvisoryDatabase) -> None:
    ignore = _ignore("PYSEC-2023-74", expires=LATER, package="urllib3")
    assert _one(database, "requests", "2.30.0", [ignore]).active
    mine = _ignore("PYSEC-2023-74", expires=LATER, package="requests")
    assert not _one(database, "requests", "2.30.0", [mine]).active


def test_no_ignore_silences_a_malicious_package(database: AdvisoryDatabase) -> None:
    # Configuration refuses MAL- ids; an alias reaching one is refused here too.
    ignore = _ignore("MAL-2026-15859", expires=LATER)
    finding = _one(database, "0requests", "0.0.1", [ignore])
    assert finding.active
    assert finding.malicious


def test_conda_python_packages_match_pypi_advisories(database: AdvisoryDatabase) -> None:
    python_pkg = Package(ecosystem="conda", name="requests", version="2.30.0", python=True)
    other = Package(ecosystem="conda", name="requests", version="2.30.0", python=False)
    found = match([python_pkg, other], database.lookup, now=NOW)
    assert [(f.package, f.id) for f in found] == [(python_pkg, "PYSEC-2023-74")]
