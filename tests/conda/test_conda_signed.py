"""Signing applies to conda locks: install and check refuse what the trust policy refuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conda.test_conda import environment, snapshot
from tests.conftest import CliResult
from tests.support.condachannel import CondaChannel

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    chan = CondaChannel(tmp_path / "channel")
    chan.add("alpha", "1.0")
    chan.index()
    return chan


@pytest.fixture
def signed_project(
    tmp_path: Path, channel: CondaChannel, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A conda project whose lockdown.toml requires signatures by a key made here."""
    monkeypatch.setenv("LOCKDOWN_KEY_PASSWORD", "correct horse")
    root = environment(tmp_path / "svc", channel.file_url)
    assert cli("keygen", tmp_path / "release.key").code == 0
    (root / "lockdown.toml").write_text(
        f'[trust]\nrequire = true\nsigners = [{{ public-key = "{tmp_path / "release.pub"}" }}]\n'
    )
    result = cli("lock", "--conda", root / "environment.yml", "--project", root)
    assert result.code == 0, result.err
    return root


def test_an_unsigned_conda_lock_is_refused_by_install_and_check_when_required(
    signed_project: Path, tmp_path: Path, cli: Cli
) -> None:
    prefix = tmp_path / "prefix"
    installed = cli("install", "--project", signed_project, "--prefix", prefix)
    assert installed.code == 16, installed.err
    assert "conda-lock.yml.sigstore.json" in installed.err
    assert len(installed.err.strip().splitlines()) == 1
    assert not prefix.exists()
    checked = cli("check", "--project", signed_project, "--prefix", prefix)
    assert checked.code == 16, checked.err


def test_a_signed_conda_lock_installs_and_a_tampered_one_is_refused(
    signed_project: Path, tmp_path: Path, cli: Cli
) -> None:
    lock = signed_project / "conda-lock.yml"
    signed = cli("sign", lock, "--key", tmp_path / "release.key", "--project", signed_project)
    assert signed.code == 0, signed.err
    prefix = tmp_path / "prefix"
    done = cli("install", "--project", signed_project, "--prefix", prefix)
    assert done.code == 0, done.err
    assert cli("check", "--project", signed_project, "--prefix", prefix).code == 0
    # One byte of the lock changed after signing: refused, prefix untouched.
    before = snapshot(prefix)
    lock.write_text(lock.read_text().replace("alpha", "alphb", 1))
    again = cli("install", "--project", signed_project, "--prefix", prefix)
    assert again.code == 16, again.err
    assert snapshot(prefix) == before
