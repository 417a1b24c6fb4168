"""Config: [tool.lockdown] and lockdown.toml into a validated Config; every bad key named."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.config import DEFAULT_ENVIRONMENTS, load_config
from lockdown.errors import ConfigError, InputError


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_tool_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "svc"\nversion = "1"\n')
    config, pyproject = load_config(tmp_path)
    assert config.environments == DEFAULT_ENVIRONMENTS
    assert not config.environments_explicit
    assert config.resolver == "uv"
    assert config.output == "pylock.toml"
    assert config.output_path == tmp_path / "pylock.toml"
    assert config.index_url is None
    assert config.extras is None  # all declared extras
    assert config.dependency_groups is None
    assert config.default_groups == ()
    assert pyproject["project"]["name"] == "svc"


def test_default_environments_cover_three_systems_on_two_machines() -> None:
    systems = {e.split("'")[1] for e in DEFAULT_ENVIRONMENTS}
    assert systems == {"linux", "darwin", "win32"}
    assert len(DEFAULT_ENVIRONMENTS) == 6


def test_all_keys_parsed(tmp_path: Path) -> None:
    write(
        tmp_path / "pyproject.toml",
        """
[tool.lockdown]
environments = ['sys_platform == "linux"']
index-url = "http://127.0.0.1:9/simple"
extra-index-urls = ["file:///srv/wheels/simple/"]
resolver = "pip-tools"
output = "pylock.prod.toml"
extras = ["Postgres", "redis"]
dependency-groups = ["dev"]
default-groups = ["dev"]
requirements = ["requirements.in"]
requires-python = ">=3.11"
""",
    )
    config, _ = load_config(tmp_path)
    assert config.environments == ("sys_platform == 'linux'",)
    assert config.environments_explicit
    assert config.index_url == "http://127.0.0.1:9/simple/"
    assert config.extra_index_urls == ("file:///srv/wheels/simple/",)
    assert config.resolver == "pip-tools"
    assert config.output == "pylock.prod.toml"
    assert config.extras == ("postgres", "redis")
    assert config.dependency_groups == ("dev",)
    assert config.default_groups == ("dev",)
    assert config.requirements == ("requirements.in",)
    assert config.requires_python == ">=3.11"


def test_standalone_lockdown_toml(tmp_path: Path) -> None:
    write(tmp_path / "lockdown.toml", 'requirements = ["requirements.in"]\nresolver = "uv"\n')
    config, pyproject = load_config(tmp_path)
    assert config.source == tmp_path / "lockdown.toml"
    assert config.requirements == ("requirements.in",)
    assert pyproject == {}


def test_both_config_files_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "lockdown.toml", "")
    write(tmp_path / "pyproject.toml", "[tool.lockdown]\n")
    with pytest.raises(ConfigError, match=r"both lockdown\.toml and \[tool\.lockdown\]"):
        load_config(tmp_path)


def test_no_project_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        load_config(tmp_path)
    assert str(info.value) == (
        f"no pyproject.toml or lockdown.toml in {tmp_path.resolve()}; "
        "run lockdown in your project directory or pass --project DIR"
    )
    assert info.value.exit_code == 64


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", '[project]\nname = "x"\nversion = \n')
    with pytest.raises(InputError, match=r"pyproject\.toml: invalid TOML: .*line 3"):
        load_config(tmp_path)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('enviroments = ["x"]', "unknown key 'enviroments' in [tool.lockdown]"),
        ('resolver = "poetry"', "resolver 'poetry' is not supported; use 'uv' or 'pip-tools'"),
        ('output = "deps.lock"', "output 'deps.lock' is not a PEP 751 lock file name"),
        ('output = "sub/pylock.toml"', "output 'sub/pylock.toml' is not a PEP 751 lock file name"),
        ("environments = []", "environments is empty"),
        ('environments = ["os_name = 1"]', "environments[0]: invalid marker 'os_name = 1'"),
        (
            'index-url = "ftp://x/simple"',
            "index-url 'ftp://x/simple' is not an http(s) or file URL",
        ),
        ("extras = 3", "extras must be a list of strings"),
        ("resolver = 1", "resolver must be a string, not int"),
        ('requires-python = "3.x"', "requires-python '3.x' is not a version specifier"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, table: str, message: str) -> None:
    write(tmp_path / "pyproject.toml", f"[tool.lockdown]\n{table}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert message in str(info.value)
    assert str(info.value).startswith(str(tmp_path.resolve() / "pyproject.toml"))
    assert info.value.exit_code == 64
