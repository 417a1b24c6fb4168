"""The lock summary says in words which extras, groups and platforms need a package."""

from __future__ import annotations

import pytest

from lockdown.config import DEFAULT_ENVIRONMENTS
from lockdown.report.lock_summary import describe_scope

EVERYWHERE = " or ".join(f"({e})" for e in DEFAULT_ENVIRONMENTS)


@pytest.mark.parametrize(
    ("marker", "words"),
    [
        (None, ""),
        (EVERYWHERE, ""),
        (f"'redis' in extras and ({EVERYWHERE})", "extra redis"),
        (
            f"('dev' in dependency_groups or 'lint' in dependency_groups) and ({EVERYWHERE})",
            "group dev, group lint",
        ),
        ("sys_platform == 'win32'", "only win32/AMD64, win32/ARM64"),
        (f"python_full_version < '3.11' and ({EVERYWHERE})", "some Pythons"),
        (
            "'fast' in extras and sys_platform == 'linux' and python_version >= '3.12'",
            "extra fast, only linux/aarch64, linux/x86_64, some Pythons",
        ),
    ],
)
def test_describe_scope(marker: str | None, words: str) -> None:
    assert describe_scope(marker, DEFAULT_ENVIRONMENTS) == words
