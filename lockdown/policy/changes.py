"""The change set between two locks: added, removed, upgraded, downgraded, source changed.

Pure: both sides are lists of :class:`LockedState` (built from a lock file or
from a fresh resolution by the adapters at the bottom), and the result is a
sorted list of :class:`Change`. A name may be locked at several versions (one
per environment marker); versions present on both sides are compared for
their artifacts and index, and the remaining old and new versions are paired
in order, lowest with lowest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

from packaging.version import InvalidVersion, Version

from lockdown.lock.attestation import Publisher, describe_publishers, publishers_from_tables
from lockdown.lock.model import Artifact
from lockdown.names import index_key, normalize_name

if TYPE_CHECKING:
    from lockdown.lock.condalock import CondaPackage
    from lockdown.lock.model import LockedPackage
    from lockdown.lock.pylock import LockFile

ChangeKind = Literal["added", "removed", "upgraded", "downgraded", "source"]
#: How big a change is; ``auto-approve`` names these.
ChangeClass = Literal[
    "new", "removed", "patch", "minor", "major", "pre-release", "downgrade", "source"
]
CHANGE_CLASSES: tuple[ChangeClass, ...] = get_args(ChangeClass)


@dataclass(frozen=True, slots=True, kw_only=True)
class LockedState:
    """One locked package entry, reduced to what the change set and the gate compare."""

    name: str
    version: str
    marker: str | None
    #: The simple-API URL it was locked from; ``None`` for a direct URL, path or VCS.
    index: str | None
    #: Its artifacts (what the gate looks at: file name, url, sha256, upload time).
    artifacts: tuple[Artifact, ...]
    #: True when at least one wheel is locked (False: sdist only, or not from an index).
    has_wheels: bool
    #: ``[packages.tool.lockdown.approval]`` of the lock it came from, if any.
    approval: Mapping[str, Any] | None = None
    #: PEP 751 ``attestation-identities``: the verified PEP 740 publishers (empty: none).
    publishers: frozenset[Publisher] = frozenset()
    #: ``[packages.tool.lockdown] also-served-by``: other indexes serving the name (shadows).
    also_served_by: tuple[str, ...] = ()

    @property
    def hashes(self) -> frozenset[str]:
        """The sha256 of every artifact."""
        return frozenset(a.sha256 for a in self.artifacts)


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


def change_set(old: Sequence[LockedState], new: Sequence[LockedState]) -> list[Change]:
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
    name: str, olds: Mapping[str, LockedState], news: Mapping[str, LockedState]
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


def _index_move(old: LockedState | None, new: LockedState, known: set[str | None]) -> str | None:
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


def _source_change(old: LockedState, new: LockedState) -> list[Change]:
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


def _by_name(states: Iterable[LockedState]) -> dict[str, dict[str, LockedState]]:
    """name → version → state; two entries of one version (other markers) are merged."""
    out: dict[str, dict[str, LockedState]] = {}
    for state in states:
        versions = out.setdefault(state.name, {})
        seen = versions.get(state.version)
        if seen is None:
            versions[state.version] = state
        else:
            merged = {a.sha256: a for a in (*seen.artifacts, *state.artifacts)}
            versions[state.version] = LockedState(
                name=seen.name,
                version=seen.version,
                marker=seen.marker,
                index=seen.index,
                artifacts=tuple(merged[k] for k in sorted(merged)),
                has_wheels=seen.has_wheels or state.has_wheels,
                approval=seen.approval or state.approval,
                publishers=seen.publishers | state.publishers,
            )
    return out


def _version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (0, Version(version))
    except InvalidVersion:
        return (1, version)


# --- adapters: a lock file, or a resolution, as states ---


def states_from_lock(lock: LockFile) -> list[LockedState]:
    """The packages of a parsed lock (any PEP 751 lock, not only lockdown's)."""
    raw_packages = lock.raw.get("packages", [])
    states = []
    for index, package in enumerate(lock.pylock.packages):
        artifacts = [
            Artifact(
                filename=_filename(a.url, a.name),
                url=a.url or "",
                sha256=a.hashes.get("sha256", ""),
                size=a.size,
                upload_time=a.upload_time,
            )
            for a in (*(package.wheels or ()), *((package.sdist,) if package.sdist else ()))
        ]
        if package.archive is not None:
            archive = package.archive
            artifacts.append(
                Artifact(
                    filename=_filename(archive.url, None),
                    url=archive.url or "",
                    sha256=archive.hashes.get("sha256", ""),
                    size=archive.size,
                    upload_time=archive.upload_time,
                )
            )
        raw = raw_packages[index] if index < len(raw_packages) else {}
        tool = raw.get("tool", {}).get("lockdown", {}) if isinstance(raw, Mapping) else {}
        approval = tool.get("approval") if isinstance(tool, Mapping) else None
        shadows = tool.get("also-served-by") if isinstance(tool, Mapping) else None
        states.append(
            LockedState(
                name=normalize_name(package.name),
                version=str(package.version) if package.version is not None else "",
                marker=str(package.marker) if package.marker is not None else None,
                index=package.index,
                artifacts=tuple(artifacts),
                has_wheels=bool(package.wheels),
                approval=approval if isinstance(approval, Mapping) else None,
                publishers=publishers_from_tables(package.attestation_identities),
                also_served_by=(
                    tuple(str(u) for u in shadows) if isinstance(shadows, list) else ()
                ),
            )
        )
    return states


def states_from_resolution(packages: Iterable[LockedPackage]) -> list[LockedState]:
    """The packages of a fresh resolution, before they are written."""
    return [
        LockedState(
            name=normalize_name(p.name),
            version=p.version,
            marker=p.marker,
            index=p.index,
            artifacts=(*p.wheels, *((p.sdist,) if p.sdist is not None else ())),
            has_wheels=bool(p.wheels),
            publishers=p.attestation_identities,
        )
        for p in packages
    ]


def conda_states(packages: Sequence[CondaPackage]) -> list[LockedState]:
    """Conda packages (a conda lock's or a solve's) as the gate's states: one per
    name and version, with every platform's archive."""
    grouped: dict[tuple[str, str], list[CondaPackage]] = {}
    for package in packages:
        grouped.setdefault((package.name, package.version), []).append(package)
    return [
        LockedState(
            name=name,
            version=version,
            marker=None,
            index=group[0].channel,
            artifacts=tuple(
                Artifact(filename=p.filename, url=p.url, sha256=p.sha256, upload_time=p.timestamp)
                for p in sorted(group, key=lambda p: (p.platform, p.sha256))
            ),
            has_wheels=True,  # require-wheels is a Python rule; conda archives are binaries
        )
        for (name, version), group in sorted(grouped.items())
    ]


def _filename(url: str | None, name: str | None) -> str:
    if name:
        return name
    return (url or "").rsplit("/", 1)[-1] or "an artifact"
