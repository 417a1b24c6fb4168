"""The lock records its dependency graph: PEP 751 ``dependencies`` on every package."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from lockdown._compat import tomllib
from lockdown.resolve.piptools import Pin, dependencies_of
from lockdown.resolve.uv import uv_lock_graph
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


def graph(lock: Path) -> dict[str, list[dict[str, Any]]]:
    raw = tomllib.loads(lock.read_text(encoding="utf-8"))
    Pylock.from_dict(raw).validate()
    return {f"{p['name']}=={p['version']}": p["dependencies"] for p in raw["packages"]}


def test_uv_lock_records_the_graph(locked: Path) -> None:
    assert graph(locked / "pylock.toml") == {
        "alpha==1.1": [{"name": "beta"}],
        "beta==1.1": [],
        "devtool==0.5": [],
        "gamma==1.0": [],
        "speedup==2.0": [{"name": "beta"}],
        "winonly==1.0": [],
    }


@pytest.mark.slow
def test_pip_tools_lock_records_the_graph(project: Path, cli: Cli) -> None:
    result = cli("lock", "--project", project, "--resolver", "pip-tools")
    assert result.code == 0, result.err
    assert graph(project / "pylock.toml") == {
        "alpha==1.1": [{"name": "beta"}],
        "beta==1.1": [],
        "devtool==0.5": [],
        "gamma==1.0": [],
        "speedup==2.0": [{"name": "beta"}],
    }


def test_a_name_locked_twice_is_named_with_its_version(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add("beta", "1.0")
    package_index.add("beta", "2.0")
    package_index.add("alpha", "1.0", dependencies=["beta"])
    root = tmp_path / "forked"
    root.mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "forked"\nversion = "1"\nrequires-python = ">=3.10"\n'
        'dependencies = ["alpha", "beta<2; sys_platform == \'win32\'", '
        "\"beta>=2; sys_platform != 'win32'\"]\n"
        f'[tool.lockdown]\nindex-url = "{package_index.url}"\n',
        encoding="utf-8",
    )
    assert cli("lock", "--project", root).code == 0
    assert graph(root / "pylock.toml") == {
        "alpha==1.0": [{"name": "beta", "version": "1.0"}, {"name": "beta", "version": "2.0"}],
        "beta==1.0": [],
        "beta==2.0": [],
    }


def test_the_graph_keeps_the_lock_deterministic(locked: Path, cli: Cli) -> None:
    lock = locked / "pylock.toml"
    before = lock.read_bytes()
    result = cli("lock", "--project", locked, "--upgrade")
    assert result.code == 0, result.err
    assert lock.read_bytes() == before


def test_uv_lock_graph_reads_uv_lock() -> None:
    # The one contact with uv's own format: fails here first if uv changes it.
    text = """
version = 1
[[package]]
name = "svc"
version = "0"
source = { virtual = "." }
dependencies = [{ name = "alpha" }]

[[package]]
name = "Alpha"
version = "1.1"
source = { registry = "http://127.0.0.1/simple" }
dependencies = [{ name = "beta", version = "2.0", marker = "sys_platform != 'win32'" }]

[package.optional-dependencies]
fast = [{ name = "speedup" }]
"""
    assert uv_lock_graph(text) == {("alpha", "1.1"): {("beta", "2.0"), ("speedup", None)}}


def test_pip_compile_via_read_the_other_way_round() -> None:
    pins = {
        "alpha": Pin(name="alpha", version="1", via={"-r base.in"}),
        "beta": Pin(name="beta", version="1", via={"alpha", "speedup[fast]", "-c prefs.txt"}),
        "speedup": Pin(name="speedup", version="2", via={"-r extra-fast.in"}),
    }
    assert dependencies_of(pins) == {"alpha": {"beta"}, "beta": set(), "speedup": {"beta"}}
