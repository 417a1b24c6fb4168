"""The simple-API client against real indexes: JSON, HTML, file://, broken and unreachable ones."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lockdown.config.http import HttpSettings
from lockdown.errors import PackageIndexError
from lockdown.net import Transport, fetch_sha256
from lockdown.resolve.index import IndexClient, IndexFile
from tests.support.pkgindex import JSON_CONTENT_TYPE, PackageIndex

UTC = timezone.utc


@pytest.fixture
def released(package_index: PackageIndex) -> PackageIndex:
    """``lib`` 2.0, 2.1 (yanked with a reason), 3.0 (requires-python >=4) and a reason-less yank."""
    package_index.add("lib", "2.0")
    package_index.add("lib", "2.1", yanked="broken build")
    package_index.add("lib", "3.0", requires_python=">=4")
    package_index.add("lib", "3.1", yanked=True, sdist=False)
    return package_index


def by_name(files: list[IndexFile]) -> dict[str, IndexFile]:
    return {file.filename: file for file in files}


# --- a real index ---


def test_json_page_gives_urls_hashes_sizes_upload_times_and_yanks(released: PackageIndex) -> None:
    files = IndexClient(released.url).project_files("lib")

    assert [f.filename for f in files] == [
        "lib-2.0-py3-none-any.whl",
        "lib-2.0.tar.gz",
        "lib-2.1-py3-none-any.whl",
        "lib-2.1.tar.gz",
        "lib-3.0-py3-none-any.whl",
        "lib-3.0.tar.gz",
        "lib-3.1-py3-none-any.whl",
    ]
    wheel = released.file("lib-2.0-py3-none-any.whl")
    assert files[0] == IndexFile(
        filename="lib-2.0-py3-none-any.whl",
        # The index links "../../files/…": resolved against the page, absolute here.
        url=released.files_url + "lib-2.0-py3-none-any.whl",
        sha256=wheel.sha256,
        size=wheel.size,
        upload_time=datetime(2025, 1, 1, 0, 0, tzinfo=UTC),
        yanked=None,
        requires_python=None,
    )
    named = by_name(files)
    assert named["lib-2.1.tar.gz"].yanked == "broken build"
    assert named["lib-2.1.tar.gz"].upload_time == datetime(2025, 1, 1, 0, 1, tzinfo=UTC)
    assert named["lib-3.1-py3-none-any.whl"].yanked == ""
    assert named["lib-3.0.tar.gz"].requires_python == ">=4"
    assert released.pages_served == [("/simple/lib/", JSON_CONTENT_TYPE)]


def test_html_only_index_leaves_size_and_upload_time_unknown(released: PackageIndex) -> None:
    released.json_api = False

    files = by_name(IndexClient(released.url).project_files("lib"))

    sdist = released.file("lib-2.0.tar.gz")
    assert files["lib-2.0.tar.gz"] == IndexFile(
        filename="lib-2.0.tar.gz",
        url=released.files_url + "lib-2.0.tar.gz",
        sha256=sdist.sha256,
        size=None,
        upload_time=None,
        yanked=None,
        requires_python=None,
    )
    assert files["lib-2.1-py3-none-any.whl"].yanked == "broken build"
    assert files["lib-3.1-py3-none-any.whl"].yanked == ""
    assert files["lib-3.0-py3-none-any.whl"].requires_python == ">=4"
    assert released.pages_served == [("/simple/lib/", "application/vnd.pypi.simple.v1+html")]


def test_json_without_pep_700_fields_invents_nothing(released: PackageIndex) -> None:
    released.upload_times = False
    released.sizes = False

    files = IndexClient(released.url).project_files("lib")

    assert {(f.size, f.upload_time) for f in files} == {(None, None)}


def test_upload_time_keeps_sub_second_precision(released: PackageIndex) -> None:
    moment = datetime(2024, 2, 29, 23, 59, 58, 125000, tzinfo=UTC)
    released.set_upload_time("lib-2.0.tar.gz", moment)

    files = by_name(IndexClient(released.url).project_files("lib"))

    assert files["lib-2.0.tar.gz"].upload_time == moment


def test_names_are_normalized_before_asking(released: PackageIndex) -> None:
    client = IndexClient(released.url.rstrip("/"))

    assert client.index_url == released.url
    assert client.project_files("LIB") == client.project_files("LiB")
    assert released.requests == ["/simple/lib/", "/simple/lib/"]


def test_corrupted_hash_is_reported_as_the_index_declares_it(
    released: PackageIndex,
) -> None:
    released.corrupt_hash("lib-2.0-py3-none-any.whl")
    indexed = released.file("lib-2.0-py3-none-any.whl")

    for json_api in (True, False):
        released.json_api = json_api
        file = by_name(IndexClient(released.url).project_files("lib"))[indexed.filename]
        assert file.sha256 == indexed.advertised_sha256 != indexed.sha256

    assert fetch_sha256(file.url) == (indexed.sha256, indexed.size)


def test_unknown_project_names_project_and_index(released: PackageIndex) -> None:
    with pytest.raises(PackageIndexError) as excinfo:
        IndexClient(released.url).project_files("No_Such.Thing")

    assert str(excinfo.value) == (
        f"project no-such-thing not found on package index {released.url}; "
        "check the package name and the index URL"
    )
    assert excinfo.value.exit_code == 70


def test_missing_file_download_is_an_index_error(released: PackageIndex) -> None:
    url = released.files_url + "lib-9.9.tar.gz"

    with pytest.raises(PackageIndexError) as excinfo:
        fetch_sha256(url)

    assert str(excinfo.value) == (
        f"cannot download {url}: HTTP 404 Not Found; "
        "the index lists a file it does not serve; check the index"
    )


def test_file_index(released: PackageIndex, tmp_path: Path) -> None:
    index_url = released.write_file_index(tmp_path / "static")
    released.stop()  # only the files on disk answer from here on
    client = IndexClient(index_url)

    files = by_name(client.project_files("Lib"))

    wheel = released.file("lib-2.0-py3-none-any.whl")
    files_dir = (tmp_path / "static" / "files").resolve()
    assert files[wheel.filename] == IndexFile(
        filename=wheel.filename,
        url=(files_dir / wheel.filename).as_uri(),
        sha256=wheel.sha256,
        size=None,
        upload_time=None,
        yanked=None,
        requires_python=None,
    )
    assert files["lib-2.1.tar.gz"].yanked == "broken build"
    assert fetch_sha256(files[wheel.filename].url) == (wheel.sha256, wheel.size)
    with pytest.raises(PackageIndexError) as excinfo:
        client.project_files("other")
    assert str(excinfo.value) == (
        f"project other not found on package index {index_url}; "
        "check the package name and the index URL"
    )


# --- unreachable and broken indexes ---


def test_connection_refused_is_one_line() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Closed again: nothing listens on the port now.
    url = f"http://127.0.0.1:{port}/simple/"

    with pytest.raises(PackageIndexError) as excinfo:
        IndexClient(url).project_files("lib")

    # Refused on every one of the default 1 + 3 tries.
    assert str(excinfo.value) == (
        f"cannot reach package index {url} ({url}lib/): Connection refused (tried 4 times); "
        "check the index URL and network"
    )


def test_timeout_is_one_line() -> None:
    # A socket that listens but never answers: the kernel accepts the connection.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/simple/"

        client = IndexClient(url, transport=Transport(HttpSettings(timeout=0.2, retries=0)))
        with pytest.raises(PackageIndexError) as excinfo:
            client.project_files("lib")

    assert str(excinfo.value) == (
        f"cannot reach package index {url} ({url}lib/): timed out; check the index URL and network"
    )


def test_unsupported_scheme() -> None:
    with pytest.raises(PackageIndexError) as excinfo:
        IndexClient("ftp://example.invalid/simple/")

    assert str(excinfo.value) == (
        "unsupported package index URL ftp://example.invalid/simple/; "
        "use an http://, https:// or file:// URL"
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Canned:
    """One fixed answer of the hand-made server below."""

    status: int = 200
    content_type: str = JSON_CONTENT_TYPE
    body: bytes = b""
    location: str | None = None


class _CannedHandler(BaseHTTPRequestHandler):
    routes: Mapping[str, Canned] = {}

    def do_GET(self) -> None:
        answer = self.routes.get(self.path, Canned(status=404, content_type="text/plain"))
        self.send_response(answer.status)
        if answer.content_type:
            self.send_header("Content-Type", answer.content_type)
        if answer.location:
            self.send_header("Location", answer.location)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def canned() -> Iterator[tuple[str, dict[str, Canned]]]:
    """A server answering fixed responses per path: for pages no honest index would send."""
    routes: dict[str, Canned] = {}
    handler = type("Handler", (_CannedHandler,), {"routes": routes})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", routes
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _json_page(*files: Mapping[str, object], api_version: str = "1.1") -> Canned:
    document = {"meta": {"api-version": api_version}, "name": "lib", "files": list(files)}
    return Canned(body=json.dumps(document).encode())


_GOOD_FILE: Mapping[str, object] = {
    "filename": "lib-1.0.tar.gz",
    "url": "lib-1.0.tar.gz",
    "hashes": {"sha256": "AB" * 32},
}


def test_relative_urls_resolve_against_the_page_after_redirects(
    canned: tuple[str, dict[str, Canned]],
) -> None:
    base, routes = canned
    routes["/mirror/simple/lib/"] = Canned(status=302, location=base + "/real/simple/lib/")
    routes["/real/simple/lib/"] = _json_page(_GOOD_FILE)

    files = IndexClient(f"{base}/mirror/simple/").project_files("lib")

    assert files[0].url == base + "/real/simple/lib/lib-1.0.tar.gz"


def test_a_redirect_to_another_origin_is_refused(
    released: PackageIndex, canned: tuple[str, dict[str, Canned]]
) -> None:
    base, routes = canned
    routes["/mirror/simple/lib/"] = Canned(status=302, location=released.url + "lib/")
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{base}/mirror/simple/").project_files("lib")
    assert str(caught.value) == (
        f"{base}/mirror/simple/lib/ redirects to another origin "
        f"({released.url.split('/simple')[0]}); refused; "
        "use the final URL of the index or mirror directly"
    )
    assert released.requests == []  # never asked


def test_json_details_timezones_other_hashes_and_fragments(
    canned: tuple[str, dict[str, Canned]],
) -> None:
    base, routes = canned
    routes["/simple/lib/"] = _json_page(
        {**_GOOD_FILE, "upload-time": "2024-05-01T14:30:00.5+02:00", "yanked": ""},
        {
            "filename": "lib-1.0-py3-none-any.whl",
            "url": "https://files.example.invalid/x/lib-1.0-py3-none-any.whl#md5=00",
            "hashes": {"md5": "00" * 16},
            "requires-python": "",
            "size": 0,
        },
    )

    first, second = IndexClient(base + "/simple/").project_files("lib")

    assert first.url == base + "/simple/lib/lib-1.0.tar.gz"
    assert first.sha256 == "ab" * 32
    assert first.upload_time == datetime(2024, 5, 1, 12, 30, 0, 500000, tzinfo=UTC)
    assert first.yanked == ""  # an empty reason still reads as yanked: fail closed
    assert second.url == "https://files.example.invalid/x/lib-1.0-py3-none-any.whl"
    assert second.sha256 is None
    assert second.requires_python is None
    assert second.size == 0


def test_html_details_base_href_and_other_hashes(canned: tuple[str, dict[str, Canned]]) -> None:
    base, routes = canned
    routes["/simple/lib/"] = Canned(
        content_type="text/html",
        body=(
            b'<html><head><base href="/pool/"></head><body>'
            b'<a href="lib-1.0.tar.gz#sha512=abcd" data-yanked>lib-1.0.tar.gz</a>'
            b'<a href="lib%2B1-2.0.tar.gz#sha256=' + b"CD" * 32 + b'">x</a>'
            b"<a>no href</a></body></html>"
        ),
    )

    first, second = IndexClient(base + "/simple/").project_files("lib")

    assert first == IndexFile(
        filename="lib-1.0.tar.gz",
        url=base + "/pool/lib-1.0.tar.gz",
        sha256=None,
        size=None,
        upload_time=None,
        yanked="",
        requires_python=None,
    )
    assert second.filename == "lib+1-2.0.tar.gz"
    assert second.sha256 == "cd" * 32


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (
            Canned(body=b"{not json"),
            "sent invalid JSON for project lib: Expecting property name enclosed in double "
            "quotes: line 1 column 2 (char 1); check the index URL; the index may be broken",
        ),
        (
            _json_page(_GOOD_FILE, api_version="2.0"),
            "speaks simple API version 2.0; lockdown reads version 1.x; "
            "use an index that serves the standard simple API",
        ),
        (
            Canned(
                content_type="text/html",
                body=b'<meta name="pypi:repository-version" content="3.0">',
            ),
            "speaks simple API version 3.0; lockdown reads version 1.x; "
            "use an index that serves the standard simple API",
        ),
        (
            Canned(body=b'{"files": []}'),
            "sent an unusable page for project lib: meta is missing; "
            "check the index URL; the index may be broken",
        ),
        (
            _json_page(_GOOD_FILE, {**_GOOD_FILE, "url": None}),
            "sent an unusable page for project lib: files[1].url is missing; "
            "check the index URL; the index may be broken",
        ),
        (
            _json_page({**_GOOD_FILE, "hashes": {"sha256": "abc"}}),
            "sent an unusable page for project lib: files[0].hashes.sha256 'abc' is not a sha256 "
            "hex digest; check the index URL; the index may be broken",
        ),
        (
            _json_page({**_GOOD_FILE, "upload-time": "2024-05-01T14:30:00"}),
            "sent an unusable page for project lib: files[0].upload-time '2024-05-01T14:30:00' "
            "is not an ISO 8601 date and time with a zone; "
            "check the index URL; the index may be broken",
        ),
        (
            _json_page({**_GOOD_FILE, "size": True}),
            "sent an unusable page for project lib: files[0].size is not a non-negative integer; "
            "check the index URL; the index may be broken",
        ),
        (
            _json_page({**_GOOD_FILE, "yanked": 1}),
            "sent an unusable page for project lib: files[0].yanked is neither a boolean nor a "
            "string; check the index URL; the index may be broken",
        ),
        (
            Canned(content_type="application/json", body=b"{}"),
            "answered 'application/json' for project lib, not a simple-API page; "
            "check the index URL",
        ),
        (
            Canned(status=503, content_type="text/plain"),
            "answered HTTP 503 Service Unavailable for {base}/simple/lib/ (tried 4 times); "
            "check the index URL or try again later",
        ),
    ],
    ids=[
        "invalid-json",
        "json-major-version",
        "html-major-version",
        "no-meta",
        "no-url",
        "bad-sha256",
        "naive-upload-time",
        "bool-size",
        "bad-yanked",
        "content-type",
        "http-503",
    ],
)
def test_broken_pages_give_one_line_errors(
    canned: tuple[str, dict[str, Canned]], answer: Canned, message: str
) -> None:
    base, routes = canned
    routes["/simple/lib/"] = answer

    with pytest.raises(PackageIndexError) as excinfo:
        IndexClient(base + "/simple/").project_files("lib")

    assert str(excinfo.value) == f"package index {base}/simple/ {message.format(base=base)}"
    assert "\n" not in str(excinfo.value)


# --- many pages at once (the gate's yank check) ---


def test_many_pages_over_kept_alive_connections_match_one_by_one(
    package_index: PackageIndex,
) -> None:
    names = [f"Pkg_{n}" for n in range(15)]
    for name in names:
        package_index.add(name, "1.0")
    package_index.yank("pkg-3", "1.0", "bad")
    client = IndexClient(package_index.url)

    many = client.many_project_files(names, workers=4)
    one_by_one = {f"pkg-{n}": client.project_files(f"pkg-{n}") for n in range(15)}

    assert many == one_by_one
    assert many["pkg-3"][0].yanked == "bad"
    assert IndexClient(package_index.url).many_project_files([]) == {}


@pytest.mark.parametrize("json_api", [True, False], ids=["json", "html"])
def test_many_pages_can_return_only_the_files_asked_about(
    released: PackageIndex, json_api: bool
) -> None:
    released.json_api = json_api
    wanted = {"lib-2.1.tar.gz", "lib-3.1-py3-none-any.whl", "not-listed.whl"}

    found = IndexClient(released.url).many_project_files(["lib"], filenames=wanted)

    assert [(f.filename, f.yanked) for f in found["lib"]] == [
        ("lib-2.1.tar.gz", "broken build"),
        ("lib-3.1-py3-none-any.whl", ""),
    ]


def test_many_pages_follow_same_origin_redirects(
    canned: tuple[str, dict[str, Canned]],
) -> None:
    base, routes = canned
    routes["/mirror/simple/lib/"] = Canned(status=302, location=base + "/real/simple/lib/")
    routes["/real/simple/lib/"] = _json_page(_GOOD_FILE)
    routes["/mirror/simple/other/"] = _json_page(_GOOD_FILE)

    found = IndexClient(f"{base}/mirror/simple/").many_project_files(["lib", "other"], workers=1)

    assert found["lib"][0].url == base + "/real/simple/lib/lib-1.0.tar.gz"
    assert found["other"][0].url == base + "/mirror/simple/other/lib-1.0.tar.gz"


def test_many_pages_refuse_other_origins_and_name_missing_projects(
    released: PackageIndex, canned: tuple[str, dict[str, Canned]]
) -> None:
    base, routes = canned
    routes["/mirror/simple/lib/"] = Canned(status=302, location=released.url + "lib/")
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{base}/mirror/simple/").many_project_files(["lib"])
    assert "redirects to another origin" in str(caught.value)
    assert released.requests == []

    with pytest.raises(PackageIndexError) as missing:
        IndexClient(released.url).many_project_files(["lib", "nothing-here"])
    assert str(missing.value) == (
        f"project nothing-here not found on package index {released.url}; "
        "check the package name and the index URL"
    )


def test_many_pages_go_through_a_configured_proxy(
    canned: tuple[str, dict[str, Canned]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The canned server plays the proxy: it is asked for absolute URLs.
    base, routes = canned
    routes["http://index.invalid/simple/lib/"] = _json_page(_GOOD_FILE)
    for variable in ("no_proxy", "NO_PROXY", "HTTP_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("http_proxy", base)

    found = IndexClient("http://index.invalid/simple/").many_project_files(["lib"])

    assert found["lib"][0].url == "http://index.invalid/simple/lib/lib-1.0.tar.gz"
