"""The approvals file: who approved which version of which package, why, and until when.

Read with ``tomllib`` into frozen :class:`Approval` values; appended to with
``tomlkit`` so the comments and order people gave the file survive, and
written atomically. An approval counts only for a matching version, from its
``approved-at`` until its ``expires``.

The file::

    [[approval]]
    package = "urllib3"
    version = "==2.6.0"
    reason = "CVE-2026-1234 fix"
    approved-by = "alice"
    approved-at = 2026-11-26T10:00:00Z
    expires = 2026-12-10T10:00:00Z
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

from lockdown.errors import ConfigError, UsageError
from lockdown.names import normalize_name

APPROVAL_KEYS = frozenset({"package", "version", "reason", "approved-by", "approved-at", "expires"})
HEADER = """\
# Approvals for lockdown's upgrade gate (`lockdown approve` appends here).
# Each entry admits one package's versions matching `version` until `expires`.
# Review changes to this file like code: an approval lets new code in.
"""


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval:
    """One approval entry."""

    #: Normalized package name.
    package: str
    #: PEP 440 specifier the approved versions match (``==2.6.0``).
    version: str
    reason: str
    approved_by: str
    #: When it was given (UTC); it does not count before.
    approved_at: datetime
    #: When it stops counting (UTC); ``None``: never.
    expires: datetime | None

    def admits(self, name: str, version: str, now: datetime) -> bool:
        """Whether this approval admits ``name==version`` at ``now``."""
        from packaging.specifiers import SpecifierSet  # noqa: PLC0415

        if normalize_name(name) != self.package or now < self.approved_at:
            return False
        if self.expires is not None and now >= self.expires:
            return False
        return SpecifierSet(self.version).contains(version, prereleases=True)

    def record(self) -> dict[str, Any]:
        """What the lock records about the approval that admitted a change."""
        out: dict[str, Any] = {
            "version": self.version,
            "reason": self.reason,
            "approved-by": self.approved_by,
            "approved-at": self.approved_at,
        }
        if self.expires is not None:
            out["expires"] = self.expires
        return out

    def describe(self) -> str:
        """``approved by alice on 2026-11-26 (until 2026-12-10): CVE fix``."""
        until = f" (until {self.expires:%Y-%m-%d})" if self.expires is not None else ""
        return (
            f"approved by {self.approved_by} on {self.approved_at:%Y-%m-%d}{until}: {self.reason}"
        )


def read_approvals(path: Path) -> list[Approval]:
    """Every approval in ``path``; a missing file has none. Any bad entry is an error."""
    from lockdown.config import read_toml  # noqa: PLC0415

    if not path.exists():
        return []
    return _parse_approvals(read_toml(path), path)


def _parse_approvals(data: Mapping[str, Any], path: Path) -> list[Approval]:
    unknown = sorted(set(data) - {"approval"})
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}", hint="approvals are [[approval]] tables"
        )
    entries = data.get("approval", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: approval must be an array of tables ([[approval]])")
    return [_approval(entry, f"{path}: approval[{i}]") for i, entry in enumerate(entries)]


def _approval(entry: object, where: str) -> Approval:
    from packaging.specifiers import InvalidSpecifier, SpecifierSet  # noqa: PLC0415

    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where} must be a table")
    unknown = sorted(set(entry) - APPROVAL_KEYS)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r}",
            hint=f"known keys: {', '.join(sorted(APPROVAL_KEYS))}",
        )
    for key in ("package", "version", "reason", "approved-by"):
        value = entry.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"{where}: {key} must be a non-empty string")
    try:
        if not SpecifierSet(entry["version"]):
            raise InvalidSpecifier(entry["version"])
    except InvalidSpecifier:
        raise ConfigError(
            f"{where}: version {entry['version']!r} is not a version specifier",
            hint="write it like '==2.6.0'",
        ) from None
    approved_at = _moment(entry.get("approved-at"), f"{where}: approved-at")
    expires_raw = entry.get("expires")
    expires = None if expires_raw is None else _moment(expires_raw, f"{where}: expires")
    if approved_at is None:
        raise ConfigError(f"{where}: approved-at is missing")
    return Approval(
        package=normalize_name(entry["package"]),
        version=str(SpecifierSet(entry["version"])),
        reason=entry["reason"].strip(),
        approved_by=entry["approved-by"].strip(),
        approved_at=approved_at,
        expires=expires,
    )


def _moment(value: object, where: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise ConfigError(
            f"{where} must be a date-time with a time zone", hint="e.g. 2026-11-26T10:00:00Z"
        )
    return value.astimezone(timezone.utc)


def find_approval(
    approvals: Sequence[Approval], name: str, version: str, now: datetime
) -> Approval | None:
    """The most recent approval that admits ``name==version`` at ``now``, if any."""
    matching = [a for a in approvals if a.admits(name, version, now)]
    return max(matching, key=lambda a: a.approved_at) if matching else None


#: How a lock format records an approval.
Record = TypeVar("Record")


def approval_records(
    packages: Iterable[tuple[str, str]],
    approval_for: Callable[[str, str], Approval | None],
    recorded: Callable[[str, str], Record | None],
    encode: Callable[[Approval], Record],
) -> dict[tuple[str, str], Record]:
    """The approval each ``(name, version)`` is locked with, for either lock format.

    This run's approval (``approval_for``, the gate's), ``encode``d as the
    format writes it; else what the previous lock recorded for the same
    version (``recorded``), so a re-lock keeps saying why; else none.
    """
    out: dict[tuple[str, str], Record] = {}
    for name, version in packages:
        approval = approval_for(name, version)
        kept = recorded(name, version) if approval is None else None
        if approval is not None:
            out[(name, version)] = encode(approval)
        elif kept is not None:
            out[(name, version)] = kept
    return out


def parse_target(text: str) -> tuple[str, str]:
    """``urllib3==2.6.0`` (or any name plus specifier) into (normalized name, specifier)."""
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    try:
        req = Requirement(text)
    except InvalidRequirement as exc:
        raise UsageError(
            f"{text!r} is not a package and version: {str(exc).splitlines()[0]}",
            hint="write it like urllib3==2.6.0",
        ) from None
    if req.marker is not None or req.url or req.extras:
        raise UsageError(
            f"{text!r}: give only a name and a version specifier", hint="urllib3==2.6.0"
        )
    if not req.specifier:
        raise UsageError(
            f"{text!r} names no version; an approval is for specific versions",
            hint=f"write it like {req.name}==1.2.3",
        )
    return normalize_name(req.name), str(req.specifier)


def append_approval(path: Path, approval: Approval) -> None:
    """Add ``approval`` to the file (created if missing), keeping everything already in it.

    1. Read the current file (a file that does not parse is refused: nothing is written).
    2. Append one ``[[approval]]`` table with tomlkit, which keeps comments and order.
    3. Check the new text reads back as valid approvals, then write it atomically.

    The whole read-modify-write holds the file's run lock, so two approvals
    given at once both land (neither overwrites the other).
    """
    from lockdown.fsutil import run_lock  # noqa: PLC0415

    with run_lock(path):
        _append(path, approval)


def _append(path: Path, approval: Approval) -> None:
    import tomlkit  # noqa: PLC0415
    from tomlkit.items import AoT  # noqa: PLC0415

    from lockdown.fsutil import atomic_write  # noqa: PLC0415

    # 1. The current file, validated like any read of it.
    if path.exists():
        read_approvals(path)
        current = path.read_text(encoding="utf-8")
        # A last line without its newline would run into the table appended after it.
        doc = tomlkit.parse(current if current.endswith("\n") or not current else current + "\n")
    else:
        doc = tomlkit.parse(HEADER)
    # 2. One more table at the end.
    table = tomlkit.table()
    table["package"] = approval.package
    table["version"] = approval.version
    table["reason"] = approval.reason
    table["approved-by"] = approval.approved_by
    table["approved-at"] = approval.approved_at
    if approval.expires is not None:
        table["expires"] = approval.expires
    entries = doc.get("approval")
    if not isinstance(entries, AoT):
        # Absent, or written as an inline array (`approval = []`, valid TOML):
        # continue as an array of tables, keeping any entries it held.
        kept = list(entries or [])
        if entries is not None:
            del doc["approval"]
        entries = tomlkit.aot()
        for entry in kept:
            converted = tomlkit.table()
            converted.update(entry)
            entries.append(converted)
        doc["approval"] = entries
    entries.append(table)
    text = tomlkit.dumps(doc)
    # 3. Read back before writing: what lands on disk is a valid approvals file.
    from lockdown._compat import tomllib  # noqa: PLC0415

    _parse_approvals(tomllib.loads(text), path)
    atomic_write(path, text.encode("utf-8"))
