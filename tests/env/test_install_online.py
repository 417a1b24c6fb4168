"""``lockdown install`` of a small real lock from the default package index (``online``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.projects import write_tiny_project
from tests.support.venvs import installed

Cli = Callable[..., CliResult]

pytestmark = [pytest.mark.online, pytest.mark.slow]


def test_install_a_real_lock(tmp_path: Path, cli: Cli) -> None:
    project = write_tiny_project(tmp_path / "tiny")
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "venv"
    result = cli("install", "--project", project, "--venv", venv)
    assert result.code == 0, result.err
    assert set(installed(venv / "bin" / "python")) == {"attrs", "click"}
    assert cli("install", "--project", project, "--venv", venv, "--dry-run").code == 0
