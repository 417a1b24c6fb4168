"""The cooldown's cutoff: which upload times a lock may see (``min-release-age``)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from lockdown.config.fields import format_duration


def cooldown_cutoff(
    recorded: datetime | None,
    recorded_age: object,
    age: timedelta | None,
    now: datetime,
    *,
    moving: bool,
) -> datetime | None:
    """The cutoff: the previous lock's (``recorded``, for ``recorded_age``) when it used
    the same age and nothing asks to move, else ``now - age``.

    Re-locking then sees exactly the files the previous lock saw; ``--upgrade``
    and ``--upgrade-package`` move the cutoff. Shared by the Python and the conda lock.
    """
    if age is None:
        return None
    if recorded is not None and not moving and recorded_age == format_duration(age):
        return recorded.astimezone(timezone.utc)
    return (now - age).replace(microsecond=0)
