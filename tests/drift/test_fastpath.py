"""The fast path's cache entries: written, read back exactly, and never trusted when damaged."""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.drift import fastpath
from lockdown.drift.fastpath import CachedTarget

ENTRY = CachedTarget(
    expected={"alpha": ("1.1", True), "local-thing": (None, False)},
    site_packages=("/srv/app/.venv/lib/python3.11/site-packages",),
    prefix="/srv/app/.venv",
    executable="/srv/app/.venv/bin/python",
    in_venv=True,
    python_version="3.11.7",
    sources=(
        ("alpha", "index", "https://index.example.invalid/simple", "", "", ""),
        ("local-thing", "vcs", "https://example.org/repo.git", "0" * 40, "git", "sub"),
    ),
)


def test_an_entry_reads_back_exactly(tmp_path: Path) -> None:
    fastpath.store(tmp_path, "k" * 64, ENTRY)
    assert fastpath.load(tmp_path, "k" * 64) == ENTRY
    assert fastpath.load(tmp_path, "other") is None


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (lambda t: t.replace(fastpath.MAGIC, "lockdown-check-cache 2"), "older format"),
        (lambda t: t[: t.rindex("\nend")], "cut short"),
        (lambda t: t.replace("pin\talpha\t1.1\t1", "pin\talpha\t1.1"), "a field missing"),
        (lambda t: t.replace("pin\talpha\t1.1\t1", "pin\talpha\t1.1\tyes"), "a bad flag"),
        (lambda t: t.replace("in_venv\t1", "in_venv\tmaybe"), "a bad scalar"),
        (lambda t: t.replace("prefix\t/srv/app/.venv\n", ""), "a scalar missing"),
        (lambda t: t.replace("site\t", "sight\t"), "an unknown line"),
        (lambda t: t.replace("\tvcs\t", "\tsvn-ish\t"), "an unknown source kind"),
        (lambda t: t.replace("\tgit\tsub", "\tgit"), "a source field missing"),
    ],
)
def test_a_damaged_entry_is_ignored(tmp_path: Path, damage: object, why: str) -> None:
    fastpath.store(tmp_path, "key", ENTRY)
    path = tmp_path / "check" / "key.txt"
    damaged = damage(path.read_text())  # type: ignore[operator]
    assert damaged != path.read_text(), why
    path.write_text(damaged)
    assert fastpath.load(tmp_path, "key") is None, why


def test_values_that_would_not_read_back_are_not_cached(tmp_path: Path) -> None:
    odd = ENTRY._replace(site_packages=("/srv/odd\tname/site-packages",))
    fastpath.store(tmp_path, "key", odd)
    assert not (tmp_path / "check" / "key.txt").exists()
    assert fastpath.load(tmp_path, "key") is None


def test_an_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache directory should be")
    fastpath.store(blocker, "key", ENTRY)  # no exception: the check goes on uncached
    assert blocker.read_text() == "a file where the cache directory should be"
