"""Against the real default package index: lock a small real project, install it with uv and pip.

Marked ``online``: these need the registry (CI reaches it). The index URL is
never written here; lockdown asks pip for its default.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from lockdown._compat import tomllib
from lockdown.resolve import default_index_url
from tests.conftest import CliResult
from tests.support.projects import write_tiny_project
from tests.support.venvs import installed, make_venv, pip, uv_pip

Cli = Callable[..., CliResult]

pytestmark = [pytest.mark.online, pytest.mark.slow]


@pytest.fixture
def real_project(tmp_path: Path) -> Path:
    return write_tiny_project(tmp_path / "tiny")


def test_lock_real_project_and_install_with_uv_and_pip(
    real_project: Path, cli: Cli, tmp_path: Path
) -> None:
    result = cli("lock", "--project", real_project)
    assert result.code == 0, result.err
    lock_path = real_project / "pylock.toml"
    data = lock_path.read_bytes()
    raw = tomllib.loads(data.decode())
    Pylock.from_dict(raw)
    assert raw["tool"]["lockdown"]["indexes"] == [default_index_url()]
    names = {p["name"] for p in raw["packages"]}
    assert {"attrs", "click", "colorama", "idna", "iniconfig"} <= names
    for package in raw["packages"]:
        for wheel in package.get("wheels", []):
            assert len(wheel["hashes"]["sha256"]) == 64
            assert wheel["size"] > 0
            assert "upload-time" in wheel
    # Determinism against the live index (same state within seconds).
    assert cli("lock", "--project", real_project).code == 0
    assert lock_path.read_bytes() == data

    uv_python = make_venv(tmp_path / "uv-venv")
    proc = uv_pip(uv_python, "sync", str(lock_path))
    assert proc.returncode == 0, proc.stderr
    assert set(installed(uv_python)) == {"attrs", "click"}

    pip_python = make_venv(tmp_path / "pip-venv")
    proc = pip(pip_python, "install", "-r", f"{lock_path}[idna]", "--group", f"{lock_path}:dev")
    assert proc.returncode == 0, proc.stderr
    assert set(installed(pip_python)) == {"attrs", "click", "idna", "iniconfig"}


def test_pip_tools_backend_against_the_real_index(real_project: Path, cli: Cli) -> None:
    result = cli("lock", "--project", real_project, "--resolver", "pip-tools")
    assert result.code == 0, result.err
    raw = tomllib.loads((real_project / "pylock.toml").read_text())
    Pylock.from_dict(raw)
    names = {p["name"] for p in raw["packages"]}
    assert names == {"attrs", "click", "idna", "iniconfig"}  # not colorama: not this platform
