"""The test conda channel is real: py-rattler indexes it, solves from it and installs from it.

Every solve uses its own gateway cache and every install its own package
cache under ``tmp_path``, so nothing but this channel can satisfy a spec.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import stat
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import pytest
import rattler
import zstandard
from rattler.package import IndexJson, PathsJson

from .condachannel import DEFAULT_BUILD_EPOCH, PREFIX_PLACEHOLDER, CondaChannel

SUBDIRS = [rattler.Subdir.current(), rattler.Subdir("noarch")]
PLATFORM = str(SUBDIRS[0])


# --- helpers ---


def build_catalog(channel: CondaChannel) -> dict[str, Path]:
    """alpha 1.0, alpha 1.1 (needs beta >=1), beta 1.0, beta 2.0 (as .conda); indexed."""
    archives = {
        "alpha-1.0": channel.add("alpha", "1.0"),
        "alpha-1.1": channel.add("alpha", "1.1", depends=["beta >=1"]),
        "beta-1.0": channel.add("beta", "1.0"),
        "beta-2.0": channel.add("beta", "2.0", fmt="conda"),
    }
    channel.index()
    return archives


def solve(url: str, specs: list[str], cache: Path) -> list[rattler.RepoDataRecord]:
    gateway = rattler.Gateway(cache_dir=cache)
    return asyncio.run(rattler.solve([url], specs, gateway=gateway, platforms=SUBDIRS))


def install(records: list[rattler.RepoDataRecord], prefix: Path, cache: Path) -> None:
    asyncio.run(
        rattler.install(records, target_prefix=prefix, cache_dir=cache, show_progress=False)
    )


def tar_members(
    data: bytes, mode: Literal["r:", "r:bz2"]
) -> dict[str, tuple[tarfile.TarInfo, bytes]]:
    """Every member of a tar, in archive order, with its bytes."""
    members: dict[str, tuple[tarfile.TarInfo, bytes]] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode=mode) as archive:
        for info in archive.getmembers():
            extracted = archive.extractfile(info)
            assert extracted is not None
            members[info.name] = (info, extracted.read())
    return members


@pytest.fixture
def channel(tmp_path: Path) -> CondaChannel:
    return CondaChannel(tmp_path / "channel")


@pytest.fixture
def catalog(channel: CondaChannel) -> dict[str, Path]:
    return build_catalog(channel)


@pytest.fixture(params=["file", "http"])
def channel_url(request: pytest.FixtureRequest, channel: CondaChannel) -> Iterator[str]:
    """The channel's URL, once as ``file://`` and once served over HTTP."""
    if request.param == "file":
        yield channel.file_url
    else:
        with channel.serve() as url:
            yield url


# --- the archives ---


def test_archives_are_byte_deterministic(tmp_path: Path) -> None:
    first = build_catalog(CondaChannel(tmp_path / "one"))
    second = build_catalog(CondaChannel(tmp_path / "two"))
    assert {key: path.name for key, path in first.items()} == {
        key: path.name for key, path in second.items()
    }
    for key, path in first.items():
        assert path.read_bytes() == second[key].read_bytes(), key


def test_build_string_and_filename(channel: CondaChannel) -> None:
    path = channel.add("gamma", "3.2", build_number=4, subdir="linux-64")
    assert path.parent == channel.root / "linux-64"
    name, version, build = path.name.removesuffix(".tar.bz2").rsplit("-", 2)
    assert (name, version) == ("gamma", "3.2")
    prefix, number = build.split("_")
    assert number == "4"
    assert prefix[0] == "h"
    assert len(prefix) == 8
    int(prefix[1:], 16)
    # Other content, other build hash; same content, same name.
    other = channel.add("gamma", "3.2", build_number=4, subdir="linux-64", depends=["beta"])
    assert other.name != path.name
    again = channel.add("gamma", "3.2", build_number=4, subdir="linux-64", timestamp=None)
    assert again.name == path.name


def test_tar_bz2_layout(channel: CondaChannel) -> None:
    path = channel.add("alpha", "1.1", depends=["beta >=1"])
    members = tar_members(path.read_bytes(), "r:bz2")
    names = list(members)
    assert names == [
        "info/files",
        "info/has_prefix",
        "info/index.json",
        "info/paths.json",
        "bin/alpha",
        "share/alpha/alpha.txt",
        "share/alpha/prefix.txt",
    ]
    for info, _ in members.values():
        assert info.isfile()
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mtime == 315532800
    assert members["bin/alpha"][0].mode == 0o755
    assert members["share/alpha/alpha.txt"][0].mode == 0o644

    index = json.loads(members["info/index.json"][1])
    assert index == {
        "arch": None,
        "build": path.name.removesuffix(".tar.bz2").rsplit("-", 1)[1],
        "build_number": 0,
        "depends": ["beta >=1"],
        "license": "MIT",
        "name": "alpha",
        "noarch": "generic",
        "platform": None,
        "subdir": "noarch",
        "timestamp": int(DEFAULT_BUILD_EPOCH.timestamp() * 1000),
        "version": "1.1",
    }
    assert members["info/files"][1] == (
        b"bin/alpha\nshare/alpha/alpha.txt\nshare/alpha/prefix.txt\n"
    )
    assert members["info/has_prefix"][1] == (
        f"{PREFIX_PLACEHOLDER} text share/alpha/prefix.txt\n".encode()
    )
    placeholder_text = members["share/alpha/prefix.txt"][1]
    assert PREFIX_PLACEHOLDER.encode() in placeholder_text

    paths = json.loads(members["info/paths.json"][1])
    assert paths["paths_version"] == 1
    by_path = {entry["_path"]: entry for entry in paths["paths"]}
    assert list(by_path) == ["bin/alpha", "share/alpha/alpha.txt", "share/alpha/prefix.txt"]
    for relative, entry in by_path.items():
        data = members[relative][1]
        assert entry["path_type"] == "hardlink"
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size_in_bytes"] == len(data)
    assert by_path["share/alpha/prefix.txt"]["file_mode"] == "text"
    assert by_path["share/alpha/prefix.txt"]["prefix_placeholder"] == PREFIX_PLACEHOLDER
    assert "file_mode" not in by_path["bin/alpha"]


def test_conda_layout(channel: CondaChannel) -> None:
    path = channel.add("beta", "2.0", fmt="conda", subdir="linux-64")
    stem = path.name.removesuffix(".conda")
    decompressor = zstandard.ZstdDecompressor()
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [
            "metadata.json",
            f"pkg-{stem}.tar.zst",
            f"info-{stem}.tar.zst",
        ]
        assert {entry.compress_type for entry in archive.infolist()} == {zipfile.ZIP_STORED}
        assert {entry.date_time for entry in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert json.loads(archive.read("metadata.json")) == {"conda_pkg_format_version": 2}
        info = tar_members(
            decompressor.decompressobj().decompress(archive.read(f"info-{stem}.tar.zst")), "r:"
        )
        pkg = tar_members(
            decompressor.decompressobj().decompress(archive.read(f"pkg-{stem}.tar.zst")), "r:"
        )
    assert list(info) == ["info/files", "info/has_prefix", "info/index.json", "info/paths.json"]
    assert list(pkg) == ["bin/beta", "share/beta/beta.txt", "share/beta/prefix.txt"]
    index = json.loads(info["info/index.json"][1])
    assert (index["subdir"], index["platform"], index["arch"]) == ("linux-64", "linux", "x86_64")
    assert "noarch" not in index


def test_custom_files_without_placeholder(channel: CondaChannel) -> None:
    moment = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
    path = channel.add(
        "delta",
        "0.1",
        files={"lib/delta/data.bin": b"\x00\x01", "etc/delta.conf": b"x=1\n"},
        placeholder_file=False,
        timestamp=moment,
    )
    members = tar_members(path.read_bytes(), "r:bz2")
    assert list(members) == [
        "info/files",
        "info/index.json",
        "info/paths.json",
        "etc/delta.conf",
        "lib/delta/data.bin",
    ]
    assert json.loads(members["info/index.json"][1])["timestamp"] == 1717243200000


@pytest.mark.parametrize("bad", ["/abs", "../up", "a//b", "info/index.json", "a\\b"])
def test_add_rejects_bad_paths(channel: CondaChannel, bad: str) -> None:
    with pytest.raises(ValueError, match=r"info/|relative POSIX"):
        channel.add("bad", "1", files={bad: b""})


@pytest.mark.parametrize("fmt", ["tar.bz2", "conda"])
def test_rattler_reads_the_metadata(
    channel: CondaChannel, fmt: Literal["tar.bz2", "conda"]
) -> None:
    path = channel.add("alpha", "1.1", depends=["beta >=1"], fmt=fmt)
    index = IndexJson.from_package_archive(path)
    assert index.name.normalized == "alpha"
    assert str(index.version) == "1.1"
    assert index.depends == ["beta >=1"]
    paths = {
        Path(entry.relative_path).as_posix(): entry
        for entry in PathsJson.from_package_archive(path).paths
    }
    placeholder = paths["share/alpha/prefix.txt"].prefix_placeholder
    assert placeholder is not None
    assert placeholder.placeholder == PREFIX_PLACEHOLDER
    assert placeholder.file_mode.text
    assert paths["bin/alpha"].prefix_placeholder is None


# --- the index ---


def test_index_and_record(channel: CondaChannel, catalog: dict[str, Path]) -> None:
    for number, (key, path) in enumerate(catalog.items()):
        record = channel.record(path.name)
        data = path.read_bytes()
        name, version = key.split("-")
        assert record["name"] == name
        assert record["version"] == version
        assert record["sha256"] == hashlib.sha256(data).hexdigest()
        assert record["md5"] == hashlib.md5(data).hexdigest()  # noqa: S324
        assert record["size"] == len(data)
        assert record["timestamp"] == int(DEFAULT_BUILD_EPOCH.timestamp() * 1000) + number * 60_000
    assert channel.record(catalog["alpha-1.1"].name)["depends"] == ["beta >=1"]
    noarch = json.loads((channel.root / "noarch" / "repodata.json").read_text())
    assert sorted(noarch["packages"]) == sorted(
        path.name for path in catalog.values() if path.name.endswith(".tar.bz2")
    )
    assert list(noarch["packages.conda"]) == [catalog["beta-2.0"].name]
    # The running platform's subdir exists and is indexed even with nothing in it.
    native = json.loads((channel.root / PLATFORM / "repodata.json").read_text())
    assert not native.get("packages")
    assert not native.get("packages.conda")
    assert sorted(p.name for p in channel.root.iterdir()) == sorted({"noarch", PLATFORM})


def test_record_before_index_fails(channel: CondaChannel) -> None:
    path = channel.add("alpha", "1.0")
    with pytest.raises(LookupError, match="index"):
        channel.record(path.name)
    with pytest.raises(LookupError, match="no archive"):
        channel.record("missing-1.0-h0_0.tar.bz2")


@pytest.mark.parametrize("key", ["alpha-1.0", "beta-2.0"])
def test_tamper_changes_hash_not_size(
    channel: CondaChannel, catalog: dict[str, Path], key: str
) -> None:
    path = catalog[key]
    before = path.read_bytes()
    channel.tamper(path.name)
    after = path.read_bytes()
    record = channel.record(path.name)
    assert len(after) == len(before) == record["size"]
    assert hashlib.sha256(before).hexdigest() == record["sha256"]
    assert hashlib.sha256(after).hexdigest() != record["sha256"]
    assert hashlib.md5(after).hexdigest() != record["md5"]  # noqa: S324


# --- serving ---


def test_serve_only_the_channel(channel: CondaChannel, catalog: dict[str, Path]) -> None:
    with channel.serve() as url:
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/local")
        with urllib.request.urlopen(f"{url}/noarch/repodata.json") as response:
            assert response.headers["Cache-Control"] == "no-cache"
            served = json.loads(response.read())
        assert served == json.loads((channel.root / "noarch" / "repodata.json").read_text())
        archive = catalog["beta-2.0"]
        with urllib.request.urlopen(f"{url}/noarch/{archive.name}") as response:
            assert response.read() == archive.read_bytes()
        base = url.removesuffix("/local")
        for path in ["/other/noarch/repodata.json", "/noarch/repodata.json", "/local/../x"]:
            with pytest.raises(urllib.error.HTTPError) as excinfo:
                urllib.request.urlopen(base + path)
            assert excinfo.value.code == 404
            excinfo.value.close()
    assert "/local/noarch/repodata.json" in channel.requests


# --- solving and installing with py-rattler ---


def test_solve_and_install(
    channel: CondaChannel, catalog: dict[str, Path], channel_url: str, tmp_path: Path
) -> None:
    records = solve(channel_url, ["alpha"], tmp_path / "gateway-cache")
    assert sorted((r.name.normalized, str(r.version)) for r in records) == [
        ("alpha", "1.1"),
        ("beta", "2.0"),
    ]
    by_name = {r.name.normalized: r for r in records}
    assert by_name["alpha"].url == f"{channel_url}/noarch/{catalog['alpha-1.1'].name}"
    assert by_name["beta"].url == f"{channel_url}/noarch/{catalog['beta-2.0'].name}"
    assert by_name["alpha"].sha256 is not None
    assert by_name["alpha"].sha256.hex() == channel.record(catalog["alpha-1.1"].name)["sha256"]

    prefix = tmp_path / "prefix"
    install(records, prefix, tmp_path / "package-cache")

    (meta,) = (prefix / "conda-meta").glob("alpha-1.1-*.json")
    assert meta.name == catalog["alpha-1.1"].name.removesuffix(".tar.bz2") + ".json"
    prefix_record = json.loads(meta.read_text())
    paths = {entry["_path"]: entry for entry in prefix_record["paths_data"]["paths"]}
    assert set(paths) == {"bin/alpha", "share/alpha/alpha.txt", "share/alpha/prefix.txt"}
    assert paths["share/alpha/prefix.txt"]["prefix_placeholder"] == PREFIX_PLACEHOLDER
    assert list((prefix / "conda-meta").glob("beta-2.0-*.json"))

    assert (prefix / "share" / "alpha" / "alpha.txt").read_text() == "alpha 1.1\n"
    assert (prefix / "share" / "beta" / "beta.txt").read_text() == "beta 2.0\n"
    script = prefix / "bin" / "alpha"
    assert script.stat().st_mode & stat.S_IXUSR
    assert os.access(script, os.X_OK)
    relocated = (prefix / "share" / "alpha" / "prefix.txt").read_text()
    assert relocated == f"prefix={prefix}\n"
    assert PREFIX_PLACEHOLDER not in relocated
    if channel_url.startswith("http"):
        assert f"/local/noarch/{catalog['alpha-1.1'].name}" in channel.requests
        assert f"/local/noarch/{catalog['beta-2.0'].name}" in channel.requests


def test_solve_sees_reindexed_channel(
    channel: CondaChannel, catalog: dict[str, Path], channel_url: str, tmp_path: Path
) -> None:
    cache = tmp_path / "gateway-cache"
    assert {str(r.version) for r in solve(channel_url, ["beta"], cache)} == {"2.0"}
    channel.add("beta", "3.0", subdir=PLATFORM)
    channel.index()
    records = solve(channel_url, ["beta"], cache)
    assert [(str(r.version), r.subdir) for r in records] == [("3.0", PLATFORM)]
