"""The Python interpreters installed on this machine, other than the one running the tests.

Looked for where people keep them: pyenv's versions directory, the Pythons uv
manages (``uv python list --only-installed``, never a download), and
``python3.N`` on PATH. A pyenv shim on PATH is skipped: it is a script that
picks an interpreter at run time, not an interpreter.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

from tests.support.isolation import isolated_env
from tests.support.venvs import UV

#: Reports ``major.minor`` of a Python 3 (and fails on Python 2: no f-strings there).
_VERSION = "import sys; print(f'{sys.version_info[0]}.{sys.version_info[1]}')"


def _version(python: str) -> tuple[int, int] | None:
    try:
        proc = subprocess.run(
            [python, "-I", "-c", _VERSION], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    major, _, minor = proc.stdout.strip().partition(".")
    if proc.returncode != 0 or not (major.isdigit() and minor.isdigit()):
        return None
    return int(major), int(minor)


def _is_binary(path: str) -> bool:
    try:
        with open(os.path.realpath(path), "rb") as handle:
            return handle.read(2) != b"#!"
    except OSError:
        return False


def _candidates() -> list[str]:
    found = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/*/bin/python3"))]
    proc = subprocess.run(
        [UV, "python", "list", "--only-installed", "--output-format", "json"],
        capture_output=True,
        text=True,
        env=isolated_env(),
        check=False,
    )
    if proc.returncode == 0:
        import json

        found += [str(entry["path"]) for entry in json.loads(proc.stdout) if entry.get("path")]
    found += [p for minor in range(6, 16) if (p := shutil.which(f"python3.{minor}"))]
    return found


@functools.cache
def installed_pythons() -> dict[tuple[int, int], str]:
    """``(major, minor) -> interpreter`` for every runnable Python 3 found (first one wins)."""
    pythons: dict[tuple[int, int], str] = {}
    for candidate in _candidates():
        if not _is_binary(candidate):
            continue
        version = _version(candidate)
        if version is not None and version[0] == 3:
            pythons.setdefault(version, candidate)
    return dict(sorted(pythons.items()))


def oldest_python(at_most: tuple[int, int]) -> tuple[tuple[int, int], str] | None:
    """The oldest Python 3 installed whose version is ``at_most`` or older, if any."""
    old = [(v, p) for v, p in installed_pythons().items() if v <= at_most]
    return old[0] if old else None
