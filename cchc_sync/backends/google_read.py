"""Turning a unit's grid data (one `spreadsheets.get`) into RawTables, like the local
backend's reader.

Values come as stored (effectiveValue): numbers are numbers, text is text. A number Sheets
shows as a date, a time or both (effectiveFormat.numberFormat.type DATE, TIME, DATE_TIME)
becomes the `datetime` (a `time` below 1) openpyxl gives for a date-formatted cell, with
CellFormat.DATE: a count a clerk typed as "15/6" is then the date it became, as in the local
backend (`cell.int.date`), never its serial (46,188). Other numbers take their column's
format (a number in a date column is given CellFormat.DATE, in a percent column PERCENT and
elsewhere NUMBER: what a clerk sees there), text in a text column TEXT.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from ..models import CellFormat, RawCell, RawRow, RawTable
from ..templates import ColumnType, TableSpec
from .sheet_layout import HEADER_SEARCH_ROWS, find_header, row_explanation

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


ALL_VALUES_FIELDS = ("sheets(properties(title),data(startRow,startColumn,"
                     "rowData(values(effectiveValue,effectiveFormat.numberFormat.type))))")
"""spreadsheets.get mask for a unit's read: each cell's stored value and the type of its
number format (to see dates), nothing else. With `ranges` (every template tab and
"_cchc"!A1:B30) it is the read; without, every tab (the fallback when a tab is missing or
renamed: one request that cannot fail on a tab title)."""
_ERROR_TEXT = {"DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
               "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "NULL_VALUE": "#NULL!"}
_DATE_TYPES = frozenset({"DATE", "TIME", "DATE_TIME"})
_EPOCH = dt.datetime(1899, 12, 30)


def grid_values(sheet: dict[str, Any]) -> list[list[Any]]:
    """A tab's rows from grid data: numbers, text, booleans; a number shown as a date or
    time is a `datetime` (or `time`), as openpyxl reads a date-formatted cell."""
    rows: list[list[Any]] = []
    for block in sheet.get("data") or []:
        start, left = block.get("startRow", 0), block.get("startColumn", 0)
        for offset, row in enumerate(block.get("rowData") or []):
            while len(rows) < start + offset:
                rows.append([])
            rows.append([None] * left + [_cell_value(c) for c in row.get("values") or []])
    return rows


def _cell_value(cell: dict[str, Any]) -> Any:
    value = _effective(cell.get("effectiveValue"))
    if isinstance(value, int | float) and not isinstance(value, bool):
        kind = ((cell.get("effectiveFormat") or {}).get("numberFormat") or {}).get("type")
        if kind in _DATE_TYPES:
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
        cells[key] = RawCell(value=value, fmt=_format(value, types.get(key)))
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
        return CellFormat.DATE  # shown as a date in the sheet (grid_values)
    if isinstance(value, int | float):
        return _NUMBER_FORMAT.get(ctype, CellFormat.NUMBER) if ctype else CellFormat.NUMBER
    if isinstance(value, str):
        return _TEXT_FORMAT.get(ctype) if ctype else None
    return None
