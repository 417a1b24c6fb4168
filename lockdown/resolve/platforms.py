"""Which environments a resolution can really install: wheels or an sdist for every package.

A lock's ``environments`` is a promise: an installer on any of them finds, for
every package that applies there, a wheel it can use or an sdist it can build.
:func:`coverage` checks that promise for the six platforms lockdown knows
(Linux, macOS, Windows on x86_64 and arm64) and every CPython minor version
that ``requires-python`` admits, up to the newest one any locked wheel is
built for. It is pure: it reads only the resolution's file names and markers.

Where a platform falls short, the finest answer PEP 751 can express is kept:
the platform narrowed to the Python versions it can serve. An extra that a
platform cannot have is not expressible (``environments`` markers are
evaluated without extras), so such a platform is dropped as a whole.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.tags import Tag
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from lockdown.config import DEFAULT_ENVIRONMENTS, normalize_marker
from lockdown.lock.model import LockedPackage

__all__ = ["PLATFORMS", "Coverage", "Platform", "Shortfall", "coverage", "python_minors"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    """One platform of the default environments, with the marker values an installer there has."""

    #: Short name for messages, e.g. ``win32/ARM64``.
    label: str
    #: Its default environment marker (normalized).
    marker: str
    sys_platform: str
    platform_machine: str
    os_name: str
    platform_system: str
    #: A wheel platform tag it installs starts with one of these (``manylinux``)...
    tag_prefixes: tuple[str, ...]
    #: ...and ends with one of these (``_x86_64``); any OS version counts.
    tag_suffixes: tuple[str, ...]

    def installs(self, platform_tag: str) -> bool:
        """Whether a wheel built for ``platform_tag`` installs here (any OS version).

        By prefix and suffix rather than with :mod:`packaging.tags`: its
        generators list the tags of one concrete machine (one glibc, one macOS
        release), while a lock's platform stands for every version of that OS,
        so ``manylinux_2_17_x86_64`` and ``manylinux_2_39_x86_64`` both count.
        """
        if platform_tag == "any":
            return True
        return platform_tag.startswith(self.tag_prefixes) and platform_tag.endswith(
            self.tag_suffixes
        )

    def environment(self, minor: int) -> dict[str, str]:
        """The marker environment of CPython ``3.minor`` on this platform."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"3.{minor}.0",
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": f"3.{minor}.0",
            "python_version": f"3.{minor}",
            "sys_platform": self.sys_platform,
        }


_LINUX = ("manylinux", "linux_")
_MAC_INTEL = ("_x86_64", "_intel", "_universal", "_universal2", "_fat3", "_fat64")

#: The platforms of :data:`~lockdown.config.DEFAULT_ENVIRONMENTS`, in that order.
PLATFORMS: tuple[Platform, ...] = (
    Platform(
        label="linux/x86_64",
        marker=DEFAULT_ENVIRONMENTS[0],
        sys_platform="linux",
        platform_machine="x86_64",
        os_name="posix",
        platform_system="Linux",
        tag_prefixes=_LINUX,
        tag_suffixes=("_x86_64",),
    ),
    Platform(
        label="linux/aarch64",
        marker=DEFAULT_ENVIRONMENTS[1],
        sys_platform="linux",
        platform_machine="aarch64",
        os_name="posix",
        platform_system="Linux",
        tag_prefixes=_LINUX,
        tag_suffixes=("_aarch64",),
    ),
    Platform(
        label="darwin/x86_64",
        marker=DEFAULT_ENVIRONMENTS[2],
        sys_platform="darwin",
        platform_machine="x86_64",
        os_name="posix",
        platform_system="Darwin",
        tag_prefixes=("macosx_",),
        tag_suffixes=_MAC_INTEL,
    ),
    Platform(
        label="darwin/arm64",
        marker=DEFAULT_ENVIRONMENTS[3],
        sys_platform="darwin",
        platform_machine="arm64",
        os_name="posix",
        platform_system="Darwin",
        tag_prefixes=("macosx_",),
        tag_suffixes=("_arm64", "_universal2"),
    ),
    Platform(
        label="win32/AMD64",
        marker=DEFAULT_ENVIRONMENTS[4],
        sys_platform="win32",
        platform_machine="AMD64",
        os_name="nt",
        platform_system="Windows",
        tag_prefixes=("win_amd64",),
        tag_suffixes=("win_amd64",),
    ),
    Platform(
        label="win32/ARM64",
        marker=DEFAULT_ENVIRONMENTS[5],
        sys_platform="win32",
        platform_machine="ARM64",
        os_name="nt",
        platform_system="Windows",
        tag_prefixes=("win_arm64",),
        tag_suffixes=("win_arm64",),
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Shortfall:
    """One environment a resolution cannot fully serve, and the first package to blame."""

    #: The environment as requested (a marker).
    environment: str
    #: The platform's short name (``win32/ARM64``), or the marker when it is not a known one.
    label: str
    #: The Python minor versions (``"3.15"``) it cannot serve; all of its versions when dropped.
    pythons: tuple[str, ...]
    #: True when no Python version of it can be served: it is left out entirely.
    dropped: bool
    #: What to put in ``environments`` instead (``None`` when dropped).
    narrowed: str | None
    package: str
    version: str

    def describe(self) -> str:
        """One line: what was left out and why."""
        if self.dropped:
            return (
                f"dropped {self.label}: {self.package} {self.version} publishes no wheel for it "
                "and no sdist"
            )
        pythons = ", ".join(self.pythons)
        return (
            f"narrowed {self.label} to the Pythons it can serve (not {pythons}): {self.package} "
            f"{self.version} publishes no wheel for Python {pythons} there and no sdist"
        )

    def record(self) -> dict[str, object]:
        """The ``[tool.lockdown]`` record of it (plain TOML data).

        ``pythons`` is there for a narrowed environment only: a dropped one
        serves no Python at all.
        """
        record: dict[str, object] = {"environment": self.environment}
        if not self.dropped:
            record["pythons"] = list(self.pythons)
        record["package"] = self.package
        record["version"] = self.version
        return record


@dataclass(frozen=True, slots=True, kw_only=True)
class Coverage:
    """What a resolution serves of the environments asked for."""

    #: The environments the lock can honestly claim, in the order asked for.
    served: tuple[str, ...]
    #: The environments left out or narrowed, each with its reason.
    shortfalls: tuple[Shortfall, ...]


def python_minors(requires_python: str | None, packages: Iterable[LockedPackage]) -> list[int]:
    """The CPython 3 minor versions to check: those ``requires-python`` admits.

    The newest is the newest any locked wheel is built for (or the lowest
    admitted, when every wheel is pure): a Python no project has published
    for yet is not one a lock can be checked against.
    """
    spec = SpecifierSet(requires_python or "")
    newest = 0
    for package in packages:
        for wheel in package.wheels:
            for tag in _tags(wheel.filename):
                minor = _minor(tag.interpreter)
                if minor is not None:
                    newest = max(newest, minor)
    admitted = [
        m
        for m in range(0, 100)
        if spec.contains(f"3.{m}.0", prereleases=True) or spec.contains(f"3.{m}.99")
    ]
    if not admitted:
        return []
    newest = max(newest, admitted[0])
    return [m for m in admitted if m <= newest]


def coverage(
    packages: Sequence[LockedPackage],
    environments: Sequence[str],
    *,
    requires_python: str | None,
    extras: Collection[str],
    groups: Collection[str],
) -> Coverage:
    """Check every environment of ``environments`` against ``packages``.

    Each known platform an environment covers is checked on every Python of
    :func:`python_minors`, with every extra and group selected (a lock serves
    them all). An environment that is exactly one known platform is narrowed
    to the Pythons it can serve, or dropped when it serves none; any other
    environment (a custom marker) is dropped when any of its platforms falls
    short. Environments matching no known platform cannot be checked and are
    kept as they are.
    """
    packages = sorted(packages, key=lambda p: (p.name, p.version))
    minors = python_minors(requires_python, packages)
    selected: dict[str, object] = {
        "extras": frozenset(extras),
        "dependency_groups": frozenset(groups),
    }
    served: list[str] = []
    shortfalls: list[Shortfall] = []
    for text in environments:
        marker = Marker(text)
        exact = next((p for p in PLATFORMS if p.marker == normalize_marker(text)), None)
        failing: dict[int, LockedPackage] = {}
        checked: list[int] = []
        for platform in PLATFORMS:
            for minor in minors:
                env: dict[str, object] = dict(platform.environment(minor))
                if not marker.evaluate(platform.environment(minor)):
                    continue
                checked.append(minor)
                culprit = _first_unservable(packages, platform, minor, env | selected)
                if culprit is not None and minor not in failing:
                    failing[minor] = culprit
        if not failing:
            served.append(text)
            continue
        ok = sorted(set(checked) - set(failing))
        culprit = failing[min(failing)]
        label = exact.label if exact is not None else text
        narrowed = _narrow(text, ok, minors) if exact is not None and ok else None
        pythons = tuple(f"3.{m}" for m in sorted(failing))
        shortfalls.append(
            Shortfall(
                environment=text,
                label=label,
                pythons=pythons,
                dropped=narrowed is None,
                narrowed=narrowed,
                package=culprit.name,
                version=culprit.version,
            )
        )
        if narrowed is not None:
            served.append(narrowed)
    return Coverage(served=tuple(served), shortfalls=tuple(shortfalls))


def _first_unservable(
    packages: Sequence[LockedPackage],
    platform: Platform,
    minor: int,
    env: dict[str, object],
) -> LockedPackage | None:
    """The first package (in order) that applies here and has neither a wheel nor an sdist."""
    for package in packages:
        if package.sdist is not None:
            continue
        if package.marker and not _applies(package.marker, env):
            continue
        if not any(_installs(w.filename, platform, minor) for w in package.wheels):
            return package
    return None


def _applies(marker: str, env: dict[str, object]) -> bool:
    return bool(_parsed(marker).evaluate(env, "lock_file"))  # type: ignore[arg-type]


@cache
def _parsed(marker: str) -> Marker:
    return Marker(marker)


def _installs(filename: str, platform: Platform, minor: int) -> bool:
    """Whether CPython ``3.minor`` on ``platform`` can install the wheel ``filename``."""
    return any(
        platform.installs(tag.platform) and _interpreter_fits(tag, minor) for tag in _tags(filename)
    )


def _interpreter_fits(tag: Tag, minor: int) -> bool:
    """The interpreter and ABI parts of ``tag`` against CPython ``3.minor`` (GIL build)."""
    interpreter, abi = tag.interpreter, tag.abi
    if interpreter == "py3":
        return abi == "none"
    tag_minor = _minor(interpreter)
    if tag_minor is None:
        return False
    if interpreter.startswith("py"):
        return abi == "none" and tag_minor <= minor
    if abi == "abi3":
        return tag_minor <= minor
    # cp312-cp312, cp37-cp37m, cp312-none: that one version only (not cp313t).
    return tag_minor == minor and abi in ("none", interpreter, f"{interpreter}m")


def _minor(interpreter: str) -> int | None:
    """``cp312`` / ``py311`` → 12 / 11; ``None`` for other interpreters and Python 2."""
    if interpreter[:3] not in ("cp3", "py3") or len(interpreter) <= 3:
        return None
    digits = interpreter[3:]
    return int(digits) if digits.isdigit() else None


@cache
def _tags(filename: str) -> frozenset[Tag]:
    try:
        return parse_wheel_filename(filename)[3]
    except InvalidWheelFilename:
        return frozenset()


def _narrow(environment: str, ok: Sequence[int], minors: Sequence[int]) -> str:
    """``environment`` limited to the Python minors ``ok`` (of ``minors``), as markers say it."""
    runs: list[tuple[int, int]] = []
    for minor in ok:
        if runs and runs[-1][1] == minor - 1:
            runs[-1] = (runs[-1][0], minor)
        else:
            runs.append((minor, minor))
    pieces = []
    for low, high in runs:
        clauses = []
        if low > minors[0]:
            clauses.append(f"python_full_version >= '3.{low}'")
        if high < minors[-1]:
            clauses.append(f"python_full_version < '3.{high + 1}'")
        pieces.append(" and ".join(clauses))
    condition = " or ".join(f"({p})" for p in pieces) if len(pieces) > 1 else pieces[0]
    return normalize_marker(f"{environment} and ({condition})")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedEnvironments:
    """What a lock of the project would serve of the default environments."""

    served: tuple[str, ...]
    #: One line per environment dropped or narrowed, saying why.
    reasons: tuple[str, ...]
