"""Dependency confusion on two real local indexes: one index per package, shadows found and named.

Both attack shapes: the genuine ``acme-util 0.2.0`` on the extra index with a
higher-versioned impostor on the main index (the shape pip's "highest version
wins" falls for), and the reverse (the shape uv's "first index wins" falls
for). The impostor's module raises on import, so any test that installs what
was locked and imports it catches an impostor that got through.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from lockdown._compat import tomllib
from tests.conftest import CliResult
from tests.support.gitrepo import git
from tests.support.isolation import isolated_env
from tests.support.pkgindex import PackageIndex, build_wheel

pytestmark = pytest.mark.slow

Cli = Callable[..., CliResult]

IMPOSTOR_MODULE = b'raise RuntimeError("impostor acme-util imported: dependency confusion")\n'

PROJECT = """\
[project]
name = "svc"
version = "1.0"
requires-python = ">=3.10"
dependencies = ["{requirement}", "beta"]

[tool.lockdown]
index-url = "{main}"
extra-index-urls = ["{extra}"]
resolver = "{resolver}"
environments = ["sys_platform == 'linux' and platform_machine == 'x86_64'"]
"""


@dataclass(frozen=True)
class Indexes:
    """The two indexes of one test, and which one the genuine package lives on."""

    main: PackageIndex
    extra: PackageIndex
    #: "extra": genuine on the extra index, impostor on main; "main": the reverse.
    genuine_on: str

    @property
    def genuine(self) -> PackageIndex:
        return self.extra if self.genuine_on == "extra" else self.main

    @property
    def other(self) -> PackageIndex:
        return self.main if self.genuine_on == "extra" else self.extra

    def upload_impostor(self, tmp_path: Path) -> None:
        """Publish acme-util 9.9.9, whose import raises, on the other index."""
        wheel = build_wheel(
            tmp_path / "impostor-build",
            "acme-util",
            "9.9.9",
            files={"acme_util/__init__.py": IMPOSTOR_MODULE},
        )
        self.other.publish(wheel)


@pytest.fixture(params=["extra", "main"], ids=["genuine-on-extra", "genuine-on-main"])
def indexes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Indexes]:
    """Two started indexes; beta on main, the genuine acme-util on one of them."""
    with PackageIndex(tmp_path / "main") as main, PackageIndex(tmp_path / "extra") as extra:
        main.add("beta", "1.0")
        both = Indexes(main=main, extra=extra, genuine_on=str(request.param))
        both.genuine.add("acme-util", "0.2.0")
        yield both


def make_project(
    tmp_path: Path,
    indexes: Indexes,
    resolver: str,
    *,
    sources: str = "",
    requirement: str = "acme-util",
) -> Path:
    root = tmp_path / "svc"
    root.mkdir(exist_ok=True)
    text = PROJECT.format(
        requirement=requirement,
        main=indexes.main.url,
        extra=indexes.extra.url,
        resolver=resolver,
    )
    if sources:
        text += f"\n[tool.lockdown.sources]\n{sources}\n"
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return root


def locked(project: Path) -> dict[str, dict[str, object]]:
    data = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    return {str(p["name"]): p for p in data["packages"]}


def import_in_venv(cli: Cli, project: Path, venv: Path) -> subprocess.CompletedProcess[str]:
    """Install the lock into a fresh venv and import acme_util there."""
    installed = cli("install", "--project", project, "--venv", venv)
    assert installed.code == 0, installed.err
    return subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import acme_util; print(acme_util.__version__)"],
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=False,
    )


# --- first lock ---


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_first_lock_of_a_name_both_indexes_serve_is_blocked_and_names_the_fix(
    tmp_path: Path, indexes: Indexes, cli: Cli, resolver: str
) -> None:
    indexes.upload_impostor(tmp_path)
    project = make_project(tmp_path, indexes, resolver)
    result = cli("lock", "--project", project)
    assert result.code == 3, result.err
    assert not (project / "pylock.toml").exists()
    blocked = [line for line in result.err.splitlines() if "BLOCKED" in line]
    assert len(blocked) == 1
    line = blocked[0]
    # Whichever index the resolver took it from, the line names both and the pin.
    assert f"served by more than one index ({indexes.main.url} and {indexes.extra.url})" in line
    assert "acme-util 9.9.9" in line or "acme-util 0.2.0" in line
    taken = indexes.other.url if "acme-util 9.9.9" in line else indexes.genuine.url
    assert line.endswith(f'pin it in [tool.lockdown.sources]: acme-util = "{taken}")')
    # No approval admits it: the fix is a pin, not `lockdown approve`.
    assert "lockdown approve" not in result.err


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_first_lock_with_one_index_serving_the_name_is_not_judged_ambiguous(
    tmp_path: Path, indexes: Indexes, cli: Cli, resolver: str
) -> None:
    project = make_project(tmp_path, indexes, resolver)
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    packages = locked(project)
    assert packages["acme-util"]["index"] == indexes.genuine.url
    assert "tool" not in packages["acme-util"]
    assert "also published" not in result.out


def test_first_lock_pinned_with_uv_resolves_from_the_pin_and_reports_the_shadow(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    indexes.upload_impostor(tmp_path)
    genuine = indexes.genuine.url
    project = make_project(tmp_path, indexes, "uv", sources=f'acme-util = "{genuine}"')
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    packages = locked(project)
    assert (packages["acme-util"]["version"], packages["acme-util"]["index"]) == (
        "0.2.0",
        genuine,
    )
    assert packages["acme-util"]["tool"] == {"lockdown": {"also-served-by": [indexes.other.url]}}
    assert (
        f"acme-util 9.9.9 is also published on {indexes.other.url}; ignored, locked 0.2.0 "
        f"from {genuine} (pinned in [tool.lockdown.sources])"
    ) in result.out
    imported = import_in_venv(cli, project, tmp_path / "venv")
    assert (imported.returncode, imported.stdout.strip()) == (0, "0.2.0"), imported.stderr


def test_first_lock_pinned_with_pip_tools_refuses_what_pip_took_elsewhere(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    # pip-compile merges both indexes and takes the highest version: the impostor.
    indexes.upload_impostor(tmp_path)
    genuine = indexes.genuine.url
    project = make_project(tmp_path, indexes, "pip-tools", sources=f'acme-util = "{genuine}"')
    result = cli("lock", "--project", project)
    assert result.code == 3, result.err
    assert not (project / "pylock.toml").exists()
    assert (
        f"acme-util 9.9.9 (resolved from {indexes.other.url}, but [tool.lockdown.sources] "
        f"pins it to {genuine}"
    ) in result.err


def test_first_lock_pinned_with_pip_tools_locks_a_pinned_version_from_the_pin(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    # The documented way with pip-tools: pin the version too.
    indexes.upload_impostor(tmp_path)
    genuine = indexes.genuine.url
    project = make_project(
        tmp_path,
        indexes,
        "pip-tools",
        sources=f'acme-util = "{genuine}"',
        requirement="acme-util==0.2.0",
    )
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert locked(project)["acme-util"]["index"] == genuine
    imported = import_in_venv(cli, project, tmp_path / "venv")
    assert (imported.returncode, imported.stdout.strip()) == (0, "0.2.0"), imported.stderr


# --- re-lock ---


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
def test_a_shadow_upload_after_the_first_lock_is_a_finding_not_a_blocker(
    tmp_path: Path, indexes: Indexes, cli: Cli, resolver: str
) -> None:
    project = make_project(tmp_path, indexes, resolver)
    assert cli("lock", "--project", project).code == 0
    before = locked(project)
    indexes.upload_impostor(tmp_path)
    # An unrelated change: a new dependency.
    indexes.main.add("gamma", "1.0")
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    (project / "pyproject.toml").write_text(text.replace('"beta"]', '"beta", "gamma"]'))
    result = cli("lock", "--project", project)
    assert result.code == 3, result.err  # gamma is a new package: it needs its approval
    assert [ln for ln in result.err.splitlines() if "BLOCKED" in ln] == [
        "  BLOCKED  gamma (new) 1.0 (new package; needs approval)"
    ]
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text()
        + '\n[tool.lockdown.policy]\nauto-approve = ["new"]\n'
    )
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    # The locked version was never given up on the way (no "relaxing" of preferences).
    assert "relaxing" not in result.err
    after = locked(project)
    assert after["acme-util"]["version"] == before["acme-util"]["version"] == "0.2.0"
    assert after["acme-util"]["index"] == indexes.genuine.url
    assert after["acme-util"]["tool"] == {"lockdown": {"also-served-by": [indexes.other.url]}}
    assert (
        f"acme-util 9.9.9 is also published on {indexes.other.url}; ignored, locked 0.2.0 "
        f"from {indexes.genuine.url} (kept from the lock)"
    ) in result.out
    imported = import_in_venv(cli, project, tmp_path / "venv")
    assert (imported.returncode, imported.stdout.strip()) == (0, "0.2.0"), imported.stderr


def test_an_upgrade_after_a_shadow_upload_stays_on_the_locked_index(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    project = make_project(tmp_path, indexes, "uv")
    assert cli("lock", "--project", project).code == 0
    indexes.upload_impostor(tmp_path)
    # --upgrade drops every kept version: only the pin keeps the impostor out.
    result = cli("lock", "--project", project, "--upgrade")
    assert result.code == 0, result.err
    # uv searches the extra index first: from there it took the impostor, and was
    # told to resolve again with the pin; from the main index it never saw it.
    repinned = "acme-util now also served by another index; resolving again" in result.err
    assert repinned == (indexes.genuine_on == "main")
    assert locked(project)["acme-util"]["index"] == indexes.genuine.url
    assert locked(project)["acme-util"]["version"] == "0.2.0"
    imported = import_in_venv(cli, project, tmp_path / "venv")
    assert (imported.returncode, imported.stdout.strip()) == (0, "0.2.0"), imported.stderr
    # Recorded now: the next re-lock pins it before resolving, and says nothing new.
    again = cli("lock", "--project", project, "--upgrade")
    assert again.code == 0, again.err
    assert "resolving again" not in again.err
    assert "also published" in again.out


def test_diff_reports_the_recorded_shadow_in_every_format(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    project = make_project(tmp_path, indexes, "uv")
    assert cli("lock", "--project", project).code == 0
    old = tmp_path / "old-pylock.toml"
    old.write_bytes((project / "pylock.toml").read_bytes())
    indexes.upload_impostor(tmp_path)
    assert cli("lock", "--project", project).code == 0
    finding = (
        f"acme-util is also published on {indexes.other.url}; ignored, locked 0.2.0 from "
        f"{indexes.genuine.url} (kept from the lock)"
    )
    text = cli("diff", "--project", project, old)
    assert text.code == 0, text.err
    assert f"  note     {finding}" in text.out
    markdown = cli("diff", "--project", project, old, "--format", "markdown")
    assert f"- {finding}" in markdown.out
    document = json.loads(cli("diff", "--project", project, old, "--format", "json").out)
    assert document["findings"] == [finding]


# --- bad pins ---


def test_a_pin_to_an_index_that_is_not_configured_is_a_usage_error(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    project = make_project(
        tmp_path, indexes, "uv", sources='acme-util = "https://elsewhere.invalid/simple"'
    )
    result = cli("lock", "--project", project)
    assert result.code == 64
    assert result.err.startswith(
        f"lockdown: error: {project / 'pyproject.toml'}: [tool.lockdown] sources.acme-util: "
        "https://elsewhere.invalid/simple/ is not one of the configured indexes"
    )
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml"]


def test_a_pin_outside_allowed_indexes_is_a_usage_error(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    project = make_project(tmp_path, indexes, "uv", sources=f'acme-util = "{indexes.extra.url}"')
    path = project / "pyproject.toml"
    policy = f'\n[tool.lockdown.policy]\nallowed-indexes = ["{indexes.main.url}"]\n'
    path.write_text(path.read_text(encoding="utf-8") + policy, encoding="utf-8")
    result = cli("lock", "--project", project)
    assert result.code == 64
    assert (
        f"[tool.lockdown] sources.acme-util: {indexes.extra.url} is not in allowed-indexes"
        in result.err
    )
    assert sorted(p.name for p in project.iterdir()) == ["pyproject.toml"]


# --- diff --base: an origin change comes first ---


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_diff_base_shows_a_package_moved_to_another_index_first(
    tmp_path: Path, indexes: Indexes, cli: Cli
) -> None:
    project = make_project(tmp_path, indexes, "uv")
    assert cli("lock", "--project", project).code == 0
    git(project, "init", "-q")
    git(project, "add", "pylock.toml", "pyproject.toml")
    git(project, "commit", "-q", "-m", "lock")
    # A pull request that moves acme-util to the other index (a hand-edited lock).
    path = project / "pylock.toml"
    genuine, other = indexes.genuine.url, indexes.other.url
    text = path.read_text(encoding="utf-8")
    start = text.index('name = "acme-util"')
    end = text.index("[[packages]]", start)
    block = text[start:end]
    assert f'index = "{genuine}"' in block
    moved = text[:start] + block.replace(genuine, other) + text[end:]
    path.write_text(moved, encoding="utf-8")
    origin = f"acme-util 0.2.0: index changed from {genuine} to {other}"
    result = cli("diff", "--project", project, "--base", "HEAD")
    assert result.code == 3
    assert result.out.splitlines()[0] == f"  ORIGIN   {origin}"
    markdown = cli("diff", "--project", project, "--base", "HEAD", "--format", "markdown")
    assert markdown.out.startswith("**lockdown: 1 blocked** (1 change, 1 origin change)\n")
    assert f"**Origin changes** (a package from another index):\n\n- {origin}\n" in markdown.out
    document = json.loads(
        cli("diff", "--project", project, "--base", "HEAD", "--format", "json").out
    )
    assert document["origin_changes"] == 1
    assert document["changes"][0]["origin_change"] == f"index changed from {genuine} to {other}"


# --- install and check: each package's index is one the lock recorded ---


def _move_in_lock(project: Path, name: str, old: str, new: str) -> bytes:
    """Point ``name``'s recorded index at ``new`` in the lock (a hand edit); the new bytes."""
    path = project / "pylock.toml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f'name = "{name}"')
    end = text.index("[[packages]]", start) if "[[packages]]" in text[start:] else len(text)
    block = text[start:end]
    assert f'index = "{old}"' in block
    moved = block.replace(f'index = "{old}"', f'index = "{new}"')
    path.write_text(text[:start] + moved + text[end:], encoding="utf-8")
    return path.read_bytes()


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("elsewhere", "is not one of the lock's indexes"),
        ("other", "is not its [tool.lockdown] sources pin"),
    ],
)
def test_install_and_check_refuse_a_package_moved_off_its_recorded_index(
    tmp_path: Path, indexes: Indexes, cli: Cli, where: str, problem: str
) -> None:
    genuine = indexes.genuine.url
    project = make_project(tmp_path, indexes, "uv", sources=f'acme-util = "{genuine}"')
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "venv"
    assert cli("install", "--project", project, "--venv", venv).code == 0
    target = "https://elsewhere.invalid/simple/" if where == "elsewhere" else indexes.other.url
    _move_in_lock(project, "acme-util", genuine, target)
    installed = sorted(p.name for p in (venv / "lib").glob("python3*/site-packages/*"))
    for command in ("install", "check"):
        result = cli(command, "--project", project, "--venv", venv)
        assert result.code == 16, (command, result.err)
        assert f"packages[0] (acme-util): index {target} {problem}" in result.err, result.err
    # The refused install changed nothing in the environment.
    assert sorted(p.name for p in (venv / "lib").glob("python3*/site-packages/*")) == installed
