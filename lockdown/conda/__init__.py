"""Conda environments: lock with py-rattler, write conda-lock's ``conda-lock.yml``,
install a prefix from verified archives, and drift-check it against the lock.

Everything here needs the ``conda`` extra (py-rattler and conda-lock);
:func:`require` says how to get it when it is missing, so pip-only users of
lockdown never import either.
"""

from __future__ import annotations

from lockdown.errors import UsageError

#: The conda lock file's default name (conda-lock's unified format).
CONDA_LOCK = "conda-lock.yml"


def require() -> None:
    """Fail with one clear line when the ``conda`` extra is not installed."""
    try:
        import conda_lock  # noqa: F401, PLC0415
        import rattler  # noqa: F401, PLC0415
    except ImportError as exc:
        raise UsageError(
            f"conda support needs py-rattler and conda-lock ({exc.name} is missing)",
            hint="pip install 'lockdown[conda]'",
        ) from None
