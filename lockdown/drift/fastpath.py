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

The key is only as good as the file it identifies, so an entry is used (and
stored) only when that file *is* the interpreter that answered: the real path
of the named interpreter must be the real path of the ``sys.executable`` the
probe reported, which the entry records. A launcher that picks an interpreter
at run time — a pyenv shim (a shell script reading ``PYENV_VERSION`` and
``.python-version``), a wrapper script, a multiplexing binary like mise's — is
not that interpreter: it is probed on every run, never cached.

An entry is a few tab-separated lines (``pin``, ``src``, ``site`` and one line
per scalar), read with ``str.split``: the cron path does not import :mod:`json`.
"""

import hashlib
import os
import sys
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, cast

from lockdown import __version__

if TYPE_CHECKING:
    from lockdown.drift.compare import ExpectedPin, SourceKind
    from lockdown.env.python_env import TargetInfo
    from lockdown.lock.pylock import LockFile

FORMAT = 4
#: The first line of every entry.
MAGIC = f"lockdown-check-cache {FORMAT}"


#: One artifact ``install`` selected: name, version, url, filename, sha256, size, is-sdist.
SelectedRow = tuple[str, str, str, str, str, "int | None", bool]
#: One package's locked source (:class:`~lockdown.drift.compare.LockedSource`):
#: name, kind, url, revision, vcs, subdirectory.
SourceRow = tuple[str, str, str, str, str, str]
_SOURCE_KINDS = frozenset({"index", "vcs", "directory", "archive"})


class CachedTarget(NamedTuple):
    """Everything the versions level (or an install's plan) needs that is expensive to work out."""

    expected: dict[str, tuple[str | None, bool]]
    site_packages: tuple[str, ...]
    prefix: str
    executable: str
    in_venv: bool
    python_version: str
    #: ``install`` only: the one artifact selected per package, in name order.
    selected: tuple[SelectedRow, ...] = ()
    #: ``check`` only: the locked sources beyond "an index", in name order.
    sources: tuple[SourceRow, ...] = ()
    #: The whole lock's package count, and how many record PEP 740 attestation identities.
    lock_packages: int = 0
    lock_attested: int = 0

    def pins(self) -> dict[str, "ExpectedPin"]:
        """The expected set as :class:`~lockdown.drift.compare.ExpectedPin` values."""
        from lockdown.drift.compare import ExpectedPin, LockedSource  # noqa: PLC0415

        sources = {
            row[0]: LockedSource(cast("SourceKind", row[1]), *row[2:]) for row in self.sources
        }
        return {
            k: ExpectedPin(version=v, from_index=i, source=sources.get(k))
            for k, (v, i) in self.expected.items()
        }


def cache_key(
    lock_sha256: str,
    python: str,
    *,
    extras: Collection[str],
    groups: Collection[str] | None,
    purpose: str = "check",
) -> str | None:
    """The key for this lock and target, or ``None`` when the target cannot be identified.

    ``purpose`` keeps apart answers to different questions about the same lock
    and target (``check``; ``install`` with or without ``--allow-build``).
    """
    found = _keyed(lock_sha256, python, extras=extras, groups=groups, purpose=purpose)
    return None if found is None else found[0]


def _keyed(
    lock_sha256: str,
    python: str,
    *,
    extras: Collection[str],
    groups: Collection[str] | None,
    purpose: str,
) -> tuple[str, str] | None:
    """The key, and the named interpreter's real path (to validate an entry against)."""
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
    # repr() of str/int/list/None values is exact and stable across runs.
    material = (
        MAGIC,
        __version__,
        lock_sha256,
        [str(located), real, stat.st_size, stat.st_mtime_ns],
        hashlib.sha256(pyvenv).hexdigest(),
        list(uname),
        sorted(extras),
        None if groups is None else sorted(groups),
        sys.platform,
        purpose,
    )
    return hashlib.sha256(repr(material).encode("utf-8", "surrogateescape")).hexdigest(), real


def answers_for_itself(real: str, entry: CachedTarget) -> bool:
    """Whether the interpreter file whose real path is ``real`` is the one that answered.

    False for a launcher (a pyenv shim, a wrapper script, a multiplexer): the
    entry's ``executable`` is the probe's ``sys.executable``, which resolves to
    the interpreter binary itself. Keying on a launcher would serve one
    interpreter's answer for another's once the launcher chooses differently.
    """
    try:
        return os.path.realpath(entry.executable) == real
    except (OSError, ValueError):
        return False


def _path(cache_dir: Path, key: str) -> Path:
    return cache_dir / "check" / f"{key}.txt"


def load(cache_dir: Path, key: str) -> CachedTarget | None:
    """The cached entry, or ``None`` (missing or unreadable: rebuild it)."""
    try:
        text = _path(cache_dir, key).read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    lines = text.split("\n")
    if lines[0] != MAGIC or lines[-1] != "end":
        return None  # another format, or a file cut short
    expected: dict[str, tuple[str | None, bool]] = {}
    selected: list[SelectedRow] = []
    sources: list[SourceRow] = []
    sites: list[str] = []
    scalars: dict[str, str] = {}
    attested: tuple[int, int] | None = None
    for line in lines[1:-1]:
        fields = line.split("\t")
        if fields[0] == "pin" and len(fields) == 4 and fields[3] in ("0", "1"):
            expected[fields[1]] = (fields[2] or None, fields[3] == "1")
        elif fields[0] == "sel" and len(fields) == 8 and fields[7] in ("0", "1"):
            size = fields[6]
            if size and not (size.isascii() and size.isdigit()):
                return None
            row: SelectedRow = (
                fields[1],
                fields[2],
                fields[3],
                fields[4],
                fields[5],
                int(size) if size else None,
                fields[7] == "1",
            )
            selected.append(row)
        elif fields[0] == "src" and len(fields) == 7 and fields[2] in _SOURCE_KINDS:
            sources.append((fields[1], fields[2], fields[3], fields[4], fields[5], fields[6]))
        elif fields[0] == "site" and len(fields) == 2:
            sites.append(fields[1])
        elif fields[0] == "attested" and len(fields) == 3 and all(_count(f) for f in fields[1:]):
            attested = (int(fields[1]), int(fields[2]))
        elif len(fields) == 2 and fields[0] in _SCALARS:
            scalars[fields[0]] = fields[1]
        else:
            return None
    if set(scalars) != set(_SCALARS) or scalars["in_venv"] not in ("0", "1") or attested is None:
        return None
    return CachedTarget(
        expected=expected,
        site_packages=tuple(sites),
        prefix=scalars["prefix"],
        executable=scalars["executable"],
        in_venv=scalars["in_venv"] == "1",
        python_version=scalars["python_version"],
        selected=tuple(selected),
        sources=tuple(sources),
        lock_packages=attested[0],
        lock_attested=attested[1],
    )


def _count(text: str) -> bool:
    return text.isascii() and text.isdigit()


_SCALARS = ("prefix", "executable", "in_venv", "python_version")


def store(cache_dir: Path, key: str, entry: CachedTarget) -> None:
    """Write the entry atomically; a cache that cannot be written is not an error.

    An entry with a tab or newline in any value (an odd path) is not cached:
    the next run works it out again rather than risk reading it back wrong.
    """
    from lockdown.fsutil import atomic_write  # noqa: PLC0415

    lines = [MAGIC]
    lines += [f"{k}\t{v}" for k, v in zip(_SCALARS, _scalars(entry), strict=True)]
    lines += [f"site\t{site}" for site in entry.site_packages]
    lines.append(f"attested\t{entry.lock_packages}\t{entry.lock_attested}")
    lines += [
        f"pin\t{name}\t{version or ''}\t{int(from_index)}"
        for name, (version, from_index) in sorted(entry.expected.items())
    ]
    lines += [
        "\t".join(("sel", *row[:5], "" if row[5] is None else str(row[5]), str(int(row[6]))))
        for row in entry.selected
    ]
    lines += ["\t".join(("src", *row)) for row in entry.sources]
    values = [*_scalars(entry), *entry.site_packages]
    values += [f"{name}{version}" for name, (version, _i) in entry.expected.items()]
    values += [field for row in entry.selected for field in row[:5]]
    values += [field for row in entry.sources for field in row]
    if any("\t" in v or "\n" in v for v in values):
        return
    lines.append("end")
    path = _path(cache_dir, key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, "\n".join(lines).encode("utf-8", "surrogateescape"))
    except Exception:
        return


def _scalars(entry: CachedTarget) -> tuple[str, str, str, str]:
    return entry.prefix, entry.executable, str(int(entry.in_venv)), entry.python_version


def cached(
    lock_path: Path,
    python: str,
    *,
    extras: Collection[str],
    groups: Collection[str] | None,
    cache_dir: Path | None,
    purpose: str,
    compute: Callable[["LockFile", "TargetInfo"], CachedTarget],
) -> tuple[CachedTarget, str]:
    """The entry for this lock and target (cached while its key matches), and the lock's sha256.

    On a miss the lock is parsed and validated, the target asked, ``compute``
    run, and its answer stored for the next run.
    """
    from lockdown.fsutil import default_cache_dir, read_lock_bytes  # noqa: PLC0415

    data = read_lock_bytes(lock_path)
    root = cache_dir or default_cache_dir()
    lock_sha256 = hashlib.sha256(data).hexdigest()
    keyed = _keyed(lock_sha256, python, extras=extras, groups=groups, purpose=purpose)
    entry = load(root, keyed[0]) if keyed is not None else None
    # Validated on use too: an entry stored for a file that was not the
    # interpreter itself (should one exist) is never served.
    if entry is not None and keyed is not None and not answers_for_itself(keyed[1], entry):
        entry = None
    if entry is None:
        from lockdown.env.python_env import inspect_interpreter  # noqa: PLC0415
        from lockdown.lock.pylock import LockFile, parse_lock_bytes  # noqa: PLC0415

        raw, model = parse_lock_bytes(data, lock_path)
        lock = LockFile(path=lock_path, data=data, raw=raw, pylock=model)
        entry = compute(lock, inspect_interpreter(python))
        if keyed is not None and answers_for_itself(keyed[1], entry):
            store(root, keyed[0], entry)
    return entry, lock_sha256


def pins_of(expected: Mapping[str, "ExpectedPin"]) -> dict[str, tuple[str | None, bool]]:
    """Serializable form of an expected set (without the sources: :func:`sources_of`)."""
    return {k: (v.version, v.from_index) for k, v in expected.items()}


def sources_of(expected: Mapping[str, "ExpectedPin"]) -> tuple[SourceRow, ...]:
    """Serializable form of an expected set's locked sources, in name order."""
    return tuple(
        (name, pin.source.kind, *pin.source[1:])
        for name, pin in sorted(expected.items())
        if pin.source is not None
    )
