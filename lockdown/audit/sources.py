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
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from lockdown.audit.model import DatabaseInfo, DatabaseKind
from lockdown.audit.osv import Advisory, AdvisoryError, parse_advisory, parse_time, reduce
from lockdown.errors import EXIT_INTERNAL, LockdownError, UsageError, one_line

#: Bumped when the cached index's layout or the parser's output changes.
INDEX_FORMAT: Final = 1
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

    def __init__(self, info: DatabaseInfo, records: Mapping[str, list[dict[str, Any]]]) -> None:
        self.info = info
        self._records = records
        self._parsed: dict[str, list[Advisory]] = {}

    def lookup(self, ecosystem: str, name: str) -> list[Advisory]:
        """The advisories with an ``affected[]`` entry for this package."""
        key = _key(ecosystem, name)
        found = self._parsed.get(key)
        if found is None:
            found = [parse_advisory(doc) for doc in self._records.get(key, ())]
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


def _scan_directory(root: Path) -> list[tuple[str, Path, int, int]]:
    """``(relative path, path, size, mtime_ns)`` of every OSV-looking file, in a fixed order."""
    found = []
    for directory, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(directory)
        for name in sorted(files):
            if not name.endswith(SUFFIXES) or name.startswith("."):
                continue
            full = base / name
            try:
                stat = full.stat()
            except OSError:
                continue
            found.append((full.relative_to(root).as_posix(), full, stat.st_size, stat.st_mtime_ns))
    return found


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
            "records": self.records,
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


def _index_directory(entries: list[tuple[str, Path, int, int]]) -> _Built:
    built = _Built()
    for rel, full, _size, _mtime in entries:
        try:
            with full.open("rb") as handle:
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
