"""The conda resolver backend: py-rattler solves one platform against the channels.

``file://`` and ``http(s)://`` channels both (mirrors and air-gapped sites
are served), with a fixed set of virtual packages per platform, so the
answer does not depend on the machine that locks. py-rattler is imported
inside the functions that need it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from lockdown.errors import ResolutionError
from lockdown.lock.condalock import channel_of, conda_entry

if TYPE_CHECKING:
    from lockdown.conda_inputs import CondaInputs
    from lockdown.lock.model import LockedPackage

#: Virtual packages assumed per platform family (conda-lock's defaults, roughly):
#: the solution then depends on the inputs and the channels only.
VIRTUAL_PACKAGES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "linux": (("__unix", "0"), ("__linux", "5.10"), ("__glibc", "2.28")),
    "osx": (("__unix", "0"), ("__osx", "13.0")),
    "win": (("__win", "0"),),
}


def solve_relaxing(
    inputs: CondaInputs, platform: str, keep: Sequence[LockedPackage], cutoff: datetime | None
) -> list[LockedPackage]:
    """Solve with the kept archives and the cutoff; relax the first, then the second.

    The gate judges whatever moves and enforces the cooldown from timestamps,
    so relaxing never lets anything through unjudged; it only lets lockdown
    name what the inputs now ask for. Every attempt reads the channels through
    one gateway, so their repodata is fetched once.
    """
    import rattler  # noqa: PLC0415

    gateway = rattler.Gateway()
    attempts: list[tuple[Sequence[LockedPackage], datetime | None]] = [(keep, cutoff)]
    if keep:
        attempts.append(((), cutoff))
    if cutoff is not None:
        attempts.append(((), None))
    for kept, limit in attempts[:-1]:
        with contextlib.suppress(ResolutionError):
            return solve_platform(inputs, platform, exclude_newer=limit, keep=kept, gateway=gateway)
    kept, limit = attempts[-1]
    return solve_platform(inputs, platform, exclude_newer=limit, keep=kept, gateway=gateway)


def solve_platform(
    inputs: CondaInputs,
    platform: str,
    *,
    exclude_newer: datetime | None = None,
    keep: Sequence[LockedPackage] = (),
    gateway: Any = None,
) -> list[LockedPackage]:
    """The packages of one platform's solution, as lock entries.

    ``gateway``: the ``rattler.Gateway`` to read the channels through (one
    shared by several solves fetches their repodata once); a new one if none.
    """
    import asyncio  # noqa: PLC0415 - ~0.05 s; the Python lock (same module) never needs it

    import rattler  # noqa: PLC0415

    family = platform.split("-", 1)[0]
    virtual = [
        rattler.GenericVirtualPackage(
            rattler.PackageName(name), rattler.Version(version), rattler.BuildString("0")
        )
        for name, version in VIRTUAL_PACKAGES.get(family, ())
    ]
    subdirs = [rattler.Subdir(platform), rattler.Subdir("noarch")]
    gateway = gateway if gateway is not None else rattler.Gateway()

    async def solve() -> list[Any]:
        # The kept archives' records are read through the gateway the solve reads.
        locked = await _records_of(gateway, inputs.channels, subdirs, keep) if keep else []
        return await rattler.solve(
            sources=list(inputs.channels),
            specs=list(inputs.dependencies),
            gateway=gateway,
            platforms=subdirs,
            virtual_packages=virtual,
            exclude_newer=exclude_newer,
            locked_packages=locked,
        )

    try:
        records = asyncio.run(solve())
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
            conda_entry(
                name=record.name.normalized,
                version=str(record.version),
                build=str(record.build),
                platform=platform,
                url=record.url,
                md5=record.md5.hex(),
                sha256=record.sha256.hex(),
                dependencies=dict(_dependency(d) for d in record.depends),
                channel=channel_of(record.url),
                # When the channel published it (what a cooldown is about), else built it.
                timestamp=record.indexed_timestamp or record.timestamp,
            )
        )
    return out


async def _records_of(
    gateway: Any,
    channels: Sequence[str],
    subdirs: Sequence[Any],
    packages: Sequence[LockedPackage],
) -> list[Any]:
    """The channels' records of exactly the archives in ``packages`` (by sha256)."""
    wanted = {p.file.sha256 for p in packages}
    result = await gateway.query(
        list(channels), subdirs, sorted({p.name for p in packages}), recursive=False
    )
    return [
        record
        for per_channel in result
        for record in per_channel
        if record.sha256 is not None and record.sha256.hex() in wanted
    ]


def _dependency(spec: str) -> tuple[str, str]:
    """``"beta >=1"`` → ``("beta", ">=1")``; no version → ``"*"`` (conda-lock's form)."""
    name, _, rest = spec.strip().partition(" ")
    return name, rest.strip() or "*"
