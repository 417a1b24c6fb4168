"""``lockdown lock`` and ``lockdown lock --check``: inputs → resolver → pylock.toml.

The steps, in order:

1. read and validate the config and the project's inputs (nothing is resolved
   if either is wrong);
2. resolve with the configured backend against the named index;
3. download every artifact not yet in the content-addressed cache and check
   that its bytes have the sha256 and size the index declared;
4. render and validate the lock in memory;
5. under the project's run lock, write it atomically, only if it changed.

A failure at any step raises before step 5, so the previous lock stays
byte-identical.
"""

from __future__ import annotations

import dataclasses
import sys
from dataclasses import dataclass
from pathlib import Path

from lockdown.artifacts import ArtifactCache, Expected, ensure_cache_dir, verify_all
from lockdown.config import Config, load_config
from lockdown.errors import IntegrityError, LockFileError, PackageIndexError
from lockdown.fsutil import atomic_write, default_cache_dir, run_lock
from lockdown.lock.pylock import LockMetadata, read_lock, render_lock
from lockdown.progress import Reporter
from lockdown.project import ProjectInputs, input_digest, read_inputs
from lockdown.resolve import default_index_url, get_resolver
from lockdown.resolve.interface import Artifact, Resolution, ResolveRequest


@dataclass(frozen=True, slots=True, kw_only=True)
class LockOutcome:
    """What ``lock`` did."""

    path: Path
    #: False when the new lock is byte-identical to the old one.
    changed: bool
    resolution: Resolution


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckOutcome:
    """Whether the lock is current with its inputs."""

    path: Path
    current: bool
    #: One line saying why it is stale (empty when current).
    reason: str


def _prepare(project_dir: Path, resolver: str | None) -> tuple[Config, ProjectInputs, str, str]:
    config, pyproject = load_config(project_dir)
    inputs = read_inputs(config, pyproject)
    name = resolver or config.resolver
    return config, inputs, name, input_digest(inputs, config, name)


def lock_project(
    project_dir: Path,
    *,
    resolver: str | None = None,
    reporter: Reporter | None = None,
    cache_dir: Path | None = None,
    verify_artifacts: bool = True,
) -> LockOutcome:
    """Resolve the project in ``project_dir`` and write its lock file.

    With ``verify_artifacts`` (the default), every artifact the lock will pin
    is downloaded once into the content-addressed cache and its sha256 and
    size checked against what the index declared, so a lock never records a
    hash its file does not have.
    """
    reporter = reporter or Reporter(quiet=True)
    # 1. Inputs and config, validated before anything is resolved.
    config, inputs, name, digest = _prepare(project_dir, resolver)
    backend = get_resolver(name, notify=reporter.note)
    index_url = config.index_url or default_index_url()
    resolve_inputs = inputs
    if inputs.requires_python is None:
        # A lock must say which Pythons it covers; without a declaration the
        # honest answer is "this one and newer".
        floor = f">={sys.version_info.major}.{sys.version_info.minor}"
        reporter.note(f"no requires-python declared; locking for Python {floor}")
        resolve_inputs = dataclasses.replace(inputs, requires_python=floor)
    request = ResolveRequest(
        inputs=resolve_inputs,
        environments=config.environments,
        index_url=index_url,
        extra_index_urls=config.extra_index_urls,
    )
    # 2. Resolve: the only step that talks to the network.
    with reporter.status(f"resolving with {name} from {index_url}"):
        resolution = backend.resolve(request)
    # 3. Check the index's hashes against the files themselves.
    if verify_artifacts:
        resolution = _verify(resolution, cache_dir, reporter)
    # 4. Render and validate in memory.
    meta = LockMetadata(
        input_digest=digest,
        indexes=(index_url, *config.extra_index_urls),
        extras=tuple(sorted(inputs.extras)),
        dependency_groups=tuple(sorted(inputs.groups)),
        default_groups=config.default_groups,
        requires_python=resolve_inputs.requires_python,
    )
    data = render_lock(resolution, meta)
    # 5. Write atomically, serialized with any other lockdown run on this lock.
    path = config.output_path
    with run_lock(path):
        try:
            old = path.read_bytes()
        except FileNotFoundError:
            old = None
        changed = old != data
        if changed:
            atomic_write(path, data)
    return LockOutcome(path=path, changed=changed, resolution=resolution)


def _verify(resolution: Resolution, cache_dir: Path | None, reporter: Reporter) -> Resolution:
    """Check every artifact against its bytes; fill in sizes the index did not give.

    A size measured from the verified file is a fact, not a guess, so it is
    recorded; an upload time the index did not give stays absent.
    """
    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    expected = [
        Expected(
            url=a.url,
            filename=a.filename,
            sha256=a.sha256,
            size=a.size,
            source=f"the package index ({p.index or 'unknown index'})",
        )
        for p in resolution.packages
        for a in (*p.wheels, *((p.sdist,) if p.sdist else ()))
    ]
    with reporter.status(f"verifying {len(expected)} artifacts") as status:

        def progress(done: int, total: int) -> None:
            status.update(f"downloading and hashing artifacts {done}/{total}")

        try:
            verify_all(cache, expected, progress=progress)
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


def check_lock(project_dir: Path, *, resolver: str | None = None) -> CheckOutcome:
    """Is the lock current with the inputs? Compares digests only: no network."""
    config, _inputs, _name, digest = _prepare(project_dir, resolver)
    path = config.output_path
    if not path.exists():
        return CheckOutcome(path=path, current=False, reason=f"{path.name} does not exist")
    lock = read_lock(path)
    recorded = lock.tool.get("input-digest")
    if recorded is None:
        return CheckOutcome(
            path=path,
            current=False,
            reason=f"{path.name} has no [tool.lockdown] input-digest (not written by lockdown)",
        )
    if not isinstance(recorded, str):
        raise LockFileError(f"{path}: tool.lockdown.input-digest must be a string")
    if recorded != digest:
        return CheckOutcome(
            path=path,
            current=False,
            reason=f"{path.name} is stale: the dependencies or lock settings changed since it "
            "was written",
        )
    return CheckOutcome(path=path, current=True, reason="")
