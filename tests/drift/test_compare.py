"""The versions-level comparison as a pure function: lock pins x installed packages -> drift.

One function for both ecosystems (:func:`lockdown.drift.compare.compare`);
the Python side through :func:`compare_packages`, the conda side with the
``CONDA`` (conda-meta records) and ``CONDA_PIP`` (a prefix's ``pip:`` wheels)
ecosystems.

No venv, no index: the inputs are the typed records the readers produce, so
each rule of the comparison is pinned down with an exact expected result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lockdown.drift.compare import (
    CONDA,
    CONDA_PIP,
    PYTHON,
    ExpectedPin,
    LockedSource,
    canonicalize_version,
    compare,
    compare_packages,
    describe_direct_url,
    other_source,
)
from lockdown.drift.model import PackageDrift
from lockdown.env.conda_meta import CondaRecord
from lockdown.env.python_env import InstalledDist, normalize_name
from lockdown.lock.condalock import conda_entry
from lockdown.lock.model import LockedPackage

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


def test_compare_packages_is_the_one_comparison_with_the_python_part() -> None:
    expected = {"attrs": index_pin("24.2.0"), "idna": index_pin("3.10")}
    installed = [dist("idna", "3.7"), dist("six", "1.0")]
    assert compare_packages(expected, installed) == compare(expected, installed, PYTHON)
    assert compare(expected, installed, PYTHON) == [
        PackageDrift("attrs", "missing", "24.2.0", None, "not installed"),
        PackageDrift("idna", "version", "3.10", "3.7", "3.7 installed, 3.10 locked"),
        PackageDrift("six", "unexpected", None, "1.0", "installed, not in the lock"),
    ]


CHANNEL = "https://conda.example.invalid/conda-forge"


def locked(
    name: str,
    version: str,
    build: str = "h0_0",
    *,
    sha256: str = SHA,
    manager: str = "conda",
    channel: str = CHANNEL,
) -> LockedPackage:
    return conda_entry(
        name=name,
        version=version,
        build=build,
        platform="linux-64",
        url=f"{channel}/linux-64/{name}-{version}-{build}.conda",
        md5="00" * 16,
        sha256=sha256,
        dependencies={},
        channel=channel,
        manager="pip" if manager == "pip" else "conda",
    )


def record(
    name: str,
    version: str,
    build: str = "h0_0",
    *,
    sha256: str = SHA,
    channel: str = CHANNEL + "/linux-64",
    subdir: str = "linux-64",
) -> CondaRecord:
    return CondaRecord(
        name=name,
        version=version,
        build=build,
        channel=channel,
        url=f"{CHANNEL}/linux-64/{name}-{version}-{build}.conda",
        sha256=sha256,
        meta_path=Path(f"/prefix/conda-meta/{name}-{version}-{build}.json"),
        files=(),
        subdir=subdir,
    )


def test_a_conda_prefix_in_sync_is_no_drift() -> None:
    expected = {"python": locked("python", "3.12.1"), "zlib": locked("zlib", "1.3")}
    assert compare(expected, [record("zlib", "1.3"), record("python", "3.12.1")], CONDA) == []


def test_each_kind_of_conda_drift_names_version_and_build_sorted_unexpected_last() -> None:
    expected = {
        "zlib": locked("zlib", "1.3"),
        "python": locked("python", "3.12.1"),
        "bzip2": locked("bzip2", "1.0.8"),
    }
    installed = [record("python", "3.12.0"), record("bzip2", "1.0.8"), record("aaa", "0.1", "py_0")]
    assert compare(expected, installed, CONDA) == [
        PackageDrift(
            "python",
            "version",
            "3.12.1 (h0_0)",
            "3.12.0 (h0_0)",
            "3.12.0 (h0_0) installed, 3.12.1 (h0_0) locked",
        ),
        PackageDrift("zlib", "missing", "1.3 (h0_0)", None, "not installed"),
        PackageDrift("aaa", "unexpected", None, "0.1 (py_0)", "installed, not in the lock"),
    ]


def test_another_build_of_the_locked_conda_version_is_a_version_change() -> None:
    drift = compare({"zlib": locked("zlib", "1.3", "h1_0")}, [record("zlib", "1.3", "h2_0")], CONDA)
    assert drift == [
        PackageDrift(
            "zlib", "version", "1.3 (h1_0)", "1.3 (h2_0)", "1.3 (h2_0) installed, 1.3 (h1_0) locked"
        )
    ]


def test_conda_versions_compare_as_written_not_as_pep_440() -> None:
    drift = compare({"zlib": locked("zlib", "1.3")}, [record("zlib", "1.3.0")], CONDA)
    assert [d.kind for d in drift] == ["version"]


def test_another_conda_archive_is_a_source_change_before_the_channel_is_asked() -> None:
    other = "cd" * 32
    installed = [record("zlib", "1.3", sha256=other, channel="https://elsewhere.invalid/c")]
    assert compare({"zlib": locked("zlib", "1.3")}, installed, CONDA) == [
        PackageDrift(
            "zlib",
            "source",
            "1.3 (h0_0)",
            "1.3 (h0_0)",
            f"installed from an archive with sha256 {other[:12]}..., the lock pins {SHA[:12]}...",
        )
    ]


@pytest.mark.parametrize(
    "channel",
    [
        CHANNEL + "/linux-64",  # conda: the channel URL and the subdir
        CHANNEL,  # rattler: the channel URL
        "conda-forge",  # a canonical name: all such a record says
        "HTTPS://CONDA.EXAMPLE.INVALID/conda-forge/",
        "",  # no channel recorded: nothing to compare
    ],
)
def test_the_locked_channel_however_the_installer_wrote_it_is_no_drift(channel: str) -> None:
    installed = [record("zlib", "1.3", channel=channel)]
    assert compare({"zlib": locked("zlib", "1.3")}, installed, CONDA) == []


def test_a_conda_package_from_another_channel_is_a_source_change() -> None:
    other = "https://mirror.example.invalid/conda-forge/linux-64"
    drift = compare({"zlib": locked("zlib", "1.3")}, [record("zlib", "1.3", channel=other)], CONDA)
    assert drift == [
        PackageDrift(
            "zlib",
            "source",
            "1.3 (h0_0)",
            "1.3 (h0_0)",
            f"installed from channel {other}; the lock says {CHANNEL}",
        )
    ]


def test_a_record_without_sha256_is_judged_by_its_channel() -> None:
    installed = [record("zlib", "1.3", sha256="")]
    assert compare({"zlib": locked("zlib", "1.3")}, installed, CONDA) == []


def pip_locked(name: str, version: str) -> LockedPackage:
    return locked(
        name, version, "pypi_0", manager="pip", channel="https://index.example.invalid/simple"
    )


def test_the_pip_wheels_of_a_prefix_are_labelled_and_nothing_is_unexpected() -> None:
    expected = {"attrs": pip_locked("attrs", "24.2.0"), "idna": pip_locked("idna", "3.10")}
    installed = [dist("idna", "3.7"), dist("conda-owned", "1.0")]
    assert compare(expected, installed, CONDA_PIP) == [
        PackageDrift("pip attrs", "missing", "24.2.0", None, "not installed"),
        PackageDrift("pip idna", "version", "3.10", "3.7", "3.7 installed, 3.10 locked"),
    ]


def test_a_pip_wheel_installed_from_a_direct_url_is_a_source_change() -> None:
    editable = {"url": "file:///src/attrs", "dir_info": {"editable": True}}
    installed = [dist("attrs", "24.2.0", editable)]
    assert compare({"attrs": pip_locked("attrs", "24.2.0")}, installed, CONDA_PIP) == [
        PackageDrift(
            "pip attrs",
            "source",
            "24.2.0",
            "24.2.0",
            "editable install from file:///src/attrs; the lock pins a wheel",
        )
    ]


def test_pip_versions_in_a_prefix_compare_as_written() -> None:
    drift = compare({"attrs": pip_locked("attrs", "24.2")}, [dist("attrs", "24.2.0")], CONDA_PIP)
    assert [d.kind for d in drift] == ["version"]
