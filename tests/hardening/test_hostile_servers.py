"""A misbehaving server on 127.0.0.1: every request bounded, every failure one clear line.

Hostile servers (trickles, endless bodies, huge pages) are refused; flaky ones
(the test index with :meth:`PackageIndex.fail`: resets, stalls, cut bodies,
429 and 5xx) are retried until they answer or the tries run out. (Wrong
hashes, wrong sizes and truncated bodies are in ``tests/resolve/test_index.py``
and ``tests/lock/test_lock_errors.py``; a redirect to another origin is there too.)
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lockdown import artifacts, net
from lockdown.artifacts import ArtifactCache
from lockdown.config.http import HttpSettings
from lockdown.errors import IntegrityError, PackageIndexError
from lockdown.lock.model import Artifact
from lockdown.net import TransferError, Transport, fetch_sha256
from lockdown.resolve import index
from lockdown.resolve.index import IndexClient
from tests.support.pkgindex import Fault, PackageIndex

JSON = "application/vnd.pypi.simple.v1+json"
#: A JSON page listing one file, as a small index would send it.
_PAGE = json.dumps(
    {
        "meta": {"api-version": "1.1"},
        "name": "gz",
        "files": [{"filename": "gz-1.0.tar.gz", "url": "gz-1.0.tar.gz", "hashes": {}}],
    }
).encode()
#: 16 MiB of JSON whitespace compressed to a few KB: under any cap raw, far over it decoded.
_BOMB = gzip.compress(b'{"meta": {"api-version": "1.0"}, "files": [' + b" " * (16 << 20) + b"]}")
#: What each path was asked with (``Accept-Encoding``), for the tests.
_ASKED: dict[str, str | None] = {}


class _Hostile(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        _ASKED[self.path] = self.headers.get("Accept-Encoding")
        if self.path == "/simple/gz/":
            self._send(gzip.compress(_PAGE), JSON, encoding="gzip")
            return
        if self.path == "/simple/bomb/":
            self._send(_BOMB, JSON, encoding="gzip")
            return
        if self.path == "/simple/corrupt/":
            self._send(gzip.compress(_PAGE)[:10] + b"\xff" * 64, JSON, encoding="gzip")
            return
        if self.path == "/simple/brotli/":
            self._send(_PAGE, JSON, encoding="br")
            return
        if self.path == "/plain/x.whl":
            self._send(b"wheel bytes", "application/octet-stream")
            return
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
        if self.path.startswith("/steady/"):
            # Slow but steady: 1 MiB in 8 blocks, 0.15 s apart.
            self.send_response(200)
            self.send_header("Content-Length", str(8 << 17))
            self.end_headers()
            for _ in range(8):
                self.wfile.write(b"x" * (1 << 17))
                self.wfile.flush()
                time.sleep(0.15)
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

    def _send(self, body: bytes, content_type: str, *, encoding: str | None = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if encoding is not None:
            self.send_header("Content-Encoding", encoding)
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
        fetch_sha256(
            f"{hostile}/slow/x.whl", transport=Transport(HttpSettings(timeout=0.5, retries=1))
        )
    assert time.monotonic() - start < 5  # bounded, not 10 MB at 20 bytes a second
    message = str(caught.value)
    assert message.startswith(f"cannot download {hostile}/slow/x.whl: the server sent ")
    assert "too slow, stopped (tried 2 times)" in message


def test_an_enormous_listing_is_refused(hostile: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index, "MAX_PAGE_BYTES", 1 << 20)
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{hostile}/simple/").project_files("huge")
    assert str(caught.value) == (
        f"the page of huge on {hostile}/simple/ is larger than 1 MB; refused; "
        "check the index; it may be broken or hostile"
    )


def test_a_gzip_page_is_asked_for_and_decoded(hostile: str) -> None:
    files = IndexClient(f"{hostile}/simple/").project_files("gz")
    assert [f.filename for f in files] == ["gz-1.0.tar.gz"]
    assert _ASKED["/simple/gz/"] == "gzip"


def test_an_artifact_download_never_asks_for_compression(hostile: str) -> None:
    assert fetch_sha256(f"{hostile}/plain/x.whl") == (
        hashlib.sha256(b"wheel bytes").hexdigest(),
        len(b"wheel bytes"),
    )
    assert _ASKED["/plain/x.whl"] in {None, "identity"}  # http.client says identity


def test_a_gzip_bomb_stops_at_the_cap_on_its_decoded_size(
    hostile: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert len(_BOMB) < 1 << 20  # the cap is never reached by the bytes on the wire
    monkeypatch.setattr(index, "MAX_PAGE_BYTES", 1 << 20)
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{hostile}/simple/").project_files("bomb")
    assert str(caught.value) == (
        f"the page of bomb on {hostile}/simple/ is larger than 1 MB; refused; "
        "check the index; it may be broken or hostile"
    )


def test_a_corrupt_gzip_body_is_one_line(hostile: str) -> None:
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{hostile}/simple/").project_files("corrupt")
    message = str(caught.value)
    assert message.startswith(
        f"cannot reach package index {hostile}/simple/ ({hostile}/simple/corrupt/): "
        "the server sent a corrupt gzip body ("
    )
    assert message.endswith("check the index; it may be broken or hostile")
    assert "\n" not in message


def test_an_encoding_not_asked_for_is_refused(hostile: str) -> None:
    with pytest.raises(PackageIndexError) as caught:
        IndexClient(f"{hostile}/simple/").project_files("brotli")
    assert str(caught.value) == (
        f"cannot reach package index {hostile}/simple/ ({hostile}/simple/brotli/): "
        "the server sent a body in 'br' encoding, which lockdown did not ask for; "
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
    expected = Artifact(
        url=f"{hostile}/endless/x.whl",
        filename="x.whl",
        sha256="ab" * 32,
        size=declared,
        upload_time=None,
    )
    with pytest.raises(IntegrityError) as caught:
        cache.fetch(expected, source="the lock")
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


# --- a flaky index: retried until it answers, or one line when it never does ---

#: Faults worth another try, and what each looks like to a client.
FAULTS: tuple[Fault, ...] = ("reset", "stall", "cut", "429", "500", "503")


def patient(*, retries: int = 3, timeout: float = 0.5, backoff: float = 0.0) -> Transport:
    """A transport with short timeouts and no pauses, so flaky servers test fast."""
    return Transport(HttpSettings(timeout=timeout, retries=retries, backoff=backoff))


@pytest.fixture
def lib(package_index: PackageIndex) -> PackageIndex:
    """The test index with ``lib`` 1.0 (a wheel and an sdist)."""
    package_index.add("lib", "1.0")
    return package_index


@pytest.mark.parametrize("fault", FAULTS)
def test_an_index_page_is_read_after_two_failures(lib: PackageIndex, fault: Fault) -> None:
    honest = IndexClient(lib.url).project_files("lib")
    lib.fail("/simple/lib/", fault, fault, stall_seconds=1.5)

    assert IndexClient(lib.url, transport=patient()).project_files("lib") == honest
    assert [s.fault for s in lib.served_to("lockdown/", "/simple/lib/")] == [
        None,
        fault,
        fault,
        None,
    ]


@pytest.mark.parametrize("fault", FAULTS)
def test_an_artifact_is_downloaded_after_two_failures(lib: PackageIndex, fault: Fault) -> None:
    wheel = lib.file("lib-1.0-py3-none-any.whl")
    lib.fail("/files/", fault, fault, stall_seconds=1.5)

    assert fetch_sha256(lib.files_url + wheel.filename, transport=patient()) == (
        wheel.sha256,
        wheel.size,
    )
    assert [s.fault for s in lib.served_to("lockdown/", "/files/")] == [fault, fault, None]


def test_a_download_cut_mid_body_starts_again_from_the_first_byte(
    lib: PackageIndex, tmp_path: Path
) -> None:
    wheel = lib.file("lib-1.0-py3-none-any.whl")
    lib.fail("/files/", "cut", "cut")
    cache = ArtifactCache(tmp_path / "cache", http=HttpSettings(timeout=0.5, retries=2, backoff=0))

    path = cache.fetch(
        Artifact(
            url=lib.files_url + wheel.filename,
            filename=wheel.filename,
            sha256=wheel.sha256,
            size=wheel.size,
            upload_time=None,
        ),
        source="the lock",
    )

    # Half bodies twice, then the whole: the stored file is the one whole body.
    assert path.read_bytes() == wheel.path.read_bytes()
    assert [p for p in (tmp_path / "cache").rglob("*") if p.is_file()] == [path]


def test_retry_after_is_honoured_up_to_its_cap(
    lib: PackageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(net, "RETRY_AFTER_MAX", 1)
    lib.fail("/simple/lib/", "503", "429", retry_after="3600")

    IndexClient(lib.url, transport=patient()).project_files("lib")

    times = [s.at for s in lib.served_to("lockdown/", "/simple/lib/")]
    assert len(times) == 3
    # No backoff is configured: only the server's Retry-After (capped at 1 s, not an
    # hour) can have spaced the tries.
    assert all(later - earlier >= 0.9 for earlier, later in itertools.pairwise(times))


def test_the_backoff_grows_between_tries(lib: PackageIndex) -> None:
    lib.fail("/simple/lib/", "500", "500", "500")

    IndexClient(lib.url, transport=patient(backoff=0.2)).project_files("lib")

    times = [s.at for s in lib.served_to("lockdown/", "/simple/lib/")]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    # urllib3's schedule: the first retry at once, then 2 and 4 times the factor (+ jitter).
    assert len(gaps) == 3
    assert gaps[1] >= 0.4
    assert gaps[2] >= 0.8


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        (
            "503",
            "package index {index} answered HTTP 503 Service Unavailable for {index}lib/ "
            "(tried 3 times); check the index URL or try again later",
        ),
        (
            "stall",
            "cannot reach package index {index} ({index}lib/): timed out (tried 3 times); "
            "check the index URL and network",
        ),
    ],
)
def test_an_index_that_never_recovers_is_one_line_naming_url_and_tries(
    lib: PackageIndex, fault: Fault, message: str
) -> None:
    lib.fail("/simple/lib/", forever=fault, stall_seconds=1.0)

    with pytest.raises(PackageIndexError) as caught:
        IndexClient(lib.url, transport=patient(retries=2, timeout=0.3)).project_files("lib")

    assert str(caught.value) == message.format(index=lib.url)
    assert len(lib.served_to("lockdown/", "/simple/lib/")) == 3


def test_a_download_that_never_recovers_is_one_line_naming_url_and_tries(lib: PackageIndex) -> None:
    url = lib.files_url + "lib-1.0.tar.gz"
    lib.fail("/files/", forever="reset")

    with pytest.raises(TransferError) as caught:
        fetch_sha256(url, transport=patient(retries=4))

    message = str(caught.value)
    assert message.startswith(f"cannot download {url}: ")
    assert message.endswith(" (tried 5 times); check the index URL and network")
    assert "\n" not in message
    assert caught.value.tries == 5
    assert len(lib.served_to("lockdown/", "/files/")) == 5


def test_what_cannot_mend_is_not_retried(lib: PackageIndex) -> None:
    with pytest.raises(PackageIndexError, match="project nothing not found"):
        IndexClient(lib.url, transport=patient()).project_files("nothing")
    with pytest.raises(PackageIndexError, match="HTTP 404 Not Found; the index lists a file"):
        fetch_sha256(lib.files_url + "nothing.whl", transport=patient())

    assert [s.path for s in lib.served_to("lockdown/")] == [
        "/simple/nothing/",
        "/files/nothing.whl",
    ]


def test_the_timeout_is_per_read_not_per_transfer(hostile: str) -> None:
    # 8 x 128 KiB, 0.15 s apart: 1.2 s in all, far over the 0.5 s timeout, but no
    # read waits that long and every window moves more than the minimum.
    assert fetch_sha256(f"{hostile}/steady/x.whl", transport=patient(retries=0))[1] == 8 << 17


# --- end to end: lock and install through a flaky index ---


def _pin(project: Path, requirement: str) -> None:
    """Pin alpha exactly, so the lock asks the index itself (the yank check) as well as uv."""
    path = project / "pyproject.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r'"alpha[^"]*"', f'"{requirement}"', text, count=1), encoding="utf-8")


def test_lock_succeeds_through_a_flaky_index(
    project: Path,
    catalog: PackageIndex,
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _pin(project, "alpha==1.1")
    lock = project / "pylock.toml"
    assert cli("lock", "--project", project, "--cache-dir", tmp_path / "c1").code == 0
    clean = lock.read_bytes()
    lock.unlink()
    monkeypatch.setenv("LOCKDOWN_HTTP_TIMEOUT", "1")
    catalog.fail("/", "reset", "503", "stall", agent="lockdown/", retry_after="0", stall_seconds=2)

    result = cli("lock", "--project", project, "--cache-dir", tmp_path / "c2")

    assert result.code == 0, result.err
    assert lock.read_bytes() == clean  # the same lock as from an index that never failed
    served = catalog.served_to("lockdown/")
    assert [s.fault for s in served if s.fault] == ["reset", "503", "stall"]
    assert served[-1].fault is None  # and then answered


@pytest.mark.parametrize("previous", [True, False], ids=["relock", "first-lock"])
def test_lock_from_an_index_that_never_recovers_writes_nothing(
    project: Path,
    catalog: PackageIndex,
    cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    previous: bool,
) -> None:
    lock = project / "pylock.toml"
    if previous:
        _pin(project, "alpha==1.0")
        assert cli("lock", "--project", project).code == 0
    before = lock.read_bytes() if previous else None
    _pin(project, "alpha==1.1")  # alpha moves: lockdown must ask the index about it
    monkeypatch.setenv("LOCKDOWN_HTTP_RETRIES", "1")
    catalog.fail("/", forever="503", agent="lockdown/")

    result = cli("lock", "--project", project)

    assert result.code == 70, result.err
    # One error line, after the last try (notes about relaxing the old pins may precede it).
    lines = result.err.splitlines()
    assert [line for line in lines if line.startswith("lockdown: error: ")] == lines[-1:]
    unavailable = r"HTTP 503 Service Unavailable"
    assert re.fullmatch(
        rf"lockdown: error: (cannot download {catalog.files_url}\S+: {unavailable}"
        rf"|package index {catalog.url} answered {unavailable} for {catalog.url}\S+)"
        r" \(tried 2 times\); check the index.*",
        lines[-1],
    ), lines[-1]
    assert (lock.read_bytes() if previous else None) == before
    assert lock.exists() is previous
    assert [p.name for p in project.iterdir() if p.name.endswith(".tmp")] == []


def test_install_downloads_through_a_flaky_index(
    locked: Path, catalog: PackageIndex, cli: Callable[..., Any], tmp_path: Path
) -> None:
    catalog.fail("/files/", "reset", "cut", "500", agent="lockdown/")
    venv = tmp_path / "venv"

    result = cli("install", "--project", locked, "--venv", venv, "--cache-dir", tmp_path / "cold")

    assert result.code == 0, result.err
    served = catalog.served_to("lockdown/", "/files/")
    assert [s.fault for s in served if s.fault] == ["reset", "cut", "500"]
    assert served[-1].fault is None
    assert (venv / "bin" / "python").exists()


def test_install_from_an_index_that_never_recovers_changes_nothing(
    locked: Path,
    catalog: PackageIndex,
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOCKDOWN_HTTP_RETRIES", "2")
    catalog.fail("/files/", forever="reset", agent="lockdown/")
    venv = tmp_path / "venv"

    result = cli("install", "--project", locked, "--venv", venv, "--cache-dir", tmp_path / "cold")

    assert result.code == 70, result.err
    assert result.err.count("\n") == 1
    assert result.err.startswith(f"lockdown: error: cannot download {catalog.files_url}")
    assert result.err.endswith(" (tried 3 times); check the index URL and network\n")
    assert not venv.exists()


@pytest.mark.parametrize("resolver", ["uv", "pip-tools"])
@pytest.mark.parametrize("retries", [0, 1])
def test_the_resolver_gets_lockdown_s_retries(
    project: Path,
    catalog: PackageIndex,
    cli: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    resolver: str,
    retries: int,
) -> None:
    """uv (UV_HTTP_RETRIES) and pip (--retries) retry the index as lockdown does."""
    monkeypatch.setenv("LOCKDOWN_HTTP_RETRIES", str(retries))
    agent = "uv/" if resolver == "uv" else "pip/"
    catalog.fail("/simple/alpha/", "503", agent=agent)

    result = cli("lock", "--project", project, "--resolver", resolver)

    served = catalog.served_to(agent, "/simple/alpha/")
    assert served[0].fault == "503"
    if retries:
        assert result.code == 0, result.err
        assert served[1].fault is None  # asked again, and answered
    else:
        assert result.code == 70, result.err
        assert len(served) == 1  # never asked again
        assert not (project / "pylock.toml").exists()


def test_check_artifacts_downloads_with_the_configured_retries(
    env: Path,
    locked: Path,
    catalog: PackageIndex,
    cli: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``http-retries`` in [tool.lockdown] reaches the artifacts level; the environment wins."""
    path = locked / "pyproject.toml"
    path.write_text(
        path.read_text(encoding="utf-8").replace(
            "[tool.lockdown]\n", "[tool.lockdown]\nhttp-retries = 0\n"
        ),
        encoding="utf-8",
    )
    args = ("check", "--project", locked, "--venv", env, "--level", "artifacts")
    catalog.fail("/files/", "reset", agent="lockdown/")

    refused = cli(*args, "--cache-dir", tmp_path / "cold-1")

    assert refused.code == 70, refused.err
    assert refused.err.startswith(f"lockdown: error: cannot download {catalog.files_url}")
    assert refused.err.count("\n") == 1
    assert "(tried" not in refused.err  # one try: http-retries = 0

    monkeypatch.setenv("LOCKDOWN_HTTP_RETRIES", "1")
    catalog.fail("/files/", "reset", agent="lockdown/")

    result = cli(*args, "--cache-dir", tmp_path / "cold-2")

    assert result.code == 0, result.err
    assert [s.fault for s in catalog.served_to("lockdown/", "/files/") if s.fault] == [
        "reset",
        "reset",
    ]
