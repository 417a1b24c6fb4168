"""``check``'s arguments read without argparse must mean exactly what argparse reads."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from lockdown.cli import build_parser, fast_check_args

#: Every option of ``check`` with a value, and values for it (valid and not).
OPTIONS: dict[str, list[str]] = {
    "--project": ["proj", "/srv/app"],
    "--venv": [".venv", "/srv/app/.venv"],
    "--python": ["/usr/bin/python3"],
    "--lock": ["pylock.toml", "locks/pylock.prod.toml"],
    "--level": ["versions", "files", "artifacts"],
    "--format": ["text", "json", "prometheus", "junit"],
    "-o": ["out.prom"],
    "--output": ["report.json"],
    "--extra": ["postgres", "redis"],
    "--group": ["dev"],
    "--cache-dir": ["/var/cache/lockdown"],
    "--db": ["/srv/advisories", "osv.zip"],
}
FLAGS = ["-q", "--quiet", "-v", "--verbose", "--require-signature", "--audit"]


def _argparse(argv: list[str]) -> dict[str, object]:
    return vars(build_parser("check").parse_args(argv))


def test_random_plain_command_lines_read_the_same() -> None:
    chooser = random.Random(20261126)  # noqa: S311 - reproducible test data, not secrets
    for _ in range(400):
        argv = ["check"]
        for _ in range(chooser.randint(0, 7)):
            if chooser.random() < 0.3:
                argv.append(chooser.choice(FLAGS))
            else:
                option = chooser.choice(sorted(OPTIONS))
                argv += [option, chooser.choice(OPTIONS[option])]
        fast = fast_check_args(argv)
        assert fast is not None, argv
        assert vars(fast) == _argparse(argv), argv


@pytest.mark.parametrize(
    "argv",
    [
        ["check", "--help"],
        ["check", "-h"],
        ["check", "--level=files"],
        ["check", "--lev", "files"],  # an abbreviation argparse accepts
        ["check", "--level", "everything"],  # an invalid choice: argparse says so
        ["check", "--venv"],  # a missing value
        ["check", "--venv", "--quiet"],  # an option where a value belongs
        ["check", "-qv"],  # combined short flags
        ["check", "-oout.prom"],
        ["check", "positional"],
        ["check", "--unknown", "x"],
        ["lock"],
        [],
    ],
)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert fast_check_args(argv) is None


def test_lists_accumulate_and_last_value_wins_as_in_argparse() -> None:
    argv = ["check", "--extra", "a", "--level", "files", "--extra", "b", "--level", "versions"]
    fast = fast_check_args(argv)
    assert fast is not None
    assert (fast.extra, fast.level) == (["a", "b"], "versions")
    assert vars(fast) == _argparse(argv)


@pytest.mark.parametrize(("command", "collects"), [("check", False), ("lock", True)])
def test_the_collector_is_off_for_start_up_and_back_on_after_it(
    tmp_path: Path, command: str, collects: bool
) -> None:
    program = (
        "import gc, sys\n"
        "import lockdown.cli._entry\n"
        "from lockdown.cli import main\n"
        "assert not gc.isenabled()\n"
        "main(sys.argv[1:])\n"
        "print(gc.isenabled())\n"
    )
    argv = [command, "--project", str(tmp_path)]  # both fail (nothing there), after parsing
    proc = subprocess.run(
        [sys.executable, "-c", program, *argv], capture_output=True, text=True, check=False
    )
    assert proc.stdout.strip().splitlines()[-1] == str(collects), proc.stderr
