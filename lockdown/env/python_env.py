"""A target Python environment, read from the outside: its interpreter facts and dist-info.

Nothing from the target environment is imported. The interpreter is asked
for its marker environment, supported tags and install paths by running it
with ``-I -S`` (isolated, and without ``site``, so no ``.pth`` file of the
environment runs) and a script that imports only the standard library and
lockdown's own copy of ``packaging``. Installed distributions are read from
their ``*.dist-info`` directories.
"""

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from lockdown.errors import UsageError
from lockdown.names import normalize_name

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

__all__ = ["InstalledDist", "TargetInfo", "inspect_interpreter", "normalize_name"]


_SCRIPT = """
import json, os, sys, sysconfig
sys.path.insert(0, sys.argv[1])
from packaging import markers, tags
# Without site (-S), a venv's prefix is not applied: find pyvenv.cfg ourselves,
# as site.venv() would, and compute the venv's paths from it.
prefix = sys.prefix
here = os.path.dirname(os.path.abspath(sys.executable))
for candidate in (here, os.path.dirname(here)):
    if os.path.isfile(os.path.join(candidate, "pyvenv.cfg")):
        prefix = candidate
        break
base = {"base": prefix, "platbase": prefix, "installed_base": prefix,
        "installed_platbase": prefix}
paths = sysconfig.get_paths(vars=base)
print(json.dumps({
    "environment": markers.default_environment(),
    "tags": [str(t) for t in tags.sys_tags()],
    "purelib": paths["purelib"],
    "platlib": paths["platlib"],
    "scripts": paths["scripts"],
    "prefix": prefix,
    "base_prefix": sys.base_prefix,
    "executable": sys.executable,
}))
"""


class TargetInfo(NamedTuple):
    """What an interpreter says about itself.

    This and :class:`InstalledDist` are typed named tuples, not dataclasses:
    ``check`` reads them on its cron path, where importing :mod:`dataclasses`
    would cost more than the check (see :mod:`lockdown.drift.model`).
    """

    executable: Path
    #: PEP 508 marker environment (``sys_platform``, ``python_full_version``, ...).
    environment: dict[str, str]
    #: Supported wheel tags, most preferred first.
    tags: tuple[str, ...]
    site_packages: tuple[Path, ...]
    scripts: Path
    prefix: Path
    #: True when the interpreter runs inside a virtual environment.
    in_venv: bool


class InstalledDist(NamedTuple):
    """One installed distribution, as its dist-info says."""

    name: "NormalizedName"
    version: str
    dist_info: Path
    #: PEP 610 ``direct_url.json`` (an install from a URL, path or VCS), if any.
    direct_url: dict[str, Any] | None

    def installer(self) -> str | None:
        """The ``INSTALLER`` file's content (``pip``, ``uv``, ...), if any (read on demand)."""
        text = _read_text(os.path.join(self.dist_info, "INSTALLER"))
        return text.strip() or None if text is not None else None


def venv_python(venv: Path) -> Path:
    """The interpreter of the virtual environment at ``venv``."""
    if sys.platform == "win32":  # pragma: no cover - Windows layout
        return venv / "Scripts" / "python.exe"
    return venv / "bin" / "python"


def target_interpreter(
    venv: Path | None,
    python: str | None,
    *,
    may_create: bool = False,
    path_fallback: bool = False,
) -> tuple[str, bool]:
    """The interpreter a command works on, and whether its environment exists yet.

    ``--venv`` (its interpreter; with ``may_create``, a missing or empty directory
    means "a new venv from ``--python`` or this interpreter"), else ``--python``,
    else the active venv (``$VIRTUAL_ENV``), else — with ``path_fallback`` — the
    ``python3`` on PATH.
    """
    from lockdown.errors import LockdownError  # noqa: PLC0415

    if venv is not None:
        exe = venv_python(venv)
        if exe.exists():
            return str(exe), True
        if not may_create:
            raise UsageError(f"{venv} is not a virtual environment (no {exe})")
        if venv.exists() and any(venv.iterdir()):
            raise LockdownError(
                f"{venv} exists but is not a virtual environment (no {exe})",
                hint="pass an empty or missing directory, or a venv",
            )
        return python or sys.executable, False
    if python is not None:
        return python, True
    active = os.environ.get("VIRTUAL_ENV")
    if active:
        return str(venv_python(Path(active))), True
    found = None
    if path_fallback:
        import shutil  # noqa: PLC0415 - only when nothing names the target

        found = shutil.which("python3") or shutil.which("python")
    if found is None:
        raise UsageError("no target environment", hint="pass --venv DIR or --python EXE")
    return found, True


def _venv_prefix(executable: Path) -> Path | None:
    """The venv an interpreter path belongs to (``pyvenv.cfg`` beside it or one up)."""
    here = executable.absolute().parent
    for candidate in (here, here.parent):
        if (candidate / "pyvenv.cfg").is_file():
            return candidate
    return None


def _inspect_here(python: Path) -> TargetInfo:
    """The same facts, computed in-process: ``python`` is lockdown's own interpreter binary."""
    import sysconfig  # noqa: PLC0415

    from packaging.markers import default_environment  # noqa: PLC0415
    from packaging.tags import sys_tags  # noqa: PLC0415

    prefix = _venv_prefix(python) or Path(sys.base_prefix)
    base = {k: str(prefix) for k in ("base", "platbase", "installed_base", "installed_platbase")}
    paths = sysconfig.get_paths(vars=base)
    return TargetInfo(
        executable=python.absolute(),
        environment={str(k): str(v) for k, v in default_environment().items()},
        tags=tuple(str(t) for t in sys_tags()),
        site_packages=tuple(dict.fromkeys(Path(paths[k]) for k in ("purelib", "platlib"))),
        scripts=Path(paths["scripts"]),
        prefix=prefix,
        in_venv=str(prefix) != sys.base_prefix,
    )


def inspect_interpreter(python: str | Path) -> TargetInfo:
    """Ask ``python`` (run isolated, without site) for its markers, tags and paths.

    When ``python`` is the very binary running lockdown (a venv made from it,
    say), the answer is computed in-process instead: same binary, same facts,
    and one interpreter start saved.
    """
    import shutil  # noqa: PLC0415

    located = shutil.which(str(python))
    if located is not None and os.path.realpath(located) == os.path.realpath(sys.executable):
        return _inspect_here(Path(located))
    import subprocess  # noqa: PLC0415 - the cron path asks its cache instead
    import tempfile  # noqa: PLC0415

    import packaging  # noqa: PLC0415 - to find lockdown's own copy

    with tempfile.TemporaryDirectory(prefix="lockdown-probe-") as tmp:
        # Only packaging is exposed to the target, nothing else of lockdown's env.
        link = Path(tmp) / "packaging"
        source = Path(packaging.__file__).parent
        try:
            link.symlink_to(source, target_is_directory=True)
        except OSError:  # pragma: no cover - filesystems without symlinks
            import shutil  # noqa: PLC0415

            shutil.copytree(source, link)
        try:
            proc = subprocess.run(
                [str(python), "-I", "-S", "-c", _SCRIPT, tmp],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env={k: v for k, v in os.environ.items() if not k.startswith("PYTHON")},
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise UsageError(
                f"cannot run interpreter {python}: {exc}", hint="pass a Python executable"
            ) from None
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise UsageError(f"interpreter {python} failed: {last}", hint="pass Python 3.8 or newer")
    import json  # noqa: PLC0415

    try:
        raw = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise UsageError(f"interpreter {python} is not a Python 3 interpreter") from None
    site = tuple(dict.fromkeys(Path(raw[k]) for k in ("purelib", "platlib")))
    return TargetInfo(
        executable=Path(raw["executable"]),
        environment={str(k): str(v) for k, v in raw["environment"].items()},
        tags=tuple(raw["tags"]),
        site_packages=site,
        scripts=Path(raw["scripts"]),
        prefix=Path(raw["prefix"]),
        in_venv=raw["prefix"] != raw["base_prefix"],
    )


def _read_text(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


#: Core metadata headers end well within this; the long description follows them.
_HEADER_CHUNK = 16384
#: Headers longer than this are not core metadata (a hostile or broken file).
_MAX_HEADERS = 1 << 20
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _read_headers(path: str) -> str | None:
    """The header block of a METADATA file (up to the first blank line), read cheaply.

    Only the header block is decoded: a chunk boundary inside a multi-byte
    character of the description that follows can then never make a valid
    file unreadable.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None
    try:
        head = os.read(fd, _HEADER_CHUNK)
        while b"\n\n" not in head and b"\r\n\r\n" not in head:
            if len(head) > _MAX_HEADERS:
                return None  # no header block ends in a megabyte: not core metadata
            more = os.read(fd, _HEADER_CHUNK)  # unusually long headers
            if not more:
                break
            head += more
    except OSError:
        return None
    finally:
        os.close(fd)
    try:
        ends = [i for i in (head.find(b"\n\n"), head.find(b"\r\n\r\n")) if i >= 0]
        return head[: min(ends)].decode("utf-8") if ends else head.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


#: Name and Version are the second and third lines of core metadata: this much
#: of the file holds them (the long headers and the description come later).
_QUICK_CHUNK = 2048


def _quick_name_and_version(path: str) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from the first bytes of METADATA, when they are there.

    Exact ``Name: ``/``Version: `` header lines, complete, before the first
    blank line; anything else (another spelling, a field further down, bytes
    that are not UTF-8) answers ``(None, None)`` and the caller reads the whole
    header block instead.
    """
    try:
        fd = os.open(path, _READ_FLAGS)
    except OSError:
        return None, None
    try:
        head = os.read(fd, _QUICK_CHUNK)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    end = head.find(b"\n\n")
    if end < 0:
        end = head.find(b"\r\n\r\n")
    return _quick_field(head, b"\nName: ", end), _quick_field(head, b"\nVersion: ", end)


def _quick_field(head: bytes, marker: bytes, end: int) -> str | None:
    start = head.find(marker)
    if start < 0 or (0 <= end < start):
        return None
    start += len(marker)
    stop = head.find(b"\n", start)
    if stop < 0:
        return None  # the line runs past what was read
    try:
        value = head[start:stop].decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    return value or None


def _name_and_version(metadata: str) -> tuple[str | None, str | None]:
    """``Name`` and ``Version`` from core metadata's header block (RFC 822 style).

    Only the two single-line fields are needed, so the header lines are read
    directly (``email.parser`` costs more to import than this whole lookup).
    """
    name = version = None
    for line in metadata.splitlines():
        if not line.strip() or (name is not None and version is not None):
            break  # the headers end at the first blank line; the body follows
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "name" and name is None:
            name = value.strip()
        elif key == "version" and version is None:
            version = value.strip()
    return name, version


def read_dist_info(dist_info: Path) -> InstalledDist | None:
    """One dist-info directory, or ``None`` when it has no readable METADATA.

    Files are opened directly (a missing one is a failed ``open``), not looked
    up in a directory listing first: this runs for every distribution on every
    cron check.
    """
    return _read_dist_info(str(dist_info), dist_info)


def _read_dist_info(base: str, dist_info: Path) -> InstalledDist | None:
    # Plain concatenation: os.path.join costs more, three times per distribution.
    path = base + os.sep + "METADATA"
    name, version = _quick_name_and_version(path)
    if not name or not version:
        metadata = _read_headers(path)
        if metadata is None:
            return None
        name, version = _name_and_version(metadata)
        if not name or not version:
            return None
    return InstalledDist(
        name=normalize_name(name),
        version=version,
        dist_info=dist_info,
        direct_url=_direct_url(base + os.sep + "direct_url.json"),
    )


#: What an unreadable or malformed ``direct_url.json`` reads as: a direct-URL
#: install of unknown origin (never "installed from the index").
_UNREADABLE_DIRECT_URL = "<unreadable direct_url.json>"


def _direct_url(path: str) -> dict[str, Any] | None:
    """PEP 610 ``direct_url.json``: ``None`` when absent, a placeholder when unreadable."""
    if not os.access(path, os.F_OK):
        return None  # the common case, answered without raising an exception
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        return None
    except OSError:
        return {"url": _UNREADABLE_DIRECT_URL}
    import json  # noqa: PLC0415 - most distributions have no direct_url.json

    try:
        loaded = json.loads(raw)
    except (ValueError, RecursionError):  # invalid JSON, not UTF-8, absurdly nested
        loaded = None
    return loaded if isinstance(loaded, dict) else {"url": _UNREADABLE_DIRECT_URL}


def installed_distributions(site_packages: Iterable[Path]) -> list[InstalledDist]:
    """Every distribution installed in ``site_packages``, sorted by name."""
    found: dict[str, InstalledDist] = {}
    for directory in site_packages:
        try:
            names = sorted(n for n in os.listdir(directory) if n.endswith(".dist-info"))
        except OSError:
            continue
        root = str(directory) + os.sep
        for entry in names:
            # `directory / entry` parses only the new part; Path(directory, entry) all of it.
            dist = _read_dist_info(root + entry, directory / entry)
            if dist is not None:
                found.setdefault(dist.name, dist)
    return [found[n] for n in sorted(found)]
