"""Dates: spreadsheet serials and the ways Vietnamese clerks write a date (day first)."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cchc_sync.domain.records import CellFormat
from cchc_sync.domain.templates import ColumnSpec
from cchc_sync.domain.vnformat import format_date, format_int
from cchc_sync.normalise.base import Parsed, error, quote
from cchc_sync.normalise.text import clean_text

SERIAL_EPOCH = dt.date(1899, 12, 30)
"""Day 0 of Google Sheets and (from 1 March 1900 on) Excel date serials."""

FIRST_YEAR, LAST_YEAR = 1900, 2100
"""Dates outside these years are taken as typing mistakes."""

SERIAL_MIN = (dt.date(FIRST_YEAR, 1, 1) - SERIAL_EPOCH).days
SERIAL_MAX = (dt.date(LAST_YEAR, 12, 31) - SERIAL_EPOCH).days

EXCEL_LEAP_DAY = 60
"""Excel's serial of 29/02/1900, a day that never was (Lotus 1-2-3's leap-year bug). A
reader that leaves it as a number (sources/xlsx/read.py) lets it be named here; Google
Sheets has no such day and delivers its serials as datetimes."""
EXCEL_SERIAL_MIN, EXCEL_SERIAL_MAX = 0, 2_958_465
"""The numbers Excel can show as a date (to 31/12/9999); anything else is no date at all."""

EXAMPLE = "07/06/2022"


def serial_to_date(serial: float) -> dt.date:
    """The date of a Sheets/Excel serial number (days since 1899-12-30; the fraction is
    the time of day and is dropped). Raises OverflowError/ValueError far outside years
    1–9999. Serials below 61 differ by a day in Excel, which counts a 29 February 1900
    that never was; the 1900–2100 range this project accepts starts after that matters
    only for January and February 1900."""
    return SERIAL_EPOCH + dt.timedelta(days=math.floor(serial))


# --- text --------------------------------------------------------------------------------

_N12 = "([0-9]{1,2})"
_SEP = r"\s*[/.\-]\s*"
# "Bến Tre, ngày 07 tháng 6 năm 2022": the place line of a Vietnamese document.
_PLACE = "(?:[^0-9,]{1,60},\\s*)?"
_TIME = (r"(?:\s*[t ]\s*[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?"
         r"(?:z|[+\-][0-9]{2}:?[0-9]{2})?)?")
_DAY_WORD = "(?:ngày|ngay)"
_DMY = re.compile(f"{_PLACE}(?:{_DAY_WORD}\\s*:?\\s*)?{_N12}{_SEP}{_N12}{_SEP}"
                  f"([0-9]{{4}}|[0-9]{{2}}){_TIME}\\.?")
_LONG = re.compile(f"{_PLACE}{_DAY_WORD}\\s*{_N12}\\s*(?:tháng|thang)\\s*{_N12}\\s*"
                   "(?:năm|nam)\\s*([0-9]{4})\\.?")
_ISO = re.compile(f"([0-9]{{4}}){_SEP}{_N12}{_SEP}{_N12}{_TIME}")

_MAX_DATE_TEXT = 120


@dataclass(frozen=True, slots=True)
class DateText:
    """What a text says as a date: the date, or why a date-shaped text is no date."""

    date: dt.date | None = None
    problem: str | None = None
    """"impossible" (31/02/2022) or "year" (a year outside 1900–2100)."""
    year: int | None = None


def parse_date_text(text: str) -> DateText | None:
    """The date a clerk wrote, day first: "07/6/2022", "7-6-2022", "07.06.2022",
    "7/6/22" (-> 2022), "ngày 07 tháng 6 năm 2022", "Ngày 07/6/2022",
    "Bến Tre, ngày 07 tháng 6 năm 2022", ISO "2022-06-07" (a time after it is ignored).
    None when the text is not shaped like a date at all."""
    s = clean_text(text).lower()
    if not s or len(s) > _MAX_DATE_TEXT:
        return None
    if m := _ISO.fullmatch(s):
        y, mo, d = (int(g) for g in m.groups())
    elif m := (_DMY.fullmatch(s) or _LONG.fullmatch(s)):
        d, mo = int(m.group(1)), int(m.group(2))
        y = int(m.group(3))
        if len(m.group(3)) == 2:
            y += 2000  # "7/6/22": two-digit years are this century
    else:
        return None
    if not FIRST_YEAR <= y <= LAST_YEAR:
        return DateText(problem="year", year=y)
    try:
        return DateText(date=dt.date(y, mo, d))
    except ValueError:
        return DateText(problem="impossible")


# --- cells -------------------------------------------------------------------------------


def _form() -> str:
    return f"dd/mm/yyyy, ví dụ {EXAMPLE} hoặc ngày 07 tháng 6 năm 2022"


def _invalid(column: ColumnSpec, value: Any, what: str) -> Parsed:
    return error(
        "cell.date.invalid",
        f'Ô "{column.title}" cần một ngày tháng, nhưng {what}. '
        f"Hãy ghi ngày theo dạng {_form()}.",
        value,
    )


def _out_of_range(column: ColumnSpec, value: Any, shown: str, year: int | None) -> Parsed:
    return error(
        "cell.date.range",
        f'Ngày ở ô "{column.title}" có năm {year if year is not None else "?"} '
        f'("{shown}"), có lẽ gõ nhầm. Hãy kiểm tra và ghi lại theo dạng {_form()}.',
        value,
    )


def _checked(d: dt.date, column: ColumnSpec, value: Any) -> Parsed:
    if not FIRST_YEAR <= d.year <= LAST_YEAR:
        return _out_of_range(column, value, d.isoformat(), d.year)
    return Parsed(value=d)


def normalise_date(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    """A date cell: a stored date/datetime, a date serial, or text written day first."""
    if isinstance(value, bool):
        return _invalid(column, value, "ô đang chứa giá trị đúng/sai (TRUE/FALSE)")
    if isinstance(value, dt.datetime):
        return _checked(value.date(), column, value)
    if isinstance(value, dt.date):
        return _checked(value, column, value)
    if isinstance(value, int | float | Decimal):
        return _date_number(value, fmt, column)
    if isinstance(value, str):
        return _date_text(value, column)
    return _invalid(column, value, "không đọc được giá trị trong ô")


def _date_number(value: int | float | Decimal, fmt: CellFormat | None,
                 column: ColumnSpec) -> Parsed:
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too large for a float
        finite = False
    if not finite:
        return _invalid(column, value, "ô đang chứa một giá trị không phải số")
    in_range = SERIAL_MIN <= value <= SERIAL_MAX
    if fmt is CellFormat.DATE or (fmt is None and in_range):
        if fmt is CellFormat.DATE and EXCEL_LEAP_DAY <= value < EXCEL_LEAP_DAY + 1:
            return error(
                "cell.date.invalid",
                f'Ô "{column.title}" đang chứa ngày 29/02/1900 (số {quote(value)} của Excel): '
                "ngày 29/02/1900 không tồn tại (năm 1900 không nhuận, Excel vẫn đếm ngày này). "
                f"Hãy ghi lại ngày đúng theo dạng {_form()}.",
                value,
            )
        if not in_range:
            if not EXCEL_SERIAL_MIN <= value <= EXCEL_SERIAL_MAX:
                return error(
                    "cell.date.range",
                    f'Ô "{column.title}" được định dạng ngày tháng nhưng chứa số '
                    f"{_number(value)}: số này không phải là ngày (ngày tháng của bảng tính chỉ "
                    f"đến 31/12/9999). Hãy ghi ngày theo dạng {_form()}.",
                    value,
                )
            return _out_of_range(column, value, quote(value), serial_to_date(float(value)).year)
        return Parsed(value=serial_to_date(float(value)))
    return _invalid(column, value, f"bạn ghi số {quote(value)}, không phải ngày tháng")


def _number(value: int | float | Decimal) -> str:
    """A whole number as Vietnamese write it (10.000.000), anything else (a huge number
    included: quote says "một số rất lớn") as typed."""
    whole = float(value).is_integer() and -(10**15) < value < 10**15
    return format_int(value) if whole else quote(value)


def _date_text(raw: str, column: ColumnSpec) -> Parsed:
    parsed = parse_date_text(raw)
    typed = quote(raw)
    if parsed is None:
        return _invalid(column, raw, f'bạn ghi "{typed}"')
    if parsed.problem == "impossible":
        return error(
            "cell.date.invalid",
            f'"{typed}" ở ô "{column.title}" không phải là một ngày có thật (ngày ghi trước, '
            f"rồi đến tháng, rồi năm; ví dụ tháng 2 không có ngày 30). "
            f"Hãy ghi lại ngày đúng theo dạng {_form()}.",
            raw,
        )
    if parsed.problem == "year":
        return _out_of_range(column, raw, typed, parsed.year)
    assert parsed.date is not None
    return Parsed(value=parsed.date)


def describe(d: dt.date) -> str:
    """A date as shown inside a message."""
    try:
        return format_date(d)
    except Exception:  # pragma: no cover - a message must never fail
        return d.isoformat()
