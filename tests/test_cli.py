"""The CLI shell: help with examples, version, python -m, usage errors as exit 64."""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from lockdown import __version__
from lockdown.cli import HANDLERS, build_parser
from tests.conftest import CliResult
from tests.support.isolation import isolated_env

Cli = Callable[..., CliResult]


@pytest.mark.parametrize("command", sorted(HANDLERS))
def test_every_command_has_help_with_an_example(cli: Cli, command: str) -> None:
    result = cli(command, "--help")
    assert result.code == 0
    assert "examples:" in result.out
    shown = result.out.split("examples:", 1)[1].replace("\\\n", " ")
    examples = [line for line in shown.splitlines() if line.strip().startswith("lockdown ")]
    assert examples, f"{command} --help shows no example command"
    parser = build_parser()
    for example in examples:
        words = shlex.split(example, comments=True)
        # A shell pipe or redirect ends the lockdown command line.
        cut = next((i for i, w in enumerate(words) if w in {"|", ">", ">>"}), len(words))
        argv = words[1:cut]
        assert argv[0] == command, example
        parser.parse_args(argv)  # every example is a command line the CLI accepts


def test_the_help_test_covers_every_subcommand_of_the_grammar() -> None:
    parser = build_parser()
    [subparsers] = [
        action for action in parser._actions if isinstance(action, argparse._SubParsersAction)
    ]
    assert set(subparsers.choices) == set(HANDLERS)


def test_version(cli: Cli) -> None:
    result = cli("--version")
    assert (result.code, result.out) == (0, f"lockdown {__version__}\n")


def test_no_command_is_usage_error(cli: Cli) -> None:
    result = cli()
    assert result.code == 64
    assert result.err.startswith("lockdown: error: lockdown: the following arguments are required")


def test_unknown_command(cli: Cli) -> None:
    result = cli("frobnicate")
    assert result.code == 64
    assert "invalid choice: 'frobnicate'" in result.err


def test_python_dash_m_works(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "lockdown", "lock", "--check", "--project", str(tmp_path)],
        capture_output=True,
        text=True,
        env=isolated_env(),
        check=False,
    )
    assert proc.returncode == 64
    assert proc.stderr.startswith("lockdown: error: no pyproject.toml or lockdown.toml in ")


def test_quiet_lock_prints_nothing(project: Path, cli: Cli) -> None:
    result = cli("lock", "--project", project, "--quiet")
    assert (result.code, result.out, result.err) == (0, "", "")


@pytest.mark.parametrize(
    "command",
    [
        ["check"],
        ["install", "--dry-run"],
        ["export"],
        ["guard"],
    ],
    ids=lambda c: c[0],
)
def test_an_invalid_lock_exits_16_and_a_missing_one_64(
    command: list[str], tmp_path: Path, cli: Cli
) -> None:
    """Exit codes as documented: 16 lock invalid, 64 a file that is not there."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], env=isolated_env(), check=True
    )
    targets = [] if command[0] == "export" else ["--venv", str(venv)]
    bad = tmp_path / "pylock.toml"
    bad.write_text('lock-version = "1.0"\ncreated-by = "x"\npackages = [{name = 3}]\n')
    before = sorted(p.name for p in tmp_path.rglob("*"))

    invalid = cli(*command, *targets, "--lock", bad)
    missing = cli(*command, *targets, "--lock", tmp_path / "absent.toml")

    assert invalid.code == 16, invalid.err
    assert invalid.err.startswith(f"lockdown: error: {bad}: not a valid PEP 751 lock: ")
    assert missing.code == 64, missing.err
    assert missing.err.startswith(
        f"lockdown: error: {tmp_path / 'absent.toml'}: lock file not found"
    )
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
