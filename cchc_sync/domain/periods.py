"""Reporting periods: DHIS2-style codes with an explicit closing window.

Government reports close data on a window, not the calendar (Decree 09/2019/NĐ-CP,
Art. 12): a month runs from the 15th of the previous month to the 14th; a quarter, a
half-year and a year likewise start on the 15th of the month before. The cut-off day is
configuration (some provinces use the 16th).
"""

from __future__ import annotations

import datetime as dt
import re

from cchc_sync.domain.records import Period

_PATTERNS = (
    ("half", re.compile(r"^(\d{4})S([12])$")),
    ("quarter", re.compile(r"^(\d{4})Q([1-4])$")),
    ("nine", re.compile(r"^(\d{4})N9$")),
    ("month", re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")),
    ("year", re.compile(r"^(\d{4})$")),
)


class PeriodError(ValueError):
    pass


def _month_back(year: int, month: int) -> tuple[int, int]:
    return (year - 1, 12) if month == 1 else (year, month - 1)


def _window(year: int, first_month: int, last_month: int, cutoff_day: int) -> tuple:
    """From the cut-off day of the month before first_month to the day before the cut-off
    in last_month."""
    sy, sm = _month_back(year, first_month)
    start = dt.date(sy, sm, cutoff_day)
    end = dt.date(year, last_month, cutoff_day) - dt.timedelta(days=1)
    return start, end


def parse_period(code: str, cutoff_day: int = 15, calendar: bool = False) -> Period:
    """Parse a period code into its explicit window.

    cutoff_day: the first day of a window (15 by Decree 09/2019/NĐ-CP).
    calendar: use plain calendar windows instead (1 Jan - 30 Jun, ...).
    """
    code = code.strip().upper()
    try:
        _, year, first, last = _months_of(code)
    except PeriodError:
        raise PeriodError(f"unknown period code {code!r}: use e.g. 2022S1, 2022S2, 2022Q2, "
                          "202206, 2022, 2022N9") from None
    if calendar:
        start = dt.date(year, first, 1)
        ny, nm = (year + 1, 1) if last == 12 else (year, last + 1)
        end = dt.date(ny, nm, 1) - dt.timedelta(days=1)
    else:
        start, end = _window(year, first, last, cutoff_day)
    return Period(code=code, start=start, end=end)


def _shift(code: str, step: int) -> str:
    """The period `step` periods before (negative) or after (positive) `code`, same kind."""
    code = code.strip().upper()
    for kind, pattern in _PATTERNS:
        m = pattern.match(code)
        if not m:
            continue
        year = int(m.group(1))
        if kind == "half":
            n = (year * 2 + int(m.group(2)) - 1) + step
            return f"{n // 2}S{n % 2 + 1}"
        if kind == "quarter":
            n = (year * 4 + int(m.group(2)) - 1) + step
            return f"{n // 4}Q{n % 4 + 1}"
        if kind == "month":
            n = (year * 12 + int(m.group(2)) - 1) + step
            return f"{n // 12}{n % 12 + 1:02d}"
        if kind == "nine":
            return f"{year + step}N9"
        return f"{year + step}"
    raise PeriodError(f"unknown period code {code!r}")


def previous_period(code: str) -> str:
    """The period just before: 2022S1 -> 2021S2, 2022Q1 -> 2021Q4, 202201 -> 202112."""
    return _shift(code, -1)


def next_period(code: str) -> str:
    return _shift(code, 1)


def year_earlier(code: str) -> str:
    """The same period a year earlier: 2022S1 -> 2021S1, 202206 -> 202106."""
    code = code.strip().upper()
    per_year = {"half": 2, "quarter": 4, "month": 12, "nine": 1, "year": 1}
    for kind, pattern in _PATTERNS:
        if pattern.match(code):
            return _shift(code, -per_year[kind])
    raise PeriodError(f"unknown period code {code!r}")


def component_periods(code: str) -> list[tuple[str, ...]]:
    """The ways shorter periods tile `code`'s window, coarsest first: the year 2026 ->
    (2026S1, 2026S2), (2026Q1 … 2026Q4), (202601 … 202612); a half-year -> its quarters,
    its months; 2026N9 -> its quarters, its months; a quarter -> its months; a month -> none.
    Windows tile exactly because every window starts on the same cut-off day."""
    code = code.strip().upper()
    kind, year, first, last = _months_of(code)
    if kind == "month":
        return []
    out: list[tuple[str, ...]] = []
    if kind == "year":
        out.append((f"{year}S1", f"{year}S2"))
    if kind != "quarter":
        out.append(tuple(f"{year}Q{q}" for q in range((first + 2) // 3, last // 3 + 1)))
    out.append(tuple(f"{year}{m:02d}" for m in range(first, last + 1)))
    return out


def _months_of(code: str) -> tuple[str, int, int, int]:
    """(kind, year, first month, last month) of a period code."""
    for kind, pattern in _PATTERNS:
        m = pattern.match(code)
        if not m:
            continue
        year = int(m.group(1))
        if kind == "half":
            return kind, year, *((1, 6) if m.group(2) == "1" else (7, 12))
        if kind == "quarter":
            q = int(m.group(2))
            return kind, year, 3 * q - 2, 3 * q
        if kind == "nine":
            return kind, year, 1, 9
        if kind == "month":
            return kind, year, int(m.group(2)), int(m.group(2))
        return kind, year, 1, 12
    raise PeriodError(f"unknown period code {code!r}")


def deadline(period: Period, days_after_end: int) -> dt.date:
    """The last day a unit may sign off on time."""
    return period.end + dt.timedelta(days=days_after_end)


def half_year_containing(day: dt.date, cutoff_day: int = 15) -> str:
    """The half-year period whose closing window contains `day` (15/12 starts next S1)."""
    if (day.month, day.day) >= (12, cutoff_day):
        return f"{day.year + 1}S1"
    if (day.month, day.day) >= (6, cutoff_day):
        return f"{day.year}S2"
    return f"{day.year}S1"
