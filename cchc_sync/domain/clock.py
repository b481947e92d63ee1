"""Time as the product sees it: stored in UTC, shown and counted in Vietnam's days.

One constant for the Vietnam time zone. A fixed UTC+7 offset, not the tz database: the
country has kept UTC+7 without daylight saving since 1975, and a fixed offset needs no
`tzdata` (absent on some Windows machines).
"""

from __future__ import annotations

import datetime as dt

VIETNAM = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")


def utcnow() -> dt.datetime:
    """Now in UTC to the second (what the archive stores)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def vietnam_day(moment: dt.datetime) -> dt.date:
    """The Vietnamese calendar day of an aware moment (deadlines are such days)."""
    return moment.astimezone(VIETNAM).date()
