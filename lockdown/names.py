"""PEP 503 project-name normalization (without importing packaging), and index URLs as compared."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

_SEPARATORS = re.compile(r"[-_.]+")


def normalize_name(name: str) -> NormalizedName:
    """PEP 503 name normalization, as ``packaging.utils.canonicalize_name`` does it.

    Written out because it is one regular expression, and the drift check's
    fast path must not pay for importing packaging to apply it.
    """
    return cast("NormalizedName", _SEPARATORS.sub("-", name).lower())


def index_key(url: str | None) -> str | None:
    """An index URL compared as URLs are: scheme and host case-insensitive, one final ``/``."""
    if url is None:
        return None
    from urllib.parse import urlsplit  # noqa: PLC0415 - only callers comparing indexes need it

    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/") + "/"
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{path}"
