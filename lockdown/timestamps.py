"""Timestamps with a zone, as package indexes (PEP 700 ``upload-time``) and OSV write them.

Written by hand because ``datetime.fromisoformat`` on Python 3.10 rejects
``Z`` and fractions longer than six digits (OSV writes nanoseconds).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Final

#: A clock: the current moment, with a zone (tests pass a frozen one).
Clock = Callable[[], datetime]

_PATTERN: Final = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?"
    r"(?:([Zz])|([+-])(\d{2}):?(\d{2}))"
)


def parse_timestamp(text: str) -> datetime:
    """``2024-07-11T17:21:37.216928Z`` (or with an offset) as an aware UTC datetime.

    :class:`ValueError` says why when it is not one: ``not an ISO 8601 date and
    time with a zone`` or ``not a valid time (…)``.
    """
    match = _PATTERN.fullmatch(text.strip())
    if match is None:
        raise ValueError("not an ISO 8601 date and time with a zone")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    offset = timedelta(0)
    if zulu is None:
        offset = timedelta(hours=int(off_h), minutes=int(off_m))
        offset = -offset if sign == "-" else offset
    try:
        moment = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            int((fraction or "0").ljust(6, "0")[:6]),
            tzinfo=timezone(offset),
        )
    except ValueError as error:
        raise ValueError(f"not a valid time ({error})") from None
    return moment.astimezone(timezone.utc)


def utc_now() -> datetime:
    """The current moment, in UTC, to the second."""
    return datetime.now(timezone.utc).replace(microsecond=0)
