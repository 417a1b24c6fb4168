"""Export a PEP 751 lock as a pip requirements file (with hashes) or a constraints file.

The export is for one environment: the lock's markers are evaluated for it
(with the chosen extras and dependency groups), and only packages that apply
are written. Requirements carry every locked sha256 of each package so that
``pip install --require-hashes -r requirements.txt`` refuses anything else.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Literal

from packaging.pylock import Package
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from lockdown.config import normalize_marker
from lockdown.errors import LockFileError, UsageError
from lockdown.lock.pylock import LockFile

ExportFormat = Literal["requirements", "constraints"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Selection:
    """What to export: the target's marker environment, extras and groups."""

    environment: Mapping[str, str]
    extras: Collection[str] = ()
    #: ``None`` means the lock's ``default-groups``.
    groups: Collection[str] | None = None


def applicable_packages(lock: LockFile, selection: Selection) -> list[Package]:
    """The lock's packages that apply to ``selection``, in lock order.

    Fails closed when the lock does not cover the target at all (its
    ``requires-python`` or ``environments`` exclude it), or when an extra or
    group is asked for that the lock does not declare.
    """
    pylock = lock.pylock
    env = dict(selection.environment)
    python = env.get("python_full_version", "")
    if (
        pylock.requires_python is not None
        and python
        and not pylock.requires_python.contains(python, prereleases=True)
    ):
        raise UsageError(
            f"{lock.path}: locked for Python {pylock.requires_python}, not {python}",
            hint="re-lock with a requires-python that covers it",
        )
    if pylock.environments and not any(m.evaluate(env) for m in pylock.environments):
        covered = "; ".join(normalize_marker(str(m)) for m in pylock.environments)
        raise UsageError(
            f"{lock.path}: no locked environment matches this one "
            f"({env.get('sys_platform')} {env.get('platform_machine')}); locked for: {covered}",
            hint="add it to [tool.lockdown] environments and re-lock",
        )
    extras, groups = checked_selection(lock, selection.extras, selection.groups)
    context: dict[str, str | frozenset[str]] = {
        **env,
        "extras": frozenset(extras),
        "dependency_groups": frozenset(groups),
    }
    chosen = []
    for package in pylock.packages:
        if package.marker is not None and not package.marker.evaluate(context, "lock_file"):
            continue
        if (
            package.requires_python is not None
            and python
            and not SpecifierSet(str(package.requires_python)).contains(python, prereleases=True)
        ):
            continue
        chosen.append(package)
    return chosen


def _hashes(package: Package, where: str) -> list[str]:
    found: set[str] = set()
    for wheel in package.wheels or ():
        if "sha256" in wheel.hashes:
            found.add(wheel.hashes["sha256"])
    if package.sdist is not None and "sha256" in package.sdist.hashes:
        found.add(package.sdist.hashes["sha256"])
    if package.archive is not None and "sha256" in package.archive.hashes:
        found.add(package.archive.hashes["sha256"])
    if not found:
        raise LockFileError(
            f"{where}: {package.name} has no sha256 hash to pin (a VCS or directory source)",
            hint="lock it from an index instead",
        )
    return sorted(found)


def render_export(lock: LockFile, selection: Selection, fmt: ExportFormat) -> str:
    """The text of the requirements or constraints file."""
    packages = applicable_packages(lock, selection)
    env = selection.environment
    target = (
        f"Python {env.get('python_full_version', '?')} on "
        f"{env.get('sys_platform', '?')} {env.get('platform_machine', '?')}"
    )
    lines = [
        f"# Exported by lockdown from {lock.path.name} for {target}.",
        "# Do not edit: re-export with `lockdown export` after `lockdown lock`.",
    ]
    for package in sorted(packages, key=lambda p: p.name):
        if package.version is None:
            raise LockFileError(f"{lock.path}: {package.name} has no version to pin")
        pin = f"{package.name}=={package.version}"
        if fmt == "constraints":
            lines.append(pin)
            continue
        hashes = _hashes(package, str(lock.path))
        lines.append(pin + " \\")
        lines.extend(
            f"    --hash=sha256:{h}" + (" \\" if i < len(hashes) - 1 else "")
            for i, h in enumerate(hashes)
        )
    return "\n".join(lines) + "\n"


def checked_selection(
    lock: LockFile, extras: Collection[str], groups: Collection[str] | None
) -> tuple[set[str], set[str]]:
    """The extras and groups asked for (``None`` groups: the lock's defaults), normalized.

    One the lock does not declare is a usage error naming it: a typo must not
    quietly select less than was meant.
    """
    pylock = lock.pylock
    wanted_extras: set[str] = {canonicalize_name(e) for e in extras}
    unknown = sorted(wanted_extras - set(pylock.extras or ()))
    if unknown:
        raise UsageError(f"{lock.path}: extra {unknown[0]!r} is not in the lock")
    if groups is None:
        return wanted_extras, {str(canonicalize_name(g)) for g in pylock.default_groups or ()}
    wanted_groups: set[str] = {canonicalize_name(g) for g in groups}
    declared = {canonicalize_name(g) for g in (pylock.dependency_groups or ())}
    unknown = sorted(wanted_groups - declared)
    if unknown:
        raise UsageError(f"{lock.path}: dependency group {unknown[0]!r} is not in the lock")
    return wanted_extras, wanted_groups
