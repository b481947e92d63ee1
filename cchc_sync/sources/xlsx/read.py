"""Reading a unit's workbook into RawTables: stored values and formats, columns by title.

One streaming pass per tab (openpyxl read-only mode, opened by values_load; cached values
of formulas), so a tab of tens of thousands of rows reads in seconds and is never loaded
twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain
from pathlib import Path
from typing import Any

from openpyxl.cell.read_only import EmptyCell, ReadOnlyCell
from openpyxl.styles.numbers import is_timedelta_format
from openpyxl.utils.datetime import WINDOWS_EPOCH, from_excel
from openpyxl.utils.escape import unescape
from openpyxl.workbook import Workbook

from cchc_sync.domain.config import ReadLimits
from cchc_sync.domain.records import CellFormat, CellValue, RawCell, RawRow, RawTable
from cchc_sync.domain.templates import TableSpec, TemplateSet
from cchc_sync.sources.base import CHECK_TAB, MASTER_SIGNATURE_TABS, META_TAB
from cchc_sync.sources.sheet_layout import HEADER_SEARCH_ROWS, find_header, row_explanation
from cchc_sync.sources.xlsx.common import find_sheet
from cchc_sync.sources.xlsx.limits import RowBudget
from cchc_sync.sources.xlsx.values_load import load_values_workbook

# Quoted literals and backslash-escaped characters of a number format: a "%" there is a
# literal sign (the value is in percent points), not Excel's multiply-by-100 percent.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\\.')
_BLANK = {fmt: RawCell(value=None, fmt=fmt) for fmt in [None, *CellFormat]}


def read_workbook(
    path: Path, templates: TemplateSet, budget: RowBudget | None = None
) -> tuple[dict[str, RawTable], dict[str, str], bool]:
    """Every template table of the workbook at `path`, its identity marks (the metadata
    tab; {"kind": "master"} for a master workbook) and whether the software's "Kiểm tra"
    tab is still there. Exceptions from opening or parsing propagate to the caller."""
    wb = load_values_workbook(path)
    # openpyxl turns date serials into datetimes while parsing, and a serial no datetime
    # can hold into "#VALUE!", indistinguishable from a broken formula; Excel's 29/02/1900
    # (serial 60) becomes 28/02/1900. Serials arrive as numbers here and `_cell_value`
    # converts them, leaving those two as numbers for the normaliser to name.
    wb._date_formats = set()
    try:
        marks = read_meta(wb)
        if not marks and all(find_sheet(wb, tab) for tab in MASTER_SIGNATURE_TABS):
            marks = {"kind": "master"}  # a master (or a copy of one) carries no "_cchc"
        budget = budget or RowBudget(ReadLimits())
        tables = {key: read_table(wb, spec, budget) for key, spec in templates.tables.items()}
        intact = find_sheet(wb, CHECK_TAB) is not None
        return tables, marks, intact
    finally:
        wb.close()


def read_meta(wb: Workbook) -> dict[str, str]:
    """Key/value rows of the hidden "_cchc" tab ({} when it is missing)."""
    ws = find_sheet(wb, META_TAB)
    if ws is None:
        return {}
    out: dict[str, str] = {}
    for row in ws.iter_rows(min_row=1, max_col=2, values_only=True):
        if len(row) >= 2 and row[0] is not None and row[1] is not None:
            out[str(row[0]).strip()] = str(row[1]).strip()
    return out


def read_table(wb: Workbook, spec: TableSpec, budget: RowBudget | None = None) -> RawTable:
    ws = find_sheet(wb, spec.tab)
    if ws is None:
        return RawTable(table=spec.key, tab_found=False)
    # Some programs write a wrong <dimension>; without it openpyxl reads every stored row.
    ws.reset_dimensions()
    rows = ws.iter_rows(values_only=False)
    head: list[Sequence[Any]] = []
    for _ in range(HEADER_SEARCH_ROWS):
        row = next(rows, None)
        if row is None:
            break
        head.append(row)
    layout = find_header([[c.value for c in row] for row in head], spec)
    columns = sorted(layout.columns.items(), key=lambda kv: kv[1])
    formats = _Formats()
    out: list[RawRow] = []
    budget = budget or RowBudget(ReadLimits())
    blank_run, stop = 0, budget.limits.blank_rows_stop
    numbered = chain(enumerate(head, start=1), enumerate(rows, start=len(head) + 1))
    for number, row in numbered:
        if number <= layout.header_row:
            continue
        budget.tick()
        raw = _raw_row(number, row, columns, layout.explanation_col, formats)
        if raw is None:
            blank_run += 1
            if blank_run >= stop:
                break  # the rest is a fill-down of formulas or formats holding no value
            continue
        blank_run = 0
        out.append(raw)
        if len(out) > budget.limits.max_rows_per_tab:
            raise budget.too_many_rows(ws.title)
    return RawTable(table=spec.key, tab_found=True, layout=layout, rows=tuple(out))


def _raw_row(
    number: int,
    row: Sequence[Any],
    columns: list[tuple[str, int]],
    explanation_col: int | None,
    formats: _Formats,
) -> RawRow | None:
    width = len(row)
    cells: dict[str, RawCell] = {}
    filled = False
    format_of = formats.of
    for key, index in columns:
        cell = row[index - 1] if index <= width else None
        value = _value(cell)
        if value is None:
            # Records are immutable: one shared blank per format is enough.
            cells[key] = _BLANK[None if cell is None else format_of(cell, None)]
        else:
            filled = True
            fmt = format_of(cell, value)
            if fmt is CellFormat.DATE and isinstance(value, int | float) and value is not True \
                    and value is not False:
                value = _excel_date(cell, value)
            cells[key] = RawCell(value=value, fmt=fmt)
    if not filled:
        return None
    explanation = row_explanation(row, explanation_col, _value)
    return RawRow(sheet_row=number, cells=cells, explanation=explanation)


def _value(cell: Any) -> CellValue:
    """The stored value; text that is only spaces (NBSP included) counts as blank."""
    if cell is None:
        return None
    value = cell.value
    if isinstance(value, str):
        if "_x" in value:
            value = unescape(value)  # "_x0007_" is how .xlsx stores a control character
        if not value.strip():
            return None
    return value


_EXCEL_LEAP_DAY = 60
"""Excel's serial of 29/02/1900, a day that never was."""


def _excel_date(cell: Any, serial: float) -> CellValue:
    """What openpyxl would make of a date-formatted number, except Excel's fictitious
    29/02/1900 (serial 60) and a number no date can be: those stay numbers."""
    if _EXCEL_LEAP_DAY <= serial < _EXCEL_LEAP_DAY + 1:
        return serial
    book = getattr(getattr(cell, "parent", None), "parent", None)
    epoch = getattr(book, "epoch", WINDOWS_EPOCH)
    number_format = getattr(cell, "number_format", "") or ""
    try:
        return from_excel(serial, epoch, timedelta=is_timedelta_format(number_format))
    except (OverflowError, ValueError):
        return serial


class _Formats:
    """CellFormat by (style, data type, numeric or not): a style's number format is looked
    up once per read, not once per cell (it is most of the cost of a big tab). A missing
    cell inside a row (openpyxl's EMPTY_CELL: no style, no value) is worked out once."""

    def __init__(self) -> None:
        self._known: dict[tuple[Any, ...], CellFormat | None] = {}

    def of(self, cell: Any, value: CellValue) -> CellFormat | None:
        kind = type(value)
        numeric = kind is int or kind is float or (
            kind is not bool and isinstance(value, int | float))
        if type(cell) is ReadOnlyCell:
            key: tuple[Any, ...] = (cell._style_id, cell.data_type, numeric)
        elif type(cell) is EmptyCell:
            key = (EmptyCell, numeric)  # its attributes are the class's own constants
        else:
            style = getattr(cell, "_style_id", None)
            if style is None:
                return _format(cell, value)
            key = (style, getattr(cell, "data_type", None), numeric)
        try:
            return self._known[key]
        except KeyError:
            fmt = self._known[key] = _format(cell, value)
            return fmt


def _format(cell: Any, value: CellValue) -> CellFormat | None:
    number_format = getattr(cell, "number_format", None) or "General"
    if "%" in _FORMAT_LITERALS.sub("", number_format):
        return CellFormat.PERCENT
    if getattr(cell, "is_date", False):
        return CellFormat.DATE
    if number_format == "@":
        return CellFormat.TEXT
    if isinstance(value, int | float) and not isinstance(value, bool):
        return CellFormat.NUMBER
    return None
