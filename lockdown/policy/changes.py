"""The change set between two locks: added, removed, upgraded, downgraded, source changed.

Pure: both sides are lists of :class:`~lockdown.lock.model.LockedPackage` (a
lock file's, :func:`lockdown.lock.pylock.locked_packages`, or a fresh
resolution's), and the result is a sorted list of :class:`Change`. A name may
be locked at several versions (one per environment marker); versions present on
both sides are compared for their artifacts and index, and the remaining old and
new versions are paired in order, lowest with lowest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from packaging.version import InvalidVersion, Version

from lockdown.lock.attestation import Publisher, describe_publishers
from lockdown.lock.model import LockedPackage
from lockdown.names import index_key

ChangeKind = Literal["added", "removed", "upgraded", "downgraded", "source"]
#: How big a change is; ``auto-approve`` names these.
ChangeClass = Literal[
    "new", "removed", "patch", "minor", "major", "pre-release", "downgrade", "source"
]
CHANGE_CLASSES: tuple[ChangeClass, ...] = get_args(ChangeClass)


@dataclass(frozen=True, slots=True, kw_only=True)
class Change:
    """One difference between the old lock and the new one."""

    name: str
    kind: ChangeKind
    old_version: str | None
    new_version: str | None
    classification: ChangeClass
    #: One line for people (``minor upgrade``, ``index changed from A to B``).
    detail: str
    #: For a source change: True when the index differs (dependency confusion).
    index_changed: bool = False
    #: ``index changed from A to B`` when the package moved to another index.
    origin_change: str | None = None
    #: PEP 740: ``publisher changed from A to B`` / ``attestations lost (was A)``
    #: when the new version is not attested by the publishers the name had.
    publisher_change: str | None = None

    @property
    def arrow(self) -> str:
        """``2.5.0 → 2.6.0``, ``(new) 1.0``, ``2.5.0 (removed)`` or ``2.5.0`` (source)."""
        if self.kind == "added":
            return f"(new) {self.new_version}"
        if self.kind == "removed":
            return f"{self.old_version} (removed)"
        if self.kind == "source":
            return f"{self.new_version}"
        return f"{self.old_version} \u2192 {self.new_version}"


def classify(old: str, new: str) -> ChangeClass:
    """``patch`` / ``minor`` / ``major`` / ``pre-release`` / ``downgrade``, by PEP 440.

    A new pre-release or development release is ``pre-release`` whatever else
    changed; an unparseable version counts as ``major`` (the most cautious).
    """
    try:
        before, after = Version(old), Version(new)
    except InvalidVersion:
        return "major"
    if after < before:
        return "downgrade"
    if after.is_prerelease or after.is_devrelease:
        return "pre-release"
    a = (*before.release, 0, 0)[:3]
    b = (*after.release, 0, 0)[:3]
    if before.epoch != after.epoch or a[0] != b[0]:
        return "major"
    if a[1] != b[1]:
        return "minor"
    return "patch"


_WORDS: Mapping[ChangeClass, str] = {
    "patch": "patch upgrade",
    "minor": "minor upgrade",
    "major": "major upgrade",
    "pre-release": "upgrade to a pre-release",
    "downgrade": "downgrade",
}


def change_set(old: Sequence[LockedPackage], new: Sequence[LockedPackage]) -> list[Change]:
    """Every change from ``old`` to ``new``, sorted by name, then by the version each is
    about (the new one; the old one for a removal)."""
    before = _by_name(old)
    after = _by_name(new)
    changes: list[Change] = []
    for name in sorted(set(before) | set(after)):
        changes += sorted(
            _changes_of(name, before.get(name, {}), after.get(name, {})),
            key=lambda c: _version_key(c.new_version or c.old_version or ""),
        )
    return changes


def _changes_of(
    name: str, olds: Mapping[str, _Version], news: Mapping[str, _Version]
) -> list[Change]:
    """The changes of one name; pairs old and new versions lowest with lowest."""
    changes: list[Change] = []
    for version in sorted(set(olds) & set(news), key=_version_key):
        changes.extend(_source_change(olds[version], news[version]))
    gone = sorted(set(olds) - set(news), key=_version_key)
    came = sorted(set(news) - set(olds), key=_version_key)
    # The indexes the name was locked from: a new version from any other is an
    # index change too (dependency confusion rides on an upgrade as easily).
    known = {index_key(state.index) for state in olds.values()}
    # Likewise the publishers that attested it: another one, or none, is a change too.
    attested_by = frozenset(p for state in olds.values() for p in state.publishers)
    for old_version, new_version in zip(gone, came, strict=False):
        kind = classify(old_version, new_version)
        moved = _index_move(olds[old_version], news[new_version], known)
        republished = publisher_move(attested_by, news[new_version].publishers)
        changes.append(
            Change(
                name=name,
                kind="downgraded" if kind == "downgrade" else "upgraded",
                old_version=old_version,
                new_version=new_version,
                classification=kind,
                detail="; ".join(d for d in (_WORDS[kind], republished, moved) if d),
                index_changed=moved is not None,
                origin_change=moved,
                publisher_change=republished,
            )
        )
    for old_version in gone[len(came) :]:
        changes.append(
            Change(
                name=name,
                kind="removed",
                old_version=old_version,
                new_version=None,
                classification="removed",
                detail="no longer locked",
            )
        )
    for new_version in came[len(gone) :]:
        moved = _index_move(None, news[new_version], known) if olds else None
        republished = publisher_move(attested_by, news[new_version].publishers)
        changes.append(
            Change(
                name=name,
                kind="added",
                old_version=None,
                new_version=new_version,
                classification="new",
                detail="; ".join(d for d in ("new package", republished, moved) if d),
                index_changed=moved is not None,
                origin_change=moved,
                publisher_change=republished,
            )
        )
    return changes


def _index_move(old: _Version | None, new: _Version, known: set[str | None]) -> str | None:
    """``index changed from A to B`` when ``new`` comes from none of the ``known`` indexes."""
    if index_key(new.index) in known:
        return None
    before = old.index if old is not None else ", ".join(sorted(str(k) for k in known))
    return f"index changed from {before or 'none'} to {new.index or 'none'}"


def publisher_move(before: frozenset[Publisher], after: frozenset[Publisher]) -> str | None:
    """What changed about who attests a package, or ``None`` when nothing did.

    Trust on first use: a package never attested before may gain attestations.
    Once attested, losing them or gaining a publisher not seen before is a change.
    """
    if not before:
        return None
    if not after:
        return f"attestations lost (was {describe_publishers(before)})"
    if after - before:
        return (
            f"publisher changed from {describe_publishers(before)} to {describe_publishers(after)}"
        )
    return None


def _source_change(old: _Version, new: _Version) -> list[Change]:
    moved = _index_move(old, new, {index_key(old.index)})
    republished = publisher_move(old.publishers, new.publishers)
    if moved is not None:
        detail = moved
    elif old.hashes != new.hashes:
        detail = "same version, different artifacts (hashes changed)"
    elif republished is None:
        return []
    else:
        detail = "same version, same artifacts"
    return [
        Change(
            name=new.name,
            kind="source",
            old_version=old.version,
            new_version=new.version,
            classification="source",
            detail="; ".join(d for d in (detail, republished) if d),
            index_changed=moved is not None,
            origin_change=moved,
            publisher_change=republished,
        )
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Version:
    """One version of a name as the change set compares it: its entries (one per
    marker, or per conda platform) taken together."""

    name: str
    version: str
    #: The first entry's index.
    index: str | None
    hashes: frozenset[str]
    publishers: frozenset[Publisher]


def _by_name(packages: Iterable[LockedPackage]) -> dict[str, dict[str, _Version]]:
    """name → version → that version; two entries of one version (other markers) are merged."""
    out: dict[str, dict[str, _Version]] = {}
    for package in packages:
        versions = out.setdefault(package.name, {})
        seen = versions.get(package.version)
        if seen is None:
            versions[package.version] = _Version(
                name=package.name,
                version=package.version,
                index=package.index,
                hashes=package.hashes,
                publishers=package.attestation_identities,
            )
        else:
            versions[package.version] = _Version(
                name=seen.name,
                version=seen.version,
                index=seen.index,
                hashes=seen.hashes | package.hashes,
                publishers=seen.publishers | package.attestation_identities,
            )
    return out


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)
