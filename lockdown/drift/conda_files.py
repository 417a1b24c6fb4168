"""A conda prefix's files against its conda-meta records (the ``files`` level).

Every recorded file of every package against ``sha256_in_prefix`` (a file
whose prefix placeholder was rewritten) or ``sha256``; sizes only for files
that were not rewritten; ``.pyc`` files and directories skipped; paths
confined to the prefix. Files in the prefix's site-packages that no record
owns are reported as for venvs (:func:`lockdown.drift.files.unowned_files`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockdown.drift.files import FileCheck, RecordEntry
    from lockdown.drift.model import FileDrift
    from lockdown.env.conda_meta import CondaRecord

#: conda-meta path types that carry no content to check.
_SKIPPED_TYPES = frozenset({"directory", "pyc_file", "unix_python_entry_point"})
#: conda-meta path types an installer creates itself: never shipped by an archive.
CREATED_TYPES = _SKIPPED_TYPES | {
    "windows_python_entry_point_script",
    "windows_python_entry_point_exe",
    "linked_package_record",
}


def check_prefix_files(records: list[CondaRecord], prefix: Path) -> FileCheck:
    """Every recorded file of every package, confined to the prefix: drift, count, owned paths."""
    from lockdown.drift.files import FileCheck, RecordEntry, check_recorded  # noqa: PLC0415

    root = os.path.realpath(prefix)

    def owners(links: bool) -> list[tuple[str, str, list[RecordEntry]]]:
        return [
            (
                r.name,
                root,
                [
                    RecordEntry(f.path, f.sha256, f.size)
                    for f in r.files
                    if f.path_type not in _SKIPPED_TYPES
                    and not f.path.endswith(".pyc")
                    and (f.path_type == "softlink") == links
                ],
            )
            for r in records
        ]

    # A file recorded as a regular file (hardlink) that is now a symlink is a
    # change, wherever it points; packages' own softlinks are followed in the prefix.
    files = check_recorded(owners(False), prefix, symlinks_allowed=False)
    links = check_recorded(owners(True), prefix, symlinks_allowed=True)
    return FileCheck(
        drift=[*files.drift, *links.drift],
        checked=files.checked + links.checked,
        owned=files.owned | links.owned,
    )


def site_packages_dirs(prefix: Path) -> list[Path]:
    """The prefix's site-packages directories (any Python), confined to the prefix."""
    root = os.path.realpath(prefix)
    found: dict[str, Path] = {}
    for site in (
        *sorted(prefix.glob("lib/python*/site-packages")),
        prefix / "Lib" / "site-packages",
    ):
        real = os.path.realpath(site)
        if os.path.isdir(real) and real.startswith(root + os.sep):
            found.setdefault(real, site)
    return list(found.values())


def unowned_in_prefix(prefix: Path, owned: set[str]) -> list[FileDrift]:
    """Files in the prefix's site-packages no conda-meta record and no RECORD owns.

    The venv logic (:func:`lockdown.drift.files.unowned_files`): ``*.pth``
    files and ``sitecustomize.py`` / ``usercustomize.py`` run code at every
    interpreter start, so they are high severity.
    """
    from lockdown.drift.files import unowned_files  # noqa: PLC0415

    return unowned_files(site_packages_dirs(prefix), owned, prefix)
