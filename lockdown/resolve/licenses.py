"""The licenses ``lock`` records in ``[packages.tool.lockdown]``, so an SBOM needs no cache.

Each new or changed package's license is read from the PEP 658/714 core
metadata file of one of its wheels, the one whose sha256 its index declares
(the bytes are checked against it before they are parsed). A package whose
index declares no such file, or that has only an sdist, gets no record: a
license is never guessed. An unchanged package keeps the previous lock's
record and costs no request. The record's format is in
:mod:`lockdown.lock.export`, next to the readers that share it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lockdown.names import normalize_name

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.lock.model import LockedPackage
    from lockdown.lock.pylock import LockFile
    from lockdown.net import Transport
    from lockdown.resolve.index import IndexClient

#: (name, version) → that package's license keys of ``[packages.tool.lockdown]``.
Records = dict[tuple[str, str], Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class LicenseReading:
    """The records, and the indexes whose licenses could not be read."""

    records: Records
    #: Indexes whose pages declare no core metadata file (PEP 658/714): their
    #: pages were not read for the remaining packages, which get no record.
    undeclared: tuple[str, ...] = ()


def previous_records(previous: LockFile | None) -> dict[tuple[str, str, frozenset[str]], Any]:
    """The previous lock's license records by (name, version, the sha256 of its files)."""
    from lockdown.lock.export import license_keys  # noqa: PLC0415

    if previous is None:
        return {}
    kept: dict[tuple[str, str, frozenset[str]], Any] = {}
    tables = previous.raw.get("packages", [])
    for package, table in zip(previous.pylock.packages, tables, strict=False):
        tool = table.get("tool", {}).get("lockdown", {}) if isinstance(table, Mapping) else {}
        record = license_keys(tool) if isinstance(tool, Mapping) else {}
        if record:
            files = (*(package.wheels or ()), *((package.sdist,) if package.sdist else ()))
            hashes = frozenset(f.hashes.get("sha256", "") for f in files)
            kept[(normalize_name(package.name), str(package.version), hashes)] = record
    return kept


def license_records(
    previous: LockFile | None,
    old: Sequence[LockedPackage] | None,
    new: Sequence[LockedPackage],
    http: HttpSettings | None,
    client_for: Callable[[str], IndexClient] | None = None,
) -> LicenseReading:
    """Every package's license record: kept when unchanged, else read from its index.

    ``client_for`` gives the index clients whose pages are read (a run's shared,
    page-keeping ones, so a page another step reads is read once); by default,
    clients of a transport with ``http``.
    """
    kept = previous_records(previous)
    before = {(s.name, s.version, s.hashes) for s in old or ()}
    records: Records = {}
    moving = []
    for state in new:
        key = (state.name, state.version, state.hashes)
        if key in before:
            if key in kept:
                records[(state.name, state.version)] = kept[key]
        else:
            moving.append(state)
    read = read_records(moving, http, client_for)
    records.update(read.records)
    return LicenseReading(records, read.undeclared)


def read_records(
    states: Sequence[LockedPackage],
    http: HttpSettings | None,
    client_for: Callable[[str], IndexClient] | None = None,
) -> LicenseReading:
    """The license records of ``states`` from their indexes' core metadata files.

    Each index is asked for its listings of these projects (a few at a time,
    only the locked wheels parsed), then one declared metadata file per
    package is fetched, a few at a time, and checked against its sha256.
    An index whose pages read so far declare no core metadata file at all
    (one page is read if none was) is not asked further: a license is a
    completeness record, not a check, and such an index would cost every
    page to declare nothing. Those indexes are in the result's ``undeclared``.
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    from lockdown.net import Transport  # noqa: PLC0415
    from lockdown.resolve.index import IndexClient  # noqa: PLC0415

    by_index: dict[str, list[LockedPackage]] = {}
    for state in states:
        if state.index and state.has_wheels:
            by_index.setdefault(state.index, []).append(state)
    if not by_index:
        return LicenseReading({})
    transport = Transport(http)
    if client_for is None:

        def client_for(url: str) -> IndexClient:
            return IndexClient(url, transport=transport)

    wanted: list[tuple[LockedPackage, str, str]] = []  # (package, wheel URL, metadata sha256)
    undeclared = []
    for index, group in sorted(by_index.items()):
        client = client_for(index)
        declared = client.declarations([s.name for s in group])
        if declared is not None and not declared.core_metadata:
            undeclared.append(index)
            continue
        wheels = {a.filename: a.sha256 for s in group for a in s.artifacts}
        listings = client.many_project_files(
            [s.name for s in group], filenames=[f for f in wheels if f.endswith(".whl")]
        )
        for state in group:
            for file in listings.get(normalize_name(state.name), []):
                # Only a file the lock pins (same name and digest) speaks for the package.
                if file.core_metadata and wheels.get(file.filename) == file.sha256:
                    wanted.append((state, file.url, file.core_metadata))
                    break
    if not wanted:
        return LicenseReading({}, tuple(undeclared))

    def one(item: tuple[LockedPackage, str, str]) -> tuple[tuple[str, str], Mapping[str, Any]]:
        state, url, sha256 = item
        return (state.name, state.version), _record_from(url, sha256, transport)

    with ThreadPoolExecutor(max_workers=min(8, len(wanted))) as pool:
        return LicenseReading(dict(pool.map(one, wanted)), tuple(undeclared))


def _record_from(wheel_url: str, sha256: str, transport: Transport) -> Mapping[str, Any]:
    """Fetch one core metadata file, verified, and record what it declares."""
    from packaging.metadata import parse_email  # noqa: PLC0415

    from lockdown.lock.export import license_record, metadata_licenses  # noqa: PLC0415
    from lockdown.lock.metadata import fetch_core_metadata  # noqa: PLC0415

    # The bytes parsed are the bytes the index vouched for (else exit 16).
    raw, _unparsed = parse_email(fetch_core_metadata(wheel_url, transport, sha256=sha256))
    # Nothing declared: a record with the file's digest alone, still "read".
    return license_record(sha256, metadata_licenses(raw))
