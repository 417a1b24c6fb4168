"""Compare an installed environment's packages with its lock: the ``versions`` level.

Everything here reads dist-info data already collected; nothing of the target
environment is imported or executed. The file-by-file levels live in
:mod:`lockdown.drift.files`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from lockdown.drift.model import PackageDrift
from lockdown.env.python_env import InstalledDist, normalize_name


def display(path: str) -> str:
    """A path that prints anywhere: undecodable bytes shown as escapes, never an error."""
    return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


class ExpectedPin(NamedTuple):
    """What the lock expects of one package: its version, and whether from an index."""

    version: str | None
    #: True when the lock pins index artifacts (wheels/sdist), so any direct-URL
    #: install (editable, local path, VCS, URL) is a source change.
    from_index: bool


def compare_packages(
    expected: Mapping[str, ExpectedPin],
    installed: Sequence[InstalledDist],
    *,
    ignore: Iterable[str] = (),
) -> list[PackageDrift]:
    """Missing, unexpected, other version, other source (pure)."""
    have: dict[str, InstalledDist] = {d.name: d for d in installed}
    ignored = {normalize_name(n) for n in ignore}
    drift: list[PackageDrift] = []
    for name in sorted(expected):
        pin = expected[name]
        locked = pin.version
        dist = have.get(name)
        if dist is None:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="missing",
                    expected=locked,
                    installed=None,
                    detail="not installed",
                )
            )
            continue
        if (
            locked is not None
            and dist.version != locked
            and (canonicalize_version(dist.version) != canonicalize_version(locked))
        ):
            drift.append(
                PackageDrift(
                    name=name,
                    kind="version",
                    expected=locked,
                    installed=dist.version,
                    detail=f"{dist.version} installed, {locked} locked",
                )
            )
            continue
        if dist.direct_url is not None and pin.from_index:
            drift.append(
                PackageDrift(
                    name=name,
                    kind="source",
                    expected=locked,
                    installed=dist.version,
                    detail=describe_direct_url(dist.direct_url)
                    + "; the lock pins an index artifact",
                )
            )
    for name in sorted(set(have) - set(expected) - ignored):
        dist = have[name]
        drift.append(
            PackageDrift(
                name=name,
                kind="unexpected",
                expected=None,
                installed=dist.version,
                detail="installed, not in the lock",
            )
        )
    return drift


def canonicalize_version(version: str) -> str:
    """Versions compared as PEP 440 says (``1.0`` == ``1.0.0``); raw text if unparseable."""
    from packaging.version import InvalidVersion, Version  # noqa: PLC0415

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def describe_direct_url(direct_url: Mapping[str, object]) -> str:
    """PEP 610 ``direct_url.json`` in words: editable, local directory, VCS or URL."""
    url = str(direct_url.get("url", "?"))
    dir_info = direct_url.get("dir_info")
    if isinstance(dir_info, dict) and dir_info.get("editable"):
        return f"editable install from {url}"
    if isinstance(dir_info, dict):
        return f"installed from local directory {url}"
    vcs = direct_url.get("vcs_info")
    if isinstance(vcs, dict):
        return f"installed from {vcs.get('vcs', 'VCS')} {url}@{vcs.get('commit_id', '?')}"
    return f"installed from direct URL {url}"
