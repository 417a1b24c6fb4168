"""Real virtual environments for tests, and what is installed in them (read from dist-info)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.isolation import isolated_env

#: The uv that ships with the test environment's own ``uv`` dependency.
UV = str(Path(sys.executable).parent / "uv")


def make_venv(path: Path) -> Path:
    """Create a fresh venv without pip (installers are pointed at it from outside); its python."""
    subprocess.run(
        [UV, "venv", "-q", "--python", sys.executable, str(path)], env=isolated_env(), check=True
    )
    return path / "bin" / "python"


def installed(python: Path) -> dict[str, str]:
    """``normalized name -> version`` of every distribution in the venv of ``python``."""
    site = next((python.parent.parent / "lib").glob("python3*/site-packages"))
    found = {}
    for info in site.glob("*.dist-info"):
        name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
        found[name.lower().replace("_", "-")] = version
    return found


def pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the test environment's pip (it reads pylock.toml) against the venv of ``python``."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), *args],
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def uv_pip(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``uv pip`` (no config) against the venv of ``python``."""
    return subprocess.run(
        [UV, "pip", *args, "--no-config", "--python", str(python)],
        env=isolated_env(),
        capture_output=True,
        text=True,
        check=False,
    )
