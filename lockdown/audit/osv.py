"""OSV advisories (https://ossf.github.io/osv-schema/) parsed into frozen dataclasses.

Pure: :func:`parse_advisory` takes one decoded document (from JSON, or YAML
read with every scalar kept as a string) and returns an :class:`Advisory`, or
raises :class:`AdvisoryError` naming the field in packaging's manner
(``affected[0].ranges[1].events[0]``). Only what an audit matches and shows
is kept; ``GIT`` ranges are dropped here (they name commits, not releases),
``ECOSYSTEM`` and ``SEMVER`` ranges are kept with their events in order.

:func:`reduce` gives the same fields back as a small mapping, so the index
cache stores what this parser reads and loading it goes through the same
parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Final

from lockdown.names import normalize_name
from lockdown.timestamps import parse_timestamp

#: The event kinds of a range, as the schema names them.
EVENT_KINDS: Final = ("introduced", "fixed", "last_affected", "limit")
#: Range types compared as versions of their ecosystem (``GIT`` names commits).
VERSION_RANGES: Final = frozenset({"ECOSYSTEM", "SEMVER"})
#: The ecosystem of Python packages, as OSV spells it.
PYPI: Final = "PyPI"


class AdvisoryError(ValueError):
    """One advisory document is not valid OSV; the message names the field."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Range:
    """One ``ECOSYSTEM`` or ``SEMVER`` range: its events, in the order written."""

    type: str
    #: ``(kind, version)`` pairs; kind is one of :data:`EVENT_KINDS`.
    events: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Affected:
    """One ``affected[]`` entry: a package of an ecosystem and the versions it covers."""

    ecosystem: str
    #: The package name; PEP 503-normalized for PyPI.
    name: str
    ranges: tuple[Range, ...]
    #: The explicit ``versions`` list, as written.
    versions: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Advisory:
    """One OSV entry, reduced to what an audit matches and reports."""

    id: str
    aliases: tuple[str, ...]
    #: ``summary``, else the first line of ``details`` (at most 200 characters).
    summary: str
    modified: datetime | None
    published: datetime | None
    #: Set when the entry was withdrawn: it then matches nothing.
    withdrawn: datetime | None
    #: ``severity[]`` as ``(type, score)``: CVSS vectors, mostly.
    severity: tuple[tuple[str, str], ...]
    #: ``database_specific.severity`` (GitHub's LOW / MODERATE / HIGH / CRITICAL), if any.
    database_severity: str | None
    affected: tuple[Affected, ...]
    #: The advisory's page: its ``ADVISORY`` reference, else its first one.
    url: str | None

    @property
    def malicious(self) -> bool:
        """An OpenSSF malicious-packages entry (``MAL-`` id): always the highest severity."""
        return self.id.startswith("MAL-")


def parse_time(value: object, where: str) -> datetime | None:
    """An RFC 3339 timestamp (``Z`` or an offset; up to nanoseconds) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str):
        raise AdvisoryError(f"{where} is not a timestamp")
    try:
        return parse_timestamp(value)
    except ValueError as exc:
        raise AdvisoryError(f"{where} {value!r} is {exc}") from None


def _text(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise AdvisoryError(f"{where} is not a string")
    return value


def _list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise AdvisoryError(f"{where} is not a list")
    return value


def _mapping(value: object, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise AdvisoryError(f"{where} is not an object")
    return value


def _summary(doc: Mapping[str, Any]) -> str:
    summary = doc.get("summary")
    if not isinstance(summary, str) or not summary.strip():
        details = doc.get("details")
        summary = details if isinstance(details, str) else ""
    first = next((line.strip() for line in summary.splitlines() if line.strip()), "")
    return first if len(first) <= 200 else first[:199] + "\u2026"


def _range(raw: object, where: str) -> Range | None:
    table = _mapping(raw, where)
    kind = _text(table.get("type"), f"{where}.type")
    if kind not in VERSION_RANGES:
        return None
    events = []
    for index, event in enumerate(_list(table.get("events"), f"{where}.events")):
        entry = _mapping(event, f"{where}.events[{index}]")
        keys = [k for k in EVENT_KINDS if k in entry]
        if len(keys) != 1:
            raise AdvisoryError(
                f"{where}.events[{index}] must have exactly one of {', '.join(EVENT_KINDS)}"
            )
        events.append((keys[0], _text(entry[keys[0]], f"{where}.events[{index}].{keys[0]}")))
    if not events:
        raise AdvisoryError(f"{where}.events is empty")
    return Range(type=kind, events=tuple(events))


def _affected(raw: object, where: str) -> Affected | None:
    table = _mapping(raw, where)
    package = table.get("package")
    if package is None:
        return None  # an entry about a repository only (GIT ranges): no package to match
    package = _mapping(package, f"{where}.package")
    ecosystem = _text(package.get("ecosystem"), f"{where}.package.ecosystem")
    name = _text(package.get("name"), f"{where}.package.name")
    # OSV writes "PyPI" and, for some databases, "PyPI:<suffix>"; the base is what matters.
    base = ecosystem.split(":", 1)[0]
    ranges = [
        parsed
        for index, item in enumerate(_list(table.get("ranges"), f"{where}.ranges"))
        if (parsed := _range(item, f"{where}.ranges[{index}]")) is not None
    ]
    versions = [
        _text(v, f"{where}.versions[{i}]")
        for i, v in enumerate(_list(table.get("versions"), f"{where}.versions"))
    ]
    return Affected(
        ecosystem=base,
        name=normalize_name(name) if base == PYPI else name,
        ranges=tuple(ranges),
        versions=tuple(versions),
    )


def _url(doc: Mapping[str, Any]) -> str | None:
    references = doc.get("references")
    if not isinstance(references, list):
        return None
    urls = [
        (r.get("type"), r["url"])
        for r in references
        if isinstance(r, Mapping) and isinstance(r.get("url"), str)
    ]
    for kind, url in urls:
        if kind == "ADVISORY":
            return str(url)
    return str(urls[0][1]) if urls else None


def parse_advisory(doc: object) -> Advisory:
    """One OSV document into an :class:`Advisory` (:class:`AdvisoryError` if it is not one)."""
    table = _mapping(doc, "the document")
    ident = _text(table.get("id"), "id").strip()
    if not ident:
        raise AdvisoryError("id is empty")
    where = ident
    severity = []
    for index, item in enumerate(_list(table.get("severity"), f"{where}: severity")):
        entry = _mapping(item, f"{where}: severity[{index}]")
        severity.append(
            (
                _text(entry.get("type"), f"{where}: severity[{index}].type"),
                _text(entry.get("score"), f"{where}: severity[{index}].score"),
            )
        )
    specific = table.get("database_specific")
    database_severity = specific.get("severity") if isinstance(specific, Mapping) else None
    try:
        affected = [
            parsed
            for index, item in enumerate(_list(table.get("affected"), "affected"))
            if (parsed := _affected(item, f"affected[{index}]")) is not None
        ]
        modified = parse_time(table.get("modified"), "modified")
        published = parse_time(table.get("published"), "published")
        withdrawn = parse_time(table.get("withdrawn"), "withdrawn")
        aliases = tuple(
            _text(a, f"aliases[{i}]") for i, a in enumerate(_list(table.get("aliases"), "aliases"))
        )
    except AdvisoryError as exc:
        raise AdvisoryError(f"{where}: {exc}") from None
    return Advisory(
        id=ident,
        aliases=aliases,
        summary=_summary(table),
        modified=modified,
        published=published,
        withdrawn=withdrawn,
        severity=tuple(severity),
        database_severity=database_severity if isinstance(database_severity, str) else None,
        affected=tuple(affected),
        url=_url(table),
    )


def _time_text(moment: datetime | None) -> str | None:
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def reduce(advisory: Advisory) -> dict[str, Any]:
    """The advisory as a small OSV document that :func:`parse_advisory` reads back equal."""
    doc: dict[str, Any] = {
        "id": advisory.id,
        "summary": advisory.summary,
        "affected": [
            {
                "package": {"ecosystem": a.ecosystem, "name": a.name},
                "ranges": [
                    {"type": r.type, "events": [{k: v} for k, v in r.events]} for r in a.ranges
                ],
                "versions": list(a.versions),
            }
            for a in advisory.affected
        ],
    }
    if advisory.aliases:
        doc["aliases"] = list(advisory.aliases)
    for key, moment in (
        ("modified", advisory.modified),
        ("published", advisory.published),
        ("withdrawn", advisory.withdrawn),
    ):
        if moment is not None:
            doc[key] = _time_text(moment)
    if advisory.severity:
        doc["severity"] = [{"type": t, "score": s} for t, s in advisory.severity]
    if advisory.database_severity is not None:
        doc["database_specific"] = {"severity": advisory.database_severity}
    if advisory.url is not None:
        doc["references"] = [{"type": "ADVISORY", "url": advisory.url}]
    return doc
