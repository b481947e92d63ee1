"""The master spreadsheet: its tabs at creation, and the batchUpdates that rewrite every tab
from a MasterBook.

Cell types are kept as in the local master (xlsx_master.py; both store a column as
sheet_layout.column_kind says): numbers stay numbers (#,##0 for whole numbers, #,##0.00
otherwise), dates are date serials shown dd/mm/yyyy, percent columns hold percent points
(96.16) shown `0.00"%"`, and text is always `stringValue`, so a unit's "=IMPORTXML(...)"
stays inert text in the master.
Each tab is resized to its content and rewritten whole (the rows cover the whole grid, so
what they do not reach is cleared); number formats go per column (`repeatCell`), so the
payload carries each value once: about 45 bytes a cell, ~21 KB a unit of 40 rows.

Google refuses a request body over 10 MiB, and advises 2 MB. A master that fits the budget
(`MASTER_REQUEST_BYTES`, 2 MB) is one atomic batchUpdate. A larger one is written in parts
(`master_batches`): its rows go, a band of rows at a time, into hidden staging tabs
("_cchc ghi 1", ...), several batchUpdates each within the budget, then one small
batchUpdate swaps them in: each tab resized, the staged grid pasted over it (`copyPaste`),
formats, widths and filter set, the staging tabs deleted. Readers see the whole old master
until that last request and the whole new one after it, never a mix of the two; if a
part fails, the old master stays as it was and the next cycle writes everything again.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, cast

import pandas as pd

from cchc_sync.domain.records import Period
from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.google.cells import (
    MAX_CELL_TEXT,
    add_sheet,
    cell,
    chars_to_pixels,
    clean,
    column_width,
    fixed_sheet_ids,
    grid,
    serial,
    spreadsheet_settings,
    text_value,
    update_cells,
)
from cchc_sync.sources.google.master_spool import RawRow, RowSpool, sorted_json
from cchc_sync.sources.sheet_layout import (
    HEADER_FILL,
    SUMMARY_WIDTH,
    WRAPPED_WIDTH,
    Link,
    PercentPoints,
    master_frame,
    plain,
    text_width,
)
from cchc_sync.sources.sheet_text import empty_master_lines, to_vn_time

SUMMARY_TAB = "Tổng hợp"
FIXED_MASTER_TABS = ("Tổng hợp", "Tiến độ", "Bất thường")
"""Tabs every master has (master.py); the table tabs follow."""
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
_WIDTH_SAMPLE = 200
MASTER_REQUEST_BYTES = 2_000_000
"""Default budget of one master batchUpdate, in bytes of JSON as sent: Google advises 2 MB
and refuses more than 10 MiB ("Request payload size exceeds the limit: 10485760 bytes")."""
STAGING_PREFIX = "_cchc ghi "
"""Hidden tabs a master in parts is written to before it is swapped in (then deleted)."""
CELL_FIELDS = "userEnteredValue,userEnteredFormat"


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
    """Rewrite every tab of the master in one batchUpdate. ids: tab title -> sheet id (every
    title present)."""
    out: list[dict[str, Any]] = []
    for tab in master_tabs(book, ids):
        out += [tab.properties(), tab.cells(), *tab.finish]
    return out


def master_batches(book: MasterBook, ids: dict[str, int], *, budget: int = MASTER_REQUEST_BYTES,
                   first: Iterable[dict[str, Any]] = (), stale: Mapping[str, int] | None = None,
                   taken: Iterable[int] = (), tail: Iterable[dict[str, Any]] = (),
                   tabs: list[MasterTab] | None = None) -> Iterator[list[dict[str, Any]]]:
    """The batchUpdates (their `requests` lists, in order) that rewrite every tab, each within
    `budget` bytes of JSON when a single row allows it.

    One batchUpdate when everything fits. Else the rows go in parts to hidden staging tabs
    and the last batchUpdate swaps them in (module docstring): only it changes what readers
    see. ids: tab title -> sheet id, every title present once `first` (addSheets) ran;
    stale: title -> id of tabs to delete (the book has no such tab; staging tabs left by a
    write that stopped half-way are deleted before new ones are made); taken: sheet ids in
    use that staging tabs must not reuse; tail: requests that end the last batchUpdate (the
    master's marker, master_update). The last batchUpdate is not split: a few hundred bytes
    a column, whatever the number of rows. tabs: master_tabs(book, ids) when already made.

    A generator: each part's rows are made as CellData only when that part is due, and
    dropped once it is sent, so a master of any size holds one part's requests at a time
    (issue 17 item 6: all 55 parts of a 5,000-unit master, built first, were +635 MB)."""
    stale = dict(stale or {})
    tail = list(tail)
    leftovers = [{"deleteSheet": {"sheetId": i}} for t, i in stale.items()
                 if t.startswith(STAGING_PREFIX)]
    old_tabs = [{"deleteSheet": {"sheetId": i}} for t, i in stale.items()
                if not t.startswith(STAGING_PREFIX)]
    first = list(first)
    tabs = tabs if tabs is not None else master_tabs(book, ids)
    whole = [*first, *leftovers]
    for tab in tabs:
        whole += [tab.properties(), tab.cells(rows=False), *tab.finish]
    whole += old_tabs + tail
    if _fits(tabs, _list_size(whole), budget):
        everything = [r for tab in tabs
                      for r in (tab.properties(), tab.cells(raw=True), *tab.finish)]
        yield [*first, *leftovers, *everything, *old_tabs, *tail]
        return

    used = set(ids.values()) | set(taken) | set(stale.values())
    staging: dict[int, int] = {}  # live sheet id -> staging sheet id
    for n, tab in enumerate(tabs, start=1):
        candidate = fixed_sheet_ids([f"{STAGING_PREFIX}{n}"])[f"{STAGING_PREFIX}{n}"]
        while candidate in used:
            candidate = (candidate + 1) & 0x3FFFFFFF or 1
        used.add(candidate)
        staging[tab.sheet_id] = candidate
    batch: list[dict[str, Any]] = [*leftovers]
    batch += [{"addSheet": {"properties": {
        "sheetId": staging[tab.sheet_id], "title": f"{STAGING_PREFIX}{n}", "hidden": True,
        "gridProperties": {"rowCount": tab.grid_rows, "columnCount": tab.width}}}}
        for n, tab in enumerate(tabs, start=1)]
    size = _list_size(batch)
    for tab in tabs:
        target = staging[tab.sheet_id]
        band: list[dict[str, Any] | RawRow] = []  # the RowData of the band being filled
        start = band_size = 0
        for row, (data, n) in enumerate(tab.sized_rows(raw=True)):
            if band and size + 1 + band_size + n + 1 <= budget:
                band.append(data)
                band_size += n + 1
                continue
            if band:
                batch.append(_band(target, start, band))
                size += 1 + band_size
            skeleton = json_size(_band(target, row, []))
            if batch and size + 1 + skeleton + n + 1 > budget:
                yield batch
                batch, size = [], _list_size([])
            # At least one row per band, even one alone over the budget.
            band, start, band_size = [data], row, skeleton + n + 1
        if band:
            batch.append(_band(target, start, band))
            size += 1 + band_size
    if batch:
        yield batch
    swap: list[dict[str, Any]] = [*first]
    for tab in tabs:
        swap += [tab.properties(), {"copyPaste": {
            "source": grid(staging[tab.sheet_id], 0, tab.grid_rows, 0, tab.width),
            "destination": grid(tab.sheet_id, 0, tab.grid_rows, 0, tab.width),
            "pasteType": "PASTE_NORMAL"}}, *tab.finish]
    swap += [{"deleteSheet": {"sheetId": i}} for i in staging.values()]
    yield swap + old_tabs + tail


def _band(sheet_id: int, row: int, rows: list[dict[str, Any] | RawRow]) -> dict[str, Any]:
    """updateCells of these RowData from `row` (0-based), every column from A."""
    return {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": 0},
                            "rows": rows, "fields": CELL_FIELDS}}


def _fits(tabs: list[MasterTab], skeleton: int, budget: int) -> bool:
    """Whether the tabs' rows fit one request of `budget` bytes with the rest (skeleton
    bytes): each row adds its bytes and a comma. Rows not spooled yet are made only up to
    the first row over, so a large master costs only the rows up to the budget here."""
    size = skeleton
    for tab in tabs:
        size += tab.rows_size(budget - size)
        if size > budget:
            return False
    return True


def json_size(obj: Any) -> int:
    """Bytes of `obj` as JSON the way GoogleTransport sends it (compact, UTF-8)."""
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def _list_size(requests: list[dict[str, Any]]) -> int:
    """Bytes of a batchUpdate body {"requests": [...]}."""
    return json_size({"requests": []}) + sum(json_size(r) for r in requests) \
        + max(len(requests) - 1, 0)


@dataclass(frozen=True, kw_only=True, slots=True, eq=False)
class MasterTab:
    """One master tab as requests: its grid, its rows of CellData (made on demand from the
    tab's frame, `iter_rows`: never all of them at once) and what follows them."""

    sheet_id: int
    """The live tab's sheet id."""
    title: str
    """Its title."""
    index: int
    """Its position (0 = first)."""
    height: int
    """Rows of content, the header included."""
    width: int
    """Columns (at least 1)."""
    header: dict[str, Any]
    """The header's RowData (row 0)."""
    frame: pd.DataFrame
    """The rows below the header, as master_frame leaves them."""
    kinds: tuple[str, ...]
    """Each column's kind (sheet_layout.column_kind), for its cells."""
    finish: list[dict[str, Any]]
    """Number formats per column, column widths, the basic filter."""
    numbers: tuple[tuple[int, str], ...] = ()
    """(column, number format name) of the columns formatted as a whole (repeatCell)."""
    widths: tuple[int, ...] = ()
    """Each column's width in pixels, as `finish` sets it."""
    hidden: tuple[int, ...] = ()
    """Columns hidden from the reader."""
    wrapped: tuple[int, ...] = ()
    """Columns whose text wraps (a fixed width)."""
    spool: RowSpool = field(default_factory=RowSpool)
    """The data rows as JSON once the shape made them (master_spool.py)."""

    @property
    def grid_rows(self) -> int:
        return max(self.height, 2)

    def properties(self) -> dict[str, Any]:
        """Title, order, exact grid size, frozen header."""
        return {"updateSheetProperties": {
            "properties": {"sheetId": self.sheet_id, "title": self.title, "index": self.index,
                           "gridProperties": {"rowCount": self.grid_rows,
                                              "columnCount": self.width,
                                              "frozenRowCount": 1}},
            "fields": "title,index,gridProperties.rowCount,gridProperties.columnCount,"
                      "gridProperties.frozenRowCount"}}

    def iter_rows(self, start: int = 0, end: int | None = None) -> Iterator[dict[str, Any]]:
        """RowData of rows [start, end) of the grid (0: the header), one at a time: from the
        spool once the shape made it (master_spool.py), else made from the frame."""
        for data, _ in self.sized_rows(start, end):
            yield cast(dict[str, Any], data)  # never a RawRow unless asked

    def sized_rows(self, start: int = 0, end: int | None = None, *, raw: bool = False
                   ) -> Iterator[tuple[dict[str, Any] | RawRow, int]]:
        """(RowData, its bytes as JSON) of rows [start, end) of the grid (0: the header);
        `raw`: spooled rows as the JSON they are (RawRow, for master_spool.encode_body)."""
        end = self.height if end is None else min(end, self.height)
        if start >= end:
            return
        if start == 0:
            yield self.header, json_size(self.header)
            start = 1
        if self.spool.done:
            yield from (self.spool.raw_rows if raw else self.spool.rows)(start - 1, end - 1)
            return
        for data in self.made_rows(start, end):
            yield data, json_size(data)

    def rows_size(self, budget: int) -> int:
        """Bytes of every row as RowData with a comma after each; counted only up to just
        past `budget` when the rows must be made to know it."""
        if self.spool.done:
            return json_size(self.header) + 1 + self.spool.total()
        size = 0
        for _, n in self.sized_rows():
            size += n + 1
            if size > budget:
                break
        return size

    def made_rows(self, start: int, end: int) -> Iterator[dict[str, Any]]:
        """RowData of data rows [start, end) (1 = the first below the header), made from the
        frame one at a time."""
        makers = [_cell_maker(k) for k in self.kinds]
        for values in self.frame.iloc[start - 1:end - 1].itertuples(index=False, name=None):
            yield {"values": [make(v) for make, v in zip(makers, values, strict=True)]}

    def made_row_texts(self, start: int, end: int) -> Iterator[list[str]]:
        """Each data row of [start, end) as its cells' JSON (`sorted_json` of each CellData
        `made_rows` makes), without making the dicts."""
        makers = [_cell_json_maker(k) for k in self.kinds]
        for values in self.frame.iloc[start - 1:end - 1].itertuples(index=False, name=None):
            yield [make(v) for make, v in zip(makers, values, strict=True)]

    def cells(self, *, rows: bool = True, raw: bool = False) -> dict[str, Any]:
        """The whole grid: cells the rows do not cover are cleared. `raw`: spooled rows as
        RawRow (master_spool.encode_body)."""
        return {"updateCells": {"range": grid(self.sheet_id),
                                "rows": [d for d, _ in self.sized_rows(raw=raw)] if rows else [],
                                "fields": CELL_FIELDS}}


def master_tabs(book: MasterBook, ids: dict[str, int]) -> list[MasterTab]:
    names = list(book.tabs)
    titles = master_tab_titles(names)
    return [_tab(ids[title], title, index, book.tabs[name],
                 set(book.percent_columns.get(name, ())), set(book.hidden_columns.get(name, ())),
                 set(book.wrapped_columns.get(name, ())))
            for index, (name, title) in enumerate(zip(names, titles, strict=True))]


def _tab(sheet_id: int, title: str, index: int, df: pd.DataFrame, percent: set[str],
         hidden: AbstractSet[str] = frozenset(),
         wrapped: AbstractSet[str] = frozenset()) -> MasterTab:
    df, headers, kinds = master_frame(df, percent)
    height = len(df) + 1
    width = max(len(headers), 1)
    header_row = {"values": [cell(h, bold=True, fill=HEADER_FILL, centre=True, wrap=True)
                             for h in headers]}
    numbers = tuple((col, _NUMBER_FORMAT[kind]) for col, kind in enumerate(kinds)
                    if kind in _NUMBER_FORMAT)
    # Long sentences wrap in a column of fixed width, as in the local master.
    wrapping = tuple(col for col, header in enumerate(headers) if header in wrapped)
    finish: list[dict[str, Any]] = []
    if len(df):
        finish += column_formats(sheet_id, numbers, wrapping, 1, height)
    widths, hidden_cols = [], []
    for col, header in enumerate(headers):
        chars = WRAPPED_WIDTH if col in wrapping else text_width(header,
                                                                  df.iloc[:_WIDTH_SAMPLE, col])
        finish.append(column_width(sheet_id, col, chars))
        widths.append(chars_to_pixels(chars))
        if header in hidden:
            hidden_cols.append(col)
            finish.append({"updateDimensionProperties": {
                "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col,
                          "endIndex": col + 1},
                "properties": {"hiddenByUser": True}, "fields": "hiddenByUser"}})
    if len(headers):
        finish.append({"setBasicFilter": {"filter": {"range": grid(sheet_id, 0, height, 0,
                                                                    width)}}})
    return MasterTab(sheet_id=sheet_id, title=title, index=index, height=height, width=width,
                     header=header_row, frame=df, kinds=tuple(kinds), finish=finish,
                     numbers=numbers, widths=tuple(widths), hidden=tuple(hidden_cols),
                     wrapped=wrapping)


def column_formats(sheet_id: int, numbers: Iterable[tuple[int, str]], wrapped: Iterable[int],
                   r0: int, r1: int) -> list[dict[str, Any]]:
    """The columns' formats over rows [r0, r1): one repeatCell per column with a number
    format, one per wrapped column."""
    out = [{"repeatCell": {"range": grid(sheet_id, r0, r1, col, col + 1),
                           "cell": cell(number=number),
                           "fields": "userEnteredFormat.numberFormat"}}
           for col, number in numbers]
    out += [{"repeatCell": {"range": grid(sheet_id, r0, r1, col, col + 1),
                            "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP",
                                                           "verticalAlignment": "TOP"}},
                            "fields": "userEnteredFormat.wrapStrategy,"
                                      "userEnteredFormat.verticalAlignment"}}
            for col in wrapped]
    return out


_NUMBER_FORMAT = {"percent": "points", "int": "int", "float": "float", "date": "date",
                  "isodate": "date", "datetime": "datetime"}


@functools.cache
def _cell_maker(kind: str) -> Callable[[Any], dict[str, Any]]:
    """`_value_cell` for a column of `kind`: the commonest exact types (text, whole numbers
    in a number column, blanks, dates) made at once, without `plain`'s checks, which only
    other types need; the same CellData (tests/test_google_master_cells.py). Most of a
    master write's CPU is making its cells."""
    numbered = kind in _NUMBER_FORMAT
    text = kind != "isodate"

    def make(value: Any) -> dict[str, Any]:
        kind_of = type(value)
        if kind_of is str and text:
            # A printable text holds none of the control characters `clean` removes.
            return {"userEnteredValue": {"stringValue": value[:MAX_CELL_TEXT]
                                         if value.isprintable() else clean(value)}}
        if kind_of is int and numbered:
            return {"userEnteredValue": {"numberValue": value}}
        if value is None:
            return {}
        if kind_of is dt.date:
            return {"userEnteredValue": {"numberValue": serial(value)}}
        return _value_cell(value, kind)

    return make


_encode_text: Callable[[str], str] = json.encoder.encode_basestring
"""A JSON string as the spool's C encoder writes one (ensure_ascii=False)."""


def _cell_json_maker(kind: str) -> Callable[[Any], str]:
    """`sorted_json` of `_cell_maker(kind)`'s CellData, written at once for the commonest
    exact types (text, whole numbers in a number column, blanks): a cold master makes one
    per data cell, and building each dict only to encode it was most of that
    (tests/test_google_master_cells.py holds it to sorted_json)."""
    make = _cell_maker(kind)
    numbered = kind in _NUMBER_FORMAT
    text = kind != "isodate"

    def make_json(value: Any) -> str:
        kind_of = type(value)
        if kind_of is str and text:
            return ('{"userEnteredValue":{"stringValue":'
                    + _encode_text(value[:MAX_CELL_TEXT] if value.isprintable()
                                   else clean(value)) + "}}")
        if kind_of is int and numbered:
            return '{"userEnteredValue":{"numberValue":' + int.__repr__(value) + "}}"
        if value is None:
            return "{}"
        return sorted_json(make(value))

    return make_json


def _value_cell(value: Any, kind: str) -> dict[str, Any]:
    value = plain(value)
    if value is None:
        return {}
    if isinstance(value, Link):
        return {"userEnteredValue": {"formulaValue": value.formula()}}
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
            number = ("points" if isinstance(value, PercentPoints)
                      else "int" if isinstance(value, int) else "float")
            out["userEnteredFormat"] = cell(number=number)["userEnteredFormat"]
        return out
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = to_vn_time(value).replace(tzinfo=None)
        return {"userEnteredValue": {"numberValue": serial(value)}}
    if isinstance(value, dt.date):
        return {"userEnteredValue": {"numberValue": serial(value)}}
    return {"userEnteredValue": text_value(str(value))}
