"""The yank check (PEP 592): which moving packages' locked files their index has yanked.

A resolver never picks a yanked release unless a requirement pins that
version exactly, so only the exactly pinned ones are asked about
(:func:`exactly_pinned`), and each at its own index (:func:`yanked_releases`).
The gate (:mod:`lockdown.policy.gate`) judges the answers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.artifacts import ArtifactCache
from lockdown.errors import PackageIndexError
from lockdown.fsutil import default_cache_dir
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.lock.model import LockedPackage
    from lockdown.net import Transport
    from lockdown.progress import Reporter
    from lockdown.project import ProjectInputs
    from lockdown.resolve.index import IndexClient

__all__ = ["exactly_pinned", "yanked_releases"]


def exactly_pinned(
    states: Sequence[LockedPackage],
    inputs: ProjectInputs,
    cache_dir: Path | None,
    *,
    dependencies: bool,
    http: HttpSettings | None = None,
) -> list[LockedPackage]:
    """The moving packages a resolver could have chosen although yanked.

    A resolver never picks a yanked release unless a requirement pins that
    version exactly (PEP 592), so only those need asking the index about: the
    ones pinned with ``==``/``===`` by the project's inputs or by the
    dependencies of any locked package (read from its verified wheel's
    METADATA). A package whose metadata cannot be read here is asked about
    anyway: unknown is treated as pinned. Without ``dependencies`` (a backend
    that refuses yanked releases a dependency pins), only the inputs count.
    """
    from packaging.requirements import InvalidRequirement, Requirement  # noqa: PLC0415

    cache = ArtifactCache(cache_dir or default_cache_dir(), http=http)
    requirements = list(inputs.all_requirements)
    unknown: set[str] = set()
    read = _requirements_of(states, cache) if dependencies else [[] for _ in states]
    for state, metadata in zip(states, read, strict=True):
        if metadata is None:
            unknown.add(state.name)
        else:
            requirements += metadata
    pinned: set[str] = set()
    for text in requirements:
        try:
            req = Requirement(text)
        except InvalidRequirement:
            continue
        if any(
            spec.operator in ("==", "===") and "*" not in spec.version for spec in req.specifier
        ):
            pinned.add(normalize_name(req.name))
    return [s for s in states if s.name in pinned or s.name in unknown]


def _requirements_of(
    states: Sequence[LockedPackage], cache: ArtifactCache
) -> list[list[str] | None]:
    """Each package's ``Requires-Dist``, from one of its wheels; ``None`` when unknown.

    From the wheel itself when it is in the cache (verified), else from the
    core metadata file the index serves next to it (PEP 658: a few kB, where
    the wheel can be hundreds of MB), fetched a few at a time.
    """

    def one(state: LockedPackage) -> list[str] | None:
        wheel = next((a for a in state.artifacts if a.filename.endswith(".whl")), None)
        if wheel is None:
            return None
        path = cache.path_for(wheel.sha256)
        if path.is_file():
            return _wheel_requirements(path)
        return _metadata_requirements(wheel.url, cache.transport()) if wheel.url else None

    if not states:
        return []
    with ThreadPoolExecutor(max_workers=min(8, len(states))) as pool:
        return list(pool.map(one, states))


def _metadata_requirements(wheel_url: str, transport: Transport) -> list[str] | None:
    """``Requires-Dist`` from the PEP 658 ``<wheel>.metadata`` file; ``None`` when not served."""
    from packaging.metadata import parse_email  # noqa: PLC0415

    from lockdown.lock.metadata import fetch_core_metadata  # noqa: PLC0415

    try:
        body = fetch_core_metadata(wheel_url, transport, sha256=None)
    except PackageIndexError:
        return None
    raw, _unparsed = parse_email(body)
    return list(raw.get("requires_dist", []))


def _wheel_requirements(wheel: Path) -> list[str] | None:
    """``Requires-Dist`` of a verified wheel in the cache; ``None`` when it cannot be read."""
    from lockdown.lock.metadata import wheel_metadata  # noqa: PLC0415

    raw = wheel_metadata(wheel)
    return None if raw is None else list(raw.get("requires_dist", []))


def yanked_releases(
    states: Sequence[LockedPackage], clients: Callable[[str], IndexClient], reporter: Reporter
) -> dict[tuple[str, str], str]:
    """(name, version) → yank reason, for those of ``states`` whose locked files are yanked.

    Asks each package's own index for its listing (a few pages at a time, only
    the locked files parsed; ``clients`` keeps the pages the provenance step
    read); a package not from an index has nothing to yank.
    """
    by_index: dict[str, list[LockedPackage]] = {}
    for state in states:
        if state.index:
            by_index.setdefault(state.index, []).append(state)
    found: dict[tuple[str, str], str] = {}
    with reporter.status("checking the index for yanked releases"):
        for index, group in sorted(by_index.items()):
            filenames = {a.filename for s in group for a in s.artifacts}
            listings = clients(index).many_project_files(
                [s.name for s in group], filenames=filenames
            )
            for state in group:
                listed = {f.filename: f for f in listings.get(normalize_name(state.name), [])}
                for artifact in state.artifacts:
                    hit = listed.get(artifact.filename)
                    if hit is not None and hit.yanked is not None:
                        found[(state.name, state.version)] = hit.yanked
                        break
    return found
