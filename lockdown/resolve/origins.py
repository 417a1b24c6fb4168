"""The shadow check's questions: which configured indexes serve a name, and their latest version.

Every question is one project page (PEP 503 / 691) asked through the index
client, so it gets the client's timeouts, redirect rules and retries; a 404
means "not served", any other failure stops the lock (fail closed: an index
that cannot answer cannot be ruled out). The pages are asked concurrently,
every (index, name) pair at once a few at a time, and parsed for nothing but
their existence.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from lockdown.errors import ProjectNotFoundError
from lockdown.names import normalize_name
from lockdown.resolve.index import IndexClient

#: Project pages asked at once (across all indexes): enough to hide a remote
#: index's latency, few enough for a small server's accept queue.
WORKERS = 8


def indexes_serving(
    names: Mapping[str, str | None], indexes: Sequence[str], *, workers: int = WORKERS
) -> dict[str, tuple[str, ...]]:
    """name → the ``indexes`` (in their order) that have a project page for it.

    ``names`` maps each name to the index already known to serve it (the one
    it was resolved or locked from, spelled as in ``indexes``), which is not
    asked again: a lock of N packages from two indexes asks N pages, not 2N.
    With fewer than two indexes there is nothing to compare, and nothing is asked.
    """
    known = {normalize_name(n): u for n, u in names.items()}
    if len(indexes) < 2 or not known:
        return {name: tuple(indexes) for name in sorted(known)}
    from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

    clients = [IndexClient(url) for url in indexes]
    pairs = [
        (number, name)
        for name, origin in sorted(known.items())
        for number in range(len(clients))
        if indexes[number] != origin
    ]

    def serves(pair: tuple[int, str]) -> bool:
        number, name = pair
        try:
            # No file is wanted: the page's existence is the answer.
            clients[number].project_files(name, wanted=frozenset())
        except ProjectNotFoundError:
            return False
        return True

    answers: list[bool] = []
    if pairs:
        with ThreadPoolExecutor(max_workers=min(workers, len(pairs))) as pool:
            answers = list(pool.map(serves, pairs))
    yes = {pair for pair, served in zip(pairs, answers, strict=True) if served}
    return {
        name: tuple(
            url for number, url in enumerate(indexes) if url == origin or (number, name) in yes
        )
        for name, origin in sorted(known.items())
    }


def latest_versions(name: str, indexes: Sequence[str]) -> dict[str, str | None]:
    """index → the highest version of ``name`` it lists (``None``: none can be read).

    Asked only for the few shadowed names, to say in the report what the
    other index offers.
    """
    from packaging.utils import (  # noqa: PLC0415
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )
    from packaging.version import Version  # noqa: PLC0415

    found: dict[str, str | None] = {}
    for url in indexes:
        versions: list[Version] = []
        try:
            files = IndexClient(url).project_files(name)
        except ProjectNotFoundError:
            files = []
        for file in files:
            try:
                if file.filename.endswith(".whl"):
                    versions.append(parse_wheel_filename(file.filename)[1])
                else:
                    versions.append(parse_sdist_filename(file.filename)[1])
            except (InvalidWheelFilename, InvalidSdistFilename):
                continue
        found[url] = str(max(versions)) if versions else None
    return found
