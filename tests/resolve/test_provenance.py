"""PEP 740 provenance from the index: the page's pointer (JSON and HTML) and the fetch.

The local test index serves the real attestation fixtures the way the real
index does: a ``provenance`` URL per file in PEP 691 JSON (null when none),
``data-provenance`` in HTML, the object itself as the integrity API's JSON.
"""

from __future__ import annotations

import pytest

from lockdown.errors import PackageIndexError
from lockdown.resolve.index import IndexClient
from lockdown.resolve.provenance import PinnedFile, fetch_provenance
from tests.support.attestations import GCB_FILE, GCB_PROJECT, GCB_SHA256, gcb_provenance
from tests.support.pkgindex import PackageIndex
from tests.support.waiting import until

UNATTESTED = "gcb_attestation_test-0.0.1.tar.gz"
UNATTESTED_SHA256 = "ab" * 32


@pytest.fixture
def attested(package_index: PackageIndex) -> PackageIndex:
    """The GCB file listed by its attested name and digest, with its real provenance."""
    package_index.list_file(GCB_FILE, GCB_SHA256)
    package_index.list_file(UNATTESTED, UNATTESTED_SHA256)
    package_index.set_provenance(GCB_FILE, gcb_provenance())
    return package_index


@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html"])
def test_the_page_names_each_files_provenance(attested: PackageIndex, json_api: bool) -> None:
    attested.json_api = json_api
    files = {f.filename: f for f in IndexClient(attested.url).project_files(GCB_PROJECT)}
    assert files[GCB_FILE].provenance == (
        f"{attested.base_url}/integrity/{GCB_PROJECT}/0.0.0/{GCB_FILE}/provenance"
    )
    assert files[GCB_FILE].sha256 == GCB_SHA256
    assert files[UNATTESTED].provenance is None


def test_the_provenance_object_is_fetched_as_served(attested: PackageIndex) -> None:
    client = IndexClient(attested.url)
    (listed,) = client.project_files(GCB_PROJECT, wanted=frozenset({GCB_FILE}))
    assert listed.provenance is not None
    assert client.provenance(listed.provenance) == gcb_provenance()


def test_fetch_provenance_for_pinned_files(attested: PackageIndex) -> None:
    pinned = [
        PinnedFile(project=GCB_PROJECT, index=attested.url, filename=name, sha256=digest)
        for name, digest in (
            (GCB_FILE, GCB_SHA256),
            (UNATTESTED, UNATTESTED_SHA256),
            ("gcb_attestation_test-9.9.tar.gz", GCB_SHA256),
        )
    ]
    got = fetch_provenance(pinned)
    assert [(f.file.filename, f.listed, f.document) for f in got] == [
        (GCB_FILE, True, gcb_provenance()),
        (UNATTESTED, True, None),
        ("gcb_attestation_test-9.9.tar.gz", False, None),
    ]


def test_a_provenance_url_that_fails_is_one_index_error(attested: PackageIndex) -> None:
    client = IndexClient(attested.url)
    missing = f"{attested.base_url}/integrity/{GCB_PROJECT}/0.0.1/{UNATTESTED}/provenance"
    with pytest.raises(PackageIndexError) as caught:
        client.provenance(missing)
    assert caught.value.message == (
        f"package index {attested.url} answered HTTP 404 Not Found for the provenance {missing}"
    )
    with pytest.raises(PackageIndexError, match="unsupported URL"):
        client.provenance("ftp://elsewhere/provenance")


def test_a_provenance_key_that_is_no_url_is_an_unusable_page() -> None:
    from lockdown.resolve.index import _Page

    page = _Page(index_url="http://i/simple/", project="p", url="http://i/simple/p/")
    body = (
        b'{"meta": {"api-version": "1.3"}, "files": [{"filename": "p-1.tar.gz", '
        b'"url": "p-1.tar.gz", "hashes": {}, "provenance": 7}]}'
    )
    with pytest.raises(PackageIndexError) as caught:
        page.parse_json(body)
    assert caught.value.message == (
        "package index http://i/simple/ sent an unusable page for project p: "
        "files[0].provenance is neither a URL nor null"
    )


# --- getting the verifier ready while the resolver works ---


def _early(index: PackageIndex, *, provenance: bool, calls: list[str]) -> None:
    from lockdown.config.http import HttpSettings
    from lockdown.resolve.early import early_clients

    clients = early_clients(
        HttpSettings(retries=0, timeout=5.0, backoff=0.0),
        {index.url: {GCB_PROJECT}},
        provenance=provenance,
        on_provenance=lambda: calls.append("ready"),
    )
    try:
        assert clients(index.url).declarations() is not None
    finally:
        clients.close()


def test_an_index_that_carries_provenance_gets_the_verifier_ready_once(
    attested: PackageIndex,
) -> None:
    calls: list[str] = []
    _early(attested, provenance=True, calls=calls)
    # Called from the reader's thread just after the page is judged.
    assert until(lambda: calls == ["ready"])


def test_no_verifier_is_readied_without_provenance_on_the_index_or_in_the_policy(
    attested: PackageIndex, package_index: PackageIndex
) -> None:
    calls: list[str] = []
    _early(attested, provenance=False, calls=calls)  # provenance = "off"
    assert not until(lambda: bool(calls), seconds=0.5)
    package_index.set_provenance(GCB_FILE, None)
    _early(package_index, provenance=True, calls=calls)  # nothing attested on the index
    assert not until(lambda: bool(calls), seconds=0.5)


def test_preloading_the_verifier_imports_its_stack() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from lockdown.sign.provenance import preload; "
        "assert 'pypi_attestations' not in sys.modules; preload(); "
        "print(sorted(m for m in ('pydantic', 'pypi_attestations', 'sigstore.verify') "
        "if m in sys.modules))"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.split() == ["['pydantic',", "'pypi_attestations',", "'sigstore.verify']"]
