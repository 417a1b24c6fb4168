"""Pin the index's digests; download and hash only what must be (``lock --verify-artifacts``).

By default each file is pinned with the sha256 and size its index declares,
as uv and ``pip lock`` do; a file declared without a size is downloaded once
into the content-addressed cache and hashed, and so is every file
``--verify-artifacts`` names (``host``: what this machine would install;
``all``: every pinned file). ``install`` and ``check --level artifacts``
verify every byte they use either way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from lockdown.artifacts import ArtifactCache, ensure_cache_dir, verify_all
from lockdown.errors import IntegrityError, PackageIndexError
from lockdown.fsutil import default_cache_dir

if TYPE_CHECKING:
    from lockdown.config.http import HttpSettings
    from lockdown.lock.model import Artifact, LockedPackage, Resolution
    from lockdown.progress import Reporter
    from lockdown.project import ProjectInputs

__all__ = ["VerifyArtifacts", "host_artifacts", "to_download", "verify_resolution"]

#: ``lock --verify-artifacts``: ``None`` pins the index's digests, downloading only
#: files it declares no size for; ``"host"`` also downloads and hashes what this
#: machine would install; ``"all"`` every pinned file.
VerifyArtifacts = Literal["host", "all"] | None


def to_download(
    resolution: Resolution, inputs: ProjectInputs, mode: VerifyArtifacts
) -> list[tuple[LockedPackage, Artifact]]:
    """The artifacts to download and hash: those without a declared size, and ``mode``'s."""
    chosen: list[tuple[LockedPackage, Artifact]] = []
    host: set[str] = set()
    if mode == "host":
        host = host_artifacts(resolution.packages, inputs)
    for package in resolution.packages:
        for artifact in (*package.wheels, *((package.sdist,) if package.sdist else ())):
            if artifact.size is None or mode == "all" or artifact.sha256 in host:
                chosen.append((package, artifact))
    return chosen


def host_artifacts(packages: Sequence[LockedPackage], inputs: ProjectInputs) -> set[str]:
    """sha256 of the file this machine would install of each package (every extra and group).

    The best wheel by this interpreter's tag priority, else the sdist, as a
    PEP 751 installer chooses.
    """
    from packaging.markers import Marker, default_environment  # noqa: PLC0415
    from packaging.tags import sys_tags  # noqa: PLC0415
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename  # noqa: PLC0415

    env = {
        **default_environment(),
        "extras": frozenset(inputs.extras),
        "dependency_groups": frozenset(inputs.groups),
    }
    priority = {tag: rank for rank, tag in enumerate(sys_tags())}
    chosen: set[str] = set()
    for package in packages:
        if package.marker and not Marker(package.marker).evaluate(env, "lock_file"):  # type: ignore[arg-type]
            continue
        ranked = []
        for wheel in package.wheels:
            try:
                tags = parse_wheel_filename(wheel.filename)[3]
            except InvalidWheelFilename:
                continue
            ranks = [priority[t] for t in tags if t in priority]
            if ranks:
                ranked.append((min(ranks), wheel.filename, wheel.sha256))
        if ranked:
            chosen.add(min(ranked)[2])
        elif package.sdist is not None:
            chosen.add(package.sdist.sha256)
    return chosen


def verify_resolution(
    resolution: Resolution,
    todo: Sequence[tuple[LockedPackage, Artifact]],
    cache_dir: Path | None,
    reporter: Reporter,
    http: HttpSettings | None,
) -> Resolution:
    """Download and hash ``todo`` against the declared digests; fill in sizes not declared.

    A size measured from the verified file is a fact, not a guess, so it is
    recorded; an upload time the index did not give stays absent.
    """
    if not todo:
        return resolution
    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()), http=http)
    expected = [a for _p, a in todo]
    declared_by = {a.sha256: f"the package index ({p.index or 'unknown index'})" for p, a in todo}
    with reporter.status(f"verifying {len(expected)} artifacts") as status:

        def progress(done: int, total: int) -> None:
            status.update(f"downloading and hashing artifacts {done}/{total}")

        try:
            verify_all(cache, expected, source=lambda a: declared_by[a.sha256], progress=progress)
        except IntegrityError as exc:
            # At lock time a mismatch is the index's fault, not the lock's.
            raise PackageIndexError(exc.message, hint=exc.hint) from None

    def sized(artifact: Artifact) -> Artifact:
        if artifact.size is not None:
            return artifact
        return dataclasses.replace(artifact, size=cache.path_for(artifact.sha256).stat().st_size)

    packages = tuple(
        dataclasses.replace(
            p,
            wheels=tuple(sized(w) for w in p.wheels),
            sdist=sized(p.sdist) if p.sdist is not None else None,
        )
        for p in resolution.packages
    )
    return dataclasses.replace(resolution, packages=packages)
