"""``lockdown lock --conda``: environment.yml / ``[tool.lockdown.conda]`` → conda-lock.yml.

1. Read and check the inputs (channels, match specs, platforms).
2. Solve each platform with py-rattler against the channels (``file://`` and
   ``http(s)://`` channels both: mirrors and air-gapped sites are served),
   with a fixed set of virtual packages per platform, so the answer does not
   depend on the machine that locks.
3. Render conda-lock's unified ``conda-lock.yml`` (every package with url,
   md5 and sha256), validate it with conda-lock's parser, and write it
   atomically only if it changed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lockdown import __version__
from lockdown.conda import CONDA_LOCK, require
from lockdown.conda.inputs import CondaInputs, conda_inputs, read_environment_yml
from lockdown.conda.lockfile import CondaPackage, channel_of, render_conda_lock
from lockdown.errors import ResolutionError

#: Virtual packages assumed per platform family (conda-lock's defaults, roughly):
#: the solution then depends on the inputs and the channels only.
VIRTUAL_PACKAGES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "linux": (("__unix", "0"), ("__linux", "5.10"), ("__glibc", "2.28")),
    "osx": (("__unix", "0"), ("__osx", "13.0")),
    "win": (("__win", "0"),),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaLockOutcome:
    """What ``lock --conda`` did."""

    path: Path
    changed: bool
    packages: tuple[CondaPackage, ...]
    platforms: tuple[str, ...]


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def read_conda_inputs(
    project_dir: Path, environment_file: Path | None
) -> tuple[CondaInputs, Path, Sequence[str]]:
    """The inputs, the lock file's path, and the files read."""
    from lockdown.config import PYPROJECT, STANDALONE, load_config  # noqa: PLC0415

    table: Mapping[str, Any] | None = None
    output = project_dir / CONDA_LOCK
    if (project_dir / PYPROJECT).is_file() or (project_dir / STANDALONE).is_file():
        config, _ = load_config(project_dir)
        table = config.conda
        if table is not None:
            output = config.project_dir / str(table.get("output", CONDA_LOCK))
            if environment_file is None and "environment-file" in table:
                environment_file = config.project_dir / str(table["environment-file"])
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
    return conda_inputs(table, environment, source=source), output, sources


def lock_conda(
    project_dir: Path,
    *,
    environment_file: Path | None = None,
    exclude_newer: datetime | None = None,
    clock: Callable[[], datetime] = _utc_now,
) -> CondaLockOutcome:
    """Solve every platform and write ``conda-lock.yml``; see the module docstring."""
    require()
    from lockdown.fsutil import atomic_write, run_lock  # noqa: PLC0415

    # 1. The inputs.
    inputs, output, sources = read_conda_inputs(project_dir.resolve(), environment_file)
    # 2. One solve per platform.
    packages: list[CondaPackage] = []
    for platform in inputs.platforms:
        packages += solve_platform(inputs, platform, exclude_newer=exclude_newer)
    # 3. The file, validated before it is written.
    custom = {"lockdown-version": __version__, "input-digest": inputs.digest()}
    data = render_conda_lock(
        packages,
        channels=inputs.channels,
        platforms=inputs.platforms,
        sources=sources,
        custom=custom,
    )
    with run_lock(output):
        try:
            old = output.read_bytes()
        except FileNotFoundError:
            old = None
        changed = old != data
        if changed:
            atomic_write(output, data)
    return CondaLockOutcome(
        path=output, changed=changed, packages=tuple(packages), platforms=inputs.platforms
    )


def solve_platform(
    inputs: CondaInputs, platform: str, *, exclude_newer: datetime | None = None
) -> list[CondaPackage]:
    """The packages of one platform's solution, as lock entries."""
    import rattler  # noqa: PLC0415

    family = platform.split("-", 1)[0]
    virtual = [
        rattler.GenericVirtualPackage(
            rattler.PackageName(name), rattler.Version(version), rattler.BuildString("0")
        )
        for name, version in VIRTUAL_PACKAGES.get(family, ())
    ]
    try:
        records = asyncio.run(
            rattler.solve(
                sources=list(inputs.channels),
                specs=list(inputs.dependencies),
                platforms=[rattler.Subdir(platform), rattler.Subdir("noarch")],
                virtual_packages=virtual,
                exclude_newer=exclude_newer,
            )
        )
    except Exception as exc:  # rattler's solver and fetch errors share no base class
        first = str(exc).strip().splitlines()
        raise ResolutionError(
            f"cannot solve the conda environment for {platform}: "
            f"{' '.join(line.strip() for line in first[:6]) or type(exc).__name__}",
            hint="check the channels and the match specs",
        ) from None
    out = []
    for record in records:
        if record.sha256 is None or record.md5 is None:
            raise ResolutionError(
                f"{record.url}: the channel gives no sha256 or md5 for this archive",
                hint="re-index the channel (rattler-index or conda-index)",
            )
        out.append(
            CondaPackage(
                name=record.name.normalized,
                version=str(record.version),
                build=str(record.build),
                platform=platform,
                url=record.url,
                md5=record.md5.hex(),
                sha256=record.sha256.hex(),
                dependencies=dict(_dependency(d) for d in record.depends),
                channel=channel_of(record.url),
            )
        )
    return out


def _dependency(spec: str) -> tuple[str, str]:
    """``"beta >=1"`` → ``("beta", ">=1")``; no version → ``"*"`` (conda-lock's form)."""
    name, _, rest = spec.strip().partition(" ")
    return name, rest.strip() or "*"
