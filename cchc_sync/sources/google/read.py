"""Turning one `values.batchGet` answer (or a tab's grid data) into RawTables, like the
local backend's reader.

The read asks for stored values (UNFORMATTED_VALUE) with dates as display strings
(dateTimeRenderOption FORMATTED_STRING): a number is a JSON number, text is text, and a
cell Sheets shows as a date, a time, both or a duration comes as the string its number
format shows ("15/06/2026" in a `dd/mm/yyyy` date column; "15/6" where a clerk typed 15/6
into a `#,##0` count and Sheets made it 15 June). Nothing else says which strings those
are, so in count, percent and date columns a string shaped exactly as Sheets renders a date
or time in the vi_VN sheets (`shown_date`: day first, "15/6", "15/6/2026", "15/06/2026",
"2026-06-15", "8:30", "8:30:00", and a date with a time) is taken as that date: the
`datetime` (a `time` for a time alone) openpyxl gives for a date-formatted .xlsx cell, with
CellFormat.DATE. A count a clerk typed as "15/6" is then the date it became, as in the
local backend (`cell.int.date`), never a count. The one text read as a date too is a
date-shaped text typed into such a column as text (a leading ' or a cell formatted Plain
text): in a count it is flagged `cell.int.date` either way, in a date column it is the same
date; a year-less "15/6" is this year's.

Other numbers take their column's format (a number in a date column is given
CellFormat.DATE, in a percent column PERCENT and elsewhere NUMBER: what a clerk sees
there), text in a text column TEXT. A column a person re-formatted is noticed only where
it shows dates (the formats themselves would need the grid data: 36 times the read).

Grid data (the missing-tab fallback, the flag write's answer) gives the same rows: a number
whose format type is a date, time or duration stands for its `formattedValue`, which is the
string values.batchGet gives for it (`grid_values`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from cchc_sync.domain.records import CellFormat, RawCell, RawRow, RawTable
from cchc_sync.domain.templates import ColumnType, TableSpec
from cchc_sync.sources.sheet_layout import HEADER_SEARCH_ROWS, find_header, row_explanation

_NUMBER_FORMAT = {
    ColumnType.DATE: CellFormat.DATE,
    ColumnType.PCT: CellFormat.PERCENT,
}
_TEXT_FORMAT = {ColumnType.TEXT: CellFormat.TEXT, ColumnType.DOCNO: CellFormat.TEXT}


def read_table(spec: TableSpec, rows: Sequence[Sequence[Any]] | None) -> RawTable:
    """The table from the rows of its tab (None: the tab does not exist)."""
    if rows is None:
        return RawTable(table=spec.key, tab_found=False)
    layout = find_header(rows[:HEADER_SEARCH_ROWS], spec)
    columns = sorted(layout.columns.items(), key=lambda kv: kv[1])
    types = {c.key: c.type for c in spec.columns}
    out: list[RawRow] = []
    for number, row in enumerate(rows, start=1):
        if number <= layout.header_row:
            continue
        raw = _raw_row(number, row, columns, types, layout.explanation_col)
        if raw is not None:
            out.append(raw)
    return RawTable(table=spec.key, tab_found=True, layout=layout, rows=tuple(out))


VALUES_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE",
                 "dateTimeRenderOption": "FORMATTED_STRING", "majorDimension": "ROWS"}
"""values.batchGet parameters of the read: stored values; dates, times and durations as the
strings their number format shows (see the module docstring)."""
ALL_VALUES_FIELDS = ("sheets(properties(title),data(startRow,startColumn,rowData(values("
                     "effectiveValue,formattedValue,effectiveFormat.numberFormat.type))))")
"""spreadsheets.get mask of the fallback read when a tab is missing or renamed (every tab's
grid data: one request that cannot fail on a tab title): each cell's stored value, what it
shows and its number format's type, so `grid_values` gives what values.batchGet would."""
_ERROR_TEXT = {"DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
               "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "NULL_VALUE": "#NULL!"}
_SHOWN_TYPES = frozenset({"DATE", "TIME", "DATE_TIME", "DURATION"})
"""Number format types values.batchGet renders as strings with FORMATTED_STRING."""
_DATE_COLUMNS = frozenset({ColumnType.INT, ColumnType.PCT, ColumnType.DATE})
"""Columns where a date-shaped string is taken as a cell Sheets shows as a date."""
_EPOCH = dt.datetime(1899, 12, 30)


def grid_values(sheet: dict[str, Any]) -> list[list[Any]]:
    """A tab's rows from grid data, as values.batchGet gives them with VALUES_PARAMS:
    numbers, text, booleans; a number shown as a date, time or duration is its
    `formattedValue`. Without formattedValue in the mask (the flag write's answer), a date
    or time is the `datetime` (or `time`) its serial is, which `read_table` gives for the
    string too whenever the format shows the whole value (the template's `dd/mm/yyyy`, a
    typed "15/6" of this year, "8:30")."""
    rows: list[list[Any]] = []
    for block in sheet.get("data") or []:
        start, left = block.get("startRow", 0), block.get("startColumn", 0)
        for offset, row in enumerate(block.get("rowData") or []):
            while len(rows) < start + offset:
                rows.append([])
            rows.append([None] * left + [_cell_value(c) if c else None
                                         for c in row.get("values") or []])
    return rows


def _cell_value(cell: dict[str, Any]) -> Any:
    effective = cell.get("effectiveValue")
    if not effective:
        return None  # a cell with a format and no value: most of a template's grid
    value = _effective(effective)
    if isinstance(value, int | float) and not isinstance(value, bool):
        kind = ((cell.get("effectiveFormat") or {}).get("numberFormat") or {}).get("type")
        if kind in _SHOWN_TYPES:
            shown = cell.get("formattedValue")
            if shown is not None:
                return shown
            if kind != "DURATION":
                return _serial_datetime(value)
    return value


def _serial_datetime(serial: float) -> Any:
    """What openpyxl's from_excel gives for a date serial: a datetime to the millisecond,
    a time of day for 0 <= serial < 1 (no Excel 1900 leap-day shift: Sheets has none).
    The number itself when no datetime can hold it."""
    try:
        day, fraction = divmod(serial, 1)
        diff = dt.timedelta(milliseconds=round(fraction * 86_400_000))
        if 0 <= serial < 1 and diff.days == 0:
            return (dt.datetime.min + diff).time()
        return _EPOCH + dt.timedelta(days=day) + diff
    except (OverflowError, ValueError):
        return serial


def _effective(value: dict[str, Any] | None) -> Any:
    if not value:
        return None
    if "errorValue" in value:
        return _ERROR_TEXT.get(value["errorValue"].get("type", ""), "#ERROR!")
    for key in ("numberValue", "stringValue", "boolValue"):
        if key in value:
            return value[key]
    return None


def read_meta(rows: Sequence[Sequence[Any]] | None) -> dict[str, str]:
    """Key/value rows of the hidden "_cchc" tab ({} when it is missing)."""
    out: dict[str, str] = {}
    for row in rows or ():
        if len(row) >= 2 and _value(row[0]) is not None and _value(row[1]) is not None:
            out[str(row[0]).strip()] = str(row[1]).strip()
    return out


def _raw_row(number: int, row: Sequence[Any], columns: list[tuple[str, int]],
             types: dict[str, ColumnType], explanation_col: int | None) -> RawRow | None:
    width = len(row)
    cells: dict[str, RawCell] = {}
    filled = False
    for key, index in columns:
        value = _value(row[index - 1]) if index <= width else None
        if value is None:
            cells[key] = RawCell(value=None)
            continue
        filled = True
        ctype = types.get(key)
        if isinstance(value, str) and ctype in _DATE_COLUMNS:
            when = shown_date(value)
            if when is not None:
                value = when
        cells[key] = RawCell(value=value, fmt=_format(value, ctype))
    if not filled:
        return None
    explanation = row_explanation(row, explanation_col, _value)
    return RawRow(sheet_row=number, cells=cells, explanation=explanation)


def _value(value: Any) -> Any:
    """A stored value; "" (an empty cell inside a row) and spaces-only text are blank."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _format(value: Any, ctype: ColumnType | None) -> CellFormat | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, dt.date | dt.time):
        return CellFormat.DATE  # shown as a date in the sheet (shown_date, grid_values)
    if isinstance(value, int | float):
        return _NUMBER_FORMAT.get(ctype, CellFormat.NUMBER) if ctype else CellFormat.NUMBER
    if isinstance(value, str):
        return _TEXT_FORMAT.get(ctype) if ctype else None
    return None


# -- dates as Sheets shows them --------------------------------------------------------------

_DAY_MONTH = re.compile(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}|[0-9]{2}))?")
_YEAR_FIRST = re.compile(r"([0-9]{4})([-/])([0-9]{1,2})\2([0-9]{1,2})")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]{1,3}))?)?"
                    r"(?: ?(AM|PM|SA|CH))?", re.IGNORECASE)
_AFTERNOON = ("PM", "CH")  # vi_VN: SA (sáng) is a.m., CH (chiều) p.m.
YEAR_PIVOT = 30
"""A two-digit year below this is 20xx, from it 19xx (as Sheets reads a typed "15/6/26")."""


def shown_date(text: str, year: int | None = None) -> dt.datetime | dt.time | None:
    """The date, time or both a string shows, if it is exactly one of the shapes Sheets
    renders a date, time or date-time cell in in a vi_VN sheet: "15/06/2026", "15/6/2026",
    "15/6/26", "15/6" (no year: the latest valid one up to `year`, this year by default:
    Sheets gives a date typed without its year the current year), "2026-06-15",
    "2026/06/15", "8:30", "08:30:05", "8:30:05.250", "8:30 SA"/"8:30 PM", and a date, a
    space and a time. A `time` for a time alone, else a `datetime` (midnight for a date).
    None for anything else, an impossible date or time included."""
    if not text or not text[0].isdigit() or len(text) > 32:
        return None
    if clock := _CLOCK.fullmatch(text):
        return _time(clock)
    head, space, tail = text.partition(" ")
    day = _day(head, year)
    if day is None or not space:
        return day
    clock = _CLOCK.fullmatch(tail)
    when = _time(clock) if clock else None
    return None if when is None else dt.datetime.combine(day.date(), when)


def _day(text: str, year: int | None) -> dt.datetime | None:
    if m := _YEAR_FIRST.fullmatch(text):
        numbers = [(int(m[1]), int(m[3]), int(m[4]))]
    elif m := _DAY_MONTH.fullmatch(text):
        day, month = int(m[1]), int(m[2])
        if m[3] is None:  # the latest year up to this one that has that day (29/2)
            latest = year or dt.date.today().year
            numbers = [(y, month, day) for y in range(latest, latest - 8, -1)]
        else:
            y = int(m[3])
            if len(m[3]) == 2:
                y += 2000 if y < YEAR_PIVOT else 1900
            numbers = [(y, month, day)]
    else:
        return None
    for y, month, day in numbers:
        try:
            return dt.datetime(y, month, day)
        except ValueError:
            continue
    return None


def _time(m: re.Match[str]) -> dt.time | None:
    hour, minute = int(m[1]), int(m[2])
    second = int(m[3] or 0)
    micro = int((m[4] or "0").ljust(3, "0")) * 1000
    if m[5]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m[5].upper() in _AFTERNOON else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return dt.time(hour, minute, second, micro)
