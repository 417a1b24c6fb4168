"""``lockdown lock``, ``lock --check``, ``lock --conda``: one lock pipeline for both ecosystems.

The shared steps (the policy, the previous lock, the approvals and the
cutoff; the vulnerability gate; the atomic write) are :func:`lock_start` and
:func:`gate_and_write`; each ecosystem brings its solve, its gate input and
its render.

The steps, in order:

1. read and validate the config, the project's inputs, the previous lock and
   the approvals (nothing is resolved if any is wrong);
2. resolve with the configured backend against the named index, keeping the
   previous lock's versions unless ``--upgrade`` / ``--upgrade-package`` says
   otherwise, and under the cooldown's cutoff when one is configured;
3. download every artifact not yet in the content-addressed cache and check
   that its bytes have the sha256 and size the index declared; then verify the
   PEP 740 provenance each index offers for the new and changed files
   (:mod:`lockdown.commands._attest`; invalid provenance is exit 16);
4. the gate: the change set against the previous lock, every change and every
   package judged by policy (:mod:`lockdown.policy.gate`); anything blocked
   ends the run here, with the verdicts, and nothing written;
5. render and validate the lock in memory, recording which approval admitted
   each change;
6. under the project's run lock, write it atomically, only if it changed.

A failure or a block at any step ends the run before step 6, so the previous
lock stays byte-identical.

``lock --conda`` (:func:`lock_conda`): environment.yml /
``[tool.lockdown.conda]`` → conda-lock.yml:

1. Read and check the inputs (channels, match specs, platforms).
2. Solve each platform with py-rattler against the channels
   (:mod:`lockdown.resolve.rattler`), with a fixed set of virtual packages
   per platform, so the answer does not depend on the machine that locks;
   the ``pip:`` section by the Python path (:mod:`lockdown.resolve.conda_pip`).
3. Render conda-lock's unified ``conda-lock.yml`` (every package with url,
   md5 and sha256), validate it with conda-lock's parser, and write it
   atomically only if it changed.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from lockdown import __version__
from lockdown.commands._attest import attest_resolution, provenance_root
from lockdown.commands._lockfile import find_lock, optional_config
from lockdown.commands._origin_check import OriginCheck, PinningResolver
from lockdown.config import Config, load_config
from lockdown.config.fields import format_duration
from lockdown.config.http import http_settings
from lockdown.errors import InputError, LockFileError, UsageError
from lockdown.fsutil import atomic_write, run_lock
from lockdown.lock.model import LockedPackage, Resolution
from lockdown.lock.previous import read_previous
from lockdown.lock.pylock import LockFile, LockMetadata, locked_packages, read_lock, render_lock
from lockdown.names import normalize_name
from lockdown.policy.advisories import GateAudit, packages_of, vulnerability_gate
from lockdown.policy.approvals import Approval, approval_records, read_approvals
from lockdown.policy.cooldown import cooldown_cutoff
from lockdown.policy.gate import GateResult, judge
from lockdown.progress import Reporter
from lockdown.project import ProjectInputs, input_digest, read_inputs
from lockdown.report.outcomes import CheckOutcome, CondaLockOutcome, LockOutcome
from lockdown.resolve import default_index_url, get_resolver
from lockdown.resolve.digests import VerifyArtifacts, to_download, verify_resolution
from lockdown.resolve.early import early_clients, early_pages
from lockdown.resolve.interface import Resolver, ResolveRequest
from lockdown.resolve.licenses import license_records
from lockdown.resolve.relax import resolve_served
from lockdown.resolve.state import load_resolver_state, save_resolver_state
from lockdown.resolve.yanked import exactly_pinned, yanked_releases
from lockdown.sign.provenance import preload as preload_verifier

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from lockdown.audit.model import Package
    from lockdown.conda_inputs import CondaInputs
    from lockdown.config.conda import CondaSettings
    from lockdown.config.policy import Policy
    from lockdown.lock.condalock import CondaLock
    from lockdown.resolve.index import IndexClients
    from lockdown.resolve.platforms import Coverage, PlannedEnvironments

T = TypeVar("T")


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


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
    verify_artifacts: VerifyArtifacts = None,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    clock: Callable[[], datetime] = _utc_now,
    backend: Resolver | None = None,
) -> LockOutcome:
    """Resolve the project in ``project_dir``, judge the result, and write its lock file.

    Each artifact is pinned with the sha256 and size the index declares,
    without downloading it (as uv and ``pip lock`` do); a file the index gives
    no size for is downloaded once into the content-addressed cache and
    hashed. ``verify_artifacts`` downloads and hashes more: ``"host"`` what
    this machine would install, ``"all"`` every pinned file. ``install`` and
    ``check --level artifacts`` verify every byte they use either way.
    ``clock`` is the gate's "now" (approvals' validity, the cooldown's cutoff).
    ``backend`` replaces the configured resolver (the provenance tests pin
    files whose bytes they do not have).
    """
    reporter = reporter or Reporter(quiet=True)
    now = clock()
    # 1. Inputs, config, the previous lock and the approvals, validated before resolving.
    config, inputs, name, digest = _prepare(project_dir, resolver)
    wanted_upgrades = _names(upgrade_packages)
    path = find_lock(project_dir, config)
    start = lock_start(
        config,
        path,
        read_lock,
        _recorded_cutoff,
        now,
        moving=upgrade or bool(wanted_upgrades),
    )
    policy, previous = start.policy, start.previous
    approvals, cutoff = start.approvals, start.cutoff
    backend = backend or get_resolver(name, notify=reporter.note)
    index_url = config.index_url or default_index_url()
    indexes = (index_url, *config.extra_index_urls)
    old_packages = locked_packages(previous) if previous is not None else None
    # Origins: the sources pins and the previous lock's indexes (asked while resolving).
    origins = OriginCheck(
        config.sources,
        indexes,
        old_packages,
        source=config.source,
        where="[tool.lockdown]" if config.source.name == "pyproject.toml" else config.source.name,
    )
    resolve_inputs = _with_requires_python(inputs, reporter)
    # Moving nothing: start from what the backend left when it made the previous
    # lock (uv then asks the index nothing). Moving, or checking files against the
    # index's current word (--verify-artifacts), resolves afresh.
    state = (
        None
        if previous is None or upgrade or wanted_upgrades or verify_artifacts is not None
        else load_resolver_state(cache_dir, backend.name, previous.data)
    )
    request = ResolveRequest(
        inputs=resolve_inputs,
        environments=config.environments,
        environments_are_candidates=not config.environments_explicit,
        index_url=index_url,
        extra_index_urls=config.extra_index_urls,
        # The backend's own previous resolution keeps the locked versions by
        # itself (uv prefers its uv.lock); without it, they are constraints.
        preferences=(
            () if upgrade or state is not None else _preferences(old_packages, wanted_upgrades)
        ),
        exclude_newer=cutoff,
        exclude_newer_exempt=tuple(sorted(policy.cooldown_exempt)),
        now=now,
        index_pins=origins.index_pins(),
        resolver_state=state,
        # Checked here, before anything runs: a bad LOCKDOWN_HTTP_* value is exit 64.
        http=http_settings(config),
    )
    # The pages the provenance step and the yank check will read, one read each;
    # those of names known now are read while the resolver runs.
    clients = early_clients(
        request.http,
        early_pages(inputs, old_packages, index_url, upgrade, wanted_upgrades)
        if policy.provenance != "off" or policy.yanked == "deny"
        else {},
        provenance=policy.provenance != "off",
        # Its verifier's imports (~0.25 s) then happen while the resolver works.
        on_provenance=lambda: _in_background(preload_verifier),
    )
    # 2. Resolve: the only step that talks to the network (with step 3's downloads).
    with reporter.status(f"resolving with {name} from {index_url}"):
        request, resolution, platforms = _resolve_keeping_origins(
            backend, request, origins, reporter, clients
        )
    # 3. The index's digests are pinned as declared; files it declares no size
    #    for, and those --verify-artifacts names, are downloaded and hashed.
    resolution = verify_resolution(
        resolution,
        to_download(resolution, inputs, verify_artifacts),
        cache_dir,
        reporter,
        request.http,
    )
    # 3b. The licenses of the new and changed packages (PEP 658 metadata, a few kB
    #     each), read in the background while the checks below wait on the network.
    licenses = _in_background(
        license_records,
        previous,
        old_packages,
        resolution.packages,
        request.http,
        clients,
    )
    attestations = None
    if policy.provenance != "off":
        with reporter.status("verifying PEP 740 provenance"):
            resolution, attestations = attest_resolution(
                resolution,
                old_packages,
                cache_dir=cache_dir,
                trusted_root=provenance_root(config),
                client_for=clients,
            )
    # 4. The gate, with the origin of every package (one index each; shadows found).
    new_packages = resolution.packages
    yanked: dict[tuple[str, str], str] = {}
    if policy.yanked == "deny":
        candidates = exactly_pinned(
            _moving(old_packages, new_packages),
            inputs,
            cache_dir,
            dependencies=not backend.refuses_yanked_dependencies,
            http=request.http,
        )
        yanked = yanked_releases(candidates, clients, reporter)
    clients.close()
    result = judge(
        old_packages,
        new_packages,
        policy=policy,
        approvals=approvals,
        now=now,
        cutoff=cutoff,
        yanked=yanked,
    )
    with reporter.status(f"asking {len(indexes)} indexes which serve the locked names"):
        result, origin_records = origins.judge(result, new_packages, policy.allowed_indexes)

    # 4b. to 6. The vulnerability gate; render and validate in memory; write.
    def render(result: GateResult) -> bytes:
        meta = LockMetadata(
            input_digest=digest,
            indexes=(index_url, *config.extra_index_urls),
            extras=tuple(sorted(inputs.extras)),
            dependency_groups=tuple(sorted(inputs.groups)),
            default_groups=config.default_groups,
            requires_python=resolve_inputs.requires_python,
            min_release_age=(
                format_duration(policy.min_release_age) if policy.min_release_age else None
            ),
            cooldown_cutoff=cutoff,
            package_tool=_merge_records(
                _approval_records(old_packages, new_packages, result),
                origin_records,
                licenses.result().records,
            ),
            sources=config.sources,
            requested_environments=request.environments if platforms.shortfalls else (),
            shortfalls=tuple(s.record() for s in platforms.shortfalls),
        )
        return render_lock(resolution, meta, validated=previous.data if previous else None)

    end = gate_and_write(
        start, result, packages_of(new_packages), render, path, config, cache_dir, reporter
    )
    result, vulnerabilities = end.gate, end.vulnerabilities
    if end.data is None:
        return LockOutcome(
            path=path,
            changed=False,
            resolution=resolution,
            gate=result,
            attestations=attestations,
            vulnerabilities=vulnerabilities,
        )
    data, changed = end.data, end.changed
    if resolution.resolver_state is not None:
        save_resolver_state(cache_dir, backend.name, data, resolution.resolver_state)
    return LockOutcome(
        path=path,
        changed=changed,
        resolution=resolution,
        gate=result,
        attestations=attestations,
        vulnerabilities=vulnerabilities,
        unlicensed=licenses.result().undeclared,
    )


def _resolve_keeping_origins(
    backend: Resolver,
    request: ResolveRequest,
    origins: OriginCheck,
    reporter: Reporter,
    clients: IndexClients,
) -> tuple[ResolveRequest, Resolution, Coverage]:
    """Resolve; again if a locked name gained a shadow and was taken from it (see origin_check).

    The background work started before (the origin questions, the early pages)
    is stopped when resolving fails.
    """
    pinning = PinningResolver(backend, origins)
    try:
        resolution, platforms = resolve_served(pinning, request, reporter)
        repin = origins.repins(resolution, request.index_pins)
        if repin:
            reporter.note(f"{', '.join(repin)} now also served by another index; resolving again")
            resolution, platforms = resolve_served(pinning, request, reporter)
        request = dataclasses.replace(request, index_pins=origins.index_pins())
    except BaseException:
        origins.close()
        clients.close()
        raise
    origins.ask_the_rest(resolution)
    return request, resolution, platforms


def _with_requires_python(inputs: ProjectInputs, reporter: Reporter) -> ProjectInputs:
    """``inputs`` with a ``requires-python``: a lock must say which Pythons it covers.

    Without a declaration the honest answer is "this one and newer".
    """
    if inputs.requires_python is not None:
        return inputs
    floor = f">={sys.version_info.major}.{sys.version_info.minor}"
    reporter.note(f"no requires-python declared; locking for Python {floor}")
    return dataclasses.replace(inputs, requires_python=floor)


def plan_environments(
    project_dir: Path, reporter: Reporter, *, index_url: str | None = None
) -> PlannedEnvironments | None:
    """Which of the default environments a lock of the project would serve (for ``init``).

    Resolves as ``lock`` does with no ``environments`` set, writing nothing;
    ``None`` when the project declares nothing to lock. ``index_url``
    replaces the configured (or default) index.
    """
    from lockdown.config import DEFAULT_ENVIRONMENTS  # noqa: PLC0415
    from lockdown.resolve.platforms import PlannedEnvironments  # noqa: PLC0415

    config, inputs, name, _digest = _prepare(project_dir, None)
    if not (inputs.dependencies or inputs.extras or inputs.groups):
        return None
    request = ResolveRequest(
        inputs=_with_requires_python(inputs, reporter),
        environments=DEFAULT_ENVIRONMENTS,
        environments_are_candidates=True,
        index_url=index_url or config.index_url or default_index_url(),
        extra_index_urls=config.extra_index_urls,
    )
    backend = get_resolver(name, notify=reporter.note)
    with reporter.status("checking which platforms the project's packages serve"):
        _resolution, served = resolve_served(backend, request, Reporter(quiet=True))
    return PlannedEnvironments(
        served=served.served, reasons=tuple(s.describe() for s in served.shortfalls)
    )


def _names(names: Sequence[str]) -> frozenset[str]:
    return frozenset(normalize_name(n) for n in names)


@dataclass(frozen=True, slots=True)
class LockStart(Generic[T]):
    """What a lock run starts from, for either ecosystem (the shared step 1)."""

    policy: Policy
    #: The lock being replaced; ``None`` when there is none.
    previous: T | None
    approvals: list[Approval]
    #: The cooldown's cutoff (the previous lock's when nothing moves).
    cutoff: datetime | None
    #: The gate's "now" (approvals' validity, the cutoff).
    now: datetime


def lock_start(
    config: Config | None,
    output: Path,
    read: Callable[[Path], T],
    recorded_cutoff: Callable[[T | None], tuple[datetime | None, object]],
    now: datetime,
    *,
    moving: bool,
) -> LockStart[T]:
    """The policy, the previous lock (``read`` parses it), the approvals and the cutoff:
    what a Python lock and a conda lock both start from. No config: the default policy."""
    from lockdown.config.policy import Policy  # noqa: PLC0415

    policy = config.policy if config is not None else Policy()
    previous = read_previous(output, read)
    approvals = read_approvals(config.approvals_path) if config is not None else []
    cutoff = cooldown_cutoff(*recorded_cutoff(previous), policy.min_release_age, now, moving=moving)
    return LockStart(policy=policy, previous=previous, approvals=approvals, cutoff=cutoff, now=now)


@dataclass(frozen=True, slots=True)
class LockEnd:
    """How a lock run ended (the shared steps after the gate)."""

    gate: GateResult
    vulnerabilities: GateAudit | None
    #: The rendered lock; ``None`` when the gate blocked (nothing was rendered or written).
    data: bytes | None
    changed: bool


def gate_and_write(
    start: LockStart[Any],
    result: GateResult,
    packages: Sequence[Package],
    render: Callable[[GateResult], bytes],
    output: Path,
    config: Config | None,
    cache_dir: Path | None,
    reporter: Reporter | None,
) -> LockEnd:
    """The shared end of a lock run: the vulnerability gate over ``packages``; on a
    block nothing more; else ``render`` (the ecosystem's format, with the gate's
    approval records) and write it atomically, only when it changed, serialized
    with any other lockdown run on this lock."""
    result, vulnerabilities = vulnerability_gate(
        result,
        packages,
        policy=start.policy,
        settings=config.audit if config is not None else None,
        approvals=start.approvals,
        now=start.now,
        cache_dir=cache_dir,
        reporter=reporter,
    )
    if result.blocked:
        return LockEnd(gate=result, vulnerabilities=vulnerabilities, data=None, changed=False)
    data = render(result)
    with run_lock(output):
        try:
            old = output.read_bytes()
        except FileNotFoundError:
            old = None
        changed = old != data
        if changed:
            atomic_write(output, data)
    return LockEnd(gate=result, vulnerabilities=vulnerabilities, data=data, changed=changed)


def _recorded_cutoff(previous: LockFile | None) -> tuple[datetime | None, object]:
    """The previous lock's ``[tool.lockdown]`` cutoff (an aware datetime) and its age."""
    if previous is None:
        return None, None
    recorded = previous.tool.get("cooldown-cutoff")
    if not isinstance(recorded, datetime) or recorded.tzinfo is None:
        recorded = None
    return recorded, previous.tool.get("min-release-age")


def _preferences(old: Sequence[LockedPackage] | None, upgrading: frozenset[str]) -> tuple[str, ...]:
    """``name==version`` for each package the previous lock pins at a single version."""
    if old is None:
        return ()
    versions: dict[str, set[str]] = {}
    for state in old:
        versions.setdefault(state.name, set()).add(state.version)
    return tuple(
        f"{name}=={next(iter(found))}"
        for name, found in sorted(versions.items())
        if len(found) == 1 and name not in upgrading and next(iter(found))
    )


def _moving(
    old: Sequence[LockedPackage] | None, new: Sequence[LockedPackage]
) -> list[LockedPackage]:
    """The new lock's packages that are new or changed (all of them for a first lock)."""
    if old is None:
        return list(new)
    before = {(s.name, s.version, s.hashes) for s in old}
    return [s for s in new if (s.name, s.version, s.hashes) not in before]


def _in_background(work: Callable[..., T], *args: Any) -> Future[T]:
    """Start ``work(*args)`` on a thread of its own; its future gives the result or raises.

    A run that returns early (blocked) leaves it to finish by itself: it only reads.
    """
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lockdown-background")
    try:
        return pool.submit(work, *args)
    finally:
        pool.shutdown(wait=False)


def _approval_records(
    old: Sequence[LockedPackage] | None, new: Sequence[LockedPackage], result: GateResult
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Each package's ``[packages.tool.lockdown]``: the approval that admitted it.

    This run's approval for a changed package, else what the previous lock
    recorded for the same version (so a re-lock keeps saying why).
    """
    kept = {(s.name, s.version): s.approval for s in old or () if s.approval is not None}
    found = approval_records(
        ((s.name, s.version) for s in new),
        result.approval_for,
        lambda name, version: kept.get((name, version)),
        Approval.record,
    )
    return {key: {"approval": record} for key, record in found.items()}


def _merge_records(
    *records: Mapping[tuple[str, str], Mapping[str, Any]],
) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Each package's ``[packages.tool.lockdown]`` from several sources, keys side by side."""
    merged: dict[tuple[str, str], dict[str, Any]] = {}
    for table in records:
        for key, values in table.items():
            merged.setdefault(key, {}).update(values)
    return dict(merged)


def check_lock(project_dir: Path, *, resolver: str | None = None) -> CheckOutcome:
    """Is the lock current with the inputs? Compares digests only: no network."""
    config, _inputs, _name, digest = _prepare(project_dir, resolver)
    path = find_lock(project_dir, config)
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


def run(args: Args, reporter: Reporter) -> LockOutcome | CheckOutcome | CondaLockOutcome:
    """``lockdown lock`` from its parsed arguments: lock (or check) and return what happened."""
    if args.check and args.conda is None:
        return check_lock(args.project, resolver=args.resolver)
    if args.upgrade and args.upgrade_package:
        raise UsageError("--upgrade and --upgrade-package cannot be used together")
    if args.conda is not None:
        return _lock_conda(args, reporter)
    return lock_project(
        args.project,
        resolver=args.resolver,
        reporter=reporter,
        cache_dir=args.cache_dir,
        verify_artifacts=args.verify_artifacts,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package or (),
    )


def _lock_conda(args: Args, reporter: Reporter) -> CondaLockOutcome:
    if args.check or args.resolver:
        raise UsageError(
            "--conda locks with py-rattler; --check and --resolver apply to Python locks only"
        )
    environment = Path(args.project) / args.conda if args.conda else None
    with reporter.status("solving the conda environment"):
        return lock_conda(
            Path(args.project),
            environment_file=environment,
            upgrade=args.upgrade,
            upgrade_packages=args.upgrade_package or (),
            reporter=reporter,
        )


def read_conda_inputs(
    project_dir: Path, environment_file: Path | None
) -> tuple[CondaInputs, Path, Sequence[str], Config | None]:
    """The inputs, the lock file's path, the files read, and the project's config (if any)."""
    from lockdown.conda_inputs import conda_inputs, read_environment_yml  # noqa: PLC0415
    from lockdown.config import PYPROJECT  # noqa: PLC0415

    table: CondaSettings | None = None
    config = optional_config(project_dir, lock_settings=True)
    if config is not None:
        table = config.conda
        if table is not None and environment_file is None and table.environment_file is not None:
            environment_file = config.project_dir / table.environment_file
    output = find_lock(project_dir, config, kind="conda")
    if environment_file is None and table is None:
        default = project_dir / "environment.yml"
        if not default.is_file():
            raise InputError(
                f"no environment.yml and no [tool.lockdown.conda] in {project_dir}",
                hint="pass --conda FILE, or add [tool.lockdown.conda]",
            )
        environment_file = default
    environment = read_environment_yml(environment_file) if environment_file else None
    source = environment_file or project_dir / PYPROJECT
    sources = [environment_file.name] if environment_file else []
    return conda_inputs(table, environment, source=source), output, sources, config


def lock_conda(
    project_dir: Path,
    *,
    environment_file: Path | None = None,
    upgrade: bool = False,
    upgrade_packages: Sequence[str] = (),
    clock: Callable[[], datetime] = _utc_now,
    cache_dir: Path | None = None,
    reporter: Reporter | None = None,
) -> CondaLockOutcome:
    """Solve every platform, judge the result, and write ``conda-lock.yml``.

    The same gate as for Python locks (:mod:`lockdown.policy.gate`): without
    ``upgrade`` / ``upgrade_packages`` the previous lock's archives are kept
    (rattler's locked packages); every change is judged by
    ``[tool.lockdown.policy]`` and the approvals file; the cooldown is passed
    to the solver (``exclude_newer``) and enforced from the package timestamps;
    ``allowed-channels`` plays the part of ``allowed-indexes``. A block writes
    nothing. The ``pip:`` section keeps its previous pins and the cutoff alike
    (:func:`lockdown.resolve.conda_pip.lock_pip`); ``reporter`` hears what was relaxed.
    """
    # The conda modules are imported here, not with this module: a Python lock needs none.
    from lockdown.lock.condalock import read_conda_lock, require  # noqa: PLC0415

    require()
    from lockdown.audit.model import conda_packages  # noqa: PLC0415

    # 1. The inputs; the policy, the previous lock, the approvals and the cutoff (shared).
    inputs, output, sources, config = read_conda_inputs(project_dir.resolve(), environment_file)
    moving = frozenset(normalize_name(n) for n in upgrade_packages)
    start = lock_start(
        config,
        output,
        read_conda_lock,
        _conda_recorded_cutoff,
        clock(),
        moving=upgrade or bool(moving),
    )
    # 2. The solve (per ecosystem): every platform, its pip: section by the Python path.
    packages = _solve(inputs, config, start, moving, upgrade, cache_dir, reporter)
    # 3. The gate: conda archives against allowed-channels, pip wheels against
    # allowed-indexes; every other rule alike.
    result = _judge(start, packages)
    # 4. The vulnerability gate, then conda-lock.yml rendered and written (shared).
    end = gate_and_write(
        start,
        result,
        conda_packages(packages),
        lambda result: _render(inputs, sources, start, packages, result),
        output,
        config,
        cache_dir,
        reporter,
    )
    return CondaLockOutcome(
        path=output,
        changed=end.changed,
        packages=tuple(packages),
        platforms=inputs.platforms,
        gate=end.gate,
        vulnerabilities=end.vulnerabilities,
    )


def _solve(
    inputs: CondaInputs,
    config: Config | None,
    start: LockStart[CondaLock],
    moving: frozenset[str],
    upgrade: bool,
    cache_dir: Path | None,
    reporter: Reporter | None,
) -> list[LockedPackage]:
    """One solve per platform, keeping what was locked unless asked to move; the pip:
    section by the Python path for that platform's conda Python, kept and cut off alike."""
    from lockdown.resolve.rattler import solve_relaxing  # noqa: PLC0415

    previous = None if upgrade else start.previous
    packages: list[LockedPackage] = []
    for platform in inputs.platforms:
        keep = (
            []
            if previous is None
            else [p for p in previous.for_platform(platform) if p.name not in moving]
        )
        solved = solve_relaxing(inputs, platform, keep, start.cutoff)
        packages += solved
        if inputs.pip:
            from lockdown.resolve.conda_pip import lock_pip  # noqa: PLC0415

            packages += lock_pip(
                inputs.pip,
                platform,
                solved,
                index_url=(config.index_url if config else None) or default_index_url(),
                extra_index_urls=config.extra_index_urls if config else (),
                keep=(
                    []
                    if previous is None
                    else [
                        p
                        for p in previous.for_platform(platform, "pip")
                        if normalize_name(p.name) not in moving
                    ]
                ),
                exclude_newer=start.cutoff,
                exclude_newer_exempt=tuple(start.policy.cooldown_exempt),
                now=start.now,
                cache_dir=cache_dir,
                reporter=reporter,
            )
    return packages


def _judge(start: LockStart[CondaLock], packages: Sequence[LockedPackage]) -> GateResult:
    """The gate, once for the conda archives (channels as indexes) and once for the wheels."""
    before = start.previous.packages if start.previous is not None else None
    conda, pip = (
        judge(
            _managed_by(before, manager) if before is not None else None,
            _managed_by(packages, manager),
            policy=start.policy,
            approvals=start.approvals,
            now=start.now,
            cutoff=start.cutoff,
            channels=manager == "conda",
        )
        for manager in ("conda", "pip")
    )
    return _merged(conda, pip)


def _render(
    inputs: CondaInputs,
    sources: Sequence[str],
    start: LockStart[CondaLock],
    packages: Sequence[LockedPackage],
    result: GateResult,
) -> bytes:
    """conda-lock.yml, with lockdown's records in its custom metadata, validated."""
    from lockdown.lock.condalock import render_conda_lock  # noqa: PLC0415

    custom = {"lockdown-version": __version__, "input-digest": inputs.digest()}
    policy, cutoff = start.policy, start.cutoff
    if cutoff is not None and policy.min_release_age is not None:
        custom["min-release-age"] = format_duration(policy.min_release_age)
        custom["cooldown-cutoff"] = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    custom.update(_conda_approval_records(start.previous, packages, result))
    custom.update(pip_index_records(packages))
    return render_conda_lock(
        packages,
        channels=inputs.channels,
        platforms=inputs.platforms,
        sources=sources,
        custom=custom,
    )


def _conda_recorded_cutoff(previous: CondaLock | None) -> tuple[datetime | None, object]:
    """The previous lock's cutoff (custom_metadata, ``%Y-%m-%dT%H:%M:%SZ``) and its age."""
    if previous is None:
        return None, None
    recorded = previous.custom.get("cooldown-cutoff")
    cutoff = None
    if recorded:
        with contextlib.suppress(ValueError):
            cutoff = datetime.strptime(recorded, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return cutoff, previous.custom.get("min-release-age")


def _managed_by(packages: Sequence[LockedPackage], manager: str) -> list[LockedPackage]:
    """The ``manager``'s packages, in the order the gate reports them (by name, version,
    platform, sha256)."""
    return sorted(
        (p for p in packages if p.conda.manager == manager),
        key=lambda p: (p.name, p.version, p.conda.platform, p.file.sha256),
    )


def _merged(first: GateResult, second: GateResult) -> GateResult:
    """One result from the conda side's and the pip side's."""
    changes = (
        None
        if first.changes is None and second.changes is None
        else (*(first.changes or ()), *(second.changes or ()))
    )
    return GateResult(changes=changes, verdicts=(*first.verdicts, *second.verdicts))


def _conda_approval_records(
    previous: CondaLock | None, packages: Sequence[LockedPackage], result: GateResult
) -> dict[str, str]:
    """``approval <name>==<version>`` → the approval (JSON), this run's or the previous lock's."""
    kept = previous.custom if previous is not None else {}
    found = approval_records(
        sorted({(p.name, p.version) for p in packages}),
        result.approval_for,
        lambda name, version: kept.get(f"approval {name}=={version}"),
        _approval_json,
    )
    return {f"approval {name}=={version}": text for (name, version), text in found.items()}


def _approval_json(approval: Approval) -> str:
    import json  # noqa: PLC0415

    record = {
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in approval.record().items()
    }
    return json.dumps(record, sort_keys=True)


def pip_index_records(packages: Sequence[LockedPackage]) -> dict[str, str]:
    """``pip-index <name>`` → the index each ``pip:`` package was locked from.

    conda-lock.yml records a wheel's URL, not its index; without the index a
    re-lock would see every pip package "move" from the wheel's host to its
    index, and the gate's index rules (allowed-indexes, a package keeps its
    first index) need the index itself.
    """
    from lockdown.lock.condalock import PIP_INDEX_KEY  # noqa: PLC0415

    out: dict[str, str] = {}
    for package in sorted(packages, key=lambda p: (p.name, p.conda.platform)):
        if package.conda.manager == "pip" and package.index is not None:
            out.setdefault(f"{PIP_INDEX_KEY}{package.name}", package.index)
    return out
