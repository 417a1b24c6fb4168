"""The shipped templates parse, and the pre-commit hooks name commands that exist."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from lockdown.cli import HANDLERS, build_parser

ROOT = Path(__file__).resolve().parent.parent
PROMETHEUS = ROOT / "lockdown" / "report" / "prometheus.py"
yaml = pytest.importorskip("yaml", reason="PyYAML is needed to parse the YAML templates")


@pytest.mark.parametrize("path", sorted((ROOT / "templates").rglob("*.y*ml")), ids=str)
def test_every_yaml_template_parses_to_its_tools_shape(path: Path) -> None:
    """Each template has the shape its tool reads, and every lockdown line in it parses."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    kind = path.relative_to(ROOT / "templates").parts[0]
    if kind == "github":
        assert "permissions" in doc, path  # least privilege is explicit (often `{}`)
        # YAML 1.1 reads a bare `on` key as the boolean true.
        triggers = doc.get("on", doc.get(True))
        assert triggers, f"{path} has no `on:` triggers"
        steps = [step for job in doc["jobs"].values() for step in job["steps"]]
        lines = [line for step in steps for line in str(step.get("run", "")).splitlines()]
    elif kind == "gitlab":
        jobs = [job for name, job in doc.items() if not name.startswith(".")]
        assert jobs, path
        lines = [line for job in jobs for line in job["script"]]
    elif kind == "prometheus":
        rules = [rule for group in doc["groups"] for rule in group["rules"]]
        assert rules, path
        exported = set(re.findall(r'"(lockdown_[a-z_]+)', PROMETHEUS.read_text()))
        for rule in rules:
            assert rule["alert"], rule
            used = set(re.findall(r"lockdown_[a-z_]+", rule["expr"]))
            assert used, rule  # every alert is about a metric lockdown writes ...
            assert used <= exported, rule  # ... and one that it really writes
        return
    else:  # the pre-commit files, checked hook by hook below
        assert {"id", "entry"} <= set((doc["repos"][0]["hooks"] if "repos" in doc else doc)[0])
        return
    commands = [line.strip() for line in lines if line.strip().startswith("lockdown ")]
    assert commands, f"{path} runs no lockdown command"
    parser = build_parser()
    for command in commands:
        argv = shlex.split(command, comments=True)[1:]
        assert parser.parse_args(argv).command in HANDLERS, command


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
