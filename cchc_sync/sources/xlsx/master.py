"""Writing the master workbook: one tab per DataFrame of a MasterBook, streamed.

Cell types are kept: numbers stay numbers ("#,##0" for whole numbers), dates become Excel
dates ("dd/mm/yyyy"), and text stays inert text even when it starts with "=", "+", "-"
or "@" (a unit's cell "=IMPORTXML(...)" must never become a live formula in the master).

Percent columns (MasterBook.percent_columns) hold percent points, e.g. 96.16, and are
stored as that number with the format `0.00"%"`: the cell shows 96,16% in a Vietnamese
Excel and its value equals the one in `export` and in the report (no division by 100
and no binary rounding noise on the way).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cchc_sync.domain.records import Period
from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.sheet_layout import (
    SUMMARY_WIDTH,
    Link,
    PercentPoints,
    master_frame,
    plain,
    text_width,
)
from cchc_sync.sources.sheet_text import empty_master_lines, to_vn_time
from cchc_sync.sources.xlsx.common import (
    BOLD,
    BORDER,
    DATE_FORMAT,
    DATETIME_FORMAT,
    FLOAT_FORMAT,
    HEADER_ALIGN,
    HEADER_FILL,
    INT_FORMAT,
    PERCENT_POINTS_FORMAT,
    TITLE_FONT,
    clean_text,
    set_text,
)

SUMMARY_TAB = "Tổng hợp"
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_WIDTH_SAMPLE = 500


def build_empty_master(title: str, period: Period) -> Workbook:
    """The master before the first cycle: a "Tổng hợp" tab saying there is no data yet."""
    wb = Workbook()
    ws = wb.active
    ws.title = SUMMARY_TAB
    ws["A1"], ws["A2"], ws["A3"] = empty_master_lines(clean_text(title), period)
    ws["A1"].font = TITLE_FONT
    ws.column_dimensions["A"].width = SUMMARY_WIDTH
    wb.properties.title = clean_text(title)[:255]
    return wb


def build_master_workbook(book: MasterBook) -> Workbook:
    """The master workbook for `book` (write-only: rows are streamed, memory stays flat)."""
    wb = Workbook(write_only=True)
    wb.properties.title = clean_text(book.title)[:255]
    if book.generated_at is not None:
        wb.properties.modified = to_vn_time(book.generated_at).replace(tzinfo=None)
    used: set[str] = set()
    for name, df in book.tabs.items():
        title = _sheet_title(name, used)
        _write_frame(wb.create_sheet(title), df, set(book.percent_columns.get(name, ())),
                     set(book.hidden_columns.get(name, ())))
    if not book.tabs:
        ws = wb.create_sheet(SUMMARY_TAB)
        ws.append([clean_text(book.title)])
        ws.append(["Chưa có số liệu."])
    return wb


def _sheet_title(name: str, used: set[str]) -> str:
    """A valid, unique Excel sheet title (≤ 31 characters, no []:*?/\\)."""
    base = _BAD_TITLE.sub("-", clean_text(str(name))).strip("'").strip() or "Bảng"
    title = base[:31]
    n = 2
    while title.casefold() in used:
        suffix = f" ({n})"
        title = base[: 31 - len(suffix)] + suffix
        n += 1
    used.add(title.casefold())
    return title


def _write_frame(ws: WriteOnlyWorksheet, df: pd.DataFrame, percent: set[str],
                 hidden: set[str] = frozenset()) -> None:
    df, titles, kinds = master_frame(df, percent)
    # Widths and the frozen header must be set before the first row is streamed.
    ws.freeze_panes = "A2"
    for index, title in enumerate(titles):
        width = text_width(title, df.iloc[:_WIDTH_SAMPLE, index])
        dim = ws.column_dimensions[get_column_letter(index + 1)]
        dim.width = width
        dim.hidden = title in hidden
    header = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=None)
        set_text(cell, title)
        cell.font, cell.fill, cell.alignment, cell.border = BOLD, HEADER_FILL, HEADER_ALIGN, BORDER
        header.append(cell)
    ws.append(header)
    for values in df.itertuples(index=False, name=None):
        ws.append([_cell(ws, value, kind) for value, kind in zip(values, kinds, strict=True)])
    last_col = get_column_letter(max(len(titles), 1))
    ws.auto_filter.ref = f"A1:{last_col}{len(df) + 1}"


def _cell(ws: WriteOnlyWorksheet, value: Any, kind: str) -> WriteOnlyCell | None:
    value = plain(value)
    if value is None:
        return None
    cell = WriteOnlyCell(ws, value=None)
    if isinstance(value, Link):
        cell.value = value.formula()
        return cell
    if isinstance(value, str):
        if kind == "isodate":
            cell.value = dt.date.fromisoformat(value)
            cell.number_format = DATE_FORMAT
        else:
            set_text(cell, value)
        return cell
    if isinstance(value, bool):
        cell.value = value
        return cell
    if isinstance(value, int | float):
        if kind == "percent" or isinstance(value, PercentPoints):
            cell.value, cell.number_format = value, PERCENT_POINTS_FORMAT
        elif isinstance(value, int) or (kind == "int" and value.is_integer()):
            cell.value, cell.number_format = int(value), INT_FORMAT
        else:
            cell.value, cell.number_format = value, FLOAT_FORMAT
        return cell
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = to_vn_time(value).replace(tzinfo=None)
        if kind == "date" or (value.time() == dt.time() and kind != "datetime"):
            cell.value, cell.number_format = value.date(), DATE_FORMAT
        else:
            cell.value, cell.number_format = value, DATETIME_FORMAT
        return cell
    if isinstance(value, dt.date):
        cell.value, cell.number_format = value, DATE_FORMAT
        return cell
    set_text(cell, str(value))
    return cell
