"""The upgrade gate on conda locks: kept versions, approvals, cooldown, channel allowlist."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lockdown.commands.approve import approve
from lockdown.commands.lock import lock_conda
from lockdown.env.conda_meta import current_platform
from lockdown.lock.condalock import read_conda_lock
from lockdown.report.outcomes import CondaLockOutcome
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]
FROZEN = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    chan = CondaChannel(tmp_path / "channel")
    chan.add("alpha", "1.0")
    chan.add("beta", "1.0")
    chan.index()
    return chan


def project(root: Path, channel_url: str, policy: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        "[tool.lockdown.conda]\n"
        f'channels = ["{channel_url}"]\n'
        'dependencies = ["alpha", "beta"]\n'
        f'platforms = ["{current_platform()}"]\n'
        + (f"[tool.lockdown.policy]\n{policy}" if policy else ""),
        encoding="utf-8",
    )
    return root


def lock(root: Path, **options: object) -> CondaLockOutcome:
    return lock_conda(root, clock=lambda: FROZEN, **options)  # type: ignore[arg-type]


def versions(root: Path) -> dict[str, str]:
    return {p.name: p.version for p in read_conda_lock(root / "conda-lock.yml").packages}


def test_new_builds_do_not_move_the_lock_without_upgrade(
    tmp_path: Path, channel: CondaChannel
) -> None:
    root = project(tmp_path / "p", channel.file_url)
    assert lock(root).gate.changes is None
    before = (root / "conda-lock.yml").read_bytes()
    channel.add("alpha", "1.1")
    channel.index()
    again = lock(root)
    assert again.gate.changes == ()
    assert (root / "conda-lock.yml").read_bytes() == before


def test_an_unapproved_upgrade_is_blocked_then_approved_and_recorded(
    tmp_path: Path, channel: CondaChannel
) -> None:
    root = project(tmp_path / "p", channel.file_url)
    lock(root)
    before = (root / "conda-lock.yml").read_bytes()
    channel.add("alpha", "1.1")
    channel.index()
    blocked = lock(root, upgrade_packages=["alpha"])
    assert [(v.name, v.version, v.reason) for v in blocked.gate.blocked] == [
        ("alpha", "1.1", "minor upgrade; needs approval")
    ]
    assert (root / "conda-lock.yml").read_bytes() == before
    approve(root, "alpha==1.1", reason="new feature", by="ops", clock=lambda: FROZEN)
    admitted = lock(root, upgrade_packages=["alpha"])
    assert not admitted.blocked
    assert versions(root) == {"alpha": "1.1", "beta": "1.0"}
    record = json.loads(read_conda_lock(root / "conda-lock.yml").custom["approval alpha==1.1"])
    assert (record["approved-by"], record["reason"], record["version"]) == (
        "ops",
        "new feature",
        "==1.1",
    )


def test_cooldown_skips_fresh_builds_and_records_the_cutoff(
    tmp_path: Path, channel: CondaChannel
) -> None:
    root = project(tmp_path / "p", channel.file_url, 'min-release-age = "7 days"\n')
    channel.add("alpha", "1.1", timestamp=FROZEN - timedelta(hours=1))
    channel.index()
    outcome = lock(root)
    assert not outcome.blocked
    assert versions(root)["alpha"] == "1.0"
    custom = read_conda_lock(root / "conda-lock.yml").custom
    assert (custom["min-release-age"], custom["cooldown-cutoff"]) == (
        "7 days",
        "2025-02-22T12:00:00Z",
    )


def test_a_fresh_build_forced_by_the_inputs_is_blocked(
    tmp_path: Path, channel: CondaChannel
) -> None:
    root = project(tmp_path / "p", channel.file_url, 'min-release-age = "7 days"\n')
    channel.add("alpha", "1.1", timestamp=FROZEN - timedelta(hours=1))
    channel.index()
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"alpha"', '"alpha ==1.1"'))
    outcome = lock(root)
    assert len(outcome.gate.blocked) == 1
    assert outcome.gate.blocked[0].reason.startswith("alpha-1.1-")
    assert "after the cooldown cutoff 2025-02-22 12:00 UTC" in outcome.gate.blocked[0].reason
    assert not (root / "conda-lock.yml").exists()


def test_a_channel_outside_the_allowlist_is_blocked(
    tmp_path: Path, channel: CondaChannel, cli: Cli
) -> None:
    root = project(
        tmp_path / "p",
        channel.file_url,
        'allowed-channels = ["https://conda.example.internal/main"]\n',
    )
    result = cli("lock", "--project", root, "--conda")
    assert result.code == 3, result.err
    assert (
        f"  BLOCKED  alpha 1.0 (from {channel.file_url}, which is not in allowed-channels)"
        in result.err
    )
    assert not (root / "conda-lock.yml").exists()
