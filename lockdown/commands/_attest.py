"""The lock's provenance step: fetch and verify PEP 740 attestations for the pinned files.

Called by ``lock`` (:mod:`lockdown.commands.lock`) between hashing the
artifacts and the gate. Packages whose files are exactly those the previous
lock pinned keep the publishers it recorded (nothing fetched: a re-lock with
nothing changed costs nothing); every other file from an index is looked up
on that index and any provenance it offers is verified against the file's
name and pinned sha256
(:func:`lockdown.sign.provenance.verify_provenance`, cached). A package is
recorded as attested when every one of its files verified.

``verify --provenance`` and ``install`` use :func:`check_locked_provenance`:
every file of a package the lock records publishers for is fetched again and
must still be attested by exactly those publishers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import IntegrityError
from lockdown.fsutil import default_cache_dir
from lockdown.lock.attestation import AttestationSummary, Publisher
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from lockdown.config import Config
    from lockdown.lock.model import LockedPackage, Resolution
    from lockdown.lock.pylock import LockFile
    from lockdown.resolve.index import IndexClient
    from lockdown.resolve.provenance import PinnedFile

__all__ = ["AttestationSummary", "attest_resolution", "check_locked_provenance"]


def attest_resolution(
    resolution: Resolution,
    previous: Sequence[LockedPackage] | None,
    *,
    cache_dir: Path | None = None,
    client_for: Callable[[str], IndexClient] | None = None,
    trusted_root: Path | None = None,
) -> tuple[Resolution, AttestationSummary]:
    """``resolution`` with each package's verified publishers, and a summary.

    Present-but-invalid provenance raises :class:`IntegrityError` (exit 16)
    naming the file; nothing has been written at this point.
    """
    from lockdown.resolve.index import IndexClient  # noqa: PLC0415
    from lockdown.resolve.provenance import PinnedFile, fetch_provenance  # noqa: PLC0415
    from lockdown.sign.provenance import ProvenanceCache, verify_provenance  # noqa: PLC0415

    # 1. Unchanged packages keep what the previous lock recorded, publishers or
    #    none: provenance is uploaded with a file, so the same files cannot have
    #    gained any (and asking again costs a page per package on every re-lock).
    kept = {(s.name, s.version, s.hashes): s.attestation_identities for s in previous or ()}
    carried: dict[int, frozenset[Publisher]] = {}
    wanted: list[PinnedFile] = []
    for number, package in enumerate(resolution.packages):
        files = package.artifacts
        key = (normalize_name(package.name), package.version, package.hashes)
        if key in kept:
            carried[number] = kept[key]
        elif package.index is not None:
            wanted += [
                PinnedFile(
                    project=package.name, index=package.index, filename=a.filename, sha256=a.sha256
                )
                for a in files
            ]
    # 2. An index whose pages cannot carry provenance (simple API before 1.3,
    #    PEP 740) has none to offer: its pages are not read for packages the
    #    previous lock records no publishers for. A package it records
    #    publishers for is read and judged whatever the index declares (fail
    #    closed: an index that stops serving provenance is a publisher loss).
    client_for = client_for or IndexClient
    wanted, no_provenance = _where_provenance_can_be(wanted, previous or (), client_for)
    # 3. Everything else: what the index offers, verified against the pinned sha256.
    fetched = fetch_provenance(wanted, client_for=client_for) if wanted else []
    cache = ProvenanceCache(cache_dir or default_cache_dir(), trusted_root=trusted_root)
    # Keyed by index too: two indexes may offer different provenance for one file.
    verified: dict[tuple[str, str, str], frozenset[Publisher] | None] = {}
    for item in fetched:
        slot = (item.file.index, item.file.filename, item.file.sha256)
        if item.document is None:
            verified[slot] = None
            continue
        verified[slot] = verify_provenance(
            item.file.filename,
            item.file.sha256,
            item.document,
            cache=cache,
            where=f"from {item.file.index}",
            trusted_root=trusted_root,
        )
    # 4. A package is attested when all of its files are.
    packages = []
    partial = []
    for number, package in enumerate(resolution.packages):
        publishers = carried.get(number)
        if publishers is None and package.index is not None:
            found = [verified.get((package.index, a.filename, a.sha256)) for a in package.artifacts]
            if found and all(f is not None for f in found):
                publishers = frozenset(p for f in found if f is not None for p in f)
            elif any(f is not None for f in found):
                partial.append(f"{package.name}=={package.version}")
        packages.append(
            dataclasses.replace(package, attestation_identities=publishers or frozenset())
        )
    counts: dict[Publisher, int] = {}
    for package in packages:
        for publisher in package.attestation_identities:
            counts[publisher] = counts.get(publisher, 0) + 1
    summary = AttestationSummary(
        packages=len(packages),
        by_publisher=dict(sorted(counts.items())),
        attested=sum(1 for p in packages if p.attestation_identities),
        verified_files=sum(1 for v in verified.values() if v is not None),
        partial=tuple(partial),
        no_provenance=no_provenance,
    )
    return dataclasses.replace(resolution, packages=tuple(packages)), summary


def _where_provenance_can_be(
    wanted: list[PinnedFile],
    previous: Sequence[LockedPackage],
    client_for: Callable[[str], IndexClient],
) -> tuple[list[PinnedFile], tuple[tuple[str, str], ...]]:
    """``wanted`` less the files of indexes that cannot offer provenance; and those indexes.

    What an index can offer is what the pages read so far declare (those read
    while the resolver ran, else one page read now). Files of packages the
    previous lock records publishers for are always kept.
    """
    attested = {normalize_name(s.name) for s in previous if s.attestation_identities}
    by_index: dict[str, list[PinnedFile]] = {}
    for file in wanted:
        if normalize_name(file.project) not in attested:
            by_index.setdefault(file.index, []).append(file)
    dropped: set[str] = set()
    skipped = []
    for index, files in sorted(by_index.items()):
        # A page to be read anyway (an attested package's) is the one to ask first.
        read_anyway = [
            f.project for f in wanted if f.index == index and normalize_name(f.project) in attested
        ]
        declared = client_for(index).declarations([*read_anyway, *(f.project for f in files)])
        if declared is not None and not declared.carries_provenance:
            dropped.add(index)
            skipped.append((index, declared.api_version))
    kept = [f for f in wanted if f.index not in dropped or normalize_name(f.project) in attested]
    return kept, tuple(skipped)


def check_locked_provenance(
    lock: LockFile,
    *,
    cache_dir: Path | None = None,
    client_for: Callable[[str], IndexClient] | None = None,
    select: Callable[[LockedPackage], bool] | None = None,
    trusted_root: Path | None = None,
) -> tuple[int, int]:
    """Fetch again and check every attested package's files; (packages, files) checked.

    Raises :class:`IntegrityError` (exit 16) on the first file whose
    provenance does not verify or names other publishers than the lock does.
    ``select`` limits the check to some packages (install: the ones it installs).
    """
    from lockdown.lock.pylock import locked_packages  # noqa: PLC0415
    from lockdown.resolve.index import IndexClient  # noqa: PLC0415
    from lockdown.resolve.provenance import PinnedFile, fetch_provenance  # noqa: PLC0415
    from lockdown.sign.provenance import ProvenanceCache, check_provenance  # noqa: PLC0415

    where = str(lock.path)
    recorded: dict[str, frozenset[Publisher]] = {}
    files: list[PinnedFile] = []
    packages = 0
    for state in locked_packages(lock):
        if not state.attestation_identities or (select is not None and not select(state)):
            continue
        if state.index is None:
            raise IntegrityError(
                f"{where}: {state.name}=={state.version} records attestation identities but "
                "no index to fetch its provenance from",
                hint="re-create the lock with lockdown lock",
            )
        packages += 1
        for artifact in state.artifacts:
            recorded[artifact.filename] = state.attestation_identities
            files.append(
                PinnedFile(
                    project=state.name,
                    index=state.index,
                    filename=artifact.filename,
                    sha256=artifact.sha256,
                )
            )
    if not files:
        return 0, 0
    fetched = fetch_provenance(files, client_for=client_for or IndexClient)
    cache = ProvenanceCache(cache_dir or default_cache_dir(), trusted_root=trusted_root)
    checked = check_provenance(
        fetched, recorded, cache=cache, where=where, trusted_root=trusted_root
    )
    return packages, checked


def provenance_root(config: Config | None) -> Path | None:
    """The configured ``provenance-trusted-root``, resolved against the project."""
    if config is None or config.policy.provenance_trusted_root is None:
        return None
    return config.project_dir / config.policy.provenance_trusted_root
