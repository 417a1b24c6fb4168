"""The ``artifacts`` level: installed files against the RECORD inside the locked wheel.

An installed RECORD can be rewritten to match a modified file; the wheel's own
RECORD cannot, once the wheel's sha256 has been checked against the lock. So
each installed distribution's wheel is fetched into the content-addressed
cache (hash-verified first), and every file it ships is compared on disk with
the wheel's RECORD, the way ``rpm -Vp`` checks against the package file.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import NormalizedName

from lockdown.artifacts import ArtifactCache, verify_all
from lockdown.drift.compare import display
from lockdown.drift.files import RecordEntry, parse_record, read_record
from lockdown.drift.model import FileDrift
from lockdown.env.install import Selected
from lockdown.env.python_env import InstalledDist, TargetInfo
from lockdown.fsutil import file_sha256


def wheel_record(wheel: Path) -> tuple[str, list[RecordEntry]]:
    """The ``.dist-info`` directory name inside ``wheel`` and its RECORD entries."""
    with zipfile.ZipFile(wheel) as archive:
        names = [n for n in archive.namelist() if n.endswith(".dist-info/RECORD")]
        if len(names) != 1:
            return "", []
        text = archive.read(names[0]).decode("utf-8", "surrogateescape")
    return names[0].rsplit("/", 1)[0], parse_record(text)


def installed_path(path: str, dist_info: str, target: TargetInfo, site: Path) -> Path | None:
    """Where a wheel member lands (the wheel spec's install scheme); ``None`` to skip."""
    data_prefix = dist_info.removesuffix(".dist-info") + ".data/"
    if path.startswith(data_prefix):
        scheme, _, rest = path[len(data_prefix) :].partition("/")
        if scheme in ("purelib", "platlib"):
            return site / rest
        if scheme == "scripts":
            return target.scripts / rest
        if scheme == "data":
            return target.prefix / rest
        return None  # headers: the include directory is not checked
    return site / path


def _same_script(on_disk: Path, expected_sha256: str, wheel: zipfile.ZipFile, member: str) -> bool:
    """Scripts get their ``#!python`` line rewritten on install: compare the rest."""
    try:
        shipped = wheel.read(member)
        actual = on_disk.read_bytes()
    except (OSError, KeyError):
        return False
    if not (shipped.startswith(b"#!") and actual.startswith(b"#!")):
        return False
    return shipped.split(b"\n", 1)[-1] == actual.split(b"\n", 1)[-1]


def check_against_wheels(
    selected: Sequence[Selected],
    installed: Mapping[NormalizedName, InstalledDist],
    target: TargetInfo,
    cache: ArtifactCache,
    *,
    source: str,
) -> tuple[list[FileDrift], int]:
    """Compare each installed, locked distribution with its verified wheel.

    ``source`` is who declared the wheels (the lock's path), for messages.
    """
    todo = [
        s
        for s in selected
        if not s.is_sdist and s.name in installed and installed[s.name].version == s.version
    ]
    files = verify_all(cache, [s.artifact for s in todo], source=source, rehash=True)
    drift: list[FileDrift] = []
    checked = 0
    root = os.path.realpath(target.prefix)
    # Paths are reported as RECORD names them (under the real prefix, scripts
    # and site-packages directories), never as a symlink's resolved target.
    real_target = target._replace(prefix=Path(root), scripts=Path(os.path.realpath(target.scripts)))
    for item in todo:
        dist = installed[item.name]
        site = Path(os.path.realpath(dist.dist_info.parent))
        recorded = {e.path: e for e in read_record(dist)}
        wheel_path = files[item.artifact.sha256]
        dist_info, entries = wheel_record(wheel_path)
        with zipfile.ZipFile(wheel_path) as wheel:
            for entry in entries:
                if entry.sha256 is None or entry.path.endswith("/RECORD"):
                    continue
                target_path = installed_path(entry.path, dist_info, real_target, site)
                if target_path is None:
                    continue
                lexical = os.path.normpath(target_path)
                rel = display(os.path.relpath(lexical, root))
                if not _inside(lexical, root):
                    # A member that lands outside the environment is never read.
                    drift.append(
                        FileDrift(
                            path=display(entry.path),
                            kind="escape",
                            package=item.name,
                            severity="high",
                            detail="the locked wheel's RECORD points outside the environment; "
                            "not followed",
                        )
                    )
                    continue
                if not _inside(os.path.realpath(lexical), root):
                    # In place, but a symlink (of the file or a directory) leads out.
                    drift.append(
                        FileDrift(
                            path=rel,
                            kind="symlink",
                            package=item.name,
                            severity="high",
                            detail="symlink points outside the environment; not followed",
                        )
                    )
                    continue
                checked += 1
                is_script = "/scripts/" in entry.path and ".data/" in entry.path
                found = _compare(lexical, entry, wheel, is_script=is_script)
                if found is not None:
                    flags, detail = found
                    drift.append(
                        FileDrift(path=rel, kind="missing", package=item.name)
                        if flags is None
                        else FileDrift(
                            path=rel, kind="modified", package=item.name, flags=flags, detail=detail
                        )
                    )
                # An installed RECORD that disagrees with the wheel's was rewritten.
                mine = recorded.get(entry.path)
                if not is_script and mine is not None and mine.sha256 not in (None, entry.sha256):
                    drift.append(
                        FileDrift(
                            path=rel,
                            kind="record",
                            package=item.name,
                            severity="high",
                            detail="the installed RECORD does not match the locked wheel's",
                        )
                    )
    return drift, checked


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root + os.sep)


def _compare(
    path: str, entry: RecordEntry, wheel: zipfile.ZipFile, *, is_script: bool
) -> tuple[str | None, str] | None:
    """What differs between the file at ``path`` and the wheel's ``entry``.

    ``None`` when it matches; else the ``rpm -V`` flags (``None`` for a missing
    file) and a detail. A symlink where the wheel has a regular file (a wheel
    cannot hold a symlink) is ``L``, and its target is never read.
    """
    if os.path.islink(path):
        try:
            target = display(os.readlink(path))
        except OSError:
            target = "?"
        return "L", f"replaced by a symlink to {target}"
    if not os.path.exists(path):
        return None, ""
    if file_sha256(path) == entry.sha256 or (
        is_script and _same_script(Path(path), entry.sha256 or "", wheel, entry.path)
    ):
        return None
    size_differs = entry.size is not None and os.stat(path).st_size != entry.size
    return ("S5" if size_differs else "5"), "differs from the locked wheel"
