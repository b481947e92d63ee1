"""Typing into a unit's workbook the way a clerk does: by column title, in a spreadsheet
program, values as they were typed. Used by the demo and by tests; never by the pipeline."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter


def _key(text: object) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


def _put(cell: Cell, value: Any) -> None:
    """Store a typed value the way a spreadsheet program does: a new cell takes its
    column's style (number format), and typed text stays text, even "=..."."""
    ws = cell.parent
    column_format = ws.column_dimensions[get_column_letter(cell.column)].number_format
    if cell.number_format == "General" and column_format not in (None, "General"):
        cell.number_format = column_format
    cell.value = value
    if isinstance(value, str):
        cell.data_type = "s"


def type_rows(
    workbook: str | Path,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    start_row: int = 2,
) -> None:
    """Write rows into tabs of an .xlsx, by tab title and column title.

    tables: tab title -> rows; each row maps a column title to what the clerk typed (a
    str is typed text, an int/float/date a value the spreadsheet stored). A row given as
    an empty mapping leaves that sheet row blank. Nothing else in the workbook changes.
    """
    path = Path(workbook)
    wb = openpyxl.load_workbook(path)
    try:
        for tab, rows in tables.items():
            ws = next((w for w in wb.worksheets if _key(w.title) == _key(tab)), None)
            if ws is None:
                raise KeyError(f"no tab {tab!r} in {path.name}")
            header = {
                _key(c.value): c.column for c in ws[1] if c.value is not None
            }
            for offset, row in enumerate(rows):
                for title, value in row.items():
                    col = header.get(_key(title))
                    if col is None:
                        raise KeyError(f"no column {title!r} in tab {tab!r}")
                    _put(ws.cell(row=start_row + offset, column=col), value)
        wb.save(path)
    finally:
        wb.close()


def set_cell(workbook: str | Path, tab: str, row: int, column_title: str, value: Any) -> None:
    """Change one cell, as a clerk correcting a value."""
    path = Path(workbook)
    wb = openpyxl.load_workbook(path)
    try:
        ws = next(w for w in wb.worksheets if _key(w.title) == _key(tab))
        col = next(c.column for c in ws[1] if c.value is not None and
                   _key(c.value) == _key(column_title))
        _put(ws.cell(row=row, column=col), value)
        wb.save(path)
    finally:
        wb.close()
