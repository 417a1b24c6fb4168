"""The environments check on its own: file names and markers in, served environments out."""

from __future__ import annotations

import pytest

from lockdown.config import DEFAULT_ENVIRONMENTS
from lockdown.lock.model import Artifact, LockedPackage
from lockdown.resolve.platforms import PLATFORMS, coverage, python_minors

LINUX, LINUX_ARM, MAC_INTEL, MAC_ARM, WIN, WIN_ARM = DEFAULT_ENVIRONMENTS


def artifact(filename: str) -> Artifact:
    return Artifact(
        url=f"https://files.invalid/{filename}",
        filename=filename,
        sha256="0" * 64,
        size=1,
        upload_time=None,
    )


def package(
    name: str, *wheels: str, sdist: bool = False, marker: str | None = None, version: str = "1.0"
) -> LockedPackage:
    return LockedPackage(
        name=name,
        version=version,
        marker=marker,
        index=None,
        wheels=tuple(artifact(w) for w in wheels),
        sdist=artifact(f"{name}-{version}.tar.gz") if sdist else None,
    )


def served(*packages: LockedPackage, requires_python: str = ">=3.10") -> tuple[str, ...]:
    return coverage(
        packages,
        DEFAULT_ENVIRONMENTS,
        requires_python=requires_python,
        extras=("pg",),
        groups=("dev",),
    ).served


def test_pure_wheels_and_sdists_serve_everything() -> None:
    assert served(package("a", "a-1.0-py3-none-any.whl")) == DEFAULT_ENVIRONMENTS
    assert served(package("b", sdist=True)) == DEFAULT_ENVIRONMENTS
    assert served(package("c", "c-1.0-py2.py3-none-any.whl")) == DEFAULT_ENVIRONMENTS


@pytest.mark.parametrize(
    ("wheel", "platforms"),
    [
        ("x-1.0-cp310-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", [LINUX]),
        ("x-1.0-cp310-abi3-manylinux_2_28_aarch64.whl", [LINUX_ARM]),
        ("x-1.0-cp310-abi3-macosx_10_12_universal2.whl", [MAC_INTEL, MAC_ARM]),
        ("x-1.0-cp310-abi3-macosx_14_0_arm64.whl", [MAC_ARM]),
        ("x-1.0-cp310-abi3-win_amd64.whl", [WIN]),
        ("x-1.0-cp310-abi3-win_arm64.whl", [WIN_ARM]),
        # musl wheels do not install on the glibc systems linux stands for.
        ("x-1.0-cp310-abi3-musllinux_1_2_x86_64.whl", []),
    ],
)
def test_wheel_platform_tags(wheel: str, platforms: list[str]) -> None:
    # A second, pure package keeps the newest Python at 3.10 (abi3 from 3.10 on).
    found = coverage(
        [package("x", wheel)],
        DEFAULT_ENVIRONMENTS,
        requires_python=">=3.10",
        extras=(),
        groups=(),
    )
    assert list(found.served) == platforms
    assert {s.environment for s in found.shortfalls} == set(DEFAULT_ENVIRONMENTS) - set(platforms)
    assert all(s.dropped for s in found.shortfalls)


def test_python_specific_wheels_narrow_the_platform() -> None:
    wheels = [f"n-1.0-cp3{m}-cp3{m}-{tag}.whl" for m in (10, 11, 12) for tag in ("win_amd64",)]
    found = coverage(
        [
            package("n", *wheels[:2]),  # 3.10 and 3.11 only
            package("newest", "newest-1.0-cp312-cp312-win_amd64.whl", sdist=True),
        ],
        [WIN],
        requires_python=">=3.10",
        extras=(),
        groups=(),
    )
    assert found.served == (f"{WIN} and python_full_version < '3.12'",)
    (short,) = found.shortfalls
    assert (short.label, short.pythons, short.dropped, short.package) == (
        "win32/AMD64",
        ("3.12",),
        False,
        "n",
    )


def test_a_gap_in_the_middle_is_two_ranges() -> None:
    wheels = [f"g-1.0-cp3{m}-cp3{m}-win_amd64.whl" for m in (10, 12)]
    found = coverage([package("g", *wheels)], [WIN], requires_python=">=3.10", extras=(), groups=())
    assert found.served == (
        f"{WIN} and (python_full_version < '3.11' or python_full_version >= '3.12')",
    )


def test_abi3_serves_later_pythons_and_free_threading_does_not_count() -> None:
    found = coverage(
        [
            package("s", "s-1.0-cp311-abi3-win_amd64.whl"),
            package("t", "t-1.0-cp313-cp313t-win_amd64.whl", sdist=True),
        ],
        [WIN],
        requires_python=">=3.11",
        extras=(),
        groups=(),
    )
    assert found.served == (WIN,)


def test_markers_decide_which_packages_apply() -> None:
    # Only Windows needs it (e.g. colorama-like), only with the extra; Linux is unaffected.
    found = coverage(
        [
            package(
                "w",
                "w-1.0-cp310-cp310-win_amd64.whl",
                marker="'pg' in extras and sys_platform == 'win32'",
            )
        ],
        [LINUX, WIN, WIN_ARM],
        requires_python=">=3.10,<3.11",
        extras=("pg",),
        groups=(),
    )
    assert found.served == (LINUX, WIN)
    assert [s.label for s in found.shortfalls] == ["win32/ARM64"]


def test_a_custom_environment_is_kept_or_dropped_whole() -> None:
    linux_any = "sys_platform == 'linux'"
    freebsd = "sys_platform == 'freebsd'"
    found = coverage(
        [package("x", "x-1.0-cp310-cp310-manylinux_2_17_x86_64.whl")],
        [linux_any, freebsd],
        requires_python="==3.10.*",
        extras=(),
        groups=(),
    )
    # linux/aarch64 falls short, so the broad marker cannot be narrowed; FreeBSD
    # matches no platform lockdown knows and cannot be checked.
    assert found.served == (freebsd,)
    assert found.shortfalls[0].label == linux_any
    assert found.shortfalls[0].dropped


def test_python_minors_run_from_requires_python_to_the_newest_wheel() -> None:
    pkgs = [package("a", "a-1.0-cp314-cp314-win_amd64.whl")]
    assert python_minors(">=3.11", pkgs) == [11, 12, 13, 14]
    assert python_minors(">=3.11,<3.13", pkgs) == [11, 12]
    assert python_minors(">=3.12", [package("p", "p-1.0-py3-none-any.whl")]) == [12]
    assert python_minors("<3", pkgs) == []


def test_every_default_environment_is_a_known_platform() -> None:
    assert tuple(p.marker for p in PLATFORMS) == DEFAULT_ENVIRONMENTS
