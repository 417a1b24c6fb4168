"""The vulnerability rule in ``lock`` (Python and conda) and ``diff``, end to end.

Projects pin versions the real advisories name, resolve them from the local
index (or channel), and are judged against the real database configured in
``[tool.lockdown.audit]``. A block exits 3 and leaves the lock as it was.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.env.conda_meta import current_platform
from tests.audit.conftest import ADVISORIES, write_project
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]

AUDIT = f'\n[tool.lockdown.audit]\ndb = "{ADVISORIES}"\n'
ALLOW = '\n[tool.lockdown.policy]\nupgrades = "allow"\nauto-approve = ["new"]\n{more}'


def test_a_first_lock_with_a_vulnerable_version_is_blocked(
    advisory_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "svc", advisory_index, {"requests": "2.30.0", "idna": "3.7"}, AUDIT
    )
    result = cli("lock", "--project", root)
    assert result.code == 3, result.err
    assert not (root / "pylock.toml").exists()
    assert (
        "  BLOCKED  requests 2.30.0 (known vulnerable: PYSEC-2023-74 (CVE-2023-32681, "
        "GHSA-j8r2-6x86-q33q), unknown, fixed in 2.31.0; nearest fixed version 2.31.0; needs an "
        "upgrade, an ignore or an approval)\n"
        '           lockdown approve requests==2.30.0 --reason "\u2026"\n'
    ) in result.err
    assert (
        f"lockdown: vulnerabilities: 2 new or changed versions checked against directory "
        f"{ADVISORIES} (2663 advisories, newest entry 2026-09-04, "
    ) in result.err
    assert "idna" not in result.err.split("blocked by policy")[1]


def test_a_clean_lock_says_what_it_checked_then_a_vulnerable_move_is_blocked(
    advisory_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    extra = ALLOW.format(more="") + AUDIT
    root = write_project(tmp_path / "svc", advisory_index, {"requests": "2.31.0"}, extra)
    first = cli("lock", "--project", root)
    assert first.code == 0, first.err
    [line] = [x for x in first.out.splitlines() if x.startswith("vulnerabilities: ")]
    assert line.startswith(
        f"vulnerabilities: 1 new or changed version checked against directory {ADVISORIES} "
    )
    assert line.endswith("): none known")
    before = (root / "pylock.toml").read_bytes()
    # A downgrade to a known-vulnerable version: allowed by the upgrade policy, not by this rule.
    write_project(root, advisory_index, {"requests": "2.30.0"}, extra)
    moved = cli("lock", "--project", root)
    assert moved.code == 3
    assert "BLOCKED  requests 2.30.0 (known vulnerable: PYSEC-2023-74" in moved.err
    assert (root / "pylock.toml").read_bytes() == before
    # An approval admits it, and the lock records which one.
    approved = cli("approve", "--project", root, "requests==2.30.0", "--reason", "pinned by vendor")
    assert approved.code == 0, approved.err
    relock = cli("lock", "--project", root)
    assert relock.code == 0, relock.err
    assert "requests 2.30.0 (known vulnerable: PYSEC-2023-74" in relock.out
    assert "pinned by vendor" in (root / "pylock.toml").read_text()


def test_diff_shows_the_rule(advisory_index: PackageIndex, cli: Cli, tmp_path: Path) -> None:
    extra = ALLOW.format(more="") + AUDIT
    root = write_project(tmp_path / "svc", advisory_index, {"requests": "2.31.0"}, extra)
    assert cli("lock", "--project", root).code == 0
    old = tmp_path / "old.toml"
    shutil.copy(root / "pylock.toml", old)
    # The new lock, written where vulnerable versions only warn.
    other = write_project(
        tmp_path / "other",
        advisory_index,
        {"requests": "2.30.0"},
        ALLOW.format(more='vulnerable = "warn"\n') + AUDIT,
    )
    warned = cli("lock", "--project", other)
    assert warned.code == 0, warned.err
    assert "vulnerable = 'warn'" in warned.out
    new = other / "pylock.toml"
    result = cli("diff", "--project", root, old, new, "--format", "markdown")
    assert result.code == 3
    assert "| **BLOCKED** | `requests` | 2.30.0 | known vulnerable: PYSEC-2023-74" in result.out
    assert "lockdown: vulnerabilities: 1 new or changed version checked against" in result.err
    cli("approve", "--project", root, "requests==2.30.0", "--reason", "vendor pin")
    admitted = cli("diff", "--project", root, old, new)
    assert admitted.code == 0, admitted.out
    assert "ok       requests 2.30.0 (known vulnerable: PYSEC-2023-74" in admitted.out


def test_nothing_admits_a_malicious_version(
    advisory_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    extra = ALLOW.format(more='vulnerable = "warn"\n') + AUDIT
    root = write_project(tmp_path / "svc", advisory_index, {"0requests": "0.0.1"}, extra)
    assert cli("approve", "--project", root, "0requests==0.0.1", "--reason", "x").code == 0
    result = cli("lock", "--project", root)
    assert result.code == 3
    assert (
        "  BLOCKED  0requests 0.0.1 (known malicious: MAL-2026-15859 (Malicious code in "
        "0requests (PyPI)); no approval or ignore admits it)\n"
        "           remove 0requests from the project's requirements\n"
    ) in result.err
    assert not (root / "pylock.toml").exists()


def test_off_and_unconfigured_say_so(
    advisory_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    off = write_project(
        tmp_path / "off",
        advisory_index,
        {"requests": "2.30.0"},
        '\n[tool.lockdown.policy]\nvulnerable = "off"\n' + AUDIT,
    )
    result = cli("lock", "--project", off)
    assert result.code == 0, result.err
    assert "vulnerabilities: not checked (vulnerable = 'off')" in result.out.splitlines()
    bare = write_project(tmp_path / "bare", advisory_index, {"requests": "2.30.0"})
    result = cli("lock", "--project", bare)
    assert result.code == 0, result.err
    assert (
        "vulnerabilities: not checked (no advisory database configured "
        "([tool.lockdown.audit] db or api-url))"
    ) in result.out.splitlines()


def test_an_explicit_deny_without_a_database_fails_closed(
    advisory_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "svc",
        advisory_index,
        {"requests": "2.31.0"},
        '\n[tool.lockdown.policy]\nvulnerable = "deny"\n',
    )
    result = cli("lock", "--project", root)
    assert result.code == 64
    assert result.err == (
        "lockdown: error: [tool.lockdown.policy] vulnerable = 'deny' needs an advisory database, "
        "and none is configured; set [tool.lockdown.audit] db (offline) or api-url, or "
        "vulnerable = 'off'\n"
    )
    assert not (root / "pylock.toml").exists()


def test_a_database_too_old_fails_closed(
    advisory_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    root = write_project(
        tmp_path / "svc", advisory_index, {"requests": "2.31.0"}, AUDIT + 'max-db-age = "1 day"\n'
    )
    result = cli("lock", "--project", root)
    assert result.code == 70
    assert result.err.startswith(f"lockdown: error: the advisory database {ADVISORIES} is ")
    assert "older than the maximum age of 1 day; update the database" in result.err
    assert not (root / "pylock.toml").exists()


@pytest.mark.slow
def test_a_conda_lock_with_a_vulnerable_python_package_is_blocked(cli: Cli, tmp_path: Path) -> None:
    channel = CondaChannel(tmp_path / "channel")
    channel.add("python", "3.11.9")
    channel.add("requests", "2.30.0", depends=["python"])
    channel.add("requests", "2.31.0", depends=["python"])
    channel.index()
    root = tmp_path / "svc"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        "[tool.lockdown.conda]\n"
        f'channels = ["{channel.file_url}"]\n'
        'dependencies = ["requests ==2.30.0"]\n'
        f'platforms = ["{current_platform()}"]\n' + AUDIT,
        encoding="utf-8",
    )
    result = cli("lock", "--conda", "--project", root)
    assert result.code == 3, result.err
    assert "BLOCKED  requests 2.30.0 (known vulnerable: PYSEC-2023-74" in result.err
    assert not (root / "conda-lock.yml").exists()
    text = (root / "pyproject.toml").read_text().replace("requests ==2.30.0", "requests ==2.31.0")
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    ok = cli("lock", "--conda", "--project", root)
    assert ok.code == 0, ok.err
    assert "vulnerabilities: 2 new or changed versions checked against directory" in ok.out
