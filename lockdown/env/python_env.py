"""A target Python environment, read from the outside: its interpreter facts and dist-info.

Nothing from the target environment is imported. The interpreter is asked
for its marker environment, install paths and the facts its wheel tags follow
from by running it with ``-I -S`` (isolated, and without ``site``, so no
``.pth`` file of the environment runs) and a script that imports only the
standard library, so any Python 3.8 or newer can be a target, whatever the
Python lockdown itself runs on. Installed distributions are read from their
``*.dist-info`` directories.
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


#: The probe: run by the target as ``python -I -S -c _PROBE``. Standard library
#: only, and syntax every Python 3 from 3.6 on parses (no walrus, no ``match``,
#: no ``subprocess.run(text=...)``), so targets older than lockdown itself are
#: read too; lockdown's own ``packaging`` needs a newer Python than many targets.
#: It prints the target's PEP 508 marker environment (``packaging.markers.
#: default_environment``, line for line), its paths, and the facts its wheel
#: tags follow from; the tags themselves are then made here, with
#: ``packaging.tags``' public functions (:func:`_tags`), so their order is
#: packaging's own. The platform part ports ``packaging.tags.platform_tags``
#: (manylinux from the glibc version, musllinux from the ELF interpreter).
_PROBE = r"""
import json, os, platform, re, struct, sys, sysconfig


def full_version(info):
    version = "%d.%d.%d" % (info.major, info.minor, info.micro)
    if info.releaselevel != "final":
        version += info.releaselevel[0] + str(info.serial)
    return version


def environment():
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": full_version(sys.implementation.version),
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def config(name):
    return sysconfig.get_config_var(name)


def normalize(text):
    return text.replace(".", "_").replace("-", "_").replace(" ", "_")


def cpython_abis(major, minor):
    from importlib.machinery import EXTENSION_SUFFIXES
    threading = debug = pymalloc = ""
    with_debug = config("Py_DEBUG")
    if with_debug or (with_debug is None and (
            hasattr(sys, "gettotalrefcount") or "_d.pyd" in EXTENSION_SUFFIXES)):
        debug = "d"
    if (major, minor) >= (3, 13) and config("Py_GIL_DISABLED"):
        threading = "t"
    if (major, minor) < (3, 8):
        with_pymalloc = config("WITH_PYMALLOC")
        if with_pymalloc or with_pymalloc is None:
            pymalloc = "m"
    version = "%d%d" % (major, minor)
    abis = ["cp" + version + threading + debug + pymalloc]
    if (major, minor) >= (3, 8) and debug:
        abis.append("cp" + version + threading)
    return abis


def generic_abis():
    ext_suffix = config("EXT_SUFFIX")
    if not isinstance(ext_suffix, str) or not ext_suffix.startswith("."):
        return []
    parts = ext_suffix.split(".")
    if len(parts) < 3:
        return cpython_abis(*sys.version_info[:2])
    soabi = parts[1]
    if soabi.startswith("cpython"):
        pieces = soabi.split("-")
        if len(pieces) < 2 or not pieces[1]:
            return []
        abi = "cp" + pieces[1]
    elif soabi.startswith("cp"):
        abi = soabi.split("-")[0]
    elif soabi.startswith("pypy"):
        abi = "-".join(soabi.split("-")[:2])
    elif soabi.startswith("graalpy"):
        abi = "-".join(soabi.split("-")[:3])
    elif soabi:
        abi = soabi
    else:
        return []
    return [normalize(abi)]


def elf(path):
    # (capacity, encoding, machine, flags, interpreter) of an ELF file, or None.
    try:
        with open(path, "rb") as f:
            ident = f.read(16)
            if len(ident) < 16 or ident[:4] != b"\x7fELF":
                return None
            capacity, encoding = ident[4], ident[5]
            formats = {
                (1, 1): ("<HHIIIIIHHH", "<IIIIIIII", (0, 1, 4)),
                (1, 2): (">HHIIIIIHHH", ">IIIIIIII", (0, 1, 4)),
                (2, 1): ("<HHIQQQIHHH", "<IIQQQQQQ", (0, 2, 5)),
                (2, 2): (">HHIQQQIHHH", ">IIQQQQQQ", (0, 2, 5)),
            }.get((capacity, encoding))
            if formats is None:
                return None
            e_fmt, p_fmt, p_idx = formats
            header = struct.unpack(e_fmt, f.read(struct.calcsize(e_fmt)))
            machine, flags = header[1], header[6]
            phoff, phentsize, phnum = header[4], header[8], header[9]
            interpreter = None
            for index in range(phnum):
                f.seek(phoff + phentsize * index)
                raw = f.read(struct.calcsize(p_fmt))
                if len(raw) < struct.calcsize(p_fmt):
                    continue
                entry = struct.unpack(p_fmt, raw)
                if entry[p_idx[0]] != 3:  # not PT_INTERP
                    continue
                f.seek(entry[p_idx[1]])
                interpreter = os.fsdecode(f.read(entry[p_idx[2]])).strip("\0")
                break
            return capacity, encoding, machine, flags, interpreter
    except (OSError, TypeError, ValueError, struct.error):
        return None


def glibc_version():
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION").rsplit()[1]
    except (AttributeError, OSError, ValueError, IndexError):
        version = None
    if version is None:
        try:
            import ctypes
            get = ctypes.CDLL(None).gnu_get_libc_version
            get.restype = ctypes.c_char_p
            version = get()
            if isinstance(version, bytes):
                version = version.decode("ascii")
        except (ImportError, OSError, AttributeError):
            return (-1, -1)
    match = re.match(r"([0-9]+)\.([0-9]+)", version)
    return (int(match.group(1)), int(match.group(2))) if match else (-1, -1)


def manylinux(archs):
    header = elf(sys.executable)
    if "armv7l" in archs:
        ok = (header is not None and header[:3] == (1, 1, 40)
              and header[3] & 0xFF000000 == 0x05000000 and header[3] & 0x400 == 0x400)
    elif "i686" in archs:
        ok = header is not None and header[:3] == (1, 1, 3)
    else:
        ok = any(arch in ("x86_64", "aarch64", "ppc64", "ppc64le", "s390x", "loongarch64",
                          "riscv64") for arch in archs)
    if not ok:
        return []
    try:
        module = __import__("_manylinux")
    except ImportError:
        module = None
    current = glibc_version()

    def compatible(arch, version):
        if current < version:
            return False
        if module is None:
            return True
        if hasattr(module, "manylinux_compatible"):
            result = module.manylinux_compatible(version[0], version[1], arch)
            return True if result is None else bool(result)
        legacy = {(2, 5): "manylinux1_compatible", (2, 12): "manylinux2010_compatible",
                  (2, 17): "manylinux2014_compatible"}.get(version)
        if legacy is not None and hasattr(module, legacy):
            return bool(getattr(module, legacy))
        return True

    too_old = (2, 4) if set(archs) & {"x86_64", "i686"} else (2, 16)
    maxima = [current] + [(major, 50) for major in range(current[0] - 1, 1, -1)]
    legacy_names = {(2, 17): "manylinux2014", (2, 12): "manylinux2010", (2, 5): "manylinux1"}
    found = []
    for arch in archs:
        for major, top in maxima:
            low = too_old[1] if major == too_old[0] else -1
            for minor in range(top, low, -1):
                if compatible(arch, (major, minor)):
                    found.append("manylinux_%d_%d_%s" % (major, minor, arch))
                    if (major, minor) in legacy_names:
                        found.append("%s_%s" % (legacy_names[(major, minor)], arch))
    return found


def musllinux(archs):
    header = elf(sys.executable)
    loader = header[4] if header is not None else None
    if not loader or "musl" not in loader:
        return []
    import subprocess
    try:
        proc = subprocess.run([loader], stderr=subprocess.PIPE, universal_newlines=True)
    except OSError:
        return []
    lines = [n for n in (n.strip() for n in proc.stderr.splitlines()) if n]
    if len(lines) < 2 or lines[0][:4] != "musl":
        return []
    match = re.match(r"Version (\d+)\.(\d+)", lines[1])
    if not match:
        return []
    major, minor = int(match.group(1)), int(match.group(2))
    return ["musllinux_%d_%d_%s" % (major, m, arch) for arch in archs
            for m in range(minor, -1, -1)]


def linux_platforms(is_32bit):
    linux = normalize(sysconfig.get_platform())
    if not linux.startswith("linux_"):
        return [linux]
    if is_32bit:
        if linux == "linux_x86_64":
            linux = "linux_i686"
        elif linux == "linux_aarch64":
            linux = "linux_armv8l"
    arch = linux.split("_", 1)[1]
    archs = {"armv8l": ["armv8l", "armv7l"]}.get(arch, [arch])
    return ["linux_" + a for a in archs] + manylinux(archs) + musllinux(archs)


def mac_version_and_arch(is_32bit):
    version, _, arch = platform.mac_ver()
    if version.split(".")[:2] == ["10", "16"]:
        import subprocess
        version = subprocess.run(
            [sys.executable, "-sS", "-c", "import platform; print(platform.mac_ver()[0])"],
            check=True, env={"SYSTEM_VERSION_COMPAT": "0"}, stdout=subprocess.PIPE,
            universal_newlines=True).stdout
    if is_32bit:
        arch = "ppc" if arch.startswith("ppc") else "i386"
    return [int(part) for part in version.split(".")[:2]] + [arch]


def tag_facts():
    names = {"python": "py", "cpython": "cp", "pypy": "pp", "ironpython": "ip",
             "jython": "jy"}
    name = names.get(sys.implementation.name) or sys.implementation.name
    major, minor = sys.version_info[:2]
    is_32bit = struct.calcsize("P") == 4
    system = platform.system()
    mac = None
    platforms = []
    if system == "Darwin":
        mac = mac_version_and_arch(is_32bit)
    elif system == "Linux":
        platforms = linux_platforms(is_32bit)
    else:
        emscripten = config("PYEMSCRIPTEN_PLATFORM_VERSION") if system == "Emscripten" else None
        if emscripten:
            platforms.append("pyemscripten_%s_wasm32" % emscripten)
        platforms.append(normalize(sysconfig.get_platform()))
    return {
        "interpreter": name,
        "version": [major, minor],
        "nodot": str(config("py_version_nodot") or "%d%d" % (major, minor)),
        "abis": cpython_abis(major, minor) if name == "cp" else generic_abis(),
        "platforms": platforms,
        "mac": mac,
    }


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
    "environment": environment(),
    "tag_facts": tag_facts(),
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

    try:
        proc = subprocess.run(
            [str(python), "-I", "-S", "-c", _PROBE],
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
        raise UsageError(
            f"interpreter {python} failed to report its environment: {last}",
            hint="pass a Python 3.8 or newer interpreter",
        )
    import json  # noqa: PLC0415

    try:
        raw = json.loads(proc.stdout)
        tags = _tags(raw["tag_facts"])
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"interpreter {python} is not a Python 3 interpreter") from None
    site = tuple(dict.fromkeys(Path(raw[k]) for k in ("purelib", "platlib")))
    return TargetInfo(
        executable=Path(raw["executable"]),
        environment={str(k): str(v) for k, v in raw["environment"].items()},
        tags=tags,
        site_packages=site,
        scripts=Path(raw["scripts"]),
        prefix=Path(raw["prefix"]),
        in_venv=raw["prefix"] != raw["base_prefix"],
    )


def _tags(facts: dict[str, Any]) -> tuple[str, ...]:
    """The target's wheel tags, best first, from the facts the probe reported.

    The same calls ``packaging.tags.sys_tags`` makes for the running
    interpreter, given the target's interpreter, version, ABIs and platforms.
    """
    from packaging import tags  # noqa: PLC0415

    version = (int(facts["version"][0]), int(facts["version"][1]))
    mac = facts.get("mac")
    platforms = (
        list(tags.mac_platforms((int(mac[0]), int(mac[1])), str(mac[2])))
        if mac
        else [str(p) for p in facts["platforms"]]
    )
    name, nodot = str(facts["interpreter"]), str(facts["nodot"])
    abis = [str(a) for a in facts["abis"]]
    if name == "cp":
        found = list(tags.cpython_tags(version, abis, platforms))
        interpreter: str | None = "cp" + nodot
    else:
        found = list(tags.generic_tags(name + nodot, abis, platforms))
        interpreter = "pp3" if name == "pp" else None
    found += tags.compatible_tags(version, interpreter, platforms)
    return tuple(str(t) for t in found)


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
