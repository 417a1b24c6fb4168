"""Kept pages: one read per project page in a run, some read early (while the resolver runs).

Against the real local index over HTTP; a fault injected on the page makes an
early read fail (tries = 1, so the injected fault is the read's end).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lockdown.config.http import HttpSettings
from lockdown.errors import PackageIndexError
from lockdown.resolve.index import IndexClient, IndexClients, IndexDeclarations
from tests.support.pkgindex import PackageIndex
from tests.support.waiting import until

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


@pytest.fixture
def three(lib: PackageIndex) -> PackageIndex:
    lib.add("more", "1.0")
    lib.add("most", "1.0")
    return lib


def test_an_early_read_with_a_probe_reads_one_page_when_it_is_not_worth_more(
    three: PackageIndex,
) -> None:
    client = IndexClients(ONCE)(three.url)
    client.prefetch(["most", "lib", "more"], worth=lambda declared: declared.core_metadata)
    declared = client.declarations()
    assert declared == IndexDeclarations(api_version="1.1", provenance=False, core_metadata=False)
    assert not declared.carries_provenance
    client.close(wait=True)
    assert [page_reads(three, p) for p in ("lib", "more", "most")] == [1, 0, 0]


def test_an_early_read_with_a_probe_reads_the_rest_when_it_is_worth_it(
    three: PackageIndex,
) -> None:
    three.serve_metadata = True
    client = IndexClients(ONCE)(three.url)
    client.prefetch(["most", "lib", "more"], worth=lambda declared: declared.core_metadata)
    assert until(lambda: all(page_reads(three, p) == 1 for p in ("lib", "more", "most")))
    declared = client.declarations()
    assert declared is not None
    assert declared.core_metadata
    client.close(wait=True)


def test_declarations_read_one_page_when_none_was_read(three: PackageIndex) -> None:
    client = IndexClients(ONCE)(three.url)
    assert client.declarations(["not-on-this-index", "more", "lib"]) == IndexDeclarations(
        api_version="1.1", provenance=False, core_metadata=False
    )
    assert page_reads(three, "not-on-this-index") == 1  # a 404: the next one is read
    assert [page_reads(three, p) for p in ("lib", "more", "most")] == [0, 1, 0]
    assert IndexClients(ONCE)(three.url).declarations(["not-on-this-index"]) is None


def test_an_html_page_without_a_version_is_api_1_0(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "index.html").write_text(
        "<a href='lib-1.0.tar.gz' data-core-metadata='sha256=" + "ab" * 32 + "'>x</a>"
    )
    declared = IndexClient(tmp_path.as_uri()).declarations(["lib"])
    assert declared == IndexDeclarations(api_version="1.0", provenance=False, core_metadata=True)
    assert not declared.carries_provenance
    # PEP 740's own text says 1.2 or later; the packaging specification, 1.3.
    assert [
        IndexDeclarations(api_version=v, provenance=False, core_metadata=False).carries_provenance
        for v in ("1.0", "1.1", "1.2", "1.3", "1.4", "2.0")
    ] == [False, False, True, True, True, True]
    assert IndexDeclarations(
        api_version="1.1", provenance=True, core_metadata=False
    ).carries_provenance
    assert IndexDeclarations(api_version="1.10", provenance=False, core_metadata=False).merged(
        IndexDeclarations(api_version="1.9", provenance=True, core_metadata=False)
    ) == IndexDeclarations(api_version="1.10", provenance=True, core_metadata=False)
