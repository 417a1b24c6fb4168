"""The ``pip:`` section of a conda environment, locked by the Python path.

For each platform, the requirements are resolved with lockdown's Python
resolver (uv) for that platform and for the Python the conda solution
installs; the conda packages are passed as constraints, and the names conda
already provides are dropped from the pip side, so the two never disagree on a
package. One wheel per package is chosen for the platform's tags and the
conda Python's version, downloaded and its sha256 checked, and written into
``conda-lock.yml`` as a ``manager: pip`` entry.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.conda.lockfile import CondaPackage
from lockdown.errors import InputError, IntegrityError, ResolutionError
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from packaging.tags import Tag

    from lockdown.resolve.interface import LockedPackage

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


def python_of(packages: Sequence[CondaPackage]) -> str:
    """The version of the ``python`` the conda side installs (needed for a ``pip:`` section)."""
    for package in packages:
        if package.name == "python" and package.manager == "conda":
            return package.version
    raise InputError(
        "the pip: section needs python among the conda dependencies",
        hint="add python to the environment's dependencies",
    )


def marker_environment(platform: str, python: str) -> dict[str, str]:
    """The PEP 508 environment of ``python`` on conda ``platform``."""
    sys_platform, machine, _tags = _platform(platform)
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

    _sys, _machine, platforms = _platform(platform)
    version = tuple(int(part) for part in python.split(".")[:2])
    return [
        *cpython_tags(python_version=version, platforms=platforms),
        *compatible_tags(python_version=version, platforms=platforms),
    ]


def lock_pip(
    requirements: Sequence[str],
    platform: str,
    conda_packages: Sequence[CondaPackage],
    *,
    index_url: str,
    extra_index_urls: Sequence[str] = (),
    cache_dir: Path | None = None,
) -> list[CondaPackage]:
    """The ``pip:`` requirements locked for one platform; see the module docstring."""
    from packaging.markers import Marker  # noqa: PLC0415

    from lockdown.project import ProjectInputs  # noqa: PLC0415
    from lockdown.resolve import get_resolver  # noqa: PLC0415
    from lockdown.resolve.interface import ResolveRequest  # noqa: PLC0415

    python = python_of(conda_packages)
    environment = marker_environment(platform, python)
    marker = (
        f"sys_platform == '{environment['sys_platform']}' and "
        f"platform_machine == '{environment['platform_machine']}'"
    )
    conda_names = {normalize_name(p.name): p.version for p in conda_packages}
    request = ResolveRequest(
        inputs=ProjectInputs(
            name=None,
            requires_python=f"=={environment['python_version']}.*",
            dependencies=tuple(sorted(requirements)),
        ),
        environments=(marker,),
        index_url=index_url,
        extra_index_urls=tuple(extra_index_urls),
        # What conda installs, pip must agree with.
        preferences=tuple(f"{name}=={version}" for name, version in sorted(conda_names.items())),
    )
    backend = get_resolver("uv")
    try:
        resolution = backend.resolve(request)
    except ResolutionError:
        # A conda version PyPI does not have: resolve freely; conda's names are dropped below.
        import dataclasses  # noqa: PLC0415

        resolution = backend.resolve(dataclasses.replace(request, preferences=()))
    tags = wheel_tags(platform, python)
    chosen = []
    for package in resolution.packages:
        name = normalize_name(package.name)
        if name in conda_names:
            continue  # conda provides it
        if package.marker and not Marker(package.marker).evaluate(environment):
            continue
        chosen.append(_entry(package, platform, tags, index_url))
    _verify(chosen, cache_dir)
    return chosen


def _entry(package: LockedPackage, platform: str, tags: Sequence[Tag], index: str) -> CondaPackage:
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
    return CondaPackage(
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


def _verify(entries: Sequence[CondaPackage], cache_dir: Path | None) -> None:
    """Download every chosen wheel once and check its sha256 (the lock pins facts)."""
    from lockdown.artifacts import ArtifactCache, ensure_cache_dir, verify_all  # noqa: PLC0415
    from lockdown.fsutil import default_cache_dir  # noqa: PLC0415

    cache = ArtifactCache(ensure_cache_dir(cache_dir or default_cache_dir()))
    verify_all(cache, [e.expected(Path("the package index")) for e in entries])


def _platform(platform: str) -> tuple[str, str, tuple[str, ...]]:
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


def interpreter(prefix: Path, platform: str) -> Path:
    """The conda Python's executable in ``prefix``."""
    return prefix / "python.exe" if platform.startswith("win-") else prefix / "bin" / "python"
