"""Every bad input to ``lockdown lock``: one clear line, the right exit code, nothing written."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]

#: The previous lock's bytes, which a failed run must leave byte-identical (by path).
_ORIGINAL: dict[Path, bytes] = {}


@pytest.fixture
def old_lock(project: Path, cli: Cli) -> Path:
    """A real previous lock of ``project`` (the gate reads it before anything else)."""
    assert cli("lock", "--project", project).code == 0
    path = project / "pylock.toml"
    _ORIGINAL[path] = path.read_bytes()
    return path


def assert_failed(result: CliResult, code: int, message: str, lock: Path) -> None:
    assert result.code == code, result.err
    lines = result.err.strip().splitlines()
    assert lines[-1].startswith("lockdown: error: "), result.err
    assert message in lines[-1]
    assert "Traceback" not in result.err
    assert result.out == ""
    assert lock.read_bytes() == _ORIGINAL[lock]
    leftovers = [p.name for p in lock.parent.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


def edit(project: Path, old: str, new: str) -> None:
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_no_pyproject(tmp_path: Path, cli: Cli) -> None:
    result = cli("lock", "--project", tmp_path)
    assert result.code == 64
    assert result.err == (
        f"lockdown: error: no pyproject.toml or lockdown.toml in {tmp_path.resolve()}; "
        "run lockdown in your project directory or pass --project DIR\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_invalid_toml_with_line(project: Path, old_lock: Path, cli: Cli) -> None:
    edit(project, 'version = "1.0"', 'version = "1.0')
    result = cli("lock", "--project", project)
    assert_failed(result, 64, "pyproject.toml: invalid TOML: ", old_lock)
    assert "line 3" in result.err


def test_invalid_requirement_names_it(project: Path, old_lock: Path, cli: Cli) -> None:
    edit(project, '"gamma"', '"gamma>>1"')
    result = cli("lock", "--project", project)
    assert_failed(result, 64, "project.dependencies[1]: invalid requirement 'gamma>>1'", old_lock)


def test_unknown_config_key(project: Path, old_lock: Path, cli: Cli) -> None:
    edit(project, "[tool.lockdown]\n", "[tool.lockdown]\nresolvr = 'uv'\n")
    result = cli("lock", "--project", project)
    assert_failed(result, 64, "unknown key 'resolvr' in [tool.lockdown]", old_lock)


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_unsatisfiable_shows_the_explanation(
    project: Path, old_lock: Path, cli: Cli, resolver: str
) -> None:
    edit(project, '"alpha>=1"', '"alpha>=5"')
    result = cli("lock", "--project", project, "--resolver", resolver)
    assert_failed(result, 70, "cannot resolve dependencies", old_lock)
    assert "alpha" in result.err.splitlines()[-1]


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/simple/"


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_index_unreachable(
    project: Path, catalog: PackageIndex, old_lock: Path, cli: Cli, resolver: str
) -> None:
    edit(project, catalog.url, _closed_port_url())
    result = cli("lock", "--project", project, "--resolver", resolver)
    assert_failed(result, 70, "cannot reach", old_lock)


@pytest.mark.parametrize(
    ("resolver", "message"),
    [
        # uv reads metadata with range requests and never hashes the file;
        # lockdown's own download of every artifact catches it.
        ("uv", "alpha-1.1-py3-none-any.whl: the package index ({index}) declares sha256 "),
        # pip downloads the wheel to read its metadata and checks it itself.
        ("pip-tools", "the package index {index} served a file whose hash does not match"),
    ],
)
def test_index_hash_does_not_match_file(
    project: Path, catalog: PackageIndex, old_lock: Path, cli: Cli, resolver: str, message: str
) -> None:
    catalog.corrupt_hash("alpha-1.1-py3-none-any.whl")
    result = cli("lock", "--project", project, "--resolver", resolver, "--verify-artifacts", "all")
    assert_failed(result, 70, message.format(index=catalog.url), old_lock)


def test_a_declared_hash_that_lies_is_pinned_and_install_refuses_it(
    project: Path, catalog: PackageIndex, cli: Cli, tmp_path: Path
) -> None:
    # Without --verify-artifacts the lock records what the index declares (as
    # uv and pip lock do); the bytes are checked where they are used.
    catalog.corrupt_hash("alpha-1.1-py3-none-any.whl")
    declared = catalog.file("alpha-1.1-py3-none-any.whl").advertised_sha256
    assert cli("lock", "--project", project).code == 0
    assert declared in (project / "pylock.toml").read_text()
    venv = tmp_path / "venv"
    result = cli("install", "--project", project, "--venv", venv)
    assert result.code == 16, result.err
    assert f"declares sha256 {declared}" in result.err
    assert not venv.exists()


def test_sdist_hash_mismatch_is_caught_too(
    project: Path, catalog: PackageIndex, old_lock: Path, cli: Cli
) -> None:
    catalog.corrupt_hash("beta-1.1.tar.gz")
    result = cli("lock", "--project", project, "--verify-artifacts", "all")
    assert_failed(result, 70, "beta-1.1.tar.gz: the package index", old_lock)
    assert "but the file served has sha256 " in result.err


def test_a_locked_file_whose_hash_changed_is_blocked(
    project: Path, catalog: PackageIndex, old_lock: Path, cli: Cli
) -> None:
    # Same version, other bytes: a re-upload or a tampered index. The gate sees a
    # source change of an already locked release, which nobody approved. (A
    # re-lock that moves nothing does not ask the index again: letting beta move
    # does; install would refuse the new bytes either way.)
    catalog.corrupt_hash("beta-1.1.tar.gz")
    result = cli("lock", "--project", project, "--upgrade-package", "beta")
    assert result.code == 3, result.err
    assert "BLOCKED  beta 1.1 (same version, different artifacts (hashes changed)" in result.err
    assert old_lock.read_bytes() == _ORIGINAL[old_lock]


def test_bad_flag_is_usage_error(project: Path, old_lock: Path, cli: Cli) -> None:
    result = cli("lock", "--project", project, "--resolver", "poetry")
    assert_failed(result, 64, "invalid choice: 'poetry'", old_lock)


def test_verbose_shows_traceback(project: Path, old_lock: Path, cli: Cli) -> None:
    edit(project, "[tool.lockdown]\n", "[tool.lockdown]\nresolvr = 'uv'\n")
    result = cli("lock", "--project", project, "--verbose")
    assert result.code == 64
    assert "Traceback" in result.err
