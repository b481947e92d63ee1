"""The master spreadsheet: its tabs at creation, and the one atomic batchUpdate that
rewrites every tab from a MasterBook.

Cell types are kept as in the local master (xlsx_master.py; both store a column as
sheet_layout.column_kind says): numbers stay numbers (#,##0 for whole numbers, #,##0.00
otherwise), dates are date serials shown dd/mm/yyyy, percent columns hold percent points
(96.16) shown `0.00"%"`, and text is always `stringValue`, so a unit's "=IMPORTXML(...)"
stays inert text in the master.
Each tab is resized to its content and rewritten whole (`updateCells` over the whole grid
clears what the rows do not cover); number formats go per column (`repeatCell`), so the
payload carries each value once: about 45 bytes a cell, ~2 MB for 200 units.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from ..models import Period
from .base import MasterBook
from .google_cells import (
    add_sheet,
    cell,
    column_width,
    fixed_sheet_ids,
    grid,
    serial,
    spreadsheet_settings,
    text_value,
    update_cells,
)
from .sheet_layout import HEADER_FILL, SUMMARY_WIDTH, master_frame, plain, text_width
from .sheet_text import empty_master_lines, to_vn_time

SUMMARY_TAB = "Tổng hợp"
FIXED_MASTER_TABS = ("Tổng hợp", "Tiến độ", "Bất thường")
"""Tabs every master has (master.py); the table tabs follow."""
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_WIDTH_SAMPLE = 200


def master_tab_titles(names: list[str]) -> list[str]:
    """Valid, unique tab titles for the book's tab names, in order."""
    used: set[str] = set()
    out = []
    for name in names:
        base = _BAD_TITLE.sub("-", str(name)).strip("'").strip() or "Bảng"
        title, n = base[:100], 2
        while title.casefold() in used:
            title = f"{base[:95]} ({n})"
            n += 1
        used.add(title.casefold())
        out.append(title)
    return out


def master_create_requests(title: str, period: Period, tabs: list[str], *,
                           first_sheet_id: int = 0) -> list[dict[str, Any]]:
    """The empty master: its tabs with fixed ids, "Tổng hợp" saying there is no data yet."""
    titles = master_tab_titles(tabs)
    ids = fixed_sheet_ids(titles)
    requests: list[dict[str, Any]] = [spreadsheet_settings()]
    requests += [add_sheet(ids[name], name, index, rows=50, cols=12)
                 for index, name in enumerate(titles)]
    requests.append({"deleteSheet": {"sheetId": first_sheet_id}})
    summary = ids[titles[0]]
    heading, *lines = empty_master_lines(title, period)
    requests.append(update_cells(summary, 0, 0, [
        [cell(heading, bold=True, size=14)], *([cell(line)] for line in lines),
    ], "userEnteredValue,userEnteredFormat"))
    requests.append(column_width(summary, 0, SUMMARY_WIDTH))
    return requests


def master_requests(book: MasterBook, ids: dict[str, int]) -> list[dict[str, Any]]:
    """Rewrite every tab of the master. ids: tab title -> sheet id (every title present)."""
    names = list(book.tabs)
    titles = master_tab_titles(names)
    requests: list[dict[str, Any]] = []
    for index, (name, title) in enumerate(zip(names, titles, strict=True)):
        requests += _tab_requests(ids[title], title, index, book.tabs[name],
                                  set(book.percent_columns.get(name, ())))
    return requests


def _tab_requests(sheet_id: int, title: str, index: int, df: pd.DataFrame,
                  percent: set[str]) -> list[dict[str, Any]]:
    df, headers, kinds = master_frame(df, percent)
    height = len(df) + 1
    width = max(len(headers), 1)
    rows = [[cell(h, bold=True, fill=HEADER_FILL, centre=True, wrap=True) for h in headers]]
    for values in df.itertuples(index=False, name=None):
        rows.append([_value_cell(v, k) for v, k in zip(values, kinds, strict=True)])
    out: list[dict[str, Any]] = [
        {"updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "title": title, "index": index,
                           "gridProperties": {"rowCount": max(height, 2), "columnCount": width,
                                              "frozenRowCount": 1}},
            "fields": "title,index,gridProperties.rowCount,gridProperties.columnCount,"
                      "gridProperties.frozenRowCount"}},
        # The whole grid: cells the rows do not cover are cleared.
        {"updateCells": {"range": grid(sheet_id), "rows": [{"values": r} for r in rows],
                         "fields": "userEnteredValue,userEnteredFormat"}},
    ]
    for col, kind in enumerate(kinds):
        number = _NUMBER_FORMAT.get(kind)
        if number and len(df):
            out.append({"repeatCell": {
                "range": grid(sheet_id, 1, height, col, col + 1),
                "cell": cell(number=number), "fields": "userEnteredFormat.numberFormat"}})
    for col, header in enumerate(headers):
        chars = text_width(header, df.iloc[:_WIDTH_SAMPLE, col])
        out.append(column_width(sheet_id, col, chars))
    if len(headers):
        out.append({"setBasicFilter": {"filter": {"range": grid(sheet_id, 0, height, 0, width)}}})
    return out


_NUMBER_FORMAT = {"percent": "points", "int": "int", "float": "float", "date": "date",
                  "isodate": "date", "datetime": "datetime"}


def _value_cell(value: Any, kind: str) -> dict[str, Any]:
    value = plain(value)
    if value is None:
        return {}
    if isinstance(value, str):
        if kind == "isodate":
            return {"userEnteredValue": {"numberValue": serial(dt.date.fromisoformat(value))}}
        return {"userEnteredValue": text_value(value)}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        if isinstance(value, float) and kind == "int" and value.is_integer():
            value = int(value)
        out: dict[str, Any] = {"userEnteredValue": {"numberValue": value}}
        if kind not in _NUMBER_FORMAT:
            # A mixed column: the format goes with the cell, as in the local master.
            out["userEnteredFormat"] = cell(number="int" if isinstance(value, int)
                                            else "float")["userEnteredFormat"]
        return out
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = to_vn_time(value).replace(tzinfo=None)
        return {"userEnteredValue": {"numberValue": serial(value)}}
    if isinstance(value, dt.date):
        return {"userEnteredValue": {"numberValue": serial(value)}}
    return {"userEnteredValue": text_value(str(value))}
