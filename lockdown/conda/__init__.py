"""Conda environments: lock with py-rattler, write conda-lock's ``conda-lock.yml``,
install a prefix from verified archives, and drift-check it against the lock.

Everything here needs the ``conda`` extra (py-rattler and conda-lock);
:func:`require` says how to get it when it is missing, so pip-only users of
lockdown never import either.
"""

from __future__ import annotations

from lockdown.config.conda import CONDA_LOCK as CONDA_LOCK
from lockdown.errors import UsageError


def require() -> None:
    """Fail with one clear line when the ``conda`` extra is not installed.

    Also imports conda-lock's lock-file modules once with its own deprecation
    warnings silenced: they concern conda-lock's vendored code, not lockdown's
    use, and would otherwise reach users (or fail a warnings-as-errors run).
    """
    import warnings  # noqa: PLC0415

    try:
        import rattler  # noqa: F401, PLC0415

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            import conda_lock.lockfile  # noqa: PLC0415
            import conda_lock.models.channel  # noqa: F401, PLC0415
    except ImportError as exc:
        raise UsageError(
            f"conda support needs py-rattler and conda-lock ({exc.name} is missing)",
            hint="pip install 'lockdown[conda]'",
        ) from None
