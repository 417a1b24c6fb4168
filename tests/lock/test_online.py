"""Against the real default package index: lock a small real project, install it with uv and pip.

Marked ``online``: these need the registry (CI reaches it). The index URL is
never written here; lockdown asks pip for its default.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.pylock import Pylock

from lockdown._compat import tomllib
from lockdown.resolve import default_index_url
from tests.conftest import CliResult
from tests.support.isolation import isolated_env

Cli = Callable[..., CliResult]

pytestmark = [pytest.mark.online, pytest.mark.slow]

UV = str(Path(sys.executable).parent / "uv")

PROJECT = """\
[project]
name = "tiny-service"
version = "0.1"
requires-python = ">=3.10"
dependencies = ["attrs>=23", "click>=8.1", "colorama; sys_platform == 'win32'"]

[project.optional-dependencies]
idna = ["idna>=3"]

[dependency-groups]
dev = ["iniconfig"]
"""


@pytest.fixture
def real_project(tmp_path: Path) -> Path:
    root = tmp_path / "tiny"
    root.mkdir()
    (root / "pyproject.toml").write_text(PROJECT, encoding="utf-8")
    return root


def installed(python: Path) -> set[str]:
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    return {
        info.name[: -len(".dist-info")].rsplit("-", 1)[0].lower().replace("_", "-")
        for info in site.glob("*.dist-info")
    }


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

    uv_venv = tmp_path / "uv-venv"
    subprocess.run(
        [UV, "venv", "-q", "--python", sys.executable, str(uv_venv)], env=isolated_env(), check=True
    )
    subprocess.run(
        [
            UV,
            "pip",
            "sync",
            "--no-config",
            "--python",
            str(uv_venv / "bin" / "python"),
            str(lock_path),
        ],
        env=isolated_env(),
        check=True,
        capture_output=True,
    )
    assert installed(uv_venv / "bin" / "python") == {"attrs", "click"}

    pip_venv = tmp_path / "pip-venv"
    subprocess.run(
        [UV, "venv", "-q", "--python", sys.executable, str(pip_venv)],
        env=isolated_env(),
        check=True,
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(pip_venv / "bin" / "python"),
            "install",
            "-r",
            f"{lock_path}[idna]",
            "--group",
            f"{lock_path}:dev",
        ],
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert installed(pip_venv / "bin" / "python") == {"attrs", "click", "idna", "iniconfig"}


def test_pip_tools_backend_against_the_real_index(real_project: Path, cli: Cli) -> None:
    result = cli("lock", "--project", real_project, "--resolver", "pip-tools")
    assert result.code == 0, result.err
    raw = tomllib.loads((real_project / "pylock.toml").read_text())
    Pylock.from_dict(raw)
    names = {p["name"] for p in raw["packages"]}
    assert names == {"attrs", "click", "idna", "iniconfig"}  # not colorama: not this platform
