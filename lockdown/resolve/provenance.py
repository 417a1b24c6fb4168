"""PEP 740 provenance, fetched: what each pinned file's index offers about who published it.

The index's project page names each file's provenance URL (the ``provenance``
key of PEP 691 JSON, ``data-provenance`` in HTML); this module reads those
pages for the pinned files only, then fetches each offered provenance object
through the same :class:`~lockdown.resolve.index.IndexClient` (its transport,
limits and error lines). It judges nothing: the bytes go to
:mod:`lockdown.sign.provenance` to be verified.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lockdown.names import normalize_name
from lockdown.resolve.index import IndexClient

__all__ = ["FetchedProvenance", "PinnedFile", "fetch_provenance"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PinnedFile:
    """One file a lock pins: where it comes from and the digest it must have."""

    #: The project (any spelling; pages are asked for by normalized name).
    project: str
    #: The simple-API URL of its index.
    index: str
    filename: str
    sha256: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchedProvenance:
    """What the index said about one pinned file's provenance."""

    file: PinnedFile
    #: False when the index no longer lists the file at all.
    listed: bool
    #: The provenance URL the index offers; ``None``: it offers none.
    url: str | None
    #: The provenance object's bytes, unverified; ``None`` when none is offered.
    document: bytes | None


def fetch_provenance(
    files: Sequence[PinnedFile],
    *,
    client_for: Callable[[str], IndexClient] = IndexClient,
    workers: int = 16,
) -> list[FetchedProvenance]:
    """The provenance each index offers for ``files``, in the order given.

    1. Each index's pages are read for the pinned projects only (a few at a
       time, only the pinned files parsed).
    2. Each offered provenance URL is fetched, a few at a time.
    """
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    by_index: dict[str, list[PinnedFile]] = {}
    for file in files:
        by_index.setdefault(file.index, []).append(file)
    offered: dict[PinnedFile, tuple[bool, str | None]] = {}
    clients: dict[str, IndexClient] = {}
    # 1. The pages: which files are listed, and where their provenance is.
    for index, group in sorted(by_index.items()):
        client = clients[index] = client_for(index)
        listings = client.many_project_files(
            [f.project for f in group], filenames={f.filename for f in group}
        )
        for file in group:
            listed = {f.filename: f for f in listings.get(normalize_name(file.project), [])}
            hit = listed.get(file.filename)
            offered[file] = (hit is not None, hit.provenance if hit is not None else None)
    # 2. The provenance objects themselves.
    wanted = [f for f in files if offered[f][1] is not None]

    def one(file: PinnedFile) -> bytes:
        url = offered[file][1]
        assert url is not None  # noqa: S101 - filtered above
        return clients[file.index].provenance(url)

    documents: dict[PinnedFile, bytes] = {}
    if wanted:
        with ThreadPoolExecutor(max_workers=min(workers, len(wanted))) as pool:
            documents = dict(zip(wanted, pool.map(one, wanted), strict=True))
    return [
        FetchedProvenance(
            file=f, listed=offered[f][0], url=offered[f][1], document=documents.get(f)
        )
        for f in files
    ]
