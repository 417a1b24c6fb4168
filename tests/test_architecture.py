"""The layering of DESIGN.md holds: the import-linter contracts in pyproject.toml are kept.

``make lint`` runs ``lint-imports`` too; running it here means ``make test``
(and so CI) refuses a change that breaks a layer, adds a forbidden import or
closes an import cycle. On failure the message is import-linter's report,
naming every import that breaks a contract.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def test_the_import_contracts_are_kept() -> None:
    assert LINT_IMPORTS.is_file(), f"{LINT_IMPORTS} is missing: pip install -e '.[lint]'"
    run = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(ROOT / "pyproject.toml")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


#: What a command may do with the standard streams itself: ask whether one is a terminal.
_STREAMS = ("stdout", "stderr")


def direct_output(source: str) -> list[str]:
    """Where ``source`` prints or uses ``sys.stdout``/``sys.stderr`` for anything but ``isatty()``.

    A command returns its result and :func:`lockdown.report.emit` says it; notes
    during the work go through the Reporter it is given.
    """
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "print":
                found.append((node.lineno, "print()"))
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in _STREAMS
            and isinstance(node.value, ast.Name)
            and node.value.id == "sys"
        ):
            parent = parents.get(node)
            if not (isinstance(parent, ast.Attribute) and parent.attr == "isatty"):
                found.append((node.lineno, f"sys.{node.attr}"))
        elif isinstance(node, ast.ImportFrom) and node.module == "sys":
            found += [
                (node.lineno, f"from sys import {a.name}") for a in node.names if a.name in _STREAMS
            ]
    return [f"line {line}: {what}" for line, what in sorted(found)]


def test_no_command_writes_to_the_terminal_itself() -> None:
    commands = sorted((ROOT / "lockdown" / "commands").glob("*.py"))
    assert len(commands) >= 12
    offenders = {
        path.name: found
        for path in commands
        if (found := direct_output(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}, "return a result for lockdown.report.emit instead"


def test_direct_output_finds_each_way_of_writing() -> None:
    source = (
        "import sys\n"
        "from sys import stderr\n"
        "print('x')\n"
        "sys.stdout.write('x')\n"
        "print('x', file=sys.stderr)\n"
        "interactive = sys.stdin.isatty() and sys.stdout.isatty()\n"
        "notify(reporter.note)\n"
    )
    assert direct_output(source) == [
        "line 2: from sys import stderr",
        "line 3: print()",
        "line 4: sys.stdout",
        "line 5: print()",
        "line 5: sys.stderr",
    ]
