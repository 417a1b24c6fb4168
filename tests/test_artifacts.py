"""The content-addressed artifact cache: only verified bytes get in."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from lockdown.artifacts import ArtifactCache, verify_all
from lockdown.errors import IntegrityError, PackageIndexError
from lockdown.fsutil import default_cache_dir
from lockdown.lock.model import Artifact
from tests.support.pkgindex import PackageIndex


@pytest.fixture
def released(package_index: PackageIndex) -> PackageIndex:
    package_index.add("lib", "2.0")
    return package_index


def expected(index: PackageIndex, filename: str, **changes: object) -> Artifact:
    indexed = index.file(filename)
    fields: dict[str, object] = {
        "url": index.files_url + filename,
        "filename": filename,
        "sha256": indexed.sha256,
        "size": indexed.size,
        "upload_time": None,
    }
    fields.update(changes)
    return Artifact(**fields)  # type: ignore[arg-type]


#: Who declares the artifacts these tests fetch (named in the messages).
SOURCE = "the package index"


def test_fetch_stores_by_digest(released: PackageIndex, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    want = expected(released, "lib-2.0-py3-none-any.whl")
    path = cache.fetch(want, source=SOURCE)
    assert path == tmp_path / "cache" / "sha256" / want.sha256[:2] / want.sha256
    assert hashlib.sha256(path.read_bytes()).hexdigest() == want.sha256
    assert cache.has(want.sha256)
    before = len(released.requests)
    assert cache.fetch(want, source=SOURCE) == path  # cached: no second download
    assert len(released.requests) == before


def test_wrong_digest_is_refused_and_not_stored(released: PackageIndex, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    real = released.file("lib-2.0.tar.gz").sha256
    wrong = "0" * 64
    with pytest.raises(IntegrityError) as info:
        cache.fetch(expected(released, "lib-2.0.tar.gz", sha256=wrong), source=SOURCE)
    assert str(info.value) == (
        f"lib-2.0.tar.gz: the package index declares sha256 {wrong} but the file served has "
        f"sha256 {real}; the index, a mirror or a proxy is corrupt or tampered with"
    )
    assert info.value.exit_code == 16
    assert not cache.has(wrong)
    assert not cache.has(real)
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []


def test_wrong_size_is_refused(released: PackageIndex, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    size = released.file("lib-2.0.tar.gz").size
    with pytest.raises(IntegrityError, match=f"declares {size + 1} bytes but {size} were served"):
        cache.fetch(expected(released, "lib-2.0.tar.gz", size=size + 1), source=SOURCE)


def test_verify_all_downloads_only_missing(released: PackageIndex, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    wanted = [expected(released, f.filename) for f in released.files("lib")]
    seen: list[tuple[int, int]] = []
    verify_all(
        cache, wanted, source=SOURCE, progress=lambda done, total: seen.append((done, total))
    )
    assert seen[-1] == (len(wanted), len(wanted))
    before = len(released.requests)
    verify_all(cache, wanted, source=SOURCE)
    assert len(released.requests) == before


def test_missing_file_is_an_index_error(released: PackageIndex, tmp_path: Path) -> None:
    cache = ArtifactCache(tmp_path / "cache")
    with pytest.raises(PackageIndexError, match="HTTP 404"):
        cache.fetch(
            expected(released, "lib-2.0.tar.gz", url=released.files_url + "gone.tar.gz"),
            source=SOURCE,
        )


def test_cache_dir_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("LOCKDOWN_CACHE_DIR", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("LOCKDOWN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "lockdown"
