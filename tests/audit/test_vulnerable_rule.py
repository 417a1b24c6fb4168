"""The gate's vulnerability rule on its own: findings from the real advisories, exact reasons.

``now`` is frozen; the findings come from matching real package versions
against the real database (``../shared/fixtures/advisories``).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from lockdown.audit.match import match
from lockdown.audit.model import Finding, Package
from lockdown.audit.sources import AdvisoryDatabase, open_database
from lockdown.config.audit import Ignore
from lockdown.config.policy import Policy
from lockdown.policy.approvals import Approval
from lockdown.policy.gate import Verdict
from lockdown.policy.vulnerable import judge_vulnerable
from tests.audit.conftest import ADVISORIES

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
REQUESTS = (
    "known vulnerable: PYSEC-2023-74 (CVE-2023-32681, GHSA-j8r2-6x86-q33q), unknown, fixed in "
    "2.31.0; nearest fixed version 2.31.0"
)


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> AdvisoryDatabase:
    return open_database(ADVISORIES, cache_dir=tmp_path_factory.mktemp("audit-cache"))


def findings(
    database: AdvisoryDatabase, *pins: tuple[str, str], ignores: tuple[Ignore, ...] = ()
) -> list[Finding]:
    packages = [Package(ecosystem="PyPI", name=n, version=v) for n, v in pins]
    return match(packages, database.lookup, ignores=ignores, now=NOW)


def approval(name: str, version: str) -> Approval:
    return Approval(
        package=name,
        version=f"=={version}",
        reason="reviewed",
        approved_by="alice",
        approved_at=NOW - timedelta(days=1),
        expires=None,
    )


def judge(found: list[Finding], policy: Policy | None = None, **kwargs: object) -> list[Verdict]:
    return judge_vulnerable(found, policy=policy or Policy(), now=NOW, **kwargs)  # type: ignore[arg-type]


def test_a_vulnerable_version_is_blocked_naming_advisories_and_nearest_fix(
    database: AdvisoryDatabase,
) -> None:
    [verdict] = judge(findings(database, ("requests", "2.30.0")), approvals=[])
    assert not verdict.admitted
    assert verdict.reason == f"{REQUESTS}; needs an upgrade, an ignore or an approval"
    assert verdict.fix == 'lockdown approve requests==2.30.0 --reason "\u2026"'


def test_the_nearest_fix_of_several_advisories_fixes_them_all(
    database: AdvisoryDatabase,
) -> None:
    [verdict] = judge(findings(database, ("jinja2", "2.10")), approvals=[])
    assert verdict.reason == (
        "known vulnerable: PYSEC-2019-217 (CVE-2019-10906, GHSA-462w-v97r-4m45), unknown, fixed "
        "in 2.10.1; PYSEC-2021-66 (CVE-2020-28493, SNYK-PYTHON-JINJA2-1012994, "
        "GHSA-g3rq-g295-4j3m), unknown, fixed in 2.11.3; nearest fixed version 2.11.3; "
        "needs an upgrade, an ignore or an approval"
    )


def test_an_approval_admits_a_vulnerable_version(database: AdvisoryDatabase) -> None:
    given = approval("requests", "2.30.0")
    [verdict] = judge(findings(database, ("requests", "2.30.0")), approvals=[given])
    assert verdict.admitted
    assert verdict.approval == given
    assert verdict.reason == f"{REQUESTS}; approved by alice on 2026-05-31: reviewed"


def test_warn_admits_a_vulnerable_version_saying_so(database: AdvisoryDatabase) -> None:
    [verdict] = judge(
        findings(database, ("requests", "2.30.0")), Policy(vulnerable="warn"), approvals=[]
    )
    assert verdict.admitted
    assert verdict.reason == f"{REQUESTS}; vulnerable = 'warn'"


def test_an_ignore_admits_a_vulnerable_version(database: AdvisoryDatabase) -> None:
    ignore = Ignore(
        id="CVE-2023-32681",
        reason="no proxies here",
        expires=datetime(2026, 7, 1, tzinfo=timezone.utc),
    )
    [verdict] = judge(findings(database, ("requests", "2.30.0"), ignores=(ignore,)), approvals=[])
    assert verdict.admitted
    assert verdict.reason == (
        "known vulnerable: PYSEC-2023-74 ignored until 2026-07-01 00:00 UTC: no proxies here"
    )


def test_an_expired_ignore_blocks_again_and_says_it_expired(database: AdvisoryDatabase) -> None:
    ignore = Ignore(
        id="PYSEC-2023-74",
        reason="no proxies here",
        expires=datetime(2026, 5, 1, tzinfo=timezone.utc),
    )
    [verdict] = judge(findings(database, ("requests", "2.30.0"), ignores=(ignore,)), approvals=[])
    assert not verdict.admitted
    assert verdict.reason == (
        f"{REQUESTS}; ignore expired PYSEC-2023-74 (2026-05-01 00:00 UTC); "
        "needs an upgrade, an ignore or an approval"
    )


@pytest.mark.parametrize("policy", [Policy(), Policy(vulnerable="warn")])
def test_nothing_admits_a_malicious_version(database: AdvisoryDatabase, policy: Policy) -> None:
    [verdict] = judge(
        findings(database, ("0requests", "0.0.1")),
        policy,
        approvals=[approval("0requests", "0.0.1")],
    )
    assert not verdict.admitted
    assert verdict.approval is None
    assert verdict.reason == (
        "known malicious: MAL-2026-15859 (Malicious code in 0requests (PyPI)); "
        "no approval or ignore admits it"
    )
    assert verdict.fix == "remove 0requests from the project's requirements"


def test_clean_versions_get_no_verdict(database: AdvisoryDatabase) -> None:
    assert judge(findings(database, ("requests", "2.31.0"), ("idna", "3.7")), approvals=[]) == []
