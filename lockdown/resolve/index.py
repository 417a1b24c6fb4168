"""PEP 503 / PEP 691 simple-API client: a project's files with hashes, sizes, upload times, yanks.

Pages are fetched through :class:`lockdown.net.Transport` (retries, timeouts,
same-origin redirects, size caps) and parsed with the standard library
(``html.parser``, ``json``). The client asks for PEP 691 JSON and falls back
to whatever HTML the index answers with; it reports only what the index says
(a missing size or upload time stays ``None``, never invented) and turns
every network or format failure into one
:class:`~lockdown.errors.PackageIndexError` line.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Final
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from packaging.utils import canonicalize_name

from lockdown.config.http import HttpSettings
from lockdown.errors import PackageIndexError, ProjectNotFoundError
from lockdown.net import SCHEMES, HttpStatusError, Transport, tried
from lockdown.timestamps import parse_timestamp

__all__ = [
    "ACCEPT",
    "INTEGRITY_TYPE",
    "IndexClient",
    "IndexClients",
    "IndexDeclarations",
    "IndexFile",
]

#: PEP 691: prefer JSON, accept either HTML flavour from older indexes.
ACCEPT: Final = (
    "application/vnd.pypi.simple.v1+json, "
    "application/vnd.pypi.simple.v1+html;q=0.2, "
    "text/html;q=0.01"
)
_JSON_TYPE: Final = "application/vnd.pypi.simple.v1+json"
#: PEP 740: what an index's provenance URL answers with (the integrity API).
INTEGRITY_TYPE: Final = "application/vnd.pypi.integrity.v1+json"
#: A provenance object larger than this is refused (real ones are a few KB per attestation).
MAX_PROVENANCE_BYTES: Final = 4 << 20
#: An empty Content-Type is read as HTML: static file servers often send none.
_HTML_TYPES: Final = frozenset({"application/vnd.pypi.simple.v1+html", "text/html", ""})
#: PEP 629: a client must refuse a major API version it does not know.
_SUPPORTED_MAJOR: Final = 1
#: A project page larger than this is refused (the largest real ones are a few MB).
MAX_PAGE_BYTES = 64 << 20


_SHA256_HEX: Final = re.compile(r"[0-9a-fA-F]{64}")
#: Pages read at once (the transport keeps 16 connections per host alive).
PAGE_WORKERS: Final = 12
#: How much of one page the early probe reads: the head, where PEP 629 puts the
#: API version, and the first few hundred files (a big project's page is MBs).
PROBE_BYTES: Final = 64 << 10
#: The probe asks for HTML: a prefix of it can be read, a prefix of JSON cannot.
_PROBE_ACCEPT: Final = "application/vnd.pypi.simple.v1+html, text/html;q=0.5"

#: A fetched page: (body, final URL after redirects, content type, charset).
_Raw = tuple[bytes, str, str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexFile:
    """One file of a project as the index lists it."""

    #: The file name: the last path segment of ``url``, unquoted.
    filename: str
    #: Absolute URL, fragment removed.
    url: str
    #: Lower-case hex; None if the index gives no sha256 (other algorithms are ignored).
    sha256: str | None
    #: Size in bytes; None when the index does not say (HTML pages never do).
    size: int | None
    #: PEP 700 upload time, tz-aware UTC; None when not given (never invented).
    upload_time: datetime | None
    #: None = not yanked; "" = yanked without a reason; else the reason.
    yanked: str | None
    #: The file's ``requires-python`` specifier, as the index wrote it.
    requires_python: str | None
    #: PEP 740: the absolute URL of the file's provenance object; None when none is offered.
    provenance: str | None = None
    #: PEP 658/714: sha256 (lower-case hex) of the ``<url>.metadata`` core metadata
    #: file the index declares; None when it declares none, or none with a sha256.
    core_metadata: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class IndexDeclarations:
    """What an index's project pages declare about the API they serve (PEP 629, 658, 740)."""

    #: The simple API version the pages declare (the highest seen; "1.0" for an
    #: HTML page without the ``pypi:repository-version`` meta tag, per PEP 629).
    api_version: str
    #: Some page carries PEP 740's ``provenance`` key (``data-provenance`` in HTML).
    provenance: bool
    #: Some file declares a PEP 658/714 core metadata file with a sha256.
    core_metadata: bool

    @property
    def carries_provenance(self) -> bool:
        """Whether provenance can be on these pages: API 1.2 or later (PEP 740), or seen."""
        return self.provenance or _version_key(self.api_version) >= PROVENANCE_API_VERSION

    def merged(self, other: IndexDeclarations) -> IndexDeclarations:
        """Both pages' word: the higher version, and what either declares."""
        return IndexDeclarations(
            api_version=max(self.api_version, other.api_version, key=_version_key),
            provenance=self.provenance or other.provenance,
            core_metadata=self.core_metadata or other.core_metadata,
        )


#: The first simple API version whose pages may carry PEP 740 ``provenance``.
#: The PEP's text asks for "1.2 or later"; the packaging specification's
#: version history records provenance as 1.3 (1.2 went to PEP 708). The lower
#: bound is taken, so that an index declaring 1.2 is still read.
PROVENANCE_API_VERSION: Final = (1, 2)


def _version_key(version: str) -> tuple[int, ...]:
    """``"1.3"`` → (1, 3); parts that are not numbers count as 0 (checked at parse time)."""
    return tuple(
        int(part) if part.isascii() and part.isdigit() else 0 for part in version.split(".")
    )


class IndexClient:
    """Reads project pages from one simple-API index: ``http(s)://`` or a ``file://`` directory."""

    __slots__ = (
        "_closed",
        "_declared",
        "_guard",
        "_index_url",
        "_pages",
        "_pool",
        "_prefetched",
        "_probe",
        "_transport",
    )

    def __init__(
        self, index_url: str, *, transport: Transport | None = None, keep_pages: bool = False
    ) -> None:
        """``transport`` carries the retry and timeout settings (default: the environment's).

        With ``keep_pages``, each project page is read once and kept for the
        client's life (one lock run: the yank check and the provenance step
        read the same pages), and :meth:`prefetch` may start reading some early.
        """
        scheme = urlsplit(index_url).scheme.lower()
        if scheme not in SCHEMES:
            raise PackageIndexError(
                f"unsupported package index URL {index_url}",
                hint="use an http://, https:// or file:// URL",
            )
        # Project pages are resolved relative to the index, which only works from a directory URL.
        self._index_url = index_url if index_url.endswith("/") else index_url + "/"
        self._transport = transport if transport is not None or scheme == "file" else Transport()
        self._pages: dict[str, Future[_Raw]] | None = {} if keep_pages else None
        self._prefetched: set[str] = set()
        self._declared: dict[str, IndexDeclarations] = {}
        #: The early probe's read of one page's first bytes (see :meth:`prefetch`).
        self._probe: Future[IndexDeclarations | None] | None = None
        self._closed = False
        self._pool: ThreadPoolExecutor | None = None
        self._guard = threading.Lock()

    @property
    def index_url(self) -> str:
        """The simple-API root, always ending in ``/``."""
        return self._index_url

    def project_files(self, name: str, *, wanted: frozenset[str] | None = None) -> list[IndexFile]:
        """Every file the index lists for project ``name`` (or those of ``wanted``), in order."""
        project = canonicalize_name(name)
        if self._pages is None:
            return self._parse(project, *self._fetch(project), wanted=wanted)
        page = self._kept(project, None)
        if project in self._prefetched and page.exception() is not None:
            # Read early and failed: asked for now, so read again (the early
            # read's error only stands if this read fails too).
            page = self._kept(project, page)
        return self._parse(project, *page.result(), wanted=wanted)

    def _kept(self, project: str, failed: Future[_Raw] | None) -> Future[_Raw]:
        """The kept read of ``project``'s page, read now if there is none (or only ``failed``)."""
        assert self._pages is not None  # noqa: S101 - only with keep_pages
        with self._guard:
            page = self._pages.get(project)
            mine = page is None or page is failed
            if mine:
                page = self._pages[project] = Future()
                self._prefetched.discard(project)
        assert page is not None  # noqa: S101 - set above
        if mine:
            try:
                page.set_result(self._fetch(project))
            except BaseException as error:  # kept: whoever asks next hears the same
                page.set_exception(error)
        return page

    def prefetch(
        self,
        names: Iterable[str],
        *,
        worth: Callable[[IndexDeclarations], bool] | None = None,
    ) -> None:
        """Start reading these projects' pages in the background (``keep_pages`` only).

        With ``worth``, the first :data:`PROBE_BYTES` of one page are read first
        (its HTML head says the API version, its first files what they
        declare), and the pages only if what the index declares is worth them
        (an index whose pages carry no provenance and no core metadata has
        nothing more to say early). When that prefix cannot tell (an index
        that serves only JSON), one whole page is read first instead. Nothing
        is raised here: a page that cannot be read early is read again when it
        is asked for, and one never asked for never fails anything.
        """
        if self._pages is None or urlsplit(self._index_url).scheme == "file":
            return
        projects = sorted({canonicalize_name(n) for n in names})
        if worth is None or not projects:
            self._submit(projects)
            return
        with self._guard:
            if not self._closed:
                self._probe = self._started_pool().submit(self._probe_first, projects, worth)

    def _probe_first(
        self, projects: Sequence[str], worth: Callable[[IndexDeclarations], bool]
    ) -> IndexDeclarations | None:
        """The probe (one task): judge the first page, then start the others if worth it.

        Everything it starts is started before it returns, so whoever waits
        for it (:meth:`declarations`) then waits for those pages too. A read
        that fails is raised, and nothing more is read early.
        """
        first, rest = projects[0], projects[1:]
        declared = self._read_probe(first)
        if declared is not None:
            if worth(declared):
                self._submit(projects)
            return declared
        # The prefix cannot tell: the first page is read whole (kept, and read again
        # when asked for if this read fails), and the others only if it is worth them.
        from concurrent.futures import wait  # noqa: PLC0415

        self._submit([first])
        with self._guard:
            page = (self._pages or {}).get(first)
        if page is not None and rest:
            wait([page])
            whole = self._declared_by(first)
            if whole is not None and worth(whole):
                self._submit(rest)
        return None

    def _read_probe(self, project: str) -> IndexDeclarations | None:
        """What the index declares, from the first bytes of a page; ``None``: they cannot tell.

        HTML is asked for: its head carries the PEP 629 version, and a prefix
        cut after its last complete tag parses. A whole page in either format
        (a short one, or an index that serves only JSON) is kept as the
        project's page: the steps that read pages want nothing HTML lacks
        (names, digests, yanks, provenance and core-metadata links).
        """
        assert self._transport is not None  # noqa: S101 - http(s) indexes only
        page_url = urljoin(self._index_url, f"{project}/")
        # A failure to read is raised (the pages are then read when asked for).
        page = self._transport.get(
            page_url,
            headers={"Accept": _PROBE_ACCEPT},
            limit=PROBE_BYTES,
            # Never raised: with ``prefix`` a longer page is cut, not refused.
            too_large=lambda: PackageIndexError(f"the page of {project} is too large"),
            what=f"cannot reach package index {self._index_url} ({page_url})",
            prefix=True,
        )
        body = page.body
        if page.truncated:
            if page.content_type not in _HTML_TYPES:
                return None
            body = body[: body.rfind(b">") + 1]
        parsed = _Page(index_url=self._index_url, project=project, url=page.url, wanted=None)
        try:
            if page.content_type == _JSON_TYPE:
                parsed.parse_json(body)
            elif page.content_type in _HTML_TYPES:
                parsed.parse_html(body, page.charset)
        except PackageIndexError:
            return None
        if not page.truncated and self._pages is not None:
            # The whole page came: kept, so it is not read again.
            whole: Future[_Raw] = Future()
            whole.set_result((page.body, page.url, page.content_type, page.charset))
            with self._guard:
                self._pages.setdefault(project, whole)
        return parsed.declared[0] if parsed.declared else None

    def _started_pool(self) -> ThreadPoolExecutor:
        """The page readers' pool, started on first use (call with ``_guard`` held)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(
                max_workers=PAGE_WORKERS, thread_name_prefix="lockdown-pages"
            )
        return self._pool

    def _submit(self, projects: Sequence[str]) -> None:
        assert self._pages is not None  # noqa: S101 - only with keep_pages
        with self._guard:
            if self._closed:
                return
            pool = self._started_pool()
            for project in projects:
                if project not in self._pages:
                    self._pages[project] = pool.submit(self._fetch, project)
                    self._prefetched.add(project)

    def declarations(self, first: Iterable[str] = ()) -> IndexDeclarations | None:
        """What this index's pages declare, from the pages this client has read.

        Waits for the pages being read early. When none has been read, the
        first of ``first`` (in its order) that can be read is read now. ``None``
        when no page could be read: the caller then reads as if it did not know.
        """
        from concurrent.futures import wait  # noqa: PLC0415

        with self._guard:
            probe = self._probe
        if probe is not None:
            wait([probe])  # the pages it may have started are then kept below
        with self._guard:
            kept = dict(self._pages or {})
        wait(kept.values())
        for project in sorted(kept):
            self._declared_by(project)
        with self._guard:
            declared = list(self._declared.values())
        if probe is not None and not probe.cancelled() and probe.exception() is None:
            probed = probe.result()
            declared += [probed] if probed is not None else []
        if not declared:
            for project in dict.fromkeys(canonicalize_name(n) for n in first):
                try:
                    self.project_files(project, wanted=frozenset())
                except PackageIndexError:
                    continue
                with self._guard:
                    declared = list(self._declared.values())
                break
        merged = None
        for one in declared:
            merged = one if merged is None else merged.merged(one)
        return merged

    def _declared_by(self, project: str) -> IndexDeclarations | None:
        """What ``project``'s kept page declares; ``None`` when it was not (or cannot be) read."""
        with self._guard:
            known = self._declared.get(project)
            page = None if self._pages is None else self._pages.get(project)
        if known is not None or page is None or not page.done() or page.cancelled():
            return known
        if page.exception() is not None:
            return None
        try:
            self._parse(project, *page.result(), wanted=frozenset())
        except PackageIndexError:
            return None
        return self._declared.get(project)

    def close(self, *, wait: bool = False) -> None:
        """Stop early reads not started yet (those read are kept); ``wait`` for the running."""
        with self._guard:
            pool, self._pool = self._pool, None
            self._closed = True
        if pool is not None:
            pool.shutdown(wait=wait, cancel_futures=True)

    def _fetch(self, project: str) -> _Raw:
        page_url = urljoin(self._index_url, f"{project}/")
        if urlsplit(page_url).scheme == "file":
            return self._read_local(project, page_url)
        return self._download(project, page_url)

    def many_project_files(
        self,
        names: Sequence[str],
        *,
        workers: int = PAGE_WORKERS,
        filenames: Collection[str] | None = None,
    ) -> dict[str, list[IndexFile]]:
        """:meth:`project_files` for many projects, a few at a time: name → files.

        With ``filenames``, only those files are returned: a big project's page
        lists tens of thousands, and parsing every entry costs more than reading it.
        """
        wanted = None if filenames is None else frozenset(filenames)
        projects = sorted({canonicalize_name(n) for n in names})
        if not projects:
            return {}

        def one(project: str) -> list[IndexFile]:
            return self.project_files(project, wanted=wanted)

        with ThreadPoolExecutor(max_workers=min(workers, len(projects))) as pool:
            return dict(zip(projects, pool.map(one, projects), strict=True))

    def provenance(self, url: str) -> bytes:
        """The PEP 740 provenance object at ``url`` (from :attr:`IndexFile.provenance`), raw.

        Asked of this index's own transport (same-origin redirects, size cap,
        timeouts); the caller verifies the bytes, nothing here trusts them.
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme not in SCHEMES:
            raise PackageIndexError(
                f"package index {self._index_url} names provenance at {url}: unsupported URL",
                hint="check the index; it may be broken or hostile",
            )
        if scheme == "file" or self._transport is None:
            path = Path(_url2pathname(urlsplit(url).path))
            try:
                return path.read_bytes()
            except OSError as error:
                raise PackageIndexError(
                    f"cannot read provenance {url}: {error.strerror or error}",
                    hint="check the index path and its permissions",
                ) from None
        try:
            return self._transport.get(
                url,
                headers={"Accept": INTEGRITY_TYPE},
                limit=MAX_PROVENANCE_BYTES,
                too_large=lambda: PackageIndexError(
                    f"the provenance {url} is larger than {MAX_PROVENANCE_BYTES >> 20} MB; refused",
                    hint="check the index; it may be broken or hostile",
                ),
                what=f"cannot reach package index {self._index_url} ({url})",
            ).body
        except HttpStatusError as error:
            raise PackageIndexError(
                f"package index {self._index_url} answered HTTP {error.status} {error.reason} "
                f"for the provenance {url}{tried(error.tries)}",
                hint="check the index or try again later",
            ) from None

    def _parse(
        self,
        project: str,
        body: bytes,
        final_url: str,
        content_type: str,
        charset: str,
        *,
        wanted: frozenset[str] | None = None,
    ) -> list[IndexFile]:
        page = _Page(index_url=self._index_url, project=project, url=final_url, wanted=wanted)
        if content_type == _JSON_TYPE:
            files = page.parse_json(body)
        elif content_type in _HTML_TYPES:
            files = page.parse_html(body, charset)
            files = files if wanted is None else [f for f in files if f.filename in wanted]
        else:
            raise PackageIndexError(
                f"package index {self._index_url} answered {content_type!r} for project "
                f"{project}, not a simple-API page",
                hint="check the index URL",
            )
        if page.declared:
            with self._guard:
                self._declared.setdefault(project, page.declared[0])
        return files

    def _download(self, project: str, page_url: str) -> tuple[bytes, str, str, str]:
        """GET a project page; return (body, final URL after redirects, content type, charset)."""
        assert self._transport is not None  # noqa: S101 - made in __init__ for http(s) indexes
        try:
            page = self._transport.get(
                page_url,
                headers={"Accept": ACCEPT},
                limit=MAX_PAGE_BYTES,
                too_large=lambda: PackageIndexError(
                    f"the page of {project} on {self._index_url} is larger than "
                    f"{MAX_PAGE_BYTES >> 20} MB; refused",
                    hint="check the index; it may be broken or hostile",
                ),
                what=f"cannot reach package index {self._index_url} ({page_url})",
            )
        except HttpStatusError as error:
            if error.status == 404:
                raise self._not_found(project) from None
            raise PackageIndexError(
                f"package index {self._index_url} answered HTTP {error.status} {error.reason} "
                f"for {error.url}{tried(error.tries)}",
                hint="check the index URL or try again later",
            ) from None
        return page.body, page.url, page.content_type, page.charset

    def _read_local(self, project: str, page_url: str) -> tuple[bytes, str, str, str]:
        """Read ``<dir>/<project>/index.html`` of a ``file://`` index (HTML, like pip's)."""
        page = Path(_url2pathname(urlsplit(page_url).path)) / "index.html"
        try:
            body = page.read_bytes()
        except FileNotFoundError:
            raise self._not_found(project) from None
        except OSError as error:
            raise PackageIndexError(
                f"cannot read package index {self._index_url}: {error.strerror or error}",
                hint="check the index path and its permissions",
            ) from None
        return body, page_url, "text/html", "utf-8"

    def _not_found(self, project: str) -> ProjectNotFoundError:
        return ProjectNotFoundError(
            f"project {project} not found on package index {self._index_url}",
            hint="check the package name and the index URL",
        )


def _url2pathname(path: str) -> str:
    """``urllib.request.url2pathname``, imported only by the file indexes that need it."""
    from urllib.request import url2pathname  # noqa: PLC0415 - ~0.08 s (http, email)

    return url2pathname(path)


class IndexClients:
    """One page-keeping :class:`IndexClient` per index for one run, over one transport.

    Callable like ``IndexClient`` itself (``client_for`` arguments), so every
    step of a lock that reads an index's pages reads each page once.
    """

    def __init__(self, http: HttpSettings | None = None) -> None:
        """``http``: the run's settings; the transport is made when first needed."""
        self._http = http
        self._transport: Transport | None = None
        self._clients: dict[str, IndexClient] = {}
        self._guard = threading.Lock()
        self._starter: threading.Thread | None = None

    def prefetch(
        self,
        pages: Mapping[str, Iterable[str]],
        *,
        worth: Callable[[IndexDeclarations], bool] | None = None,
    ) -> None:
        """Start reading ``pages`` (index → names) early, as :meth:`IndexClient.prefetch`.

        Even the start happens on a thread of its own: making the transport
        imports the HTTP library (~0.1 s), which the caller (about to start
        the resolver) does not wait for. Every other use of these clients
        waits for the start. Nothing is raised: a page that could not be read
        early is read again, and any failure reported, when it is asked for.
        """

        def start() -> None:
            try:
                for index, names in pages.items():
                    self(index).prefetch(names, worth=worth)
            except Exception:  # noqa: S110 - see the docstring
                pass

        if pages:
            self._starter = threading.Thread(target=start, name="lockdown-early", daemon=True)
            self._starter.start()

    def _started(self) -> None:
        """Wait for :meth:`prefetch`'s start (not from its own thread)."""
        starter = self._starter
        if starter is not None and starter is not threading.current_thread():
            starter.join()

    def __call__(self, index_url: str) -> IndexClient:
        self._started()
        with self._guard:
            client = self._clients.get(index_url)
            if client is None:
                if self._transport is None and urlsplit(index_url).scheme.lower() != "file":
                    self._transport = Transport(self._http)
                client = self._clients[index_url] = IndexClient(
                    index_url, transport=self._transport, keep_pages=True
                )
            return client

    def close(self) -> None:
        """Stop every early read nobody asked for."""
        self._started()
        with self._guard:
            clients = list(self._clients.values())
        for client in clients:
            client.close()


@dataclass(frozen=True, slots=True, kw_only=True)
class _Page:
    """One project page being parsed; knows where it came from for URLs and messages."""

    index_url: str
    project: str
    #: The URL the page was finally read from: relative links resolve against it.
    url: str
    #: Only these files are wanted (``None``: all); others are skipped unparsed.
    wanted: frozenset[str] | None = None
    #: Filled by the parse: what the whole page declares (all its files, wanted or not).
    declared: list[IndexDeclarations] = field(default_factory=list)

    def parse_json(self, body: bytes) -> list[IndexFile]:
        """Parse a PEP 691 JSON project page."""
        try:
            document: object = json.loads(body)
        except RecursionError:
            raise PackageIndexError(
                f"package index {self.index_url} sent JSON nested too deeply for project "
                f"{self.project}",
                hint="check the index URL; the index may be broken or hostile",
            ) from None
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise PackageIndexError(
                f"package index {self.index_url} sent invalid JSON for project {self.project}: "
                f"{error}",
                hint="check the index URL; the index may be broken",
            ) from None
        if not isinstance(document, Mapping):
            raise self._unusable("the page", "is not a JSON object")
        meta = document.get("meta")
        if not isinstance(meta, Mapping):
            raise self._unusable("meta", "is missing")
        version = meta.get("api-version")
        self._check_api_version(version)
        files = document.get("files")
        if not isinstance(files, list):
            raise self._unusable("files", "is not a list")
        entries = [e for e in files if isinstance(e, Mapping)]
        self.declared.append(
            IndexDeclarations(
                api_version=str(version),
                provenance=any("provenance" in e for e in entries),
                core_metadata=any(
                    _core_metadata_sha256(e.get("core-metadata", e.get("dist-info-metadata")))
                    for e in entries
                ),
            )
        )
        wanted = self.wanted
        return [
            self._json_file(entry, f"files[{i}]")
            for i, entry in enumerate(files)
            if wanted is None or not isinstance(entry, Mapping) or entry.get("filename") in wanted
        ]

    def _json_file(self, entry: object, where: str) -> IndexFile:
        if not isinstance(entry, Mapping):
            raise self._unusable(where, "is not an object")
        filename = entry.get("filename")
        if not isinstance(filename, str) or not filename:
            raise self._unusable(f"{where}.filename", "is missing")
        url = entry.get("url")
        if not isinstance(url, str) or not url:
            raise self._unusable(f"{where}.url", "is missing")
        hashes = entry.get("hashes")
        if not isinstance(hashes, Mapping):
            raise self._unusable(f"{where}.hashes", "is not an object")
        sha256 = hashes.get("sha256")
        if sha256 is not None and not isinstance(sha256, str):
            raise self._unusable(f"{where}.hashes.sha256", "is not a string")
        size = entry.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 0):
            raise self._unusable(f"{where}.size", "is not a non-negative integer")
        upload_time = entry.get("upload-time")
        if upload_time is not None and not isinstance(upload_time, str):
            raise self._unusable(f"{where}.upload-time", "is not a string")
        requires_python = entry.get("requires-python")
        if requires_python is not None and not isinstance(requires_python, str):
            raise self._unusable(f"{where}.requires-python", "is not a string")
        yanked = entry.get("yanked", False)
        if not isinstance(yanked, (bool, str)):
            raise self._unusable(f"{where}.yanked", "is neither a boolean nor a string")
        provenance = entry.get("provenance")
        if provenance is not None and (not isinstance(provenance, str) or not provenance):
            raise self._unusable(f"{where}.provenance", "is neither a URL nor null")
        return IndexFile(
            filename=filename,
            url=urldefrag(urljoin(self.url, url)).url,
            sha256=self._sha256(sha256, f"{where}.hashes.sha256"),
            size=size,
            upload_time=(
                None if upload_time is None else self._time(upload_time, f"{where}.upload-time")
            ),
            # PEP 691 wants a non-empty reason; an empty one still reads as a yank (fail closed).
            yanked=(None if yanked is False else "" if yanked is True else yanked),
            requires_python=requires_python or None,
            provenance=None if provenance is None else urljoin(self.url, provenance),
            core_metadata=_core_metadata_sha256(
                entry.get("core-metadata", entry.get("dist-info-metadata"))
            ),
        )

    def parse_html(self, body: bytes, charset: str) -> list[IndexFile]:
        """Parse a PEP 503 HTML project page (with PEP 592 yanks and PEP 629 version)."""
        try:
            text = body.decode(charset)
        except (UnicodeDecodeError, LookupError) as error:
            raise self._unusable("the page", f"cannot be decoded ({error})") from None
        from lockdown.resolve._anchors import AnchorParser  # noqa: PLC0415 - HTML pages only

        parser = AnchorParser()
        parser.feed(text)
        parser.close()
        if parser.api_version is not None:
            self._check_api_version(parser.api_version)
        self.declared.append(
            IndexDeclarations(
                # PEP 629: a page without the meta tag is version 1.0.
                api_version=parser.api_version or "1.0",
                provenance=any("data-provenance" in a for a in parser.anchors),
                core_metadata=any(
                    _core_metadata_sha256(
                        a.get("data-core-metadata", a.get("data-dist-info-metadata"))
                    )
                    for a in parser.anchors
                ),
            )
        )
        base = urljoin(self.url, parser.base_href) if parser.base_href else self.url
        files = []
        for number, anchor in enumerate(parser.anchors):
            href = anchor.get("href")
            if not href:
                continue
            where = f"link {number + 1} ({href})"
            url, fragment = urldefrag(urljoin(base, href))
            filename = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
            if not filename:
                continue
            algorithm, _, digest = fragment.partition("=")
            # PEP 592: the attribute's presence is the yank; its value, if any, the reason.
            yanked = (anchor["data-yanked"] or "") if "data-yanked" in anchor else None
            # PEP 740: the provenance URL, relative to the page like ``href``.
            offered = anchor.get("data-provenance")
            files.append(
                IndexFile(
                    filename=filename,
                    url=url,
                    sha256=self._sha256(digest if algorithm == "sha256" else None, where),
                    size=None,
                    upload_time=None,
                    yanked=yanked,
                    requires_python=anchor.get("data-requires-python") or None,
                    provenance=urljoin(base, offered) if offered else None,
                    core_metadata=_core_metadata_sha256(
                        anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
                    ),
                )
            )
        return files

    def _check_api_version(self, version: object) -> None:
        if not isinstance(version, str) or not version:
            raise self._unusable("the API version", "is missing")
        major = version.split(".", 1)[0]
        if not (major.isascii() and major.isdigit()):
            raise self._unusable("the API version", f"{version!r} is not a version")
        if int(major) != _SUPPORTED_MAJOR:
            raise PackageIndexError(
                f"package index {self.index_url} speaks simple API version {version}; "
                f"lockdown reads version {_SUPPORTED_MAJOR}.x",
                hint="use an index that serves the standard simple API",
            )

    def _sha256(self, value: str | None, where: str) -> str | None:
        if value is None:
            return None
        if not _SHA256_HEX.fullmatch(value):
            raise self._unusable(where, f"{value!r} is not a sha256 hex digest")
        return value.lower()

    def _time(self, value: str, where: str) -> datetime:
        try:
            return parse_timestamp(value)
        except ValueError as error:
            raise self._unusable(where, f"{value!r} is {error}") from None

    def _unusable(self, where: str, problem: str) -> PackageIndexError:
        return PackageIndexError(
            f"package index {self.index_url} sent an unusable page for project {self.project}: "
            f"{where} {problem}",
            hint="check the index URL; the index may be broken",
        )


def _core_metadata_sha256(declared: object) -> str | None:
    """The sha256 a PEP 658/714 declaration gives (``{"sha256": …}`` in JSON,
    ``sha256=…`` in HTML); None for ``true``, another algorithm or a malformed
    value: what the file holds then cannot be verified, so it is not read."""
    if isinstance(declared, Mapping):
        digest = declared.get("sha256")
    elif isinstance(declared, str):
        algorithm, _, digest = declared.partition("=")
        if algorithm != "sha256":
            return None
    else:
        return None
    if isinstance(digest, str) and _SHA256_HEX.fullmatch(digest):
        return digest.lower()
    return None
