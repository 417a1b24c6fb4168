"""A conda prefix's Python, described from the outside (never run): its version,
PEP 508 environment, wheel tags, site-packages and interpreter paths.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import InputError

if TYPE_CHECKING:
    from packaging.tags import Tag

    from lockdown.lock.model import LockedPackage


#: conda platform → (sys_platform, platform_machine, the wheel platform tags, best first).
PLATFORMS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "linux-64": (
        "linux",
        "x86_64",
        (
            *(f"manylinux_2_{m}_x86_64" for m in range(28, 4, -1)),
            "manylinux2014_x86_64",
            "manylinux2010_x86_64",
            "manylinux1_x86_64",
            "linux_x86_64",
        ),
    ),
    "linux-aarch64": (
        "linux",
        "aarch64",
        (
            *(f"manylinux_2_{m}_aarch64" for m in range(28, 16, -1)),
            "manylinux2014_aarch64",
            "linux_aarch64",
        ),
    ),
    "osx-64": (
        "darwin",
        "x86_64",
        (
            *(f"macosx_{v}_0_x86_64" for v in (13, 12, 11)),
            *(f"macosx_10_{v}_x86_64" for v in range(16, 8, -1)),
            *(f"macosx_10_{v}_intel" for v in range(16, 8, -1)),
            *(f"macosx_10_{v}_universal2" for v in range(16, 8, -1)),
        ),
    ),
    "osx-arm64": (
        "darwin",
        "arm64",
        (
            *(f"macosx_{v}_0_arm64" for v in (13, 12, 11)),
            *(f"macosx_{v}_0_universal2" for v in (13, 12, 11)),
        ),
    ),
    "win-64": ("win32", "AMD64", ("win_amd64",)),
    "win-arm64": ("win32", "ARM64", ("win_arm64",)),
}


def python_of(packages: Sequence[LockedPackage]) -> str:
    """The version of the ``python`` the conda side installs (needed for a ``pip:`` section)."""
    for package in packages:
        if package.name == "python" and package.conda.manager == "conda":
            return package.version
    raise InputError(
        "the pip: section needs python among the conda dependencies",
        hint="add python to the environment's dependencies",
    )


def marker_environment(platform: str, python: str) -> dict[str, str]:
    """The PEP 508 environment of ``python`` on conda ``platform``."""
    sys_platform, machine, _tags = platform_facts(platform)
    major_minor = ".".join(python.split(".")[:2])
    return {
        "sys_platform": sys_platform,
        "platform_machine": machine,
        "os_name": "nt" if sys_platform == "win32" else "posix",
        "platform_system": {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[sys_platform],
        "python_version": major_minor,
        "python_full_version": python,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "implementation_version": python,
    }


def wheel_tags(platform: str, python: str) -> list[Tag]:
    """The wheel tags ``python`` on ``platform`` installs, most preferred first."""
    from packaging.tags import compatible_tags, cpython_tags  # noqa: PLC0415

    _sys, _machine, platforms = platform_facts(platform)
    version = tuple(int(part) for part in python.split(".")[:2])
    return [
        *cpython_tags(python_version=version, platforms=platforms),
        *compatible_tags(python_version=version, platforms=platforms),
    ]


def platform_facts(platform: str) -> tuple[str, str, tuple[str, ...]]:
    """``platform``'s (sys_platform, platform_machine, wheel platform tags); unknown is an error."""
    found = PLATFORMS.get(platform)
    if found is None:
        raise InputError(
            f"the pip: section cannot be locked for {platform}",
            hint=f"supported: {', '.join(PLATFORMS)}",
        )
    return found


def site_packages(prefix: Path, platform: str, python: str) -> Path:
    """Where a conda Python on ``platform`` keeps its site-packages in ``prefix``."""
    if platform.startswith("win-"):
        return prefix / "Lib" / "site-packages"
    major_minor = ".".join(python.split(".")[:2])
    return prefix / "lib" / f"python{major_minor}" / "site-packages"


def scripts(prefix: Path, platform: str) -> Path:
    """Where a conda Python on ``platform`` puts its scripts (entry points) in ``prefix``."""
    return prefix / ("Scripts" if platform.startswith("win-") else "bin")


def interpreter(prefix: Path, platform: str) -> Path:
    """The conda Python's executable in ``prefix``."""
    return prefix / "python.exe" if platform.startswith("win-") else prefix / "bin" / "python"
