"""Kept pages: one read per project page in a run, some read early (while the resolver runs).

Against the real local index over HTTP; a fault injected on the page makes an
early read fail (tries = 1, so the injected fault is the read's end).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.errors import PackageIndexError
from lockdown.net import HttpSettings
from lockdown.resolve.index import IndexClient, IndexClients
from tests.support.pkgindex import PackageIndex

ONCE = HttpSettings(retries=0, timeout=5.0, backoff=0.0)


@pytest.fixture
def lib(package_index: PackageIndex) -> PackageIndex:
    package_index.add("lib", "1.0")
    package_index.add("lib", "1.1")
    return package_index


def page_reads(index: PackageIndex, project: str) -> int:
    return sum(1 for s in index.served_to("lockdown/", f"/simple/{project}/"))


def test_a_kept_page_is_read_once_for_every_question(lib: PackageIndex) -> None:
    client = IndexClients(ONCE)(lib.url)
    everything = client.project_files("lib")
    some = client.project_files("LIB", wanted=frozenset({everything[0].filename}))
    assert some == [everything[0]]
    assert page_reads(lib, "lib") == 1


def test_one_run_has_one_client_per_index(lib: PackageIndex) -> None:
    clients = IndexClients(ONCE)
    assert clients(lib.url) is clients(lib.url)
    clients(lib.url).project_files("lib")
    clients(lib.url).project_files("lib")
    assert page_reads(lib, "lib") == 1


def test_a_page_read_early_gives_what_a_plain_read_gives(lib: PackageIndex) -> None:
    clients = IndexClients(ONCE)
    clients(lib.url).prefetch(["Lib"])
    clients(lib.url).close(wait=True)
    assert page_reads(lib, "lib") == 1
    early = clients(lib.url).project_files("lib")
    assert page_reads(lib, "lib") == 1  # the early read served it
    assert early == IndexClient(lib.url).project_files("lib")


def test_an_early_read_of_a_name_never_asked_for_fails_nothing(lib: PackageIndex) -> None:
    clients = IndexClients(ONCE)
    clients(lib.url).prefetch(["not-on-this-index", "lib"])
    clients(lib.url).close(wait=True)
    assert page_reads(lib, "not-on-this-index") == 1  # asked early: a 404
    assert [f.filename for f in clients(lib.url).project_files("lib")] == [
        f.filename for f in IndexClient(lib.url).project_files("lib")
    ]


def test_a_failed_early_read_is_read_again_when_asked(lib: PackageIndex) -> None:
    lib.fail("/simple/lib/", "500", agent="lockdown/")
    clients = IndexClients(ONCE)
    clients(lib.url).prefetch(["lib"])
    clients(lib.url).close(wait=True)
    files = clients(lib.url).project_files("lib")
    assert [f.filename for f in files] == [
        f.filename for f in IndexClient(lib.url).project_files("lib")
    ]
    faults = [s.fault for s in lib.served_to("lockdown/", "/simple/lib/")]
    assert faults[:2] == ["500", None]  # the early read failed, the asked one did not


def test_a_page_that_fails_early_and_when_asked_is_the_usual_line(lib: PackageIndex) -> None:
    lib.fail("/simple/lib/", forever="500", agent="lockdown/")
    clients = IndexClients(ONCE)
    clients(lib.url).prefetch(["lib"])
    clients(lib.url).close(wait=True)
    with pytest.raises(PackageIndexError) as caught:
        clients(lib.url).project_files("lib")
    assert str(caught.value) == (
        f"package index {lib.url} answered HTTP 500 Internal Server Error for "
        f"{lib.url}lib/; check the index URL or try again later"
    )
    assert page_reads(lib, "lib") == 2  # once early, once when asked


def test_a_file_index_reads_nothing_early(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "index.html").write_text("<a href='lib-1.0.tar.gz'>x</a>")
    client = IndexClients(ONCE)(tmp_path.as_uri())
    client.prefetch(["lib"])
    assert [f.filename for f in client.project_files("lib")] == ["lib-1.0.tar.gz"]
