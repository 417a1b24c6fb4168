"""A misbehaving server on 127.0.0.1: every request bounded, every failure one clear line.

(Wrong hashes, wrong sizes, truncated bodies and dropped connections are in
``tests/resolve/test_index.py`` and ``tests/lock/test_lock_errors.py``; a
redirect to another origin is there too.)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lockdown import artifacts
from lockdown.artifacts import ArtifactCache, Expected
from lockdown.errors import IntegrityError, PackageIndexError
from lockdown.resolve import index
from lockdown.resolve.index import IndexClient, fetch_sha256

JSON = "application/vnd.pypi.simple.v1+json"


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/slow/"):
            # Announce ten megabytes, then trickle: each byte well within the socket timeout.
            self.send_response(200)
            self.send_header("Content-Length", str(10_000_000))
            self.end_headers()
            for _ in range(200):
                try:
                    self.wfile.write(b"x")
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(0.05)
            return
        if self.path.startswith("/endless/"):
            # A fast body that never ends, without a Content-Length.
            self.send_response(200)
            self.end_headers()
            block = b"x" * 65536
            for _ in range(100_000):  # ~6 GB if nobody stops reading
                try:
                    self.wfile.write(block)
                except OSError:
                    return
            return
        if self.path == "/simple/huge/":
            body = b'{"meta": {"api-version": "1.0"}, "files": [' + b" " * (2 << 20) + b"]}"
            self._send(body, JSON)
            return
        if self.path == "/simple/html/":
            self._send(b"<html><body><a href='x.whl'>x</a></body></html>", JSON)
            return
        self.send_error(404)

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def hostile() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_trickling_download_is_cut_off(hostile: str) -> None:
    start = time.monotonic()
    with pytest.raises(PackageIndexError) as caught:
        fetch_sha256(f"{hostile}/slow/x.whl", timeout=0.5)
    assert time.monotonic() - start < 5  # bounded, not 10 MB at 20 bytes a second
    message = str(caught.value)
    assert message.startswith(f"cannot download {hostile}/slow/x.whl: the server sent ")
    assert "too slow, stopped" in message


def test_an_enormous_listing_is_refused(hostile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "MAX_PAGE_BYTES", 1 << 20)
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{hostile}/simple/").project_files("huge")
    assert str(caught.value) == (
        f"the page of huge on {hostile}/simple/ is larger than 1 MB; refused; "
        "check the index; it may be broken or hostile"
    )


def test_html_where_json_is_promised(hostile: str) -> None:
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{hostile}/simple/").project_files("html")
    assert str(caught.value).startswith(
        f"package index {hostile}/simple/ sent invalid JSON for project html"
    )
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("declared", [1000, None], ids=["size-declared", "no-size"])
def test_an_endless_download_stops_at_the_declared_size(
    hostile: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, declared: int | None
) -> None:
    monkeypatch.setattr(artifacts, "MAX_ARTIFACT_BYTES", 1 << 20)
    cache = ArtifactCache(tmp_path / "cache")
    expected = Expected(
        url=f"{hostile}/endless/x.whl",
        filename="x.whl",
        sha256="ab" * 32,
        size=declared,
        source="the lock",
    )
    with pytest.raises(IntegrityError) as caught:
        cache.fetch(expected)
    limit = "the 1000 bytes the lock declares" if declared else f"{1 << 20} bytes, more than any"
    assert str(caught.value).startswith(f"x.whl: the server sent more than {limit}")
    assert str(caught.value).endswith(
        "; stopped; the index, a mirror or a proxy is corrupt or hostile"
    )
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == []  # nothing kept


def test_install_from_an_endless_server_changes_nothing(
    hostile: str, tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """End to end: the command stops the body, says why in one line, creates nothing."""
    lock = tmp_path / "pylock.toml"
    lock.write_text(
        'lock-version = "1.0"\ncreated-by = "t"\nrequires-python = ">=3.8"\n\n'
        '[[packages]]\nname = "x"\nversion = "1.0"\n\n[[packages.wheels]]\n'
        f'url = "{hostile}/endless/x-1.0-py3-none-any.whl"\nsize = 4096\n'
        f'hashes = {{ sha256 = "{"ab" * 32}" }}\n'
    )
    venv = tmp_path / "venv"
    cache = tmp_path / "cache"
    result = cli("install", "--lock", lock, "--venv", venv, "--cache-dir", cache)
    assert result.code == 16, result.err
    assert result.err == (
        "lockdown: error: x-1.0-py3-none-any.whl: the server sent more than the 4096 bytes "
        f"{lock} declares; stopped; the index, a mirror or a proxy is corrupt or hostile\n"
    )
    assert not venv.exists()
    assert [p for p in (cache / "sha256").rglob("*") if p.is_file()] == []  # no artifact kept
