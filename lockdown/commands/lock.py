"""``lockdown lock``, ``lock --check``, ``lock --conda``.

One lock pipeline for both ecosystems: the shared steps (the policy, the
previous lock, the approvals and the cutoff; the vulnerability gate; the
atomic write) are :func:`lockdown.lock.run.lock_start` and
:func:`lockdown.lock.run.gate_and_write`; each ecosystem brings its solve,
its gate input and its render. The Python steps: :mod:`lockdown.lock.run`.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown import __version__
from lockdown.conda_inputs import CondaInputs, conda_inputs, read_environment_yml
from lockdown.config.conda import CONDA_LOCK
from lockdown.errors import (
    EXIT_CHANGED,
    EXIT_OK,
    UsageError,
)
from lockdown.lock.condalock import (
    PIP_INDEX_KEY,
    CondaLock,
    CondaPackage,
    read_conda_lock,
    render_conda_lock,
    require,
)
from lockdown.lock.model import Artifact
from lockdown.names import normalize_name
from lockdown.policy.changes import LockedState
from lockdown.progress import Reporter
from lockdown.report.gate_summary import write_blocked, write_vulnerability_line
from lockdown.resolve.rattler import solve_relaxing

if TYPE_CHECKING:
    from argparse import Namespace as Args

    from lockdown.config import Config
    from lockdown.config.conda import CondaSettings
    from lockdown.lock.run import LockStart
    from lockdown.policy.advisories import GateAudit
    from lockdown.policy.gate import GateResult


def run(args: Args, reporter: Reporter) -> int:
    """``lockdown lock`` from its parsed arguments: lock (or check), then say what happened."""
    from lockdown.lock.run import check_lock, lock_project  # noqa: PLC0415

    if args.check:
        outcome = check_lock(args.project, resolver=args.resolver)
        if outcome.current:
            if not args.quiet:
                print(f"{outcome.path.name} is up to date")
            return EXIT_OK
        print(f"lockdown: {outcome.reason}; run lockdown lock", file=sys.stderr)
        return EXIT_CHANGED
    if args.upgrade and args.upgrade_package:
        raise UsageError("--upgrade and --upgrade-package cannot be used together")
    if args.conda is not None:
        return _lock_conda(args, reporter)
    result = lock_project(
        args.project,
        resolver=args.resolver,
        reporter=reporter,
        cache_dir=args.cache_dir,
        verify_artifacts=args.verify_artifacts,
        upgrade=args.upgrade,
        upgrade_packages=args.upgrade_package or (),
    )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if result.blocked:
        write_vulnerability_line(result.vulnerabilities, sys.stderr)
        return write_blocked(result.gate, result.path)
    if not args.quiet:
        from lockdown.policy.render import render_findings  # noqa: PLC0415
        from lockdown.report.lock_summary import summarize  # noqa: PLC0415

        print(summarize(result))
        if result.gate.changes or result.gate.verdicts:
            # A first lock has no changes, but may have admitted verdicts (a known
            # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
            print("changes:" if result.gate.changes else "admitted:")
            sys.stdout.write(render_text(result.gate))
        elif result.gate.findings:
            print("\n".join(render_findings(result.gate)))
    return EXIT_OK


def _lock_conda(args: Args, reporter: Reporter) -> int:
    if args.check or args.resolver:
        raise UsageError(
            "--conda locks with py-rattler; --check and --resolver apply to Python locks only"
        )
    environment = Path(args.project) / args.conda if args.conda else None
    with reporter.status("solving the conda environment"):
        outcome = lock_conda(
            Path(args.project),
            environment_file=environment,
            upgrade=args.upgrade,
            upgrade_packages=args.upgrade_package or (),
            reporter=reporter,
        )
    from lockdown.policy.render import render_text  # noqa: PLC0415

    if outcome.blocked:
        write_vulnerability_line(outcome.vulnerabilities, sys.stderr)
        return write_blocked(outcome.gate, outcome.path)
    if not args.quiet:
        names = {p.name for p in outcome.packages}
        print(
            f"locked {len(names)} conda packages ({len(outcome.packages)} archives, md5 and "
            f"sha256 pinned) for {', '.join(outcome.platforms)} -> {outcome.path.name} "
            f"({'updated' if outcome.changed else 'unchanged'})"
        )
        write_vulnerability_line(outcome.vulnerabilities, sys.stdout, always=True)
        if outcome.gate.changes or outcome.gate.verdicts:
            # A first lock has no changes, but may have admitted verdicts (a known
            # vulnerability admitted by an approval, an ignore or vulnerable = "warn").
            print("changes:" if outcome.gate.changes else "admitted:")
            sys.stdout.write(render_text(outcome.gate))
    return EXIT_OK


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaLockOutcome:
    """What ``lock --conda`` did."""

    path: Path
    changed: bool
    packages: tuple[CondaPackage, ...]
    platforms: tuple[str, ...]
    #: The gate's verdicts; when any blocks, nothing was written.
    gate: GateResult
    #: What the vulnerability rule looked up, and where.
    vulnerabilities: GateAudit | None = None

    @property
    def blocked(self) -> bool:
        """Whether the gate blocked the new lock (the old one was left as it was)."""
        return bool(self.gate.blocked)


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def read_conda_inputs(
    project_dir: Path, environment_file: Path | None
) -> tuple[CondaInputs, Path, Sequence[str], Config | None]:
    """The inputs, the lock file's path, the files read, and the project's config (if any)."""
    from lockdown.config import PYPROJECT, STANDALONE, load_config  # noqa: PLC0415

    table: CondaSettings | None = None
    config: Config | None = None
    output = project_dir / CONDA_LOCK
    if (project_dir / PYPROJECT).is_file() or (project_dir / STANDALONE).is_file():
        config, _ = load_config(project_dir)
        table = config.conda
        if table is not None:
            output = config.conda_output_path
            if environment_file is None and table.environment_file is not None:
                environment_file = config.project_dir / table.environment_file
    if environment_file is None and table is None:
        default = project_dir / "environment.yml"
        if not default.is_file():
            from lockdown.errors import InputError  # noqa: PLC0415

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
    require()
    from lockdown.audit.model import conda_packages  # noqa: PLC0415
    from lockdown.lock.run import gate_and_write, lock_start  # noqa: PLC0415

    # 1. The inputs; the policy, the previous lock, the approvals and the cutoff (shared).
    inputs, output, sources, config = read_conda_inputs(project_dir.resolve(), environment_file)
    moving = frozenset(normalize_name(n) for n in upgrade_packages)
    start = lock_start(
        config, output, read_conda_lock, _recorded_cutoff, clock(), moving=upgrade or bool(moving)
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
) -> list[CondaPackage]:
    """One solve per platform, keeping what was locked unless asked to move; the pip:
    section by the Python path for that platform's conda Python, kept and cut off alike."""
    previous = None if upgrade else start.previous
    packages: list[CondaPackage] = []
    for platform in inputs.platforms:
        keep = (
            []
            if previous is None
            else [p for p in previous.for_platform(platform) if p.name not in moving]
        )
        solved = solve_relaxing(inputs, platform, keep, start.cutoff)
        packages += solved
        if inputs.pip:
            from lockdown.resolve import default_index_url  # noqa: PLC0415
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


def _judge(start: LockStart[CondaLock], packages: Sequence[CondaPackage]) -> GateResult:
    """The gate, once for the conda archives (channels as indexes) and once for the wheels."""
    from lockdown.policy.gate import judge  # noqa: PLC0415

    before = start.previous.packages if start.previous is not None else None
    policy = start.policy
    channels = dataclasses.replace(policy, allowed_indexes=policy.allowed_channels)
    conda, pip = (
        judge(
            _states(before, manager),
            conda_states([p for p in packages if p.manager == manager]),
            policy=channels if manager == "conda" else policy,
            approvals=start.approvals,
            now=start.now,
            cutoff=start.cutoff,
            index_setting="allowed-channels" if manager == "conda" else "allowed-indexes",
        )
        for manager in ("conda", "pip")
    )
    return _merged(conda, pip)


def _render(
    inputs: CondaInputs,
    sources: Sequence[str],
    start: LockStart[CondaLock],
    packages: Sequence[CondaPackage],
    result: GateResult,
) -> bytes:
    """conda-lock.yml, with lockdown's records in its custom metadata, validated."""
    from lockdown.config.fields import format_duration  # noqa: PLC0415

    custom = {"lockdown-version": __version__, "input-digest": inputs.digest()}
    policy, cutoff = start.policy, start.cutoff
    if cutoff is not None and policy.min_release_age is not None:
        custom["min-release-age"] = format_duration(policy.min_release_age)
        custom["cooldown-cutoff"] = cutoff.strftime("%Y-%m-%dT%H:%M:%SZ")
    custom.update(_approval_records(start.previous, packages, result))
    custom.update(pip_index_records(packages))
    return render_conda_lock(
        packages,
        channels=inputs.channels,
        platforms=inputs.platforms,
        sources=sources,
        custom=custom,
    )


def _recorded_cutoff(previous: CondaLock | None) -> tuple[datetime | None, object]:
    """The previous lock's cutoff (custom_metadata, ``%Y-%m-%dT%H:%M:%SZ``) and its age."""
    if previous is None:
        return None, None
    recorded = previous.custom.get("cooldown-cutoff")
    cutoff = None
    if recorded:
        with contextlib.suppress(ValueError):
            cutoff = datetime.strptime(recorded, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    return cutoff, previous.custom.get("min-release-age")


def _states(packages: Sequence[CondaPackage] | None, manager: str) -> list[LockedState] | None:
    if packages is None:
        return None
    return conda_states([p for p in packages if p.manager == manager])


def _merged(first: GateResult, second: GateResult) -> GateResult:
    """One result from the conda side's and the pip side's."""
    from lockdown.policy.gate import GateResult  # noqa: PLC0415

    changes = (
        None
        if first.changes is None and second.changes is None
        else (*(first.changes or ()), *(second.changes or ()))
    )
    return GateResult(changes=changes, verdicts=(*first.verdicts, *second.verdicts))


def conda_states(packages: Sequence[CondaPackage]) -> list[LockedState]:
    """Conda packages as the gate's states: one per name and version, every platform's archive."""
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


def _approval_records(
    previous: CondaLock | None, packages: Sequence[CondaPackage], result: GateResult
) -> dict[str, str]:
    """``approval <name>==<version>`` → the approval, this run's or the previous lock's."""
    import json  # noqa: PLC0415

    out: dict[str, str] = {}
    kept = previous.custom if previous is not None else {}
    for name, version in sorted({(p.name, p.version) for p in packages}):
        key = f"approval {name}=={version}"
        approval = result.approval_for(name, version)
        if approval is not None:
            record = {
                k: (v.isoformat() if isinstance(v, datetime) else v)
                for k, v in approval.record().items()
            }
            out[key] = json.dumps(record, sort_keys=True)
        elif key in kept:
            out[key] = kept[key]
    return out


def pip_index_records(packages: Sequence[CondaPackage]) -> dict[str, str]:
    """``pip-index <name>`` → the index each ``pip:`` package was locked from.

    conda-lock.yml records a wheel's URL, not its index; without the index a
    re-lock would see every pip package "move" from the wheel's host to its
    index, and the gate's index rules (allowed-indexes, a package keeps its
    first index) need the index itself.
    """
    out: dict[str, str] = {}
    for package in sorted(packages, key=lambda p: (p.name, p.platform)):
        if package.manager == "pip":
            out.setdefault(f"{PIP_INDEX_KEY}{package.name}", package.channel)
    return out
