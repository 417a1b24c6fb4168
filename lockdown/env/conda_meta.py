"""A conda prefix, read from the outside: ``conda-meta/*.json``, never importing anything.

Each record names the package (name, version, build, channel, url, sha256)
and lists its files (``paths_data``) with the sha256 of what was installed
(``sha256_in_prefix`` when the installer rewrote a prefix placeholder, else
the archive's ``sha256``) and its size.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True, slots=True, kw_only=True)
class PrefixFile:
    """One file a conda package installed."""

    path: str
    path_type: str
    #: What its content must hash to now (``sha256_in_prefix``, else ``sha256``).
    sha256: str | None
    #: Its size, when meaningful (``None`` for prefix-patched files: it changed on install).
    size: int | None
    #: The sha256 the record says the file had in the archive (before any rewriting).
    archive_sha256: str | None = None
    #: The record's ``sha256_in_prefix`` as written (the installer's claim about the
    #: file after it wrote the prefix in), if any.
    sha256_in_prefix: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CondaRecord:
    """One installed conda package, as its ``conda-meta`` record says."""

    name: str
    version: str
    build: str
    channel: str
    url: str
    sha256: str
    meta_path: Path
    files: tuple[PrefixFile, ...]
    #: The record's ``subdir`` (``noarch``, ``linux-64``...), "" when it has none.
    subdir: str = ""
    #: The record's plain ``files`` list (what conda removes on uninstall); it
    #: should name exactly the paths of ``files`` above.
    names: tuple[str, ...] = ()
    #: The record's ``depends`` match specs (``python >=3.9``...), as written.
    depends: tuple[str, ...] = ()


#: A conda-meta record larger than this is refused (big packages list many
#: thousands of files in a few MB).
_MAX_RECORD = 128 << 20


def read_prefix(prefix: Path) -> list[CondaRecord]:
    """Every package record in ``prefix/conda-meta``, by name; unreadable records are errors."""
    from lockdown.errors import UsageError  # noqa: PLC0415

    meta = prefix / "conda-meta"
    try:
        names = sorted(n for n in os.listdir(meta) if n.endswith(".json"))
    except FileNotFoundError:
        raise UsageError(
            f"{prefix} is not a conda environment (no conda-meta)",
            hint="pass the prefix of a conda environment",
        ) from None
    records = []
    for name in names:
        path = meta / name
        try:
            with path.open("rb") as handle:
                data = handle.read(_MAX_RECORD + 1)
            if len(data) > _MAX_RECORD:
                raise ValueError(f"larger than {_MAX_RECORD >> 20} MB")
            raw = json.loads(data)
        except (OSError, ValueError, RecursionError) as exc:
            raise UsageError(
                f"{path}: unreadable conda-meta record: {exc}".splitlines()[0]
            ) from None
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise UsageError(f"{path}: not a conda-meta package record")
        records.append(_record(raw, path))
    return sorted(records, key=lambda r: r.name)


def _record(raw: Mapping[str, Any], path: Path) -> CondaRecord:
    paths = raw.get("paths_data", {})
    entries = paths.get("paths", []) if isinstance(paths, dict) else []
    files = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("_path"), str):
            continue
        patched = "prefix_placeholder" in entry or "sha256_in_prefix" in entry
        digest = entry.get("sha256_in_prefix") or entry.get("sha256")
        size = entry.get("size_in_bytes")
        archive = entry.get("sha256")
        in_prefix = entry.get("sha256_in_prefix")
        files.append(
            PrefixFile(
                path=entry["_path"],
                path_type=str(entry.get("path_type", "hardlink")),
                sha256=digest if isinstance(digest, str) else None,
                size=None if patched or not isinstance(size, int) else size,
                archive_sha256=archive if isinstance(archive, str) else None,
                sha256_in_prefix=in_prefix if isinstance(in_prefix, str) else None,
            )
        )
    names = raw.get("files", [])
    depends = raw.get("depends", [])
    return CondaRecord(
        name=str(raw["name"]),
        version=str(raw.get("version", "")),
        build=str(raw.get("build", "")),
        channel=str(raw.get("channel", "")).rstrip("/"),
        url=str(raw.get("url", "")),
        sha256=str(raw.get("sha256", "")),
        meta_path=path,
        files=tuple(files),
        subdir=str(raw.get("subdir") or ""),
        names=tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else (),
        depends=(
            tuple(d for d in depends if isinstance(d, str)) if isinstance(depends, list) else ()
        ),
    )


def records_by_name(records: Sequence[CondaRecord]) -> dict[str, CondaRecord]:
    """Records by package name."""
    return {r.name: r for r in records}


#: (sys.platform, machine) → conda subdir, for the machines conda builds for.
_SUBDIRS = {
    ("linux", "x86_64"): "linux-64",
    ("linux", "aarch64"): "linux-aarch64",
    ("linux", "ppc64le"): "linux-ppc64le",
    ("linux", "s390x"): "linux-s390x",
    ("darwin", "x86_64"): "osx-64",
    ("darwin", "arm64"): "osx-arm64",
    ("win32", "AMD64"): "win-64",
    ("win32", "ARM64"): "win-arm64",
}


def current_platform() -> str:
    """This machine's conda subdir (``linux-64``, ``osx-arm64``...).

    Worked out from the interpreter's platform (``check`` runs from cron and
    should not import py-rattler for this); rattler answers for anything else.
    """
    import platform  # noqa: PLC0415

    known = _SUBDIRS.get((sys.platform, platform.machine()))
    if known is not None:
        return known
    from lockdown.lock.condalock import require  # noqa: PLC0415

    require()
    import rattler  # noqa: PLC0415

    return str(rattler.Subdir.current())
