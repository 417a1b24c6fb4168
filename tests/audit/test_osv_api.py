"""The OSV API as the source: batch queries, advisories fetched once, answers cached with their age.

The real API is not reachable here; :class:`tests.support.osvapi.OsvApi`
speaks its request and response shapes on 127.0.0.1 with the real
advisories of ``../shared/fixtures/advisories`` (see its docstring).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lockdown.audit.sources import AdvisoryDatabaseError
from lockdown.commands.audit import run_audit
from lockdown.config import load_config
from tests.audit.conftest import ADVISORIES, PINNED, write_project
from tests.conftest import CliResult
from tests.support.osvapi import OsvApi
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
#: The real advisories the API serves: those of the pinned packages' names, and the malicious ones.
SERVED = (
    *(ADVISORIES / "pypa" / "vulns" / name for name in ("requests", "idna", "jinja2", "redis")),
    ADVISORIES / "malicious",
)
EXPECTED = {
    ("0requests", "0.0.1", "MAL-2026-15859"),
    ("idna", "3.6", "PYSEC-2024-60"),
    ("jinja2", "2.10", "PYSEC-2019-217"),
    ("jinja2", "2.10", "PYSEC-2021-66"),
    ("requests", "2.30.0", "PYSEC-2023-74"),
}


@pytest.fixture(scope="module")
def api() -> Iterator[OsvApi]:
    server = OsvApi(*SERVED)
    with server.serve():
        yield server


def audit_at(
    project: Path, url: str, cache: Path, moment: datetime, **kwargs: object
) -> tuple[set[tuple[str, str, str]], object]:
    report, _ = run_audit(
        project=project,
        config=load_config(project)[0],
        api_url=url,
        cache_dir=cache,
        clock=lambda: moment,
        **kwargs,  # type: ignore[arg-type]
    )
    return {(f.package.name, f.package.version, f.id) for f in report.findings}, report.database


def test_the_cli_asks_in_one_batch_and_says_which_api(
    vulnerable_project: Path, api: OsvApi, cli: Cli
) -> None:
    api.requests.clear()
    result = cli("audit", "--project", vulnerable_project, "--api-url", api.url, "--format", "json")
    assert result.code == 1, result.err
    doc = json.loads(result.out)
    assert {(f["package"], f["version"], f["id"]) for f in doc["findings"]} == EXPECTED
    assert doc["database"]["kind"] == "osv-api"
    assert doc["database"]["location"] == api.url
    assert doc["database"]["advisories"] == 5
    assert doc["database"]["fetched_at"] is not None
    batches = [body for method, path, body in api.requests if path == "/v1/querybatch"]
    assert len(batches) == 1
    assert {"package": {"ecosystem": "PyPI", "name": "requests"}, "version": "2.30.0"} in (
        batches[0]["queries"]
    )
    assert len(batches[0]["queries"]) == len(PINNED)
    fetched = sorted(path for method, path, _ in api.requests if method == "GET")
    assert fetched == sorted(f"/v1/vulns/{i}" for _, _, i in EXPECTED)
    text = cli("audit", "--project", vulnerable_project, "--api-url", api.url)
    assert text.out.splitlines()[1].startswith(f"database: OSV API {api.url} (5 advisories, ")


def test_answers_are_cached_with_their_age(
    vulnerable_project: Path, api: OsvApi, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    api.requests.clear()
    found, info = audit_at(vulnerable_project, api.url, cache, T0)
    assert found == EXPECTED
    asked = len(api.requests)
    # Within the hour: from the cache, nothing asked; the age is the answers' age.
    later = T0 + timedelta(minutes=30)
    again, info = audit_at(vulnerable_project, api.url, cache, later)
    assert again == EXPECTED
    assert len(api.requests) == asked
    assert info.fetched_at == T0  # type: ignore[attr-defined]
    assert info.age(later) == timedelta(minutes=30)  # type: ignore[attr-defined]
    # Older: asked again, but advisories already cached at their modified time are not refetched.
    audit_at(vulnerable_project, api.url, cache, T0 + timedelta(hours=2))
    new = api.requests[asked:]
    assert [path for _, path, _ in new] == ["/v1/querybatch"]


def test_an_unreachable_api_falls_back_to_the_cache_or_fails_closed(
    vulnerable_project: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    server = OsvApi(*SERVED)
    with server.serve() as url:
        audit_at(vulnerable_project, url, cache, T0)
    heard: list[str] = []
    # Gone: the cached answers are used, saying so, with their age.
    found, info = audit_at(
        vulnerable_project, url, cache, T0 + timedelta(days=2), notify=heard.append
    )
    assert found == EXPECTED
    assert info.fetched_at == T0  # type: ignore[attr-defined]
    assert len(heard) == 1
    assert heard[0].startswith(f"cannot ask the OSV API at {url}: ")
    assert heard[0].endswith("; using cached answers")
    # ...unless they are older than the maximum age.
    with pytest.raises(AdvisoryDatabaseError) as caught:
        audit_at(
            vulnerable_project,
            url,
            cache,
            T0 + timedelta(days=2),
            max_db_age=timedelta(days=1),
        )
    assert f"the advisory database {url} is 2 days old (fetched 2026-06-01 12:00 UTC)" in str(
        caught.value
    )
    # With no cache at all: nothing to fall back on.
    with pytest.raises(AdvisoryDatabaseError) as nothing:
        audit_at(vulnerable_project, url, tmp_path / "empty-cache", T0)
    assert str(nothing.value).startswith(f"cannot ask the OSV API at {url}: ")
    assert str(nothing.value).endswith(
        "no cached answer for 5 of 5 versions; check the network or the api-url, "
        "or use a local database (--db)"
    )


def test_transient_failures_are_retried(vulnerable_project: Path, tmp_path: Path) -> None:
    server = OsvApi(*SERVED)
    with server.serve() as url:
        server.fail_next = 2
        found, _ = audit_at(vulnerable_project, url, tmp_path / "a", T0)
        assert found == EXPECTED
        server.fail_next = 4  # every one of the default 1 + 3 tries
        with pytest.raises(AdvisoryDatabaseError) as caught:
            audit_at(vulnerable_project, url, tmp_path / "b", T0)
    assert f"cannot ask the OSV API at {url}: HTTP 503 Service Unavailable (tried 4 times)" in str(
        caught.value
    )


def test_pages_of_one_answer_are_followed(vulnerable_project: Path, tmp_path: Path) -> None:
    server = OsvApi(*SERVED, page_size=1)
    with server.serve() as url:
        found, _ = audit_at(vulnerable_project, url, tmp_path / "cache", T0)
    assert found == EXPECTED
    pages = [body for _, path, body in server.requests if path == "/v1/querybatch"]
    assert len(pages) == 2
    assert pages[1]["queries"] == [
        {"package": {"ecosystem": "PyPI", "name": "jinja2"}, "version": "2.10", "page_token": "1"}
    ]


def test_the_gate_asks_the_configured_api_about_new_versions_only(
    advisory_index: PackageIndex, api: OsvApi, cli: Cli, tmp_path: Path
) -> None:
    extra = f'\n[tool.lockdown.audit]\napi-url = "{api.url}"\n'
    root = write_project(tmp_path / "svc", advisory_index, {"requests": "2.30.0"}, extra)
    api.requests.clear()
    result = cli("lock", "--project", root)
    assert result.code == 3
    assert "BLOCKED  requests 2.30.0 (known vulnerable: PYSEC-2023-74" in result.err
    assert f"checked against OSV API {api.url} (1 advisories, answers fetched " in result.err
    assert [b["queries"] for _, p, b in api.requests if p == "/v1/querybatch"] == [
        [{"package": {"ecosystem": "PyPI", "name": "requests"}, "version": "2.30.0"}]
    ]


def test_offline_the_gate_uses_only_cached_answers(api: OsvApi, tmp_path: Path) -> None:
    from lockdown.audit.model import Package
    from lockdown.config.audit import AuditSettings
    from lockdown.config.policy import Policy
    from lockdown.policy.advisories import audit_moving

    settings = AuditSettings(api_url=api.url)
    packages = [Package(ecosystem="PyPI", name="requests", version="2.30.0")]
    cache = tmp_path / "cache"

    def gate(*, offline: bool) -> object:
        return audit_moving(
            packages, policy=Policy(), settings=settings, now=T0, cache_dir=cache, offline=offline
        )

    api.requests.clear()
    nothing = gate(offline=True)
    assert nothing.database is None  # type: ignore[attr-defined]
    assert nothing.off == f"the OSV API {api.url} is not asked offline; lock asks it"  # type: ignore[attr-defined]
    assert api.requests == []
    asked = gate(offline=False)
    assert [f.id for f in asked.findings] == ["PYSEC-2023-74"]  # type: ignore[attr-defined]
    api.requests.clear()
    cached = gate(offline=True)
    assert [f.id for f in cached.findings] == ["PYSEC-2023-74"]  # type: ignore[attr-defined]
    assert api.requests == []
