"""The ``pip:`` section of a conda environment, locked by the Python path.

For each platform, the requirements are resolved with lockdown's Python
resolver (uv) for that platform and for the Python the conda solution
installs, the way ``lockdown lock`` resolves a Python project
(:func:`lockdown.resolve.relax.resolve_relaxing`):

1. the conda packages' versions are constraints on every attempt, and the
   names conda already provides are dropped from the pip side, so the two
   never disagree on a package;
2. the previous lock's pip pins are kept (unless ``--upgrade`` /
   ``--upgrade-package``), and the cooldown's cutoff applies; each is relaxed
   in turn when the inputs no longer allow it, and the gate judges whatever
   moves;
3. when nothing resolves with conda's versions although the pip requirements
   resolve on their own, the lock fails: pip and conda must agree, and
   dropping conda's versions would lock wheels that need something conda
   does not install.

One wheel per package is chosen for the platform's tags and the conda
Python's version, downloaded and its sha256 checked, and written into
``conda-lock.yml`` as a ``manager: pip`` entry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.env.conda_python import marker_environment, python_of, wheel_tags
from lockdown.errors import IntegrityError, ResolutionError
from lockdown.lock.condalock import conda_entry
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from packaging.tags import Tag

    from lockdown.lock.model import LockedPackage, Resolution
    from lockdown.progress import Reporter
    from lockdown.resolve.interface import Resolver, ResolveRequest


def lock_pip(
    requirements: Sequence[str],
    platform: str,
    conda_packages: Sequence[LockedPackage],
    *,
    index_url: str,
    extra_index_urls: Sequence[str] = (),
    keep: Sequence[LockedPackage] = (),
    exclude_newer: datetime | None = None,
    exclude_newer_exempt: Sequence[str] = (),
    now: datetime | None = None,
    cache_dir: Path | None = None,
    reporter: Reporter | None = None,
) -> list[LockedPackage]:
    """The ``pip:`` requirements locked for one platform; see the module docstring.

    ``keep``: the previous lock's ``pip`` entries for this platform whose
    versions are to be kept (``--upgrade`` passes none, ``--upgrade-package``
    leaves out the named ones). ``exclude_newer``: the cooldown's cutoff, with
    the exempt packages limited to ``now`` instead.
    """
    from packaging.markers import Marker  # noqa: PLC0415

    from lockdown.progress import Reporter  # noqa: PLC0415
    from lockdown.project import ProjectInputs  # noqa: PLC0415
    from lockdown.resolve import get_resolver  # noqa: PLC0415
    from lockdown.resolve.interface import ResolveRequest  # noqa: PLC0415
    from lockdown.resolve.relax import resolve_relaxing  # noqa: PLC0415

    reporter = reporter or Reporter(quiet=True)
    python = python_of(conda_packages)
    environment = marker_environment(platform, python)
    marker = (
        f"sys_platform == '{environment['sys_platform']}' and "
        f"platform_machine == '{environment['platform_machine']}'"
    )
    conda_names: dict[str, str] = {normalize_name(p.name): p.version for p in conda_packages}
    constraints, unpinnable = conda_constraints(conda_names)
    request = ResolveRequest(
        inputs=ProjectInputs(
            name=None,
            requires_python=f"=={environment['python_version']}.*",
            dependencies=tuple(sorted(requirements)),
        ),
        environments=(marker,),
        index_url=index_url,
        extra_index_urls=tuple(extra_index_urls),
        # The previous pins: relaxed by resolve_relaxing when the inputs no longer allow them.
        preferences=tuple(
            sorted(
                f"{normalize_name(p.name)}=={p.version}"
                for p in keep
                if p.conda.manager == "pip" and normalize_name(p.name) not in conda_names
            )
        ),
        exclude_newer=exclude_newer,
        exclude_newer_exempt=tuple(sorted(exclude_newer_exempt)),
        now=now,
    )
    uv = get_resolver("uv", notify=reporter.note)
    held = HeldToConda(uv, constraints)
    try:
        resolution = resolve_relaxing(held, request, reporter)
    except ResolutionError as exc:
        raise _disagreement(uv, request, exc, held.last_error, platform) from None
    tags = wheel_tags(platform, python)
    chosen = []
    for package in resolution.packages:
        name = normalize_name(package.name)
        if package.marker and not Marker(package.marker).evaluate(environment):
            continue
        if name in conda_names:
            if name in unpinnable:
                # pip needs it, conda installs it, and no constraint could hold pip
                # to conda's version: agreement cannot be shown, so none is assumed.
                raise ResolutionError(
                    f"pip and conda must agree: the pip: section for {platform} needs "
                    f"{name}, which conda installs as {conda_names[name]}, not a version "
                    "pip can be held to",
                    hint=f"move the pip requirement that needs {name} to the conda dependencies",
                )
            continue  # conda provides it (at the very version: it was a constraint)
        chosen.append(_entry(package, platform, tags, index_url))
    _verify(chosen, resolution, cache_dir)
    return chosen


def conda_constraints(conda_names: Mapping[str, str]) -> tuple[tuple[str, ...], frozenset[str]]:
    """``name==version`` for each conda package, and the names whose version is not PEP 440.

    conda versions such as ``1.1.1w`` cannot be a pip constraint; those names
    are left out (pip requirements rarely name them) and refused later if the
    pip side turns out to need one.
    """
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    pins = []
    unpinnable = set()
    for name, version in sorted(conda_names.items()):
        try:
            Version(version)
        except InvalidVersion:
            unpinnable.add(name)
            continue
        pins.append(f"{name}=={version}")
    return tuple(pins), frozenset(unpinnable)


class HeldToConda:
    """A resolver that adds the conda side's versions to every request it resolves.

    ``lockdown.resolve.relax.resolve_relaxing`` relaxes what lockdown asked for (the kept
    versions, the cooldown) one step at a time; the conda versions are not
    lockdown's wish but the environment's fact, so they are never relaxed.
    """

    def __init__(self, backend: Resolver, constraints: Sequence[str]) -> None:
        self.backend = backend
        self.name = backend.name
        self.refuses_yanked_dependencies = backend.refuses_yanked_dependencies
        self.constraints = tuple(constraints)
        #: The error of the last (most relaxed) attempt, for the message.
        self.last_error: ResolutionError | None = None

    def version(self) -> str:
        """The wrapped backend's version."""
        return self.backend.version()

    def resolve(self, request: ResolveRequest) -> Resolution:
        """Resolve ``request`` with the conda versions added as constraints."""
        held = dataclasses.replace(request, preferences=(*self.constraints, *request.preferences))
        try:
            return self.backend.resolve(held)
        except ResolutionError as exc:
            self.last_error = exc
            raise


def _disagreement(
    backend: Resolver,
    request: ResolveRequest,
    first: ResolutionError,
    last: ResolutionError | None,
    platform: str,
) -> ResolutionError:
    """Why nothing resolved: the pip requirements themselves, or pip against conda.

    The requirements alone, with nothing kept and no cutoff, are resolved once
    more: if even that fails, the requirements are the problem (``first``, as
    the Python path reports it); if it succeeds, conda's versions are.
    """
    try:
        backend.resolve(dataclasses.replace(request, preferences=(), exclude_newer=None))
    except ResolutionError:
        return first
    why = (last or first).message.removeprefix("cannot resolve dependencies: ")
    return ResolutionError(
        f"pip and conda must agree: the pip: section for {platform} does not resolve with "
        f"the versions the conda side installs as constraints: {why}",
        hint="change the pip: requirements, or the conda dependencies, so both accept the "
        "same versions",
    )


def _entry(package: LockedPackage, platform: str, tags: Sequence[Tag], index: str) -> LockedPackage:
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename  # noqa: PLC0415

    rank = {str(tag): position for position, tag in enumerate(tags)}
    best = None
    for wheel in package.wheels:
        try:
            _name, _version, _build, wheel_tags_ = parse_wheel_filename(wheel.filename)
        except InvalidWheelFilename:
            continue
        score = min((rank[str(t)] for t in wheel_tags_ if str(t) in rank), default=None)
        if score is not None and (best is None or score < best[0]):
            best = (score, wheel)
    if best is None:
        raise IntegrityError(
            f"{package.name} {package.version} has no wheel for {platform}",
            hint="the pip: section installs wheels only",
        )
    wheel = best[1]
    return conda_entry(
        name=normalize_name(package.name),
        version=package.version,
        build="",
        platform=platform,
        url=wheel.url,
        md5="",
        sha256=wheel.sha256,
        dependencies={},
        channel=package.index or index,
        timestamp=wheel.upload_time,
        manager="pip",
    )


def _verify(
    entries: Sequence[LockedPackage], resolution: Resolution, cache_dir: Path | None
) -> None:
    """Download and hash the chosen wheels whose index declares no size.

    As for a Python lock (:mod:`lockdown.resolve.digests`): the sha256 and
    size the index declares are pinned as they are, and ``install --prefix``
    verifies every byte it uses; a file declared without a size is downloaded
    once into the cache and hashed, so the lock never pins a guess.
    """
    # conda-lock.yml records no size: what the index declared is in the resolution.
    declared = {w.url: w.size for p in resolution.packages for w in p.wheels}
    unsized = [e.file for e in entries if declared.get(e.file.url) is None]
    if not unsized:
        return
    from lockdown.artifacts import ArtifactCache, ensure_cache_dir, verify_all  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    verify_all(cache, unsized, source="the package index")
