"""Typing into a unit's workbook the way a clerk does: by column title, in a spreadsheet
program, values as they were typed. Used by the demo and by tests; never by the pipeline."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl


def _key(text: object) -> str:
    return unicodedata.normalize("NFC", str(text)).strip().casefold()


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
                    cell = ws.cell(row=start_row + offset, column=col)
                    cell.value = value
                    if isinstance(value, str):
                        cell.data_type = "s"  # typed text stays text, even "=..."
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
        cell = ws.cell(row=row, column=col)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
        wb.save(path)
    finally:
        wb.close()
