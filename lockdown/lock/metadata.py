"""The core metadata (``METADATA``) of a locked wheel: from the verified wheel in the
artifact cache, or the PEP 658 file its index serves next to it.

One reader for every part that needs what a locked wheel declares: the
yank check its ``Requires-Dist``, the lock's license records and the SBOM
export its licenses. Parsed with ``packaging.metadata``; a file that is not a
readable wheel is ``None``, never an error, because what it would have
declared is then simply unknown.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from lockdown.errors import IntegrityError, PackageIndexError

if TYPE_CHECKING:
    from packaging.metadata import RawMetadata

    from lockdown.net import Transport

#: A core metadata file larger than this is not one (the largest real ones are ~100 kB).
MAX_METADATA_BYTES = 4 << 20


def fetch_core_metadata(wheel_url: str, transport: Transport, *, sha256: str | None) -> bytes:
    """The PEP 658 ``<wheel>.metadata`` file, checked against ``sha256`` if the index gave one.

    A fetch that fails is a :class:`PackageIndexError`; bytes that are not the
    declared ones an :class:`IntegrityError` (exit 16).
    """
    import hashlib  # noqa: PLC0415

    url = wheel_url + ".metadata"
    page = transport.get(
        url,
        headers={},
        limit=MAX_METADATA_BYTES,
        too_large=lambda: PackageIndexError(f"{url} is too large for a core metadata file"),
        what=f"cannot download {url}",
    )
    got = hashlib.sha256(page.body).hexdigest()
    if sha256 is not None and got != sha256:
        raise IntegrityError(
            f"{url}: sha256 {got} is not the {sha256} its index declares; "
            "the index or a proxy is serving altered metadata"
        )
    return page.body


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
