"""A user's pip/uv settings never reach the resolvers, and lockdown says so."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown.resolve.interface import isolated_environ
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


def test_isolated_environ_drops_installer_settings() -> None:
    env, dropped = isolated_environ(
        {"UV_INDEX_URL": "x", "PIP_INDEX_URL": "y", "UV_CACHE_DIR": "/c", "HOME": "/root"}
    )
    assert dropped == ["PIP_INDEX_URL", "UV_INDEX_URL"]
    assert env == {"UV_CACHE_DIR": "/c", "HOME": "/root", "PIP_CONFIG_FILE": os.devnull}


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_stray_index_settings_do_not_change_the_lock(
    project: Path,
    catalog: PackageIndex,
    tmp_path: Path,
    cli: Cli,
    monkeypatch: pytest.MonkeyPatch,
    resolver: str,
) -> None:
    # A second index with a newer alpha; the user's environment points at it.
    with PackageIndex(tmp_path / "other") as other:
        other.add("alpha", "9.0")
        monkeypatch.setenv("UV_INDEX_URL", other.url)
        monkeypatch.setenv("UV_EXTRA_INDEX_URL", other.url)
        monkeypatch.setenv("PIP_EXTRA_INDEX_URL", other.url)
        monkeypatch.setenv("PIP_INDEX_URL", other.url)
        config = tmp_path / "pip.conf"
        config.write_text(f"[global]\nextra-index-url = {other.url}\n")
        monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
        result = cli("lock", "--project", project, "--resolver", resolver)
        assert result.code == 0, result.err
        assert other.requests == []
    text = (project / "pylock.toml").read_text()
    assert 'name = "alpha"\nversion = "1.1"' in text
    if resolver == "uv":
        assert (
            "lockdown: ignoring UV_EXTRA_INDEX_URL, UV_INDEX_URL from the environment for uv"
            in result.err
        )
    else:
        notice = next(line for line in result.err.splitlines() if "pip configuration" in line)
        assert notice.startswith("lockdown: ignoring pip configuration files and ")
        for name in ("PIP_CONFIG_FILE", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL"):
            assert name in notice
