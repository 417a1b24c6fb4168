"""PEP 503 project-name normalization, without importing packaging."""

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
