"""PEP 503 project-name normalization (without importing packaging), index URLs as compared,
and the distributions an installer brings along.

Light on purpose: ``check --level versions`` imports it on every run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from packaging.utils import NormalizedName

#: Distributions an installer brings along: ``install`` keeps them and ``check``
#: does not report them when the lock does not list them (``[tool.lockdown.install] keep``).
#: Here, not in :mod:`lockdown.config`, so a check without a project config reads no config code.
DEFAULT_KEEP: tuple[str, ...] = ("pip", "setuptools", "wheel")

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
