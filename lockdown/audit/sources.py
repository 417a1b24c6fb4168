"""Where advisories come from: a local OSV database (directory or export zip), or the OSV API.

A **directory** holds OSV files at any depth (``.json``, ``.yaml``, ``.yml``;
other files and dot-directories are ignored), as a clone of an advisory
database does. A **zip** is an OSV export as osv.dev publishes one per
ecosystem (``all.zip``: one JSON file per advisory). Either is read fully
offline.

Indexing 2,600 YAML files takes seconds, so it happens once: the index
(each advisory reduced to what matching needs, by ecosystem and name) is
cached in lockdown's cache directory under the digest of the database's
listing — every file's path, size and modification time for a directory,
the sha256 of the bytes for a zip — and records the sha256 of the content
it was built from. A changed file changes the listing, and so the index.

A file that cannot be read or is not valid OSV is skipped with one line
saying which and why; the rest is still read, and the report lists it.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from lockdown.audit.model import DatabaseInfo, DatabaseKind, Package, describe_age
from lockdown.audit.osv import Advisory, AdvisoryError, parse_advisory, parse_time, reduce
from lockdown.errors import EXIT_INTERNAL, LockdownError, UsageError, one_line

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.net import Transport

#: Bumped when the cached index's layout or the parser's output changes.
INDEX_FORMAT: Final = 2
SUFFIXES: Final = (".json", ".yaml", ".yml")
#: One advisory larger than this is refused (the largest real ones are a few hundred kB).
MAX_ADVISORY_BYTES: Final = 8 << 20
#: An export zip with more members than this is refused (osv.dev's PyPI one has ~20,000).
MAX_MEMBERS: Final = 2_000_000

Notify = Callable[[str], None]


class AdvisoryDatabaseError(LockdownError):
    """The advisory database is missing, empty, too old or unreachable (exit 70)."""

    exit_code = EXIT_INTERNAL


class AdvisoryDatabase:
    """An indexed set of advisories: looked up by ecosystem and name, parsed on first use."""

    __slots__ = ("_parsed", "_records", "info")

    def __init__(
        self, info: DatabaseInfo, records: Mapping[str, str | list[dict[str, Any]]]
    ) -> None:
        self.info = info
        #: Each package's reduced documents, or the JSON text of them (from the cache).
        self._records = records
        self._parsed: dict[str, list[Advisory]] = {}

    def lookup(self, ecosystem: str, name: str) -> list[Advisory]:
        """The advisories with an ``affected[]`` entry for this package."""
        key = _key(ecosystem, name)
        found = self._parsed.get(key)
        if found is None:
            docs = self._records.get(key, ())
            if isinstance(docs, str):
                try:
                    docs = json.loads(docs)
                except (ValueError, RecursionError):
                    docs = []  # pragma: no cover - the cache is written by _Built only
            found = [parse_advisory(doc) for doc in docs] if isinstance(docs, list) else []
            self._parsed[key] = found
        return found


def _key(ecosystem: str, name: str) -> str:
    return f"{ecosystem}\x00{name}"


def open_database(
    path: Path, *, cache_dir: Path | None = None, notify: Notify | None = None
) -> AdvisoryDatabase:
    """The database at ``path`` (a directory or an export zip), from the index cache when it can.

    ``notify`` hears one line per file that could not be read.
    """
    if path.is_dir():
        entries = _scan_directory(path)
        listing = json.dumps([[rel, size, mtime] for rel, _full, size, mtime in entries])
        fingerprint = _sha256(f"{INDEX_FORMAT}\x00dir\x00{listing}".encode())
        build: Callable[[], _Built] = lambda: _index_directory(entries)  # noqa: E731
        kind: DatabaseKind = "directory"
    elif path.is_file():
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"--db {path}: cannot read: {exc.strerror}") from None
        if not zipfile.is_zipfile(path):
            raise UsageError(
                f"--db {path}: neither a directory of OSV files nor an OSV export zip",
                hint="pass a directory of OSV .json/.yaml files or a zip such as all.zip",
            )
        fingerprint = _sha256(f"{INDEX_FORMAT}\x00zip\x00".encode() + data)
        build = lambda: _index_zip(path, data)  # noqa: E731
        kind = "zip"
    else:
        raise UsageError(f"--db {path}: no such file or directory")
    location = str(path.resolve())
    cache_file = (cache_dir / "audit" / f"index-{fingerprint[:32]}.json") if cache_dir else None
    cached = _read_cache(cache_file) if cache_file is not None else None
    if cached is None:
        built = build()
        cached = built.document()
        if cache_file is not None:
            _write_cache(cache_file, cached)
        from_cache = False
    else:
        from_cache = True
    unreadable = tuple(str(u) for u in cached["unreadable"])
    if notify is not None:
        for line in unreadable:
            notify(f"advisory database {path}: {line}; skipped")
    info = DatabaseInfo(
        kind=kind,
        location=location,
        digest=str(cached["digest"]),
        advisories=int(cached["advisories"]),
        newest=parse_time(cached["newest"], "newest"),
        unreadable=unreadable,
        cached=from_cache,
    )
    return AdvisoryDatabase(info, cached["records"])


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _scan_directory(root: Path) -> list[tuple[str, str, int, int]]:
    """``(relative path, path, size, mtime_ns)`` of every OSV-looking file, in a fixed order.

    ``os.scandir`` with plain strings: a warm audit stats every file of the
    database to tell whether its cached index still holds, so this is its
    largest cost after start-up.
    """
    found: list[tuple[str, str, int, int]] = []
    pending = [("", str(root))]
    while pending:
        prefix, directory = pending.pop()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            continue
        subdirs = []
        for entry in entries:
            name = entry.name
            if name.startswith("."):
                continue
            try:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append((f"{prefix}{name}/", entry.path))
                elif name.endswith(SUFFIXES):
                    stat = entry.stat()
                    found.append((prefix + name, entry.path, stat.st_size, stat.st_mtime_ns))
            except OSError:
                continue
        pending.extend(reversed(subdirs))
    return sorted(found, key=lambda f: f[0])


class _Built:
    """An index being built: records by package, counts, the newest entry, what was skipped."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {}
        self.digest = hashlib.sha256()
        self.advisories = 0
        self.newest: datetime | None = None
        self.unreadable: list[str] = []
        self._ids: set[str] = set()

    def add(self, where: str, data: bytes) -> None:
        """Parse one file's bytes and index it; an unreadable one is recorded, not fatal."""
        self.digest.update(f"{where}\x00{_sha256(data)}\n".encode())
        if len(data) > MAX_ADVISORY_BYTES:
            self.unreadable.append(f"{where}: larger than {MAX_ADVISORY_BYTES >> 20} MB")
            return
        try:
            advisory = parse_advisory(_decode(where, data))
        except AdvisoryError as exc:
            self.unreadable.append(f"{where}: {one_line(str(exc))[:300]}")
            return
        if advisory.id in self._ids:
            return  # the same entry twice (an export and a clone side by side)
        self._ids.add(advisory.id)
        self.advisories += 1
        if advisory.modified is not None and (
            self.newest is None or advisory.modified > self.newest
        ):
            self.newest = advisory.modified
        doc = reduce(advisory)
        for key in sorted({_key(a.ecosystem, a.name) for a in advisory.affected}):
            self.records.setdefault(key, []).append(doc)

    def document(self) -> dict[str, Any]:
        """The cache document."""
        return {
            "format": INDEX_FORMAT,
            "digest": self.digest.hexdigest(),
            "advisories": self.advisories,
            "newest": None if self.newest is None else self.newest.isoformat(),
            "unreadable": self.unreadable,
            # Each package's advisories as one JSON string: loading the index then
            # parses only the outer table, and each package's list when it is asked for.
            "records": {
                key: json.dumps(docs, separators=(",", ":"))
                for key, docs in sorted(self.records.items())
            },
        }


def _decode(where: str, data: bytes) -> object:
    """A file's document: JSON for ``.json``, YAML (every scalar a string) otherwise."""
    if where.endswith(".json"):
        try:
            return json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise AdvisoryError(f"invalid JSON: {exc}") from None
    import yaml  # noqa: PLC0415 - only a YAML database needs it

    # BaseLoader keeps every scalar a string: a version written 2.10 stays "2.10".
    loader = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
    try:
        return yaml.load(data, Loader=loader)  # noqa: S506 - BaseLoader builds no objects
    except (yaml.YAMLError, RecursionError, UnicodeDecodeError) as exc:
        raise AdvisoryError(f"invalid YAML: {exc}") from None


def _index_directory(entries: list[tuple[str, str, int, int]]) -> _Built:
    built = _Built()
    for rel, full, _size, _mtime in entries:
        try:
            with open(full, "rb") as handle:
                data = handle.read(MAX_ADVISORY_BYTES + 1)
        except OSError as exc:
            built.unreadable.append(f"{rel}: cannot read: {exc.strerror}")
            continue
        built.add(rel, data)
    return built


def _members(archive: zipfile.ZipFile) -> Iterator[zipfile.ZipInfo]:
    infos = archive.infolist()
    if len(infos) > MAX_MEMBERS:
        raise UsageError(f"the zip has more than {MAX_MEMBERS} members; refused")
    for info in sorted(infos, key=lambda i: i.filename):
        name = info.filename.rsplit("/", 1)[-1]
        if not info.is_dir() and name.endswith(SUFFIXES) and not name.startswith("."):
            yield info


def _index_zip(path: Path, data: bytes) -> _Built:
    import io  # noqa: PLC0415

    built = _Built()
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for info in _members(archive):
                if info.file_size > MAX_ADVISORY_BYTES:
                    built.unreadable.append(
                        f"{info.filename}: larger than {MAX_ADVISORY_BYTES >> 20} MB"
                    )
                    continue
                try:
                    member = archive.read(info)
                except (zipfile.BadZipFile, OSError, ValueError) as exc:
                    built.unreadable.append(f"{info.filename}: cannot read: {exc}")
                    continue
                built.add(info.filename, member)
    except zipfile.BadZipFile as exc:
        raise UsageError(f"--db {path}: not a readable zip: {exc}") from None
    return built


def _read_cache(path: Path) -> dict[str, Any] | None:
    """A cached index, or ``None`` when there is none or it is not one this version wrote."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if (
        not isinstance(document, dict)
        or document.get("format") != INDEX_FORMAT
        or not isinstance(document.get("records"), dict)
        or not isinstance(document.get("unreadable"), list)
        or not isinstance(document.get("digest"), str)
        or not isinstance(document.get("advisories"), int)
    ):
        return None
    return document


def _write_cache(path: Path, document: Mapping[str, Any]) -> None:
    """Store the index; a cache that cannot be written only costs the next run time."""
    from lockdown.fsutil import atomic_write  # noqa: PLC0415

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(document, separators=(",", ":")).encode("utf-8"))
    except (OSError, LockdownError):
        pass


# --- the OSV query API -------------------------------------------------------
#
# POST {url}/v1/querybatch answers, for each (package, version), the ids (and
# modified times) of the advisories that affect it; GET {url}/v1/vulns/{id}
# gives each advisory in full. Answers and advisories are cached per API URL;
# the database's age is the age of the oldest answer used.

#: Cached answers younger than this are used without asking again.
API_REUSE: Final = timedelta(hours=1)
#: The API takes at most this many queries per batch.
API_BATCH: Final = 1000
#: An answer or advisory larger than this is refused.
MAX_API_BYTES: Final = 32 << 20
#: Pages of one query's answer followed at most (a package with very many advisories).
MAX_PAGES: Final = 20


class _ApiUnreachable(Exception):
    """The API could not be asked (after the retries); the message says why."""


def _request_json(url: str, body: object | None, *, transport: Transport) -> object:
    """GET (``body`` None) or POST JSON to ``url``; the decoded answer.

    Through lockdown's one transport: retries with backoff (a query batch
    changes nothing, so it may be sent again), same-origin redirects, size
    caps, no trickling.
    """
    from lockdown.net import HttpStatusError, TransferError, tried  # noqa: PLC0415

    data = None if body is None else json.dumps(body).encode("utf-8")
    headers = {"Accept": "application/json"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    try:
        raw = transport.get(
            url,
            headers=headers,
            body=data,
            limit=MAX_API_BYTES,
            too_large=lambda: LockdownError(f"{url} is larger than {MAX_API_BYTES >> 20} MB"),
            what=url,
        ).body
    except HttpStatusError as error:
        raise _ApiUnreachable(f"HTTP {error.status} {error.reason}{tried(error.tries)}") from None
    except TransferError as error:
        raise _ApiUnreachable(f"{error.reason}{tried(error.tries)}") from None
    except LockdownError as error:  # too large, a redirect elsewhere
        raise _ApiUnreachable(error.message) from None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:
        raise _ApiUnreachable(f"not JSON: {error}") from None


class _ApiCache:
    """Answers (``ecosystem/name/version`` → ids and when asked) and advisories, per API URL."""

    def __init__(self, path: Path) -> None:
        self.path = path
        document = _read_json(path)
        answers = document.get("answers") if isinstance(document, dict) else None
        vulns = document.get("vulns") if isinstance(document, dict) else None
        self.answers: dict[str, dict[str, Any]] = answers if isinstance(answers, dict) else {}
        self.vulns: dict[str, dict[str, Any]] = vulns if isinstance(vulns, dict) else {}

    def answer(self, query: tuple[str, str, str]) -> dict[str, Any] | None:
        """The cached answer to one query, if any."""
        answer = self.answers.get("\x00".join(query))
        return answer if isinstance(answer, dict) and isinstance(answer.get("ids"), list) else None

    def save(self) -> None:
        _write_cache(
            self.path, {"format": INDEX_FORMAT, "answers": self.answers, "vulns": self.vulns}
        )


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError):
        return None


def _answer_ids(result: object, where: str) -> tuple[list[tuple[str, str | None]], str | None]:
    """``(id, modified)`` of one querybatch result, and its next page token."""
    if not isinstance(result, dict):
        raise _ApiUnreachable(f"{where} is not an object")
    vulns = result.get("vulns", [])
    if not isinstance(vulns, list):
        raise _ApiUnreachable(f"{where}.vulns is not a list")
    found = []
    for vuln in vulns:
        if not isinstance(vuln, dict) or not isinstance(vuln.get("id"), str):
            raise _ApiUnreachable(f"{where}.vulns has an entry without an id")
        modified = vuln.get("modified")
        found.append((str(vuln["id"]), modified if isinstance(modified, str) else None))
    token = result.get("next_page_token")
    return found, token if isinstance(token, str) and token else None


def _ask(
    url: str, queries: list[tuple[str, str, str]], *, transport: Transport
) -> dict[tuple[str, str, str], list[tuple[str, str | None]]]:
    """Every query's advisory ids, in batches, following next-page tokens."""
    out: dict[tuple[str, str, str], list[tuple[str, str | None]]] = {}
    pending: list[tuple[tuple[str, str, str], str | None]] = [(q, None) for q in queries]
    for _page in range(MAX_PAGES):
        if not pending:
            return out
        later: list[tuple[tuple[str, str, str], str | None]] = []
        for start in range(0, len(pending), API_BATCH):
            chunk = pending[start : start + API_BATCH]
            body = {
                "queries": [
                    {
                        "package": {"ecosystem": eco, "name": name},
                        "version": version,
                        **({"page_token": token} if token else {}),
                    }
                    for (eco, name, version), token in chunk
                ]
            }
            answer = _request_json(f"{url}/v1/querybatch", body, transport=transport)
            results = answer.get("results") if isinstance(answer, dict) else None
            if not isinstance(results, list) or len(results) != len(chunk):
                raise _ApiUnreachable("the querybatch answer has not one result per query")
            for index, ((query, _token), result) in enumerate(zip(chunk, results, strict=True)):
                ids, token = _answer_ids(result, f"results[{index}]")
                out.setdefault(query, []).extend(ids)
                if token:
                    later.append((query, token))
        pending = later
    raise _ApiUnreachable(f"more than {MAX_PAGES} pages of advisories for one package")


def api_database(
    url: str,
    packages: Sequence[Package],
    *,
    cache_dir: Path,
    now: datetime,
    max_age: timedelta | None = None,
    offline: bool = False,
    notify: Notify | None = None,
    http: HttpSettings | None = None,
) -> AdvisoryDatabase | None:
    """The advisories the OSV API at ``url`` knows for ``packages``, cached with their age.

    Answers younger than an hour (or ``max_age``, when shorter) are reused;
    the others are asked in batches, then each advisory not cached at its
    ``modified`` time is fetched. When the API cannot be reached, cached
    answers of any age are used, saying so (the caller's ``max_age`` check
    then decides); with none, :class:`AdvisoryDatabaseError`. ``offline``:
    cached answers only, ``None`` when some are missing.
    """
    from lockdown.audit.match import advisory_key  # noqa: PLC0415

    cache = _ApiCache(cache_dir / "audit" / f"osv-api-{_sha256(url.encode())[:16]}.json")
    queries = sorted({(*advisory_key(p), p.version) for p in packages})
    reuse = min(API_REUSE, max_age) if max_age is not None else API_REUSE
    stale = [
        q
        for q in queries
        if (answer := cache.answer(q)) is None
        or (at := _asked_at(answer)) is None
        or now - at >= reuse
    ]
    if stale and offline:
        return None
    if stale:
        try:
            from lockdown.net import Transport  # noqa: PLC0415 - only when asking the API

            _refresh(url, cache, stale, now=now, transport=Transport(http))
        except _ApiUnreachable as exc:
            missing = [q for q in stale if cache.answer(q) is None]
            if missing:
                raise AdvisoryDatabaseError(
                    f"cannot ask the OSV API at {url}: {exc}; no cached answer for "
                    f"{len(missing)} of {len(queries)} versions",
                    hint="check the network or the api-url, or use a local database (--db)",
                ) from None
            if notify is not None:
                notify(f"cannot ask the OSV API at {url}: {exc}; using cached answers")
    return _assemble(url, cache, queries)


def _asked_at(answer: Mapping[str, Any]) -> datetime | None:
    try:
        return parse_time(answer.get("at"), "at")
    except AdvisoryError:
        return None


def _refresh(
    url: str,
    cache: _ApiCache,
    stale: list[tuple[str, str, str]],
    *,
    now: datetime,
    transport: Transport,
) -> None:
    """Ask about ``stale``, fetch the advisories not cached at their ``modified`` time, save."""
    fresh = _ask(url, stale, transport=transport)
    wanted = {ident: modified for ids in fresh.values() for ident, modified in ids}
    for ident, modified in sorted(wanted.items()):
        known = cache.vulns.get(ident)
        if isinstance(known, dict) and modified and known.get("modified") == modified:
            continue
        document = _request_json(f"{url}/v1/vulns/{ident}", None, transport=transport)
        try:
            advisory = parse_advisory(document)
        except AdvisoryError as exc:
            raise _ApiUnreachable(f"advisory {ident}: {exc}") from None
        cache.vulns[ident] = {"modified": modified, "doc": reduce(advisory)}
    stamp = now.isoformat()
    for query, ids in fresh.items():
        cache.answers["\x00".join(query)] = {"ids": sorted({i for i, _ in ids}), "at": stamp}
    cache.save()


def _assemble(url: str, cache: _ApiCache, queries: list[tuple[str, str, str]]) -> AdvisoryDatabase:
    """The cached answers to ``queries`` as a database; its age is the oldest answer's."""
    records: dict[str, list[dict[str, Any]]] = {}
    oldest: datetime | None = None
    used: dict[str, dict[str, Any]] = {}
    for query in queries:
        answer = cache.answer(query)
        if answer is None:  # pragma: no cover - every query was answered or refused before
            continue
        at = _asked_at(answer)
        if at is not None and (oldest is None or at < oldest):
            oldest = at
        for ident in answer["ids"]:
            vuln = cache.vulns.get(str(ident))
            if isinstance(vuln, dict) and isinstance(vuln.get("doc"), dict):
                used[str(ident)] = vuln["doc"]
                records.setdefault(_key(query[0], query[1]), []).append(vuln["doc"])
    modified = [parse_time(doc.get("modified"), "modified") for doc in used.values()]
    info = DatabaseInfo(
        kind="osv-api",
        location=url,
        digest=None,
        advisories=len(used),
        newest=max((m for m in modified if m is not None), default=None),
        fetched_at=oldest,
    )
    return AdvisoryDatabase(info, records)


def check_database(info: DatabaseInfo, *, now: datetime, max_age: timedelta | None) -> None:
    """Fail closed on an empty local database or one older than ``max_age``.

    (The API answers only about the versions asked: no advisory there means
    none is known, not an empty database.)
    """
    if info.advisories == 0 and info.kind != "osv-api":
        skipped = f"; {len(info.unreadable)} files unreadable" if info.unreadable else ""
        raise AdvisoryDatabaseError(
            f"the advisory database {info.location} holds no advisories{skipped}: "
            "nothing can be checked against it",
            hint="point --db at a directory of OSV files or an OSV export zip",
        )
    if max_age is None:
        return
    age = info.age(now)
    if age is None or age > max_age:
        from lockdown.config.fields import format_duration  # noqa: PLC0415

        raise AdvisoryDatabaseError(
            f"the advisory database {info.location} is {describe_age(age)}"
            f"{_as_of(info)}, older than the maximum age of {format_duration(max_age)}",
            hint="update the database (or raise max-db-age)",
        )


def _as_of(info: DatabaseInfo) -> str:
    if info.fetched_at is not None:
        return f" (fetched {info.fetched_at:%Y-%m-%d %H:%M} UTC)"
    if info.newest is not None:
        return f" (newest entry {info.newest:%Y-%m-%d})"
    return ""
