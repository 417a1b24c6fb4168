"""The versions-level comparison as a pure function: lock pins x installed dists -> drift.

No venv, no index: the inputs are the typed records the readers produce, so
each rule of the comparison is pinned down with an exact expected result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lockdown.drift.compare import (
    ExpectedPin,
    LockedSource,
    canonicalize_version,
    compare_packages,
    describe_direct_url,
    other_source,
)
from lockdown.drift.model import PackageDrift
from lockdown.env.python_env import InstalledDist, normalize_name

SHA = "ab" * 32


def dist(name: str, version: str, direct_url: dict[str, Any] | None = None) -> InstalledDist:
    key = normalize_name(name)
    return InstalledDist(key, version, Path(f"/site/{key}-{version}.dist-info"), direct_url)


def index_pin(version: str | None) -> ExpectedPin:
    return ExpectedPin(version=version, from_index=True)


def test_in_sync_is_no_drift() -> None:
    expected = {"attrs": index_pin("24.2.0"), "idna": index_pin("3.10")}
    assert compare_packages(expected, [dist("idna", "3.10"), dist("attrs", "24.2.0")]) == []


def test_each_kind_of_package_drift_sorted_by_name_unexpected_last() -> None:
    expected = {
        "zlib-ng": index_pin("1.0"),
        "attrs": index_pin("24.2.0"),
        "idna": index_pin("3.10"),
    }
    installed = [dist("idna", "3.7"), dist("attrs", "24.2.0"), dist("aaa-extra", "0.1")]
    assert compare_packages(expected, installed) == [
        PackageDrift("idna", "version", "3.10", "3.7", "3.7 installed, 3.10 locked"),
        PackageDrift("zlib-ng", "missing", "1.0", None, "not installed"),
        PackageDrift("aaa-extra", "unexpected", None, "0.1", "installed, not in the lock"),
    ]


@pytest.mark.parametrize(
    ("installed", "locked"), [("1.0", "1.0.0"), ("2.0.0", "2"), ("1.0a1", "1.0.0a1")]
)
def test_versions_compare_as_pep_440_says(installed: str, locked: str) -> None:
    assert compare_packages({"pkg": index_pin(locked)}, [dist("pkg", installed)]) == []


def test_unparseable_versions_compare_as_text() -> None:
    assert canonicalize_version("not a version") == "not a version"
    drift = compare_packages({"pkg": index_pin("weird-1")}, [dist("pkg", "weird-2")])
    assert [d.kind for d in drift] == ["version"]


def test_a_pin_without_a_version_accepts_any_installed_version() -> None:
    assert compare_packages({"pkg": index_pin(None)}, [dist("pkg", "9.9")]) == []


def test_ignored_names_are_never_unexpected_but_still_checked_when_locked() -> None:
    installed = [dist("pip", "25.1"), dist("Setuptools", "80.0"), dist("attrs", "1.0")]
    drift = compare_packages({"attrs": index_pin("2.0")}, installed, ignore=["PIP", "setuptools"])
    assert [(d.name, d.kind) for d in drift] == [("attrs", "version")]


def test_an_editable_install_of_an_index_pin_is_a_source_change() -> None:
    editable = {"url": "file:///src/attrs", "dir_info": {"editable": True}}
    drift = compare_packages({"attrs": index_pin("1.0")}, [dist("attrs", "1.0", editable)])
    assert drift == [
        PackageDrift(
            "attrs",
            "source",
            "1.0",
            "1.0",
            "editable install from file:///src/attrs; the lock pins an index artifact",
        )
    ]


def test_a_version_change_is_reported_once_not_also_as_a_source_change() -> None:
    vcs = {"url": "https://example.invalid/a.git", "vcs_info": {"vcs": "git", "commit_id": "c1"}}
    drift = compare_packages({"a": index_pin("1.0")}, [dist("a", "2.0", vcs)])
    assert [d.kind for d in drift] == ["version"]


def vcs_pin(commit: str = "c0ffee", subdirectory: str = "") -> ExpectedPin:
    source = LockedSource("vcs", "https://example.invalid/a.git", commit, "git", subdirectory)
    return ExpectedPin(version="1.0", from_index=False, source=source)


def test_vcs_source_matches_on_url_type_and_commit() -> None:
    installed = {
        "url": "https://example.invalid/a.git/",
        "vcs_info": {"vcs": "git", "commit_id": "c0ffee"},
    }
    assert other_source(vcs_pin(), installed) is None
    other = {**installed, "vcs_info": {"vcs": "git", "commit_id": "deadbeef"}}
    assert other_source(vcs_pin(), other) == (
        "installed from git https://example.invalid/a.git/@deadbeef; "
        "the lock pins git https://example.invalid/a.git@c0ffee"
    )


def test_vcs_source_in_another_subdirectory_is_another_source() -> None:
    installed = {
        "url": "https://example.invalid/a.git",
        "subdirectory": "pkg",
        "vcs_info": {"vcs": "git", "commit_id": "c0ffee"},
    }
    assert other_source(vcs_pin(subdirectory="pkg"), installed) is None
    assert other_source(vcs_pin(subdirectory="lib"), installed) == (
        "installed from git https://example.invalid/a.git@c0ffee; "
        "the lock pins git https://example.invalid/a.git@c0ffee (subdirectory lib)"
    )


def test_a_locked_vcs_source_installed_from_an_index_is_a_source_change() -> None:
    assert other_source(vcs_pin(), None) == (
        "installed from an index (no direct_url.json); "
        "the lock pins git https://example.invalid/a.git@c0ffee"
    )


def archive_pin(sha256: str) -> ExpectedPin:
    source = LockedSource("archive", "https://example.invalid/a-1.0.tar.gz", sha256)
    return ExpectedPin(version="1.0", from_index=False, source=source)


@pytest.mark.parametrize(
    "archive_info",
    [
        {"hashes": {"sha256": SHA}},
        {"hashes": {"sha256": SHA.upper()}},
        {"hash": f"sha256={SHA}"},  # PEP 610's older form
        {},  # uv records no hash: only the URL is compared
    ],
)
def test_archive_source_matches_on_url_and_recorded_sha256(archive_info: dict[str, Any]) -> None:
    installed = {"url": "https://example.invalid/a-1.0.tar.gz", "archive_info": archive_info}
    assert other_source(archive_pin(SHA), installed) is None


def test_archive_with_another_recorded_sha256_is_a_source_change() -> None:
    installed = {
        "url": "https://example.invalid/a-1.0.tar.gz",
        "archive_info": {"hashes": {"sha256": "cd" * 32}},
    }
    assert other_source(archive_pin(SHA), installed) == (
        "installed from direct URL https://example.invalid/a-1.0.tar.gz; "
        f"the lock pins archive https://example.invalid/a-1.0.tar.gz (sha256 {SHA})"
    )


def test_directory_source_compares_real_paths(tmp_path: Path) -> None:
    real = tmp_path / "src"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    pin = ExpectedPin("1.0", False, LockedSource("directory", real.as_uri()))
    assert other_source(pin, {"url": link.as_uri(), "dir_info": {}}) is None
    elsewhere = tmp_path / "other"
    elsewhere.mkdir()
    assert other_source(pin, {"url": elsewhere.as_uri(), "dir_info": {}}) == (
        f"installed from local directory {elsewhere.as_uri()}; "
        f"the lock pins local directory {real.as_uri()}"
    )


@pytest.mark.parametrize(
    ("direct_url", "words"),
    [
        ({"url": "file:///s", "dir_info": {"editable": True}}, "editable install from file:///s"),
        ({"url": "file:///s", "dir_info": {}}, "installed from local directory file:///s"),
        (
            {"url": "https://h.invalid/r", "vcs_info": {"vcs": "hg", "commit_id": "1"}},
            "installed from hg https://h.invalid/r@1",
        ),
        ({"url": "https://h.invalid/a.whl"}, "installed from direct URL https://h.invalid/a.whl"),
        ({}, "installed from direct URL ?"),
    ],
)
def test_direct_url_in_words(direct_url: dict[str, Any], words: str) -> None:
    assert describe_direct_url(direct_url) == words
