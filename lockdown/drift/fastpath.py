"""The versions level's fast path: the expected set cached, keyed by everything it depends on.

Working out which locked packages apply to a target costs a parse of the whole
lock, ``packaging``'s validation and marker evaluation, and a question to the
target interpreter — far more than reading a few hundred dist-info
directories. Cron runs it every few minutes against the same lock and the same
environment, so the answer is cached under the user cache dir, keyed by:

* the sha256 of the lock's bytes (any change to the lock: a new key);
* the target interpreter's identity (its resolved path, size and mtime) and
  its venv's ``pyvenv.cfg`` (the marker environment and tags follow from them);
* the kernel (``uname``: the ``platform_release`` / ``platform_version`` markers);
* the extras and groups asked for, and lockdown's version.

It is exact, never stale: anything that could change the answer changes the
key. A cache entry that cannot be read is ignored and rebuilt.
"""

import hashlib
import json
import os
import sys
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lockdown import __version__

if TYPE_CHECKING:
    from lockdown.drift.compare import ExpectedPin

FORMAT = 1


class CachedTarget(NamedTuple):
    """Everything the versions level needs that is expensive to work out."""

    expected: dict[str, tuple[str | None, bool]]
    site_packages: tuple[str, ...]
    prefix: str
    executable: str
    in_venv: bool
    python_version: str

    def pins(self) -> dict[str, "ExpectedPin"]:
        """The expected set as :class:`~lockdown.drift.compare.ExpectedPin` values."""
        from lockdown.drift.compare import ExpectedPin  # noqa: PLC0415

        return {k: ExpectedPin(version=v, from_index=i) for k, (v, i) in self.expected.items()}


def cache_key(
    lock_sha256: str,
    python: str,
    *,
    extras: Collection[str],
    groups: Collection[str] | None,
) -> str | None:
    """The key for this lock and target, or ``None`` when the target cannot be identified."""
    try:
        located = Path(python).absolute()
        real = os.path.realpath(located)
        stat = os.stat(real)
    except OSError:
        return None
    pyvenv = b""
    for candidate in (located.parent, located.parent.parent):
        try:
            pyvenv = (candidate / "pyvenv.cfg").read_bytes()
            break
        except OSError:
            continue
    uname = os.uname() if hasattr(os, "uname") else ()
    material = {
        "format": FORMAT,
        "lockdown": __version__,
        "lock": lock_sha256,
        "python": [str(located), real, stat.st_size, stat.st_mtime_ns],
        "pyvenv": hashlib.sha256(pyvenv).hexdigest(),
        "uname": list(uname),
        "extras": sorted(extras),
        "groups": None if groups is None else sorted(groups),
        "platform": sys.platform,
    }
    blob = json.dumps(material, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()


def _path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "check" / f"{key}.json"


def load(cache_dir: Path, key: str) -> CachedTarget | None:
    """The cached entry, or ``None`` (missing or unreadable: rebuild it)."""
    try:
        raw: Any = json.loads(_path(cache_dir, key).read_bytes())
        return CachedTarget(
            expected={str(k): (v[0], bool(v[1])) for k, v in raw["expected"].items()},
            site_packages=tuple(raw["site_packages"]),
            prefix=str(raw["prefix"]),
            executable=str(raw["executable"]),
            in_venv=bool(raw["in_venv"]),
            python_version=str(raw["python_version"]),
        )
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def store(cache_dir: Path, key: str, entry: CachedTarget) -> None:
    """Write the entry atomically; a cache that cannot be written is not an error."""
    from lockdown.fsutil import atomic_write  # noqa: PLC0415

    payload = {
        "expected": {k: list(v) for k, v in sorted(entry.expected.items())},
        "site_packages": list(entry.site_packages),
        "prefix": entry.prefix,
        "executable": entry.executable,
        "in_venv": entry.in_venv,
        "python_version": entry.python_version,
    }
    path = _path(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(payload).encode())
    except Exception:
        return


def pins_of(expected: Mapping[str, "ExpectedPin"]) -> dict[str, tuple[str | None, bool]]:
    """Serializable form of an expected set."""
    return {k: (v.version, v.from_index) for k, v in expected.items()}
