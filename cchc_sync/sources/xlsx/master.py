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
import io
import re
import shutil
import textwrap
import zipfile
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from copy import copy
from types import SimpleNamespace
from typing import IO, Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import TIME_FORMATS
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.properties import PageSetupProperties

from cchc_sync.domain.records import Period
from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.sheet_layout import (
    SUMMARY_WIDTH,
    WRAPPED_WIDTH,
    Link,
    MasterFrame,
    PercentPoints,
    master_tab,
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
    WRAP,
    clean_text,
    set_text,
    workbook_bytes,
)
from cchc_sync.sources.xlsx.master_rows import render_rows

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
    print_landscape(ws)
    wb.properties.title = clean_text(title)[:255]
    return wb


def print_landscape(ws: WriteOnlyWorksheet) -> None:
    """Every master tab prints on A4 landscape, scaled to one page wide (as many pages
    tall as its rows need), its header row repeated on every page. Set before the first
    row is streamed (write-only sheets take it then)."""
    setup = ws.page_setup
    setup.paperSize = "9"  # A4 (SpreadsheetML's code; write-only sheets lack the constant)
    setup.orientation = "landscape"
    setup.fitToWidth = 1
    setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"


def master_bytes(book: MasterBook, only: Mapping[int, Sequence[range]] | None = None,
                 frames: Sequence[MasterFrame] | None = None) -> bytes:
    """The .xlsx bytes of build_master_workbook(book, only, frames), its data rows written
    by master_rows (the same bytes, without a cell object each) where it can."""
    rows: dict[str, IO[bytes]] = {}
    try:
        data = workbook_bytes(build_master_workbook(book, only, frames, rows))
        if not rows:
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as src, \
                zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as dst:
            for info in src.infolist():
                part = src.read(info)
                if info.filename not in rows:
                    dst.writestr(info, part)
                    continue
                # The rendered rows stream from their file into the compressed part: never
                # a copy of them all in memory.
                head, end, tail = part.partition(b"</sheetData>")
                with dst.open(info, "w", force_zip64=True) as stream:
                    stream.write(head)
                    shutil.copyfileobj(rows[info.filename], stream, 1024 * 1024)
                    stream.write(end + tail)
        return out.getvalue()
    finally:
        for spooled in rows.values():
            spooled.close()


def build_master_workbook(book: MasterBook,
                          only: Mapping[int, Sequence[range]] | None = None,
                          frames: Sequence[MasterFrame] | None = None,
                          direct: dict[str, IO[bytes]] | None = None) -> Workbook:
    """The master workbook for `book` (write-only: rows are streamed, memory stays flat).

    `only` (tab index -> ranges of the frame's row positions) writes, in those tabs, the
    header and only those rows, one after another from row 2, while the filter still spans
    the whole frame: master_update splices them between rows it keeps from the master
    already written. Every cell style the master uses is registered first, in one order,
    so a cell's style id does not depend on which rows were written. `frames`: the
    tabs' master_tab, when the caller has them already. `direct`: a tab's data rows are
    left out of its sheet and put there as XML, by sheet part (see master_bytes)."""
    wb = Workbook(write_only=True)
    _register_styles(wb)
    wb.properties.title = clean_text(book.title)[:255]
    if book.generated_at is not None:
        wb.properties.modified = to_vn_time(book.generated_at).replace(tzinfo=None)
    used: set[str] = set()
    for index, (name, df) in enumerate(book.tabs.items()):
        title = _sheet_title(name, used)
        framed = frames[index] if frames is not None else master_tab(
            df, set(book.percent_columns.get(name, ())))
        rows = _write_frame(wb.create_sheet(title), framed,
                            set(book.hidden_columns.get(name, ())),
                            set(book.wrapped_columns.get(name, ())),
                            rows=None if only is None else only.get(index),
                            direct=direct is not None)
        if direct is not None and rows is not None:
            direct[f"xl/worksheets/sheet{index + 1}.xml"] = rows
    if not book.tabs:
        ws = wb.create_sheet(SUMMARY_TAB)
        print_landscape(ws)
        ws.append([clean_text(book.title)])
        ws.append(["Chưa có số liệu."])
    return wb


def master_titles(book: MasterBook) -> list[str]:
    """The sheet titles build_master_workbook gives the book's tabs, in order."""
    used: set[str] = set()
    return [_sheet_title(name, used) for name in book.tabs]


_NUMBER_FORMATS = (None, INT_FORMAT, FLOAT_FORMAT, PERCENT_POINTS_FORMAT, DATE_FORMAT,
                   DATETIME_FORMAT)


def _register_styles(wb: Workbook) -> None:
    """Register every style a master cell can have, always in this order (header; each
    number format, plain or quote-prefixed text, with and without wrapping), so the
    style table and every cell's style id are the same whichever rows a write renders."""
    holder = SimpleNamespace(parent=wb)
    # openpyxl gives a date or time value its own default format (kept in the table even
    # when the cell's format is set again right after): those first, in one order too.
    for default in TIME_FORMATS.values():
        WriteOnlyCell(holder, value=None).number_format = default
    header = WriteOnlyCell(holder, value=None)
    header.font, header.fill, header.alignment, header.border = (BOLD, HEADER_FILL,
                                                                 HEADER_ALIGN, BORDER)
    wb._cell_styles.add(header._style)
    for wraps in (False, True):
        for quoted in (False, True):
            for number_format in _NUMBER_FORMATS:
                cell = _styled_cell(holder, number_format, quoted, wraps)
                if cell.has_style:  # the plain style is the table's first already
                    wb._cell_styles.add(cell._style)


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


def _write_frame(ws: WriteOnlyWorksheet, framed: MasterFrame,
                 hidden: AbstractSet[str] = frozenset(),
                 wrapped: AbstractSet[str] = frozenset(),
                 rows: Sequence[range] | None = None, direct: bool = False
                 ) -> IO[bytes] | None:
    """Stream the tab; with `direct`, its data rows are returned as XML (master_rows)
    instead, when they can be."""
    titles, kinds, columns = framed.titles, framed.kinds, framed.columns
    # Widths, the frozen header and the print setup must be set before the first row is
    # streamed.
    ws.freeze_panes = "A2"
    print_landscape(ws)
    for index, title in enumerate(titles):
        width = text_width(title, columns[index][:_WIDTH_SAMPLE])
        dim = ws.column_dimensions[get_column_letter(index + 1)]
        dim.width = WRAPPED_WIDTH if title in wrapped else width
        dim.hidden = title in hidden
    # The header's style is set once and copied: each style set looks the font, fill...
    # up in the workbook's tables by hash (most of a small master's render otherwise).
    styled = WriteOnlyCell(ws, value=None)
    styled.font, styled.fill, styled.alignment, styled.border = (BOLD, HEADER_FILL,
                                                                 HEADER_ALIGN, BORDER)
    header = []
    for title in titles:
        cell = WriteOnlyCell(ws, value=None)
        cell._style = copy(styled._style)
        set_text(cell, title)
        header.append(cell)
    ws.append(header)
    wrap = [title in wrapped for title in titles]
    last_col = get_column_letter(max(len(titles), 1))
    ws.auto_filter.ref = f"A1:{last_col}{len(framed) + 1}"
    parts = [range(len(framed))] if rows is None else rows
    if direct:
        rendered = render_rows(framed, wrap, lambda *how: _style_id(ws, *how), parts,
                               _wrapped_lines, LINE_POINTS)
        if rendered is not None:
            return rendered[0]
    number = 1
    for part in parts:
        for values in framed.rows(part):
            number += 1
            cells = [_cell(ws, value, kind) for value, kind in zip(values, kinds, strict=True)]
            lines = 1
            for cell, wraps in zip(cells, wrap, strict=True):
                if wraps and cell is not None:
                    cell.alignment = WRAP
                    lines = max(lines, _wrapped_lines(str(cell.value)))
            if lines > 1:
                # Neither LibreOffice nor every Excel grows a row to its wrapped text on
                # opening a file: without a height the lines overlap on screen and in print.
                ws.row_dimensions[number].height = LINE_POINTS * lines
            ws.append(cells)
    return None


def _style_id(ws: WriteOnlyWorksheet, number_format: str | None, quoted: bool,
              wraps: bool) -> int | None:
    """The style id _cell gives a cell so styled (None: the plain style, no "s"), from
    the workbook's table, where _register_styles put every such style."""
    memo: dict[tuple[str | None, bool, bool], int | None] = ws.parent.__dict__.setdefault(
        "_cchc_style_ids", {})
    key = (number_format, quoted, wraps)
    if key not in memo:
        cell = _styled_cell(ws, number_format, quoted, wraps)
        memo[key] = cell.style_id if cell.has_style else None
    return memo[key]


def _styled_cell(parent: Any, number_format: str | None, quoted: bool,
                 wraps: bool) -> WriteOnlyCell:
    cell = WriteOnlyCell(parent, value=None)
    if number_format is not None:
        cell.number_format = number_format
    if quoted:
        cell.quotePrefix = True
    if wraps:
        cell.alignment = WRAP
    return cell


LINE_POINTS = 15
"""Height of one line of 11 pt text in a row, in points (Excel's default row height)."""


def _wrapped_lines(text: str) -> int:
    """Lines `text` takes in a column of WRAPPED_WIDTH characters (a little narrower, so
    the estimate errs towards a row too tall rather than a line cut)."""
    return sum(max(1, len(textwrap.wrap(part, WRAPPED_WIDTH - 4))) for part in text.split("\n"))


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
