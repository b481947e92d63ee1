"""Turning one `values.batchGet` answer into RawTables, like the local backend's reader.

Values come as stored (UNFORMATTED_VALUE, dates as SERIAL_NUMBER): numbers are JSON
numbers, text is text, a date is its serial. Cell formats are not in a values answer; the
template formats its columns, so a number in a date column is given CellFormat.DATE, in a
percent column PERCENT and elsewhere NUMBER (what a clerk sees there), text in a text column
TEXT. A column a person re-formatted is not noticed (that would need the grid data: a far
bigger read every time).
"""

from __future__ import annotations

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


ALL_VALUES_FIELDS = "sheets(properties(sheetId,title),data(rowData(values(effectiveValue))))"
"""spreadsheets.get mask for every tab's stored values (the fallback when a tab is missing
or renamed: one request that cannot fail on a tab title)."""
_ERROR_TEXT = {"DIVIDE_BY_ZERO": "#DIV/0!", "VALUE": "#VALUE!", "REF": "#REF!",
               "NAME": "#NAME?", "NUM": "#NUM!", "N_A": "#N/A", "NULL_VALUE": "#NULL!"}


def grid_values(sheet: dict[str, Any]) -> list[list[Any]]:
    """A tab's rows from grid data, as a values.batchGet with UNFORMATTED_VALUE and
    SERIAL_NUMBER gives them (numbers, text, booleans, dates as serials)."""
    rows: list[list[Any]] = []
    for block in sheet.get("data") or []:
        start = block.get("startRow", 0)
        for offset, row in enumerate(block.get("rowData") or []):
            while len(rows) < start + offset:
                rows.append([])
            rows.append([_effective(c.get("effectiveValue")) for c in row.get("values") or []])
    return rows


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
    if isinstance(value, int | float):
        return _NUMBER_FORMAT.get(ctype, CellFormat.NUMBER) if ctype else CellFormat.NUMBER
    if isinstance(value, str):
        return _TEXT_FORMAT.get(ctype) if ctype else None
    return None
