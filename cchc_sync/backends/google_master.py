"""The master spreadsheet: its tabs at creation, and the one atomic batchUpdate that
rewrites every tab from a MasterBook.

Cell types are kept as in the local master (xlsx_master.py): numbers stay numbers
(#,##0 for whole numbers, #,##0.00 otherwise), dates are date serials shown dd/mm/yyyy,
percent columns hold percent points (96.16) shown `0.00"%"`, and text is always
`stringValue`, so a unit's "=IMPORTXML(...)" stays inert text in the master.
Each tab is resized to its content and rewritten whole (`updateCells` over the whole grid
clears what the rows do not cover); number formats go per column (`repeatCell`), so the
payload carries each value once: about 45 bytes a cell, ~2 MB for 200 units.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from typing import Any

import numpy as np
import pandas as pd

from ..models import Period
from .base import MasterBook
from .google_cells import (
    HEADER_FILL,
    cell,
    chars_to_pixels,
    column_width,
    fixed_sheet_ids,
    grid,
    serial,
    text_value,
    update_cells,
)
from .xlsx_common import display_date, to_vn_time

SUMMARY_TAB = "Tổng hợp"
FIXED_MASTER_TABS = ("Tổng hợp", "Tiến độ", "Bất thường")
"""Tabs every master has (master.py); the table tabs follow."""
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
    requests: list[dict[str, Any]] = [{"updateSpreadsheetProperties": {
        "properties": {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"},
        "fields": "locale,timeZone"}}]
    for index, name in enumerate(titles):
        requests.append({"addSheet": {"properties": {
            "sheetId": ids[name], "title": name, "index": index,
            "gridProperties": {"rowCount": 50, "columnCount": 12}}}})
    requests.append({"deleteSheet": {"sheetId": first_sheet_id}})
    summary = ids[titles[0]]
    requests.append(update_cells(summary, 0, 0, [
        [cell(title, bold=True, size=14)],
        [cell(f"Kỳ báo cáo: {period.code} (từ ngày {display_date(period.start)} "
              f"đến ngày {display_date(period.end)})")],
        [cell("Chưa có số liệu: bảng tổng hợp được cập nhật sau lần đồng bộ đầu tiên.")],
    ], "userEnteredValue,userEnteredFormat"))
    requests.append(column_width(summary, 0, chars_to_pixels(100)))
    return requests


def master_requests(book: MasterBook, ids: dict[str, int]) -> list[dict[str, Any]]:
    """Rewrite every tab of the master. ids: tab title -> sheet id (every title present)."""
    names = list(book.tabs)
    titles = master_tab_titles(names)
    requests: list[dict[str, Any]] = []
    for index, (name, title) in enumerate(zip(names, titles, strict=True)):
        df = book.tabs[name]
        if not isinstance(df.index, pd.RangeIndex):
            df = df.reset_index()
        requests += _tab_requests(ids[title], title, index, df,
                                  set(book.percent_columns.get(name, ())))
    return requests


def _tab_requests(sheet_id: int, title: str, index: int, df: pd.DataFrame,
                  percent: set[str]) -> list[dict[str, Any]]:
    headers = [_column_title(c) for c in df.columns]
    kinds = [_column_kind(df.iloc[:, i], headers[i] in percent) for i in range(len(headers))]
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
        sample = df.iloc[:_WIDTH_SAMPLE, col]
        longest = max([len(header) * 0.9, *(len(str(v)) for v in sample if _present(v))],
                      default=8)
        out.append(column_width(sheet_id, col, chars_to_pixels(max(8, min(60, longest + 2)))))
    if len(headers):
        out.append({"setBasicFilter": {"filter": {"range": grid(sheet_id, 0, height, 0, width)}}})
    return out


_NUMBER_FORMAT = {"percent": "points", "int": "int", "float": "float", "date": "date",
                  "isodate": "date", "datetime": "datetime"}


def _column_title(column: Any) -> str:
    if isinstance(column, tuple):
        return " / ".join(str(c) for c in column if str(c))
    return str(column)


def _present(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def _column_kind(series: pd.Series, is_percent: bool) -> str:
    """How a column is stored: percent | int | float | date | datetime | isodate | auto
    (the local master's rule, xlsx_master._column_kind)."""
    if is_percent:
        return "percent"
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "auto"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        values = series.dropna()
        finite = values[np.isfinite(values)]
        return "int" if len(finite) and (finite == finite.round()).all() else "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        values = series.dropna()
        if len(values) and (values.dt.normalize() == values).all():
            return "date"
        return "datetime"
    values = [v for v in series if _present(v)]
    if values and all(isinstance(v, str) and _ISO_DATE.match(v) for v in values):
        try:
            for v in values:
                dt.date.fromisoformat(v)
            return "isodate"
        except ValueError:
            return "auto"
    if values and all(isinstance(v, dt.date) and not isinstance(v, dt.datetime)
                      for v in values):
        return "date"
    return "auto"


def _value_cell(value: Any, kind: str) -> dict[str, Any]:
    value = _plain(value)
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


def _plain(value: Any) -> Any:
    if not _present(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
