"""The lock installs with the standard clients: ``uv pip sync`` and ``pip install -r``.

Real venvs, the real installers, the hermetic test index; the installed
distributions must be exactly the locked ones for this platform.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.isolation import isolated_env

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow

UV = str(Path(sys.executable).parent / "uv")


def make_venv(path: Path) -> Path:
    """A fresh venv without pip (installers are pointed at it from outside)."""
    subprocess.run(
        [UV, "venv", "-q", "--python", sys.executable, str(path)], env=isolated_env(), check=True
    )
    return path / "bin" / "python"


def installed(python: Path) -> dict[str, str]:
    """``name -> version`` read from the venv's dist-info directories."""
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    found = {}
    for info in site.glob("*.dist-info"):
        name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    return found


def test_uv_pip_sync_installs_the_lock(project: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("lock", "--project", project).code == 0
    python = make_venv(tmp_path / "venv")
    subprocess.run(
        [
            UV,
            "pip",
            "sync",
            "--no-config",
            "--python",
            str(python),
            "--extra",
            "fast",
            str(project / "pylock.toml"),
        ],
        env=isolated_env(),
        check=True,
        capture_output=True,
    )
    assert installed(python) == {"alpha": "1.1", "beta": "1.1", "gamma": "1.0", "speedup": "2.0"}


def test_pip_install_r_pylock_installs_the_lock(project: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("lock", "--project", project).code == 0
    python = make_venv(tmp_path / "venv")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-cache-dir",
            "--group",
            f"{project / 'pylock.toml'}:dev",
            "-r",
            str(project / "pylock.toml"),
        ],
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert installed(python) == {"alpha": "1.1", "beta": "1.1", "gamma": "1.0", "devtool": "0.5"}


def test_exported_requirements_install_with_require_hashes(
    project: Path, cli: Cli, tmp_path: Path
) -> None:
    assert cli("lock", "--project", project).code == 0
    exported = cli("export", "--project", project, "--format", "requirements", "--extra", "fast")
    assert exported.code == 0, exported.err
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(exported.out, encoding="utf-8")
    python = make_venv(tmp_path / "venv")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-cache-dir",
            "--require-hashes",
            "--no-deps",
            "-r",
            str(requirements),
            "--index-url",
            _index_of(project),
        ],
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert installed(python) == {"alpha": "1.1", "beta": "1.1", "gamma": "1.0", "speedup": "2.0"}


def _index_of(project: Path) -> str:
    text = (project / "pyproject.toml").read_text()
    return text.split('index-url = "', 1)[1].split('"', 1)[0]
