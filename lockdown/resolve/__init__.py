"""Resolver backends (uv, pip-tools) behind one interface, and the simple-API index client."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lockdown.resolve.interface import Resolver

# The resolver types live in lockdown.resolve.interface. They are not imported
# here: the index client (lockdown.resolve.index) is also used by the lock's
# yank check, and importing this package must stay cheap.
__all__ = ["default_index_url", "get_resolver"]


def get_resolver(name: str, *, notify: Callable[[str], None] | None = None) -> Resolver:
    """The backend called ``name`` in config (``uv`` or ``pip-tools``)."""
    if name == "pip-tools":
        from lockdown.resolve.piptools import PipToolsResolver  # noqa: PLC0415

        return PipToolsResolver(notify=notify)
    from lockdown.resolve.uv import UvResolver  # noqa: PLC0415

    return UvResolver(notify=notify)


def default_index_url() -> str:
    """The index uv and pip use when none is configured, asked of pip itself.

    lockdown writes no index host name of its own: the default is whatever the
    installers people use default to, so a lock and a plain ``pip install``
    agree on where packages come from.
    """
    from lockdown.errors import ResolutionError  # noqa: PLC0415

    try:
        from pip._internal.models.index import PyPI  # noqa: PLC0415
    except ImportError:
        raise ResolutionError(
            "cannot determine the default package index: pip is not installed next to lockdown",
            hint="set index-url in [tool.lockdown] or reinstall lockdown",
        ) from None
    return str(PyPI.simple_url).rstrip("/") + "/"
