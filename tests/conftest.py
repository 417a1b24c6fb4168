"""Fixtures shared by all of lockdown's tests, one section per concern."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from lockdown.cli import main
from tests.support.pkgindex import PackageIndex

# --- property tests ---
#
# "ci" keeps the suite fast; `make fuzz` selects "fuzz" for a long run.

settings.register_profile(
    "ci",
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.register_profile(
    "fuzz",
    max_examples=5000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# --- package index ---
#
# Wheels and sdists are a few kilobytes and build in milliseconds, so every
# test gets a fresh index with exactly the releases it adds; no shared state.


@pytest.fixture
def package_index(tmp_path: Path) -> Iterator[PackageIndex]:
    """A started, empty PEP 503 + PEP 691 index on 127.0.0.1, stopped after the test."""
    with PackageIndex(tmp_path / "package-index") as index:
        yield index


# --- projects and the CLI ---
#
# A small catalog on the test index: several versions, dependencies, a
# platform-specific package with per-platform wheels, an extra and a group.


def pytest_configure(config: pytest.Config) -> None:
    """Keep uv's cache inside the test session, never the user's."""
    cache = Path(config.rootpath) / ".pytest-uv-cache"
    os.environ.setdefault("UV_CACHE_DIR", str(cache))


@pytest.fixture(autouse=True)
def artifact_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own lockdown artifact cache, so verification really downloads."""
    cache = tmp_path / "lockdown-cache"
    monkeypatch.setenv("LOCKDOWN_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(autouse=True)
def http_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """No pauses between HTTP retries: tests against failing servers stay fast (the
    retries themselves still happen, so they are still tested)."""
    monkeypatch.setenv("LOCKDOWN_HTTP_BACKOFF", "0")
    for name in ("LOCKDOWN_HTTP_TIMEOUT", "LOCKDOWN_HTTP_RETRIES"):
        monkeypatch.delenv(name, raising=False)


CATALOG_PROJECT = """\
[project]
name = "svc"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["alpha>=1", "gamma", "winonly; sys_platform == 'win32'"]

[project.optional-dependencies]
fast = ["speedup"]

[dependency-groups]
dev = ["devtool"]

[tool.lockdown]
index-url = "{index}"
"""


def populate_catalog(index: PackageIndex) -> None:
    """Publish the releases every lock test resolves against."""
    index.add("beta", "1.0")
    index.add("beta", "1.1")
    index.add("alpha", "1.0")
    index.add("alpha", "1.1", dependencies=["beta>=1.0"])
    index.add(
        "gamma",
        "1.0",
        wheel_tags=(
            "py3-none-manylinux_2_17_x86_64",
            "py3-none-manylinux_2_17_aarch64",
            "py3-none-macosx_11_0_arm64",
            "py3-none-win_amd64",
        ),
    )
    index.add("winonly", "1.0")
    index.add("speedup", "2.0", dependencies=["beta"])
    index.add("devtool", "0.5")


@pytest.fixture
def catalog(package_index: PackageIndex) -> PackageIndex:
    """The test index with the standard catalog published."""
    populate_catalog(package_index)
    return package_index


@pytest.fixture
def project(tmp_path: Path, catalog: PackageIndex) -> Path:
    """A project directory whose pyproject.toml resolves against ``catalog``."""
    root = tmp_path / "svc"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        CATALOG_PROJECT.format(index=catalog.url), encoding="utf-8"
    )
    return root


@pytest.fixture
def locked(project: Path, cli: Callable[..., CliResult]) -> Path:
    """``project`` after ``lockdown lock``."""
    assert cli("lock", "--project", project).code == 0
    return project


@pytest.fixture
def env(locked: Path, cli: Callable[..., CliResult], tmp_path: Path) -> Path:
    """A venv installed exactly from ``locked``'s lock."""
    venv = tmp_path / "venv"
    assert cli("install", "--project", locked, "--venv", venv).code == 0
    return venv


@dataclass(frozen=True)
class CliResult:
    """What one in-process ``lockdown`` run returned and printed."""

    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    """Run ``lockdown`` in-process (``main(argv)``) and capture its output."""

    def run(*argv: str | Path) -> CliResult:
        capsys.readouterr()
        code = main([str(a) for a in argv])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def python_exe() -> str:
    """The interpreter running the tests."""
    return sys.executable
