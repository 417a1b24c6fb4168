"""``lockdown lock`` end to end against the real test index, with both resolver backends."""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from packaging.pylock import Pylock

from lockdown._compat import tomllib
from lockdown.commands.lock import lock_project
from lockdown.resolve.piptools import current_environment_marker
from lockdown.resolve.state import RESOLVER_STATE_MAX_AGE, RESOLVER_STATES_KEPT
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    return data


def packages_by_name(lock: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in lock["packages"]}


def served_sha256(index: PackageIndex, filename: str) -> str:
    return hashlib.sha256((index.root / "files" / filename).read_bytes()).hexdigest()


def test_lock_with_uv_pins_every_artifact(project: Path, catalog: PackageIndex, cli: Cli) -> None:
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert "locked 6 packages" in result.out
    lock = load(project / "pylock.toml")
    Pylock.from_dict(lock)  # a valid PEP 751 lock
    assert lock["lock-version"] == "1.0"
    assert lock["created-by"] == "lockdown"
    assert lock["requires-python"] == ">=3.10"
    assert len(lock["environments"]) == 6
    assert lock["extras"] == ["fast"]
    assert lock["dependency-groups"] == ["dev"]
    assert lock["default-groups"] == []
    pkgs = packages_by_name(lock)
    assert {n: p["version"] for n, p in pkgs.items()} == {
        "alpha": "1.1",
        "beta": "1.1",
        "devtool": "0.5",
        "gamma": "1.0",
        "speedup": "2.0",
        "winonly": "1.0",
    }
    # Every artifact: absolute URL on the index, the real size, sha256 and upload time.
    for package in pkgs.values():
        artifacts = [
            *package.get("wheels", []),
            *([package["sdist"]] if "sdist" in package else []),
        ]
        assert artifacts, package["name"]
        assert package["index"] == catalog.url
        for artifact in artifacts:
            filename = artifact["url"].rsplit("/", 1)[-1]
            assert artifact["url"] == catalog.files_url + filename
            assert artifact["hashes"]["sha256"] == served_sha256(catalog, filename)
            assert artifact["size"] == (catalog.root / "files" / filename).stat().st_size
            assert artifact["upload-time"] == catalog.file(filename).upload_time
    # gamma's wheels are per platform; all four are kept (all are locked platforms).
    assert len(pkgs["gamma"]["wheels"]) == 4
    tool = lock["tool"]["lockdown"]
    assert tool["resolver"] == "uv"
    assert tool["indexes"] == [catalog.url]
    assert tool["input-digest"].startswith("sha256:")


def test_markers_say_which_extra_group_or_platform_needs_a_package(project: Path, cli: Cli) -> None:
    assert cli("lock", "--project", project).code == 0
    pylock = Pylock.from_dict(load(project / "pylock.toml"))
    linux = {
        "sys_platform": "linux",
        "platform_machine": "x86_64",
        "python_full_version": "3.11.7",
        "python_version": "3.11",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "os_name": "posix",
        "platform_system": "Linux",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": "3.11.7",
    }
    windows = linux | {"sys_platform": "win32", "platform_machine": "AMD64", "os_name": "nt"}

    def names(env: dict[str, str], extras: set[str], groups: set[str]) -> set[str]:
        context: dict[str, Any] = env | {
            "extras": frozenset(extras),
            "dependency_groups": frozenset(groups),
        }
        return {
            str(p.name)
            for p in pylock.packages
            if p.marker is None or p.marker.evaluate(context, "lock_file")
        }

    assert names(linux, set(), set()) == {"alpha", "beta", "gamma"}
    assert names(windows, set(), set()) == {"alpha", "beta", "gamma", "winonly"}
    assert names(linux, {"fast"}, set()) == {"alpha", "beta", "gamma", "speedup"}
    assert names(linux, set(), {"dev"}) == {"alpha", "beta", "gamma", "devtool"}


def test_lock_is_byte_identical_when_repeated(project: Path, cli: Cli) -> None:
    assert cli("lock", "--project", project).code == 0
    first = (project / "pylock.toml").read_bytes()
    again = cli("lock", "--project", project)
    assert again.code == 0
    assert "(unchanged)" in again.out
    (project / "pylock.toml").unlink()
    assert cli("lock", "--project", project).code == 0
    assert (project / "pylock.toml").read_bytes() == first


def test_yanked_release_is_not_locked(project: Path, catalog: PackageIndex, cli: Cli) -> None:
    catalog.yank("alpha", "1.1", reason="broken")
    assert cli("lock", "--project", project).code == 0
    assert packages_by_name(load(project / "pylock.toml"))["alpha"]["version"] == "1.0"


def test_lock_check_compares_inputs_without_network(
    project: Path, catalog: PackageIndex, cli: Cli
) -> None:
    missing = cli("lock", "--check", "--project", project)
    assert missing.code == 1
    assert missing.err == "lockdown: pylock.toml does not exist; run lockdown lock\n"
    assert cli("lock", "--project", project).code == 0
    catalog.stop()  # --check must not need the index
    before = len(catalog.requests)
    current = cli("lock", "--check", "--project", project)
    assert (current.code, current.out) == (0, "pylock.toml is up to date\n")
    assert len(catalog.requests) == before
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace('"alpha>=1"', '"alpha>=1.1"'), encoding="utf-8"
    )
    stale = cli("lock", "--check", "--project", project)
    assert stale.code == 1
    assert "pylock.toml is stale: the dependencies or lock settings changed" in stale.err


def test_lock_check_ignores_formatting_changes(project: Path, cli: Cli) -> None:
    assert cli("lock", "--project", project).code == 0
    pyproject = project / "pyproject.toml"
    pyproject.write_text("# a comment\n" + pyproject.read_text(), encoding="utf-8")
    assert cli("lock", "--check", "--project", project).code == 0


def test_pip_tools_backend_has_the_same_shape(
    project: Path, catalog: PackageIndex, cli: Cli
) -> None:
    result = cli("lock", "--project", project, "--resolver", "pip-tools")
    assert result.code == 0, result.err
    assert "pip-tools resolves for this interpreter only" in result.err
    lock = load(project / "pylock.toml")
    Pylock.from_dict(lock)
    # Honest coverage: exactly the interpreter that ran pip-compile.
    assert lock["environments"] == [current_environment_marker()]
    assert lock["tool"]["lockdown"]["resolver"] == "pip-tools"
    pkgs = packages_by_name(lock)
    assert set(pkgs) == {"alpha", "beta", "gamma", "speedup", "devtool"}  # no win32 package
    assert pkgs["speedup"]["marker"] == "'fast' in extras"
    assert pkgs["devtool"]["marker"] == "'dev' in dependency_groups"
    assert "marker" not in pkgs["beta"]  # needed by the base (via alpha)
    # Only wheels this interpreter can install are kept, plus the sdist.
    gamma_wheels = [w["url"].rsplit("/", 1)[-1] for w in pkgs["gamma"]["wheels"]]
    assert gamma_wheels == ["gamma-1.0-py3-none-manylinux_2_17_x86_64.whl"]
    for package in pkgs.values():
        for artifact in [*package.get("wheels", []), package["sdist"]]:
            filename = artifact["url"].rsplit("/", 1)[-1]
            assert artifact["hashes"]["sha256"] == served_sha256(catalog, filename)
            assert artifact["size"] > 0
            assert isinstance(artifact["upload-time"], datetime)


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_html_only_index_omits_what_it_does_not_say(
    project: Path, catalog: PackageIndex, cli: Cli, resolver: str
) -> None:
    catalog.json_api = False
    result = cli("lock", "--project", project, "--resolver", resolver)
    assert result.code == 0, result.err
    for package in load(project / "pylock.toml")["packages"]:
        for artifact in [*package.get("wheels", []), package["sdist"]]:
            filename = artifact["url"].rsplit("/", 1)[-1]
            # No upload time from an HTML page: left out, never invented...
            assert "upload-time" not in artifact
            # ...but the size is measured from the verified file itself.
            assert artifact["size"] == (catalog.root / "files" / filename).stat().st_size
            assert artifact["hashes"]["sha256"] == served_sha256(catalog, filename)


def cached_digests(cache: Path) -> set[str]:
    """The sha256 of every file lockdown's artifact cache holds."""
    return {p.name for p in (cache / "sha256").glob("*/*")} if cache.exists() else set()


def test_a_default_lock_pins_the_declared_digests_without_downloading(
    project: Path, catalog: PackageIndex, cli: Cli, artifact_cache: Path
) -> None:
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    # The index declares every sha256 and size: lockdown downloads nothing itself.
    assert cached_digests(artifact_cache) == set()
    for package in load(project / "pylock.toml")["packages"]:
        for artifact in [*package.get("wheels", []), package["sdist"]]:
            filename = artifact["url"].rsplit("/", 1)[-1]
            assert artifact["size"] == (catalog.root / "files" / filename).stat().st_size
            assert artifact["hashes"]["sha256"] == served_sha256(catalog, filename)


def test_files_without_a_declared_size_are_downloaded_and_hashed(
    project: Path, catalog: PackageIndex, cli: Cli, artifact_cache: Path
) -> None:
    catalog.sizes = False
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    lock = load(project / "pylock.toml")
    pinned = {
        a["hashes"]["sha256"]: a
        for p in lock["packages"]
        for a in [*p.get("wheels", []), p["sdist"]]
    }
    assert cached_digests(artifact_cache) == set(pinned)
    for artifact in pinned.values():
        filename = artifact["url"].rsplit("/", 1)[-1]
        assert artifact["size"] == (catalog.root / "files" / filename).stat().st_size


def test_verify_artifacts_all_downloads_every_pinned_file(
    project: Path, catalog: PackageIndex, cli: Cli, artifact_cache: Path
) -> None:
    result = cli("lock", "--project", project, "--verify-artifacts", "all")
    assert result.code == 0, result.err
    lock = load(project / "pylock.toml")
    pinned = {
        a["hashes"]["sha256"] for p in lock["packages"] for a in [*p.get("wheels", []), p["sdist"]]
    }
    assert cached_digests(artifact_cache) == pinned


def test_verify_artifacts_host_downloads_what_this_machine_installs(
    project: Path, catalog: PackageIndex, cli: Cli, artifact_cache: Path
) -> None:
    from packaging.markers import default_environment

    if (default_environment()["sys_platform"], default_environment()["platform_machine"]) != (
        "linux",
        "x86_64",
    ):
        pytest.fail("this test expects to run on linux/x86_64 (the catalog's wheels are chosen so)")
    result = cli("lock", "--project", project, "--verify-artifacts", "host")
    assert result.code == 0, result.err
    # Every extra and group, this platform's best file of each: the pure wheels,
    # gamma's manylinux x86_64 wheel; nothing of winonly (win32 only), no sdist.
    expected = {
        served_sha256(catalog, name)
        for name in (
            "alpha-1.1-py3-none-any.whl",
            "beta-1.1-py3-none-any.whl",
            "gamma-1.0-py3-none-manylinux_2_17_x86_64.whl",
            "speedup-2.0-py3-none-any.whl",
            "devtool-0.5-py3-none-any.whl",
        )
    }
    assert cached_digests(artifact_cache) == expected


def test_the_insecure_flag_is_gone(project: Path, cli: Cli) -> None:
    result = cli("lock", "--project", project, "--insecure-no-verify-artifacts")
    assert result.code == 64
    assert "unrecognized arguments: --insecure-no-verify-artifacts" in result.err
    assert not (project / "pylock.toml").exists()


def test_upload_time_is_utc(project: Path, catalog: PackageIndex, cli: Cli) -> None:
    assert cli("lock", "--project", project).code == 0
    for package in load(project / "pylock.toml")["packages"]:
        for wheel in package.get("wheels", []):
            assert wheel["upload-time"].tzinfo is not None
            assert wheel["upload-time"].utcoffset() == timezone.utc.utcoffset(None)


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_requirements_in_project(
    tmp_path: Path, catalog: PackageIndex, cli: Cli, resolver: str
) -> None:
    (tmp_path / "requirements.in").write_text("alpha==1.0\n", encoding="utf-8")
    (tmp_path / "lockdown.toml").write_text(
        f'requirements = ["requirements.in"]\nindex-url = "{catalog.url}"\n'
        f'requires-python = ">=3.10"\nresolver = "{resolver}"\n',
        encoding="utf-8",
    )
    result = cli("lock", "--project", tmp_path)
    assert result.code == 0, result.err
    pkgs = packages_by_name(load(tmp_path / "pylock.toml"))
    assert {n: p["version"] for n, p in pkgs.items()} == {"alpha": "1.0"}


def test_concurrent_locks_on_one_project_are_serialized(project: Path) -> None:
    """Two ``lock`` runs at once: both succeed, the file is whole and valid."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda _i: lock_project(project), range(2)))
    assert sorted(o.changed for o in outcomes) == [False, True]
    Pylock.from_dict(load(project / "pylock.toml"))
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []


def test_a_relock_that_moves_nothing_starts_from_uvs_previous_resolution(
    project: Path, catalog: PackageIndex, cli: Cli, artifact_cache: Path
) -> None:
    # From the second lock on, uv keeps its own lock and asks the index nothing.
    assert cli("lock", "--project", project).code == 0
    data = (project / "pylock.toml").read_bytes()
    kept = artifact_cache / "resolver-state" / "uv" / hashlib.sha256(data).hexdigest()
    assert kept.read_bytes().startswith(b"version = ")
    catalog.pages_served.clear()
    assert cli("lock", "--project", project).code == 0
    assert (project / "pylock.toml").read_bytes() == data
    assert catalog.pages_served == []
    # --upgrade resolves afresh against the index.
    assert cli("lock", "--project", project, "--upgrade").code == 0
    assert catalog.pages_served != []


def test_kept_resolutions_are_bounded_and_the_one_in_use_stays(
    project: Path, cli: Cli, artifact_cache: Path
) -> None:
    assert cli("lock", "--project", project).code == 0
    data = (project / "pylock.toml").read_bytes()
    states = artifact_cache / "resolver-state" / "uv"
    kept = states / hashlib.sha256(data).hexdigest()
    # Other projects' states, all newer than this one's but one very old.
    os.utime(kept, (time.time() - 3600, time.time() - 3600))
    for number in range(RESOLVER_STATES_KEPT + 5):
        (states / f"{number:064x}").write_bytes(b"version = 1\n")
    stale = states / ("f" * 64)
    stale.write_bytes(b"version = 1\n")
    month = time.time() - RESOLVER_STATE_MAX_AGE - 60
    os.utime(stale, (month, month))
    # A re-lock reads this project's state (now the newest) and saves it again.
    assert cli("lock", "--project", project).code == 0
    left = sorted(p.name for p in states.iterdir())
    assert len(left) == RESOLVER_STATES_KEPT
    assert kept.name in left
    assert stale.name not in left


def test_a_damaged_kept_resolution_only_costs_the_head_start(
    project: Path, catalog: PackageIndex, cli: Cli, artifact_cache: Path
) -> None:
    assert cli("lock", "--project", project).code == 0
    data = (project / "pylock.toml").read_bytes()
    kept = artifact_cache / "resolver-state" / "uv" / hashlib.sha256(data).hexdigest()
    kept.write_bytes(b"not a uv.lock [[[\n")
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert (project / "pylock.toml").read_bytes() == data
