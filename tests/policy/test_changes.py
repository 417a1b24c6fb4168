"""The change set between two locks, and how big each version change is.

The state builders here (:func:`artifact`, :func:`state`) are shared by the
gate and render tests in this directory.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from lockdown.lock.model import Artifact, LockedPackage
from lockdown.policy.changes import (
    Change,
    ChangeClass,
    change_set,
    classify,
)

PYPI = "https://index.example/simple/"
MIRROR = "https://mirror.example/simple/"
UPLOADED = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def artifact(
    name: str,
    version: str,
    *,
    kind: str = "wheel",
    sha: str | None = None,
    upload_time: datetime | None = UPLOADED,
) -> Artifact:
    """One wheel (``kind="wheel"``) or sdist of ``name==version``; the hash derives from both."""
    filename = (
        f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        if kind == "wheel"
        else f"{name.replace('-', '_')}-{version}.tar.gz"
    )
    return Artifact(
        filename=filename,
        url=f"https://files.example/{filename}",
        sha256=sha if sha is not None else f"{name}-{version}-{kind}".encode().hex().ljust(64, "0"),
        upload_time=upload_time,
    )


def state(
    name: str,
    version: str,
    *,
    index: str | None = PYPI,
    artifacts: tuple[Artifact, ...] | None = None,
    has_wheels: bool | None = None,
    marker: str | None = None,
) -> LockedPackage:
    """``name==version`` locked from ``index`` with one wheel unless told otherwise.

    The wheels among ``artifacts`` are its wheels (none with ``has_wheels=False``);
    the others, in order, its sdist and its archive.
    """
    arts = artifacts if artifacts is not None else (artifact(name, version),)
    wants_wheels = (
        has_wheels if has_wheels is not None else any(a.filename.endswith(".whl") for a in arts)
    )
    wheels = tuple(a for a in arts if a.filename.endswith(".whl")) if wants_wheels else ()
    others = [a for a in arts if a not in wheels]
    assert len(others) <= 2, "a package has one sdist and one archive at most"
    return LockedPackage(
        name=name,
        version=version,
        marker=marker,
        index=index,
        wheels=wheels,
        sdist=others[0] if others else None,
        archive=others[1] if len(others) > 1 else None,
    )


# --- classify ---


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("1.0.0", "1.0.1", "patch"),
        ("1.0", "1.0.1", "patch"),
        ("1.0", "1.0.post1", "patch"),
        ("1.0.0.1", "1.0.0.2", "patch"),
        ("1.0rc1", "1.0", "patch"),
        ("1.0.0", "1.1.0", "minor"),
        ("1.9", "1.10", "minor"),
        ("1.2.3", "1.3", "minor"),
        ("1.0.0", "2.0.0", "major"),
        ("0.9", "1.0", "major"),
        ("1.9", "10.0", "major"),
        ("1.0.0", "2.0.0rc1", "pre-release"),
        ("1.0", "1.0.1a1", "pre-release"),
        ("1.0", "1.1b2", "pre-release"),
        ("1.0", "1.1.dev1", "pre-release"),
        ("1.0", "1.1.post1.dev1", "pre-release"),
        ("2.0rc1", "2.0rc2", "pre-release"),
        ("2.0.0", "1.9.9", "downgrade"),
        ("2.0", "2.0rc1", "downgrade"),
        ("1.0.1", "1.0", "downgrade"),
        ("1!1.0", "1.0", "downgrade"),
        ("1.0", "1!0.5", "major"),
        ("1!1.0", "1!1.0.1", "patch"),
        ("1!1.0", "1!1.1", "minor"),
        ("not-a-version", "1.0", "major"),
        ("1.0", "weird version", "major"),
    ],
)
def test_classify(old: str, new: str, expected: ChangeClass) -> None:
    assert classify(old, new) == expected


# --- change_set ---


def test_an_added_package() -> None:
    changes = change_set([state("a", "1.0")], [state("a", "1.0"), state("b", "2.0")])
    assert changes == [
        Change(
            name="b",
            kind="added",
            old_version=None,
            new_version="2.0",
            classification="new",
            detail="new package",
        )
    ]


def test_a_removed_package() -> None:
    changes = change_set([state("a", "1.0"), state("b", "2.0")], [state("a", "1.0")])
    assert changes == [
        Change(
            name="b",
            kind="removed",
            old_version="2.0",
            new_version=None,
            classification="removed",
            detail="no longer locked",
        )
    ]


@pytest.mark.parametrize(
    ("old", "new", "classification", "detail"),
    [
        ("1.0.0", "1.0.1", "patch", "patch upgrade"),
        ("1.0.0", "1.1.0", "minor", "minor upgrade"),
        ("1.0.0", "2.0.0", "major", "major upgrade"),
        ("1.0.0", "2.0.0rc1", "pre-release", "upgrade to a pre-release"),
    ],
)
def test_an_upgrade(old: str, new: str, classification: ChangeClass, detail: str) -> None:
    assert change_set([state("a", old)], [state("a", new)]) == [
        Change(
            name="a",
            kind="upgraded",
            old_version=old,
            new_version=new,
            classification=classification,
            detail=detail,
        )
    ]


def test_a_downgrade() -> None:
    assert change_set([state("a", "2.0")], [state("a", "1.5")]) == [
        Change(
            name="a",
            kind="downgraded",
            old_version="2.0",
            new_version="1.5",
            classification="downgrade",
            detail="downgrade",
        )
    ]


def test_same_version_with_other_hashes_is_a_source_change() -> None:
    old = state("a", "1.0", artifacts=(artifact("a", "1.0", sha="1" * 64),))
    new = state("a", "1.0", artifacts=(artifact("a", "1.0", sha="2" * 64),))
    assert change_set([old], [new]) == [
        Change(
            name="a",
            kind="source",
            old_version="1.0",
            new_version="1.0",
            classification="source",
            detail="same version, different artifacts (hashes changed)",
            index_changed=False,
        )
    ]


def test_same_version_from_another_index_is_an_index_change() -> None:
    changes = change_set([state("a", "1.0", index=PYPI)], [state("a", "1.0", index=MIRROR)])
    assert len(changes) == 1
    (change,) = changes
    assert change.kind == "source"
    assert change.classification == "source"
    assert change.index_changed is True
    assert (change.old_version, change.new_version) == ("1.0", "1.0")
    assert change.detail == f"index changed from {PYPI} to {MIRROR}"


def test_an_index_change_wins_over_a_hash_change() -> None:
    old = state("a", "1.0", index=PYPI, artifacts=(artifact("a", "1.0", sha="1" * 64),))
    new = state("a", "1.0", index=MIRROR, artifacts=(artifact("a", "1.0", sha="2" * 64),))
    (change,) = change_set([old], [new])
    assert change.index_changed is True
    assert change.detail == f"index changed from {PYPI} to {MIRROR}"


def test_an_index_change_to_no_index_says_none() -> None:
    (change,) = change_set([state("a", "1.0", index=PYPI)], [state("a", "1.0", index=None)])
    assert change.index_changed is True
    assert change.detail == f"index changed from {PYPI} to none"


def test_a_trailing_slash_is_not_an_index_change() -> None:
    old = state("a", "1.0", index="https://index.example/simple")
    new = state("a", "1.0", index="https://index.example/simple/")
    assert change_set([old], [new]) == []


def test_no_change_is_empty() -> None:
    locked = [state("a", "1.0"), state("b", "2.0", index=None)]
    assert change_set(locked, list(locked)) == []
    assert change_set([], []) == []


def test_two_entries_of_one_version_are_one_package() -> None:
    """Two markers locking one version (other wheels each) are compared as one."""
    win = artifact("a", "1.0", sha="a" * 64)
    linux = artifact("a", "1.0", sha="b" * 64)
    old = [
        state("a", "1.0", artifacts=(win,), marker="sys_platform == 'win32'"),
        state("a", "1.0", artifacts=(linux,), marker="sys_platform == 'linux'"),
    ]
    new = [state("a", "1.0", artifacts=(linux, win))]
    assert change_set(old, new) == []


def test_two_versions_on_each_side_pair_lowest_with_lowest() -> None:
    old = [state("a", "2.0"), state("a", "1.0")]
    new = [state("a", "2.1"), state("a", "1.1")]
    changes = change_set(old, new)
    assert [(c.kind, c.old_version, c.new_version) for c in changes] == [
        ("upgraded", "1.0", "1.1"),
        ("upgraded", "2.0", "2.1"),
    ]
    assert [c.classification for c in changes] == ["minor", "minor"]


def test_pairing_is_by_version_order_not_by_text() -> None:
    old = [state("a", "10.0"), state("a", "9.0")]
    new = [state("a", "10.1"), state("a", "9.1")]
    assert [(c.old_version, c.new_version) for c in change_set(old, new)] == [
        ("9.0", "9.1"),
        ("10.0", "10.1"),
    ]


def test_one_version_to_two_is_an_upgrade_and_an_addition() -> None:
    changes = change_set([state("a", "1.0")], [state("a", "1.1"), state("a", "2.0")])
    assert [(c.kind, c.old_version, c.new_version, c.classification) for c in changes] == [
        ("upgraded", "1.0", "1.1", "minor"),
        ("added", None, "2.0", "new"),
    ]


def test_two_versions_to_one_is_an_upgrade_and_a_removal() -> None:
    changes = change_set([state("a", "1.0"), state("a", "2.0")], [state("a", "3.0")])
    # Ordered by the version each change is about: the old one for a removal.
    assert [(c.kind, c.old_version, c.new_version) for c in changes] == [
        ("removed", "2.0", None),
        ("upgraded", "1.0", "3.0"),
    ]


def test_changes_are_sorted_by_name() -> None:
    old = [state("zeta", "1.0"), state("mid", "1.0"), state("alpha", "1.0")]
    new = [state("beta", "1.0"), state("alpha", "2.0"), state("zeta", "1.1")]
    changes = change_set(old, new)
    assert [(c.name, c.kind) for c in changes] == [
        ("alpha", "upgraded"),
        ("beta", "added"),
        ("mid", "removed"),
        ("zeta", "upgraded"),
    ]


def test_changes_of_one_name_are_sorted_by_version() -> None:
    old = [state("a", "1.0"), state("a", "3.0", artifacts=(artifact("a", "3.0", sha="1" * 64),))]
    new = [state("a", "2.0"), state("a", "3.0", artifacts=(artifact("a", "3.0", sha="2" * 64),))]
    changes = change_set(old, new)
    assert [(c.kind, c.new_version) for c in changes] == [("upgraded", "2.0"), ("source", "3.0")]


# --- Change.arrow ---


@pytest.mark.parametrize(
    ("old", "new", "arrow"),
    [
        ([], [state("a", "1.0")], "(new) 1.0"),
        ([state("a", "2.5.0")], [], "2.5.0 (removed)"),
        ([state("a", "2.5.0")], [state("a", "2.6.0")], "2.5.0 \u2192 2.6.0"),
        ([state("a", "2.5.0")], [state("a", "2.4.0")], "2.5.0 \u2192 2.4.0"),
        ([state("a", "2.5.0", index=PYPI)], [state("a", "2.5.0", index=MIRROR)], "2.5.0"),
    ],
    ids=["added", "removed", "upgraded", "downgraded", "source"],
)
def test_arrow(old: list[LockedPackage], new: list[LockedPackage], arrow: str) -> None:
    (change,) = change_set(old, new)
    assert change.arrow == arrow
