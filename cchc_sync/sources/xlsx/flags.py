"""Applying a FlagPlan to a loaded unit workbook, touching only what the software owns.

Owned: the "Kết quả kiểm tra" column below the header, notes whose author is NOTE_AUTHOR,
ERROR_FILL / WARNING_FILL fills on data cells, and the whole "Kiểm tra" tab. Values,
formulas, validation and number formats of every other cell are left as they are.
"""

from __future__ import annotations

from openpyxl.cell.cell import Cell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook import Workbook
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet

from cchc_sync.domain.records import Finding, Severity
from cchc_sync.normalise import fold
from cchc_sync.sources.base import (
    CHECK_TAB,
    ERROR_FILL,
    META_TAB,
    NOTE_AUTHOR,
    STATUS_TITLE,
    WARNING_FILL,
    FlagPlan,
    TabFlags,
)
from cchc_sync.sources.sheet_layout import (
    CHECK_COLUMNS,
    CHECK_HEADER_ROW,
    OK_TEXT,
    SEVERITY_COLUMN,
    STATUS_STYLE,
    finding_values,
    ordered_findings,
)
from cchc_sync.sources.sheet_text import EXCEL_CHECK_HINT, NO_FINDINGS, check_heading
from cchc_sync.sources.xlsx.common import (
    BOLD,
    BORDER,
    HEADER_ALIGN,
    HEADER_FILL,
    NO_FILL,
    OWNED_FILL,
    OWNED_FONT,
    TITLE_FONT,
    WRAP,
    find_sheet,
    fit_to_page_width,
    set_text,
    sized_comment,
)

MARK_FILL = {
    Severity.ERROR: PatternFill("solid", fgColor=ERROR_FILL),
    Severity.WARNING: PatternFill("solid", fgColor=WARNING_FILL),
}
# Status cell font and fill by the row's worst severity (None: clean).
STATUS_STYLES = {
    severity: (
        Font(color=style.colour, bold=True) if style.bold else Font(color=style.colour),
        PatternFill("solid", fgColor=style.fill),
    )
    for severity, style in STATUS_STYLE.items()
}
OWNED_RGB = {ERROR_FILL.upper(), WARNING_FILL.upper()}


def apply_flag_plan(wb: Workbook, plan: FlagPlan) -> None:
    """Write the plan's marks into the table tabs and rewrite the "Kiểm tra" tab."""
    titles = _column_titles(wb, plan)
    for flags in plan.tabs.values():
        ws = find_sheet(wb, flags.tab)
        if ws is not None:
            _flag_tab(ws, flags)
    write_check_tab(wb, plan, titles, _fresh_check_sheet(wb))


# -- table tabs -----------------------------------------------------------------------------


def _flag_tab(ws: Worksheet, flags: TabFlags) -> None:
    header_row = flags.layout.header_row
    status_col = _status_column(ws, flags)
    _clear_owned(ws, header_row, status_col)
    if status_col is None:
        # The clerk deleted the status column: columns may have moved, so no marks here;
        # the findings still appear in the "Kiểm tra" tab.
        return
    for row, text in flags.row_status.items():
        if row <= header_row:
            continue
        cell = ws.cell(row=row, column=status_col)
        set_text(cell, text)
        # No wrapping: a long status would make LibreOffice grow the clerk's row; the text
        # runs on to the right (the column is the last) and is in full in "Kiểm tra".
        cell.font, cell.fill = STATUS_STYLES[flags.row_severity.get(row)]
    for (row, col), mark in flags.cell_marks.items():
        if row < 1 or col < 1:
            continue
        cell = ws.cell(row=row, column=col)
        if cell.comment is None:
            cell.comment = sized_comment(mark.note, NOTE_AUTHOR)
        # else: somebody else's note is on the cell; it stays (the finding is in "Kiểm tra").
        if row > header_row and col != status_col:
            cell.fill = MARK_FILL[Severity(mark.severity)]


def _status_column(ws: Worksheet, flags: TabFlags) -> int | None:
    """The status column, checked against the header (the plan's layout may be stale)."""
    header_row = flags.layout.header_row
    wanted = fold(STATUS_TITLE)
    guess = flags.layout.status_col
    if guess is not None and _folded(ws._cells.get((header_row, guess))) == wanted:
        return guess
    # openpyxl keeps no per-row index; _cells is read, never grown, to find the header.
    for (row, col), cell in sorted(ws._cells.items()):
        if row == header_row and _folded(cell) == wanted:
            return col
    return None


def _folded(cell: Cell | None) -> str:
    if cell is None or cell.value is None:
        return ""
    return fold(str(cell.value))


def _clear_owned(ws: Worksheet, header_row: int, status_col: int | None) -> None:
    """Remove the software's previous marks: its notes, its fills, the status cells."""
    # Iterate the stored cells only: iter_rows() would create a cell at every blank position.
    for (row, col), cell in list(ws._cells.items()):
        if cell.comment is not None and cell.comment.author == NOTE_AUTHOR:
            cell.comment = None
        if row <= header_row:
            continue
        if col == status_col:
            cell.value = None
            cell.font, cell.fill = OWNED_FONT, OWNED_FILL
        elif cell.has_style and _is_owned_fill(cell.fill):
            cell.fill = NO_FILL


def _is_owned_fill(fill: PatternFill) -> bool:
    if fill is None or fill.fill_type != "solid":
        return False
    color = fill.fgColor
    if color is None or color.type != "rgb" or not isinstance(color.rgb, str):
        return False
    return color.rgb[-6:].upper() in OWNED_RGB


# -- the "Kiểm tra" tab --------------------------------------------------------------------


def _column_titles(wb: Workbook, plan: FlagPlan) -> dict[tuple[str, str], tuple[str, int]]:
    """(table, column key) -> (header title as the clerk sees it, column index)."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    for table, flags in plan.tabs.items():
        ws = find_sheet(wb, flags.tab)
        for key, index in flags.layout.columns.items():
            cell = ws._cells.get((flags.layout.header_row, index)) if ws is not None else None
            title = str(cell.value).strip() if cell is not None and cell.value else key
            out[(table, key)] = (title, index)
    return out


def write_check_tab(
    wb: Workbook, plan: FlagPlan, titles: dict[tuple[str, str], tuple[str, int]],
    ws: Worksheet,
) -> None:
    """Fill `ws`, an empty sheet of `wb`, as the "Kiểm tra" tab (links go to `wb`'s tabs;
    flag_patch calls it on a scratch workbook holding the tabs' titles only)."""
    heading, unit_line, counts = check_heading(plan)
    ws["A1"] = heading
    ws["A1"].font = TITLE_FONT
    set_text(ws["A2"], unit_line)
    ws["A3"] = counts
    ws["A3"].font = BOLD
    ws.column_dimensions["A"].width = CHECK_COLUMNS[0][1]
    if not plan.findings:
        ws["A5"] = NO_FINDINGS
        ws["A5"].font = Font(bold=True, color=OK_TEXT)
        fit_to_page_width(ws)
        return
    ws["A4"] = EXCEL_CHECK_HINT
    header_row = CHECK_HEADER_ROW
    for index, (title, width) in enumerate(CHECK_COLUMNS, start=1):
        cell = ws.cell(row=header_row, column=index, value=title)
        cell.font, cell.fill, cell.alignment, cell.border = BOLD, HEADER_FILL, HEADER_ALIGN, BORDER
        ws.column_dimensions[get_column_letter(index)].width = width
    findings = ordered_findings(plan)
    for offset, finding in enumerate(findings, start=1):
        _write_finding(wb, ws, header_row + offset, finding, plan, titles)
    last = header_row + len(findings)
    ws.freeze_panes = f"A{header_row + 1}"
    ws.auto_filter.ref = f"A{header_row}:{get_column_letter(len(CHECK_COLUMNS))}{last}"
    fit_to_page_width(ws, title_row=header_row)


def _write_finding(
    wb: Workbook,
    ws: Worksheet,
    row: int,
    f: Finding,
    plan: FlagPlan,
    titles: dict[tuple[str, str], tuple[str, int]],
) -> None:
    flags = plan.tabs.get(f.table)
    title, col_index = titles.get((f.table, f.column or ""), (f.column or "", 0))
    for index, value in enumerate(finding_values(f, plan, title, col_index), start=1):
        cell = ws.cell(row=row, column=index)
        if isinstance(value, str):
            set_text(cell, value)
        else:
            cell.value = value
        cell.alignment, cell.border = WRAP, BORDER
    severity = ws.cell(row=row, column=SEVERITY_COLUMN)
    severity.font, severity.fill = STATUS_STYLES[Severity(f.severity)]
    target = find_sheet(wb, flags.tab) if flags else None
    if target is not None and f.row is not None:
        letter = get_column_letter(col_index or 1)
        cell = ws.cell(row=row, column=2)
        cell.hyperlink = Hyperlink(
            ref=cell.coordinate, location=f"{quote_sheetname(target.title)}!{letter}{f.row}"
        )
        cell.font = Font(color="0563C1", underline="single")


def _fresh_check_sheet(wb: Workbook) -> Worksheet:
    """An empty "Kiểm tra" sheet where the old one was (before "_cchc" when it is new)."""
    old = find_sheet(wb, CHECK_TAB)
    active = wb.active
    if old is None:
        meta = find_sheet(wb, META_TAB)
        index = wb.index(meta) if meta is not None else len(wb.worksheets)
        return wb.create_sheet(CHECK_TAB, index)
    index = wb.index(old)
    selected = old.sheet_view.tabSelected
    state = old.sheet_state
    wb.remove(old)
    ws = wb.create_sheet(CHECK_TAB, index)
    ws.sheet_view.tabSelected = selected
    ws.sheet_state = state
    wb.active = ws if active is old else active
    return ws
