"""Small real projects the ``online`` tests lock against the default package index."""

from __future__ import annotations

from pathlib import Path

#: Pure-Python dependencies only: a handful of artifacts, quick to verify.
TINY_PROJECT = """\
[project]
name = "tiny-service"
version = "0.1"
requires-python = ">=3.10"
dependencies = ["attrs>=23", "click>=8.1", "colorama; sys_platform == 'win32'"]

[project.optional-dependencies]
idna = ["idna>=3"]

[dependency-groups]
dev = ["iniconfig"]
"""


def write_tiny_project(root: Path) -> Path:
    """Create the tiny project under ``root``; return its directory."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(TINY_PROJECT, encoding="utf-8")
    return root
