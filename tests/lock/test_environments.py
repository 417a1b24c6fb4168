"""The environments a lock claims: only those its packages can be installed on.

Against the real test index with uv: a wheel-only package that skips a
platform drops that platform from the default environments (or narrows it to
the Pythons it serves); a listed environment it cannot serve is an error.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lockdown._compat import tomllib
from lockdown.config import DEFAULT_ENVIRONMENTS
from tests.conftest import CliResult
from tests.support.pkgindex import PackageIndex

Cli = Callable[..., CliResult]

#: One wheel per default platform, as CPython 3.10-3.12 builds name them.
PLATFORM_TAGS = {
    "linux/x86_64": "manylinux_2_17_x86_64",
    "linux/aarch64": "manylinux_2_17_aarch64",
    "darwin/x86_64": "macosx_10_9_x86_64",
    "darwin/arm64": "macosx_11_0_arm64",
    "win32/AMD64": "win_amd64",
    "win32/ARM64": "win_arm64",
}
WIN_ARM64 = "sys_platform == 'win32' and platform_machine == 'ARM64'"
DARWIN_X86 = "sys_platform == 'darwin' and platform_machine == 'x86_64'"


def wheel_tags(pythons: tuple[str, ...], *, skip: tuple[str, ...] = ()) -> tuple[str, ...]:
    return tuple(
        f"{py}-{py}-{tag}"
        for label, tag in PLATFORM_TAGS.items()
        if label not in skip
        for py in pythons
    )


def write_project(root: Path, index: PackageIndex, deps: list[str], tool: str = "") -> Path:
    root.mkdir()
    extras = ""
    (root / "pyproject.toml").write_text(
        "[project]\n"
        'name = "svc"\n'
        'version = "1.0"\n'
        'requires-python = ">=3.10"\n'
        f"dependencies = {deps!r}\n".replace("'", '"')
        + extras
        + f'\n[tool.lockdown]\nindex-url = "{index.url}"\n{tool}',
        encoding="utf-8",
    )
    return root


def load(project: Path) -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads((project / "pylock.toml").read_text(encoding="utf-8"))
    return data


def test_a_platform_no_wheel_serves_is_dropped_from_the_defaults(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add(
        "binonly", "1.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)), sdist=False
    )
    package_index.add(
        "binonly", "2.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)), sdist=False
    )
    project = write_project(tmp_path / "svc", package_index, ["binonly"])
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert result.err == (
        "lockdown: dropped win32/ARM64: binonly 2.0 publishes no wheel for it and no sdist; "
        "set `environments` to choose\n"
    )
    assert "for 5 environment(s)" in result.out
    lock = load(project)
    assert lock["environments"] == list(DEFAULT_ENVIRONMENTS[:5])
    tool = lock["tool"]["lockdown"]
    assert tool["requested-environments"] == list(DEFAULT_ENVIRONMENTS)
    assert tool["dropped-environments"] == [
        {"environment": WIN_ARM64, "package": "binonly", "version": "2.0"}
    ]
    # lock --check and a re-lock see the same thing: current, byte-identical.
    data = (project / "pylock.toml").read_bytes()
    assert cli("lock", "--check", "--project", project).code == 0
    assert cli("lock", "--project", project).code == 0
    assert (project / "pylock.toml").read_bytes() == data


def test_a_platform_is_narrowed_to_the_pythons_it_can_serve(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    # 3.12 wheels everywhere but macOS on Intel: that platform keeps 3.10 and 3.11.
    tags = wheel_tags(("cp310", "cp311")) + wheel_tags(("cp312",), skip=("darwin/x86_64",))
    package_index.add("binonly", "1.0", wheel_tags=tags, sdist=False)
    project = write_project(tmp_path / "svc", package_index, ["binonly"])
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert result.err == (
        "lockdown: narrowed darwin/x86_64 to the Pythons it can serve (not 3.12): binonly 1.0 "
        "publishes no wheel for Python 3.12 there and no sdist; set `environments` to choose\n"
    )
    environments = load(project)["environments"]
    assert environments == [
        DEFAULT_ENVIRONMENTS[0],
        DEFAULT_ENVIRONMENTS[1],
        f"{DARWIN_X86} and python_full_version < '3.12'",
        *DEFAULT_ENVIRONMENTS[3:],
    ]
    assert load(project)["tool"]["lockdown"]["dropped-environments"] == [
        {"environment": DARWIN_X86, "pythons": ["3.12"], "package": "binonly", "version": "1.0"}
    ]


def test_a_package_only_an_extra_needs_still_drops_the_platform(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    # environments markers cannot name extras: "win32/ARM64 without [pg]" is not
    # expressible, so the platform goes.
    package_index.add(
        "pgbin", "3.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)), sdist=False
    )
    package_index.add("plain", "1.0")
    project = write_project(tmp_path / "svc", package_index, ["plain"])
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    text = text.replace(
        "\n[tool.lockdown]", '\n[project.optional-dependencies]\npg = ["pgbin"]\n\n[tool.lockdown]'
    )
    (project / "pyproject.toml").write_text(text, encoding="utf-8")
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert "dropped win32/ARM64: pgbin 3.0 publishes no wheel for it" in result.err
    assert WIN_ARM64 not in load(project)["environments"]


def test_pure_and_sdist_packages_serve_every_platform(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add("pure", "1.0")
    package_index.add("native", "1.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)))
    project = write_project(tmp_path / "svc", package_index, ["pure", "native"])
    result = cli("lock", "--project", project)
    assert result.code == 0, result.err
    assert result.err == ""
    lock = load(project)
    assert lock["environments"] == list(DEFAULT_ENVIRONMENTS)
    assert "dropped-environments" not in lock["tool"]["lockdown"]


def test_a_listed_environment_that_cannot_be_served_is_an_error(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add(
        "binonly", "1.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)), sdist=False
    )
    listed = f'environments = ["{DEFAULT_ENVIRONMENTS[0]}", "{WIN_ARM64}"]\n'
    project = write_project(tmp_path / "svc", package_index, ["binonly"], tool=listed)
    result = cli("lock", "--project", project)
    assert result.code == 70
    assert result.out == ""
    assert result.err == (
        f'lockdown: error: environment "{WIN_ARM64}" cannot be served: binonly 1.0 publishes '
        "no wheel for it and no sdist; remove it from [tool.lockdown] environments, or "
        "constrain binonly (a marker that leaves that platform out, or a version with a "
        "wheel for it)\n"
    )
    assert not (project / "pylock.toml").exists()


def test_a_failed_listed_environment_leaves_the_old_lock(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add("binonly", "1.0", wheel_tags=wheel_tags(("cp310",)), sdist=False)
    listed = f'environments = ["{DEFAULT_ENVIRONMENTS[0]}", "{WIN_ARM64}"]\n'
    project = write_project(tmp_path / "svc", package_index, ["binonly"], tool=listed)
    assert cli("lock", "--project", project).code == 0
    before = (project / "pylock.toml").read_bytes()
    package_index.add(
        "binonly", "2.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)), sdist=False
    )
    (project / "pyproject.toml").write_text(
        (project / "pyproject.toml").read_text().replace('"binonly"', '"binonly>=2"'),
        encoding="utf-8",
    )
    result = cli("lock", "--project", project)
    assert result.code == 70
    assert "cannot be served: binonly 2.0 publishes no wheel for it" in result.err
    assert (project / "pylock.toml").read_bytes() == before


def test_nothing_servable_is_an_error_and_writes_nothing(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    package_index.add(
        "muslonly", "1.0", wheel_tags=("cp310-cp310-musllinux_1_2_x86_64",), sdist=False
    )
    project = write_project(tmp_path / "svc", package_index, ["muslonly"])
    result = cli("lock", "--project", project)
    assert result.code == 70
    assert result.err.splitlines()[-1] == (
        "lockdown: error: the locked packages cannot be installed on any of the default "
        "platforms: muslonly 1.0 publishes no wheel for linux/x86_64 and no sdist, and the "
        "others fall short the same way; set [tool.lockdown] environments to the platforms "
        "you deploy to"
    )
    assert not (project / "pylock.toml").exists()


@pytest.mark.parametrize("resolver", ["pip-tools"])
def test_a_single_interpreter_resolver_keeps_its_environment(
    tmp_path: Path, package_index: PackageIndex, cli: Cli, resolver: str
) -> None:
    package_index.add("pure", "1.0")
    project = write_project(tmp_path / "svc", package_index, ["pure"])
    result = cli("lock", "--project", project, "--resolver", resolver)
    assert result.code == 0, result.err
    assert len(load(project)["environments"]) == 1


def test_install_on_a_dropped_platform_says_why(
    tmp_path: Path, package_index: PackageIndex, cli: Cli
) -> None:
    from packaging.markers import default_environment

    here = default_environment()
    if (here["sys_platform"], here["platform_machine"]) != ("linux", "x86_64"):
        pytest.fail("this test drops linux/x86_64, the platform it expects to run on")
    package_index.add(
        "binonly", "1.0", wheel_tags=wheel_tags(("cp310",), skip=("linux/x86_64",)), sdist=False
    )
    project = write_project(tmp_path / "svc", package_index, ["binonly"])
    assert cli("lock", "--project", project).code == 0
    venv = tmp_path / "venv"
    result = cli("install", "--project", project, "--venv", venv)
    assert result.code == 16
    assert result.err.endswith(
        "lockdown lock left it out because binonly 1.0 publishes no wheel for it and no sdist; "
        "constrain binonly, or list the environments you need in [tool.lockdown] "
        "environments and re-lock\n"
    )
    assert not venv.exists()


def test_init_writes_the_environments_lock_would_use_and_why(
    tmp_path: Path, package_index: PackageIndex
) -> None:
    from lockdown.commands.init import init
    from lockdown.commands.lock import plan_environments
    from lockdown.config import load_config
    from lockdown.progress import Reporter

    package_index.add(
        "binonly", "1.0", wheel_tags=wheel_tags(("cp310",), skip=("win32/ARM64",)), sdist=False
    )
    project = tmp_path / "svc"
    project.mkdir()
    original = (
        '[project]\nname = "svc"\nversion = "1.0"\nrequires-python = ">=3.10"\n'
        'dependencies = ["binonly"]\n'
    )
    (project / "pyproject.toml").write_text(original, encoding="utf-8")
    # What `lockdown init` runs, pointed at the test index instead of the default one.
    init(
        project,
        plan_environments=lambda p: plan_environments(
            p, Reporter(quiet=True), index_url=package_index.url
        ),
    )
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    assert text.startswith(original)
    assert (
        "# Windows, each on x86_64 and arm64) against this project's packages:\n"
        "#   dropped win32/ARM64: binonly 1.0 publishes no wheel for it and no sdist\n"
    ) in text
    config, _ = load_config(project)
    assert config.environments_explicit
    assert config.environments == DEFAULT_ENVIRONMENTS[:5]


def test_init_without_dependencies_leaves_the_defaults_as_a_comment(
    tmp_path: Path, cli: Cli
) -> None:
    from lockdown.config import load_config

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    result = cli("init", "--project", tmp_path)
    assert result.code == 0, result.err
    text = (tmp_path / "pyproject.toml").read_text(encoding="utf-8")
    assert "\n# environments = [\n" in text
    config, _ = load_config(tmp_path)
    assert not config.environments_explicit
