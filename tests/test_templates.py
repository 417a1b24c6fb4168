"""The shipped templates parse, and the pre-commit hooks name commands that exist."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.cli import HANDLERS, build_parser

ROOT = Path(__file__).resolve().parent.parent
yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse the YAML templates")


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.y*ml")), ids=str)
def test_every_yaml_template_parses(path: Path) -> None:
    assert yaml.safe_load(path.read_text(encoding="utf-8")) is not None


def test_the_published_hooks_are_the_documented_ones() -> None:
    root = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    documented = yaml.safe_load((ROOT / "templates" / "pre-commit-hooks.yaml").read_text())
    assert root == documented
    assert [h["id"] for h in root] == ["lockdown-lock-check", "lockdown-gate"]


def test_every_hook_runs_a_lockdown_command_that_parses() -> None:
    parser = build_parser()
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    local = yaml.safe_load((ROOT / "templates" / "pre-commit-config.yaml").read_text())
    entries = [h["entry"] for h in hooks] + [h["entry"] for h in local["repos"][0]["hooks"]]
    for entry in entries:
        program, *argv = entry.split()
        assert program == "lockdown"
        assert parser.parse_args(argv).command in HANDLERS
