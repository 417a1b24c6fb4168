"""The early probe: one page's first bytes tell what an index declares, not its whole listing.

A real server on 127.0.0.1 serves pages of every size in both formats (or
JSON only, whatever is asked), logs what each request asked for, and says
whether it could send each page to the end.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lockdown.config.http import HttpSettings
from lockdown.errors import PackageIndexError
from lockdown.net import Transport
from lockdown.resolve.index import PROBE_BYTES, IndexClients, IndexDeclarations
from tests.support.waiting import until

ONCE = HttpSettings(retries=0, timeout=5.0, backoff=0.0)
HTML = "text/html"
JSON = "application/vnd.pypi.simple.v1+json"
DIGEST = "ab" * 32


@dataclass(frozen=True)
class Listing:
    """One project's page: ``count`` sdists, with core metadata or not, JSON only or not."""

    count: int
    core_metadata: bool = False
    json_only: bool = False


@dataclass
class Log:
    #: (project, content type answered) per request, in order.
    asked: list[tuple[str, str]] = field(default_factory=list)
    #: project → whether its last answer was written to the end.
    finished: dict[str, bool] = field(default_factory=dict)

    def reads(self, project: str) -> list[str]:
        return [kind for name, kind in self.asked if name == project]


LISTINGS = {
    # ~8 MB as HTML: far more than the probe reads and than the socket buffers hold.
    "big": Listing(count=60_000),
    "bigmeta": Listing(count=60_000, core_metadata=True),
    "jsononly": Listing(count=60_000, core_metadata=True, json_only=True),
    "small": Listing(count=3),
    "other": Listing(count=2),
}


def html(name: str, listing: Listing) -> bytes:
    meta = f' data-core-metadata="sha256={DIGEST}"' if listing.core_metadata else ""
    anchors = "".join(
        f'<a href="/files/{name}-1.{n}.tar.gz#sha256={DIGEST}"{meta}>{name}-1.{n}.tar.gz</a><br/>\n'
        for n in range(listing.count)
    )
    return (
        '<!DOCTYPE html>\n<html><head><meta name="pypi:repository-version" content="1.1">'
        f"<title>Links for {name}</title></head><body>\n{anchors}</body></html>\n"
    ).encode()


def page_json(name: str, listing: Listing) -> bytes:
    files = [
        {
            "filename": f"{name}-1.{n}.tar.gz",
            "url": f"/files/{name}-1.{n}.tar.gz",
            "hashes": {"sha256": DIGEST},
            **({"core-metadata": {"sha256": DIGEST}} if listing.core_metadata else {}),
        }
        for n in range(listing.count)
    ]
    return json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": files}).encode()


@pytest.fixture
def server() -> Iterator[tuple[str, Log]]:
    log = Log()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            name = self.path.strip("/").split("/")[-1]
            listing = LISTINGS.get(name)
            if listing is None:
                self.send_error(404)
                return
            wants_json = JSON in (self.headers.get("Accept") or "")
            kind = JSON if listing.json_only or wants_json else HTML
            body = page_json(name, listing) if kind == JSON else html(name, listing)
            log.asked.append((name, kind))
            log.finished[name] = False
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                for start in range(0, len(body), 1 << 16):
                    self.wfile.write(body[start : start + (1 << 16)])
            except OSError:
                return  # the client stopped reading
            log.finished[name] = True

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/simple/", log
    finally:
        httpd.shutdown()
        httpd.server_close()


def metadata_worth(declared: IndexDeclarations) -> bool:
    return declared.core_metadata


def test_a_prefix_read_stops_at_its_limit_and_the_transport_goes_on(
    server: tuple[str, Log],
) -> None:
    url, log = server
    transport = Transport(ONCE)
    page = transport.get(
        f"{url}big/",
        headers={"Accept": HTML},
        limit=1000,
        too_large=lambda: PackageIndexError("a prefix read never refuses"),
        what="probe",
        prefix=True,
    )
    assert (len(page.body), page.truncated) == (1000, True)
    assert page.body.startswith(b"<!DOCTYPE html>")
    # The cut connection is not reused: the next request on the transport is whole.
    whole = transport.get(
        f"{url}small/",
        headers={"Accept": HTML},
        limit=1 << 20,
        too_large=lambda: PackageIndexError("small is small"),
        what="page",
    )
    assert whole.body == html("small", LISTINGS["small"])
    assert not whole.truncated
    assert until(lambda: log.finished.get("small") is True)
    assert log.finished["big"] is False


def test_the_probe_reads_a_big_pages_head_and_nothing_more_when_not_worth_it(
    server: tuple[str, Log],
) -> None:
    url, log = server
    client = IndexClients(ONCE)(url)
    client.prefetch(["big", "other"], worth=metadata_worth)
    declared = client.declarations()
    assert declared == IndexDeclarations(api_version="1.1", provenance=False, core_metadata=False)
    client.close(wait=True)
    # One request, cut after the prefix; the other project's page is never asked for.
    assert log.asked == [("big", HTML)]
    assert log.finished == {"big": False}
    assert len(html("big", LISTINGS["big"])) // 100 > PROBE_BYTES


def test_the_probe_reads_every_page_when_the_head_declares_what_is_worth_it(
    server: tuple[str, Log],
) -> None:
    url, log = server
    client = IndexClients(ONCE)(url)
    client.prefetch(["bigmeta", "other"], worth=metadata_worth)
    declared = client.declarations()
    assert declared is not None
    assert declared.core_metadata
    files = client.project_files("bigmeta")
    assert len(files) == LISTINGS["bigmeta"].count
    assert files[0].core_metadata == DIGEST
    assert len(client.project_files("other")) == 2
    client.close(wait=True)
    # The probe's prefix, then each page whole (early or when asked), in the preferred format.
    assert log.reads("bigmeta") == [HTML, JSON]
    assert log.reads("other") == [JSON]


def test_a_page_the_probe_read_whole_is_kept(server: tuple[str, Log]) -> None:
    url, log = server
    client = IndexClients(ONCE)(url)
    client.prefetch(["other", "small"], worth=lambda declared: True)
    assert client.declarations() is not None
    assert [f.filename for f in client.project_files("other")] == [
        "other-1.0.tar.gz",
        "other-1.1.tar.gz",
    ]
    assert len(client.project_files("small")) == 3
    client.close(wait=True)
    # "other" was short: the probe's read is its page, not read again.
    assert log.reads("other") == [HTML]
    assert log.reads("small") == [JSON]


def test_an_index_that_answers_json_to_the_probe_is_read_one_whole_page_first(
    server: tuple[str, Log],
) -> None:
    url, log = server
    client = IndexClients(ONCE)(url)
    client.prefetch(["jsononly", "other"], worth=metadata_worth)
    declared = client.declarations()
    assert len(client.project_files("other")) == 2
    client.close(wait=True)
    assert declared == IndexDeclarations(api_version="1.1", provenance=False, core_metadata=True)
    # A JSON prefix cannot be parsed: the probe cannot tell, so the first page is
    # read whole (as before the probe); the others once each, early or when asked.
    assert log.reads("jsononly") == [JSON, JSON]
    assert until(lambda: log.finished["jsononly"] is True)
    assert log.reads("other") == [JSON]
