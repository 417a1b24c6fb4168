"""``lockdown export``: requirements with hashes / constraints for one environment."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


def sha(index: PackageIndex, filename: str) -> str:
    return hashlib.sha256((index.root / "files" / filename).read_bytes()).hexdigest()


def test_requirements_for_this_interpreter(locked: Path, catalog: PackageIndex, cli: Cli) -> None:
    result = cli("export", "--project", locked)
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith("# Exported by lockdown from pylock.toml for Python ")
    pins = [line.split(" ")[0] for line in lines if "==" in line]
    assert pins == ["alpha==1.1", "beta==1.1", "gamma==1.0"]  # no win32 package, no extras
    text = result.out
    # Every locked artifact's hash of each package, so pip accepts any of them.
    for filename in ("alpha-1.1-py3-none-any.whl", "alpha-1.1.tar.gz", "gamma-1.0.tar.gz"):
        assert f"--hash=sha256:{sha(catalog, filename)}" in text
    assert "alpha==1.1 \\\n    --hash=sha256:" in text


def test_extras_and_groups(locked: Path, cli: Cli) -> None:
    result = cli("export", "--project", locked, "--extra", "fast", "--group", "dev")
    pins = [line.split(" ")[0] for line in result.out.splitlines() if "==" in line]
    assert pins == ["alpha==1.1", "beta==1.1", "devtool==0.5", "gamma==1.0", "speedup==2.0"]


def test_constraints_to_file(locked: Path, cli: Cli, tmp_path: Path) -> None:
    out = tmp_path / "constraints.txt"
    result = cli("export", "--project", locked, "--format", "constraints", "-o", out)
    assert result.code == 0
    assert result.out == ""
    body = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    assert body == ["alpha==1.1", "beta==1.1", "gamma==1.0"]


def test_export_for_another_interpreter(locked: Path, cli: Cli) -> None:
    result = cli("export", "--project", locked, "--python", sys.executable)
    assert result.code == 0
    assert "alpha==1.1" in result.out


def test_explicit_lock_path(locked: Path, cli: Cli, tmp_path: Path) -> None:
    copy = tmp_path / "pylock.prod.toml"
    copy.write_bytes((locked / "pylock.toml").read_bytes())
    result = cli("export", "--lock", copy, "--format", "constraints")
    assert "gamma==1.0" in result.out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--extra", "nope"], "extra 'nope' is not in the lock"),
        (["--group", "nope"], "dependency group 'nope' is not in the lock"),
        (["--python", "/nonexistent/python"], "cannot run interpreter /nonexistent/python"),
        (["--format", "pipfile"], "invalid choice: 'pipfile'"),
    ],
)
def test_bad_export_input(
    locked: Path, cli: Cli, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "out.txt"
    result = cli("export", "--project", locked, "-o", out, *args)
    assert result.code == 64
    assert message in result.err
    assert result.err.startswith("lockdown: error: ")
    assert not out.exists()


def test_environment_not_covered_fails_closed(project: Path, cli: Cli, tmp_path: Path) -> None:
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + "environments = [\"sys_platform == 'win32'\"]\n", encoding="utf-8"
    )
    assert cli("lock", "--project", project).code == 0
    out = tmp_path / "out.txt"
    result = cli("export", "--project", project, "-o", out)
    assert result.code == 64
    assert "no locked environment matches this one" in result.err
    assert "locked for: sys_platform == 'win32'" in result.err
    assert not out.exists()


def test_missing_lock(project: Path, cli: Cli) -> None:
    result = cli("export", "--project", project)
    assert result.code == 64
    assert result.err == (
        f"lockdown: error: {project.resolve() / 'pylock.toml'}: lock file not found; "
        "run lockdown lock\n"
    )


def test_invalid_lock(project: Path, cli: Cli) -> None:
    (project / "pylock.toml").write_text('lock-version = "1.0"\npackages = [{name = 3}]\n')
    result = cli("export", "--project", project)
    assert result.code == 16
    assert "pylock.toml: not a valid PEP 751 lock: " in result.err
