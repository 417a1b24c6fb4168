"""A local server speaking the OSV query API, answering from real advisory files.

The OSV API itself is not reachable from the machines the tests run on, so
this server stands in for it at that edge: ``POST /v1/query`` (one package
version: its advisories in full), ``POST /v1/querybatch`` (one
result per query: the ids and ``modified`` times of the advisories affecting
that package version, ``{}`` when none, with ``next_page_token`` pages when
``page_size`` is set) and ``GET /v1/vulns/{id}`` (the advisory in full, as
JSON), the request and response shapes of the real API. It decides "affects"
by the advisories' own explicit ``versions`` lists — not by evaluating ranges,
so the client's range matching is not checked against itself.

``fail_next`` makes the next N requests answer 503 (the client's retries);
every request is appended to ``requests`` as ``(method, path, body)``.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml


def _normal(name: str) -> str:
    """A package name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.lru_cache(maxsize=8)
def load_advisories(*roots: Path) -> dict[str, dict[str, Any]]:
    """Every OSV document under ``roots`` (``.json``, ``.yaml``), by id; scalars kept as text."""
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    found: dict[str, dict[str, Any]] = {}
    for path in sorted(p for root in roots for p in root.rglob("*")):
        if path.suffix == ".json":
            doc = json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in (".yaml", ".yml"):
            doc = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506
        else:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("id"), str):
            found[doc["id"]] = doc
    return found


class OsvApi:
    """The OSV API on 127.0.0.1, over the advisories under ``roots``."""

    def __init__(self, *roots: Path, page_size: int | None = None) -> None:
        self.advisories = load_advisories(*roots)
        self.page_size = page_size
        self.fail_next = 0
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        self._index: dict[tuple[str, str, str], list[str]] = {}
        for ident, doc in sorted(self.advisories.items()):
            for affected in doc.get("affected", []):
                package = affected.get("package", {})
                for version in affected.get("versions", []):
                    key = (package.get("ecosystem"), _normal(package.get("name", "")), version)
                    self._index.setdefault(key, []).append(ident)
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the API's base URL, as ``api-url`` takes it)."""
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @contextmanager
    def serve(self) -> Iterator[str]:
        """Serve until the block ends; yields the base URL."""
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                api._answer(self, "POST", body)

            def do_GET(self) -> None:
                api._answer(self, "GET", None)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        thread.start()
        try:
            yield self.url
        finally:
            self._server.shutdown()
            self._server.server_close()
            thread.join()

    def _answer(self, handler: BaseHTTPRequestHandler, method: str, body: Any) -> None:
        with self._lock:
            self.requests.append((method, handler.path, body))
            failing = self.fail_next > 0
            self.fail_next -= 1 if failing else 0
        if failing:
            self._send(handler, 503, {"code": 14, "message": "unavailable"})
        elif method == "POST" and handler.path == "/v1/querybatch":
            self._send(handler, 200, {"results": [self._query(q) for q in body["queries"]]})
        elif method == "POST" and handler.path == "/v1/query":
            # One package: the advisories in full (what pip-audit's OSV service asks).
            found = self._query(body)
            vulns = [self.advisories[v["id"]] for v in found.get("vulns", [])]
            self._send(handler, 200, {**found, "vulns": vulns} if vulns else {})
        elif method == "GET" and handler.path.startswith("/v1/vulns/"):
            doc = self.advisories.get(handler.path.removeprefix("/v1/vulns/"))
            if doc is None:
                self._send(handler, 404, {"code": 5, "message": "Bug not found."})
            else:
                self._send(handler, 200, doc)
        else:
            self._send(handler, 404, {"code": 5, "message": "not found"})

    def _query(self, query: dict[str, Any]) -> dict[str, Any]:
        package = query["package"]
        key = (package["ecosystem"], _normal(package["name"]), query["version"])
        ids = self._index.get(key, [])
        start = int(query.get("page_token") or 0)
        end = len(ids) if self.page_size is None else start + self.page_size
        page = [{"id": i, "modified": self.advisories[i].get("modified")} for i in ids[start:end]]
        if not page:
            return {}
        result: dict[str, Any] = {"vulns": page}
        if end < len(ids):
            result["next_page_token"] = str(end)
        return result

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, doc: object) -> None:
        data = json.dumps(doc).encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
