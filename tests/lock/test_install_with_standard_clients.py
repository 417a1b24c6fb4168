"""The lock installs with the standard clients: ``uv pip sync`` and ``pip install -r``.

Real venvs, the real installers, the hermetic test index; the installed
distributions must be exactly the locked ones for this platform.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.venvs import installed, make_venv, pip, uv_pip

Cli = Callable[..., CliResult]

pytestmark = pytest.mark.slow


def test_uv_pip_sync_installs_the_lock(project: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("lock", "--project", project).code == 0
    python = make_venv(tmp_path / "venv")
    proc = uv_pip(python, "sync", "--extra", "fast", str(project / "pylock.toml"))
    assert proc.returncode == 0, proc.stderr
    assert installed(python) == {"alpha": "1.1", "beta": "1.1", "gamma": "1.0", "speedup": "2.0"}


def test_pip_install_r_pylock_installs_the_lock(project: Path, cli: Cli, tmp_path: Path) -> None:
    assert cli("lock", "--project", project).code == 0
    python = make_venv(tmp_path / "venv")
    lock = project / "pylock.toml"
    proc = pip(python, "install", "--no-cache-dir", "--group", f"{lock}:dev", "-r", str(lock))
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
    index = (project / "pyproject.toml").read_text().split('index-url = "', 1)[1].split('"')[0]
    proc = pip(
        python, "install", "--no-cache-dir", "--require-hashes", "--no-deps",
        "-r", str(requirements), "--index-url", index,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert installed(python) == {"alpha": "1.1", "beta": "1.1", "gamma": "1.0", "speedup": "2.0"}
