"""Targets older than lockdown's own Python: the probe is standard library only.

lockdown's ``packaging`` needs a newer Python than many production hosts run,
so the target is never given it: the probe reports facts with the standard
library, and the marker environment and wheel tags it yields must be the very
ones ``packaging`` (or the target's own pip) computes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.markers import default_environment
from packaging.tags import sys_tags

from lockdown.commands.check import run_check
from lockdown.env.python_env import inspect_interpreter
from lockdown.errors import UsageError
from tests.conftest import CliResult
from tests.support.isolation import isolated_env
from tests.support.pkgindex import PackageIndex
from tests.support.pythons import installed_pythons, oldest_python
from tests.support.venvs import uv_pip

Cli = Callable[..., CliResult]

#: The newest Python lockdown's own ``packaging`` does not run on.
OLD = (3, 9)


def _wrapper(tmp_path: Path, python: str) -> Path:
    """A script that runs ``python``: the probe then runs as a separate process."""
    wrapper = tmp_path / "python-wrapper"
    wrapper.write_text(f'#!/bin/sh\nexec "{python}" "$@"\n')
    wrapper.chmod(0o755)
    return wrapper


def test_the_probe_agrees_with_packaging_on_this_interpreter(tmp_path: Path) -> None:
    # The same binary as the tests, asked through a wrapper: the subprocess probe,
    # not the in-process shortcut, must give packaging's exact answer.
    info = inspect_interpreter(_wrapper(tmp_path, sys.executable))
    assert info.tags == tuple(str(t) for t in sys_tags())
    assert info.environment == default_environment()
    assert info.executable == Path(sys.executable)


def _pip_debug_tags(python: str) -> list[str] | None:
    """The tags the target's own pip (and its vendored packaging) supports, if it can say."""
    proc = subprocess.run(
        [python, "-m", "pip", "debug", "--verbose"],
        capture_output=True,
        text=True,
        env=isolated_env(),
        check=False,
    )
    if proc.returncode != 0 or "Compatible tags:" not in proc.stdout:
        return None
    lines = proc.stdout.split("Compatible tags:", 1)[1].splitlines()[1:]
    return [line.strip() for line in lines if line.startswith("  ")]


@pytest.mark.parametrize("minor", [6, 7, 8, 9])
def test_old_interpreters_report_what_their_own_pip_computes(minor: int) -> None:
    python = installed_pythons().get((3, minor))
    if python is None:
        pytest.skip(f"no Python 3.{minor} on this machine")
    info = inspect_interpreter(python)
    assert info.environment["python_version"] == f"3.{minor}"
    assert info.tags[0].startswith(f"cp3{minor}-cp3{minor}")
    assert f"cp3{minor}-none-any" in info.tags
    theirs = _pip_debug_tags(python)
    if theirs is None:
        pytest.skip(f"the pip of Python 3.{minor} has no `pip debug`; the tags were made")
    assert set(info.tags) == set(theirs)


def test_python_2_is_refused_with_a_consistent_hint() -> None:
    python = next(
        (str(p) for p in sorted(Path.home().glob(".pyenv/versions/2.*/bin/python2"))), None
    )
    if python is None:
        pytest.skip("no Python 2 on this machine")
    with pytest.raises(UsageError) as caught:
        inspect_interpreter(python)
    assert str(caught.value).startswith(f"interpreter {python} failed to report its environment: ")
    assert caught.value.hint == "pass a Python 3.8 or newer interpreter"


OLD_PROJECT = """\
[project]
name = "legacy-svc"
version = "1.0"
requires-python = ">=3.{minor}"
dependencies = ["alpha"]

[tool.lockdown]
index-url = "{index}"
"""


@pytest.mark.slow
def test_a_venv_of_the_oldest_python_is_checked(
    package_index: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    found = oldest_python(OLD)
    if found is None:
        pytest.skip(f"no Python {OLD[0]}.{OLD[1]} or older on this machine")
    (major, minor), python = found
    package_index.add("beta", "1.0")
    package_index.add("alpha", "1.1", dependencies=["beta>=1.0"])
    project = tmp_path / "legacy"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        OLD_PROJECT.format(minor=minor, index=package_index.url), encoding="utf-8"
    )
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "venv"
    installed = cli("install", "--project", project, "--venv", venv, "--python", python)
    assert installed.code == 0, installed.err
    for level in ("versions", "files", "artifacts"):
        report = run_check(project / "pylock.toml", venv=venv, level=level)
        assert report.in_sync, (level, report.packages, report.files)
        assert report.python_version.startswith(f"{major}.{minor}.")
        assert report.expected == report.installed == 2
    site = next((venv / "lib").glob(f"python{major}.{minor}/site-packages"))
    module = site / "alpha" / "__init__.py"
    module.write_bytes(module.read_bytes().replace(b"1.1", b"6.6"))
    assert uv_pip(venv / "bin" / "python", "uninstall", "beta").returncode == 0
    result = cli("check", "--project", project, "--venv", venv, "--level", "files")
    assert result.code == 2 | 8, result.err
    assert "missing    beta 1.0" in result.out
    assert f"python{major}.{minor}/site-packages/alpha/__init__.py" in result.out
