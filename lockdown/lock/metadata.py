"""The core metadata (``METADATA``) of a wheel lockdown verified into its artifact cache.

One reader for every part that needs what a locked wheel declares: the
yank check its ``Requires-Dist``, the SBOM export its licenses. Parsed with
``packaging.metadata``; a file that is not a readable wheel is ``None``, never
an error, because what it would have declared is then simply unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata


def wheel_metadata(wheel: Path) -> RawMetadata | None:
    """The wheel's ``*.dist-info/METADATA`` as raw fields; ``None`` when it cannot be read."""
    import zipfile  # noqa: PLC0415

    from packaging.metadata import parse_email  # noqa: PLC0415

    try:
        with zipfile.ZipFile(wheel) as archive:
            names = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
            if len(names) != 1:
                return None
            raw, _unparsed = parse_email(archive.read(names[0]))
    except (OSError, zipfile.BadZipFile, KeyError):
        return None
    return raw
