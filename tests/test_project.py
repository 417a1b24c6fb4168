"""Project inputs: PEP 621, PEP 735 groups and requirements.in, normalized and digested."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.config import load_config
from lockdown.errors import InputError
from lockdown.project import ProjectInputs, input_digest, read_inputs


def inputs_of(tmp_path: Path, pyproject: str, **files: str) -> ProjectInputs:
    (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    for name, text in files.items():
        (tmp_path / name.replace("_", ".")).write_text(text, encoding="utf-8")
    config, data = load_config(tmp_path)
    return read_inputs(config, data)


PROJECT = """
[project]
name = "Web_App"
version = "1"
requires-python = ">=3.10"
dependencies = ["requests >= 2.31", "Flask>=3"]
[project.optional-dependencies]
postgres = ["psycopg>=3.2"]
all = ["web-app[postgres]", "redis"]
[dependency-groups]
test = ["pytest", {include-group = "lint"}]
lint = ["ruff"]
self = ["web_app[postgres]"]
"""


def test_reads_everything_normalized(tmp_path: Path) -> None:
    inputs = inputs_of(tmp_path, PROJECT)
    assert inputs.name == "web-app"
    assert inputs.requires_python == ">=3.10"
    assert inputs.dependencies == ("Flask>=3", "requests>=2.31")
    assert inputs.extras == {"all": ("psycopg>=3.2", "redis"), "postgres": ("psycopg>=3.2",)}
    assert dict(inputs.groups) == {
        "lint": ("ruff",),
        "test": ("pytest", "ruff"),
        # A group that installs the project itself gets the project's dependencies.
        "self": ("Flask>=3", "psycopg>=3.2", "requests>=2.31"),
    }


def test_selection_of_extras_and_groups(tmp_path: Path) -> None:
    text = PROJECT + '[tool.lockdown]\nextras = ["postgres"]\ndependency-groups = ["lint"]\n'
    inputs = inputs_of(tmp_path, text)
    assert list(inputs.extras) == ["postgres"]
    assert list(inputs.groups) == ["lint"]


def test_unknown_selected_extra(tmp_path: Path) -> None:
    with pytest.raises(
        InputError, match="extra 'mysql' is not declared by the project; declared: all, postgres"
    ):
        inputs_of(tmp_path, PROJECT + '[tool.lockdown]\nextras = ["mysql"]\n')


def test_requirements_in_files(tmp_path: Path) -> None:
    inputs = inputs_of(
        tmp_path,
        '[tool.lockdown]\nrequirements = ["requirements.in"]\nrequires-python = ">=3.11"\n',
        requirements_in="# comment\nrequests>=2  # inline\n-r more.in\nclick \\\n  >=8\n",
        more_in="rich\n",
    )
    assert inputs.name is None
    assert inputs.requires_python == ">=3.11"
    assert inputs.dependencies == ("click>=8", "requests>=2", "rich")


def test_requirements_option_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        inputs_of(
            tmp_path,
            '[tool.lockdown]\nrequirements = ["requirements.in"]\n',
            requirements_in="requests\n--index-url http://127.0.0.1:9/simple\n",
        )
    assert "requirements.in:2: option '--index-url' is not supported in requirements files" in str(
        info.value
    )


def test_invalid_requirement_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        inputs_of(
            tmp_path, '[project]\nname = "x"\nversion = "1"\ndependencies = ["ok", "bad req!"]\n'
        )
    assert "project.dependencies[1]: invalid requirement 'bad req!'" in str(info.value)
    assert info.value.exit_code == 64


def test_invalid_requirement_in_file_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"requirements\.in:2: invalid requirement 'flask=='"):
        inputs_of(
            tmp_path,
            '[tool.lockdown]\nrequirements = ["requirements.in"]\n',
            requirements_in="requests\nflask==\n",
        )


def test_group_cycle_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"\[dependency-groups\]: Cyclic dependency group include"):
        inputs_of(tmp_path, '[dependency-groups]\na = [{include-group = "a"}]\n')


def test_digest_ignores_order_and_spelling_but_not_content(tmp_path: Path) -> None:
    def digest(deps: str) -> str:
        (tmp_path / "pyproject.toml").write_text(
            f'[project]\nname = "x"\nversion = "1"\ndependencies = [{deps}]\n', encoding="utf-8"
        )
        config, data = load_config(tmp_path)
        return input_digest(read_inputs(config, data), config, config.resolver)

    first = digest('"requests>=2", "click"')
    assert first == digest('"click", "requests >= 2"')
    assert first != digest('"click", "requests>=3"')
    assert first.startswith("sha256:")
    assert len(first) == 71
