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
from tests.support.pkgindex import PackageIndex
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


# --- real projects of our users, default config (no [tool.lockdown] at all) ---

#: What `lockdown lock` may print when the index drops a connection: tried again.
_TRANSIENT = ("cannot reach", "timed out", "connection", "HTTP 5")


def lock_with_retries(cli: Cli, project: Path, tries: int = 3) -> CliResult:
    """``lockdown lock``, again after a transient network failure (never skipped)."""
    for _attempt in range(tries - 1):
        result = cli("lock", "--project", project)
        if result.code == 0 or not any(word in result.err for word in _TRANSIENT):
            return result
    return cli("lock", "--project", project)


def default_config_project(root: Path, dependencies: list[str], extra: str = "") -> Path:
    root.mkdir()
    deps = ", ".join(f'"{d}"' for d in dependencies)
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{root.name}"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
        f"dependencies = [{deps}]\n{extra}",
        encoding="utf-8",
    )
    return root


def test_a_psycopg_binary_project_locks_with_the_default_config(
    tmp_path: Path, cli: Cli, artifact_cache: Path
) -> None:
    project = default_config_project(
        tmp_path / "pgsvc",
        ["requests", "click", "attrs"],
        '\n[project.optional-dependencies]\npg = ["psycopg[binary]>=3.1"]\n'
        '\n[dependency-groups]\ndev = ["pytest"]\n',
    )
    result = lock_with_retries(cli, project)
    assert result.code == 0, result.err
    raw = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    Pylock.from_dict(raw)
    binary = next(p for p in raw["packages"] if p["name"] == "psycopg-binary")
    win_arm = "sys_platform == 'win32' and platform_machine == 'ARM64'"
    # psycopg-binary publishes no Windows ARM64 wheel (and no sdist): that
    # platform is dropped, said, and recorded; the other five stay.
    assert win_arm not in raw["environments"]
    assert len(raw["environments"]) == 5
    assert (
        f"lockdown: dropped win32/ARM64: psycopg-binary {binary['version']} publishes no wheel "
        "for it and no sdist; set `environments` to choose"
    ) in result.err
    tool = raw["tool"]["lockdown"]
    assert tool["dropped-environments"] == [
        {"environment": win_arm, "package": "psycopg-binary", "version": binary["version"]}
    ]
    assert len(tool["requested-environments"]) == 6
    # Nothing was downloaded to pin the index's digests.
    assert not (artifact_cache / "sha256").exists() or not any(
        (artifact_cache / "sha256").rglob("*")
    )
    assert cli("lock", "--check", "--project", project).code == 0


def test_a_torch_project_locks_with_the_default_config(tmp_path: Path, cli: Cli) -> None:
    project = default_config_project(
        tmp_path / "mlapp", ["torch>=2.4", "transformers", "accelerate", "safetensors"]
    )
    result = lock_with_retries(cli, project)
    assert result.code == 0, result.err
    raw = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    Pylock.from_dict(raw)
    torch = next(p for p in raw["packages"] if p["name"] == "torch")
    mac_intel = "sys_platform == 'darwin' and platform_machine == 'x86_64'"
    # torch stopped publishing macOS Intel wheels before 2.4: that platform goes.
    assert not any(e.startswith(mac_intel) for e in raw["environments"])
    assert (
        f"lockdown: dropped darwin/x86_64: torch {torch['version']} publishes no wheel for it "
        "and no sdist; set `environments` to choose"
    ) in result.err
    for kept in (
        "sys_platform == 'linux' and platform_machine == 'x86_64'",
        "sys_platform == 'linux' and platform_machine == 'aarch64'",
        "sys_platform == 'darwin' and platform_machine == 'arm64'",
        "sys_platform == 'win32' and platform_machine == 'AMD64'",
    ):
        assert any(e.startswith(kept) for e in raw["environments"]), raw["environments"]
    dropped = {d["environment"] for d in raw["tool"]["lockdown"]["dropped-environments"]}
    assert mac_intel in dropped


def test_a_private_name_the_default_index_also_serves_is_caught_on_the_first_lock(
    tmp_path: Path, cli: Cli, package_index: PackageIndex
) -> None:
    # A private index publishing "attrs" (a name the default index serves too):
    # the shape of every dependency-confusion attack, with the real index.
    package_index.add("attrs", "0.0.1")
    default = default_index_url()
    project = tmp_path / "svc"
    project.mkdir()
    pyproject = (
        '[project]\nname = "svc"\nversion = "1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["attrs"]\n\n[tool.lockdown]\n'
        f'extra-index-urls = ["{package_index.url}"]\n'
        "environments = [\"sys_platform == 'linux' and platform_machine == 'x86_64'\"]\n"
    )
    (project / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    blocked = cli("lock", "--project", project)
    assert blocked.code == 3, blocked.err
    assert f"served by more than one index ({default} and {package_index.url})" in blocked.err
    assert not (project / "pylock.toml").exists()
    # Pinned to the default index: locked from there, the private one reported.
    (project / "pyproject.toml").write_text(
        pyproject + f'\n[tool.lockdown.sources]\nattrs = "{default}"\n', encoding="utf-8"
    )
    pinned = cli("lock", "--project", project)
    assert pinned.code == 0, pinned.err
    attrs = next(
        p
        for p in tomllib.loads((project / "pylock.toml").read_text())["packages"]
        if p["name"] == "attrs"
    )
    assert attrs["index"] == default
    assert attrs["tool"]["lockdown"]["also-served-by"] == [package_index.url]
    assert f"attrs 0.0.1 is also published on {package_index.url}; ignored" in pinned.out
