"""Building a unit's workbook from the template set: a file a clerk can fill without us.

Tabs: "Hướng dẫn" (instructions, in Vietnamese), one tab per table in template order,
"Kiểm tra" (the software's findings) and the hidden "_cchc" (key/value metadata).
"""

from __future__ import annotations

import datetime as dt
import math

from openpyxl.comments import Comment
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook import Workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TableSpec, TemplateSet
from cchc_sync.sources.base import CHECK_TAB, EXPLANATION_TITLE, INSTRUCTIONS_TAB, META_TAB
from cchc_sync.sources.sheet_layout import (
    DATA_ROWS,
    EXPLANATION_WIDTH,
    INSTRUCTIONS_WIDTH,
    NUMBER_PATTERNS,
    PLACEHOLDER_WIDTH,
    STATUS_WIDTH,
    column_number_kind,
    column_width,
    number_text,
    table_titles,
)
from cchc_sync.sources.sheet_text import (
    BOOL_PROMPT,
    CHECK_PLACEHOLDER,
    CHOICE_PROMPT,
    DATE_PROMPT,
    EXCEL_SAVE_LINE,
    EXPLANATION_NOTE,
    HEAD,
    STATUS_NOTE,
    TITLE,
    describe_type,
    header_note,
    instruction_lines,
    meta_values,
)
from cchc_sync.sources.xlsx.common import (
    BOLD,
    BORDER,
    HEADER_ALIGN,
    HEADER_FILL,
    OWNED_FILL,
    OWNED_FONT,
    OWNED_HEADER_FILL,
    TITLE_FONT,
    WRAP,
    fit_to_page_width,
    set_text,
    sized_comment,
)

MULTI_ROW_LIMIT = DATA_ROWS
"""Data validation covers rows 2..500 of a multi-row table (row 2 only for a one-row one)."""

TEMPLATE_NOTE_AUTHOR = "cchc-sync (mẫu)"
"""Author of the header notes made with the sheet: not NOTE_AUTHOR, so a check never
clears them."""

# Excel refuses an inline list longer than this (quotes included).
_INLINE_LIST_LIMIT = 255
# Excel 1900 date system serials for the accepted date range of date columns.
_DATE_MIN = to_excel(dt.datetime(1990, 1, 1))
_DATE_MAX = to_excel(dt.datetime(2100, 12, 31))


def build_unit_workbook(
    unit: Unit, period: Period, templates: TemplateSet, *, created_at: dt.datetime
) -> Workbook:
    """The unit's workbook for the period, made from the templates (nothing saved)."""
    wb = Workbook()
    instructions = wb.active
    instructions.title = INSTRUCTIONS_TAB
    write_instructions(instructions, unit, period, templates)
    meta = _write_meta(wb, unit, period, templates, created_at)
    for spec in templates.tables.values():
        _write_table_tab(wb, spec, meta)
    check = wb.create_sheet(CHECK_TAB)
    write_check_placeholder(check)
    # The metadata tab goes last and stays out of the clerk's way.
    wb.move_sheet(meta, offset=len(wb.worksheets) - 1 - wb.index(meta))
    meta.sheet_state = "hidden"
    wb.active = 0
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is instructions
    return wb


def fill_rows(wb: Workbook, templates: TemplateSet, prefill: dict[str, list[dict]]) -> None:
    """Type carried-forward rows into a new workbook's table tabs (values as a clerk would
    see them: choice labels, plain numbers), from row 2 down, in template column order."""
    for table, rows in prefill.items():
        spec = templates.table(table)
        ws = wb[spec.tab]
        index = {c.key: i for i, c in enumerate(spec.columns, start=1)}
        for offset, row in enumerate(rows):
            for key, value in row.items():
                if key in index and value is not None:
                    cell = ws.cell(row=2 + offset, column=index[key])
                    cell.value = value
                    fmt = ws.column_dimensions[cell.column_letter].number_format
                    if fmt and fmt != "General":
                        cell.number_format = fmt


def write_check_placeholder(ws: Worksheet) -> None:
    """The "Kiểm tra" tab before the first check."""
    ws["A1"], ws["A2"] = CHECK_PLACEHOLDER
    ws["A1"].font = TITLE_FONT
    ws.column_dimensions["A"].width = PLACEHOLDER_WIDTH
    fit_to_page_width(ws)


# -- instructions ---------------------------------------------------------------------------


def write_instructions(ws: Worksheet, unit: Unit, period: Period, templates: TemplateSet) -> None:
    lines = instruction_lines(unit, period, templates, save_line=EXCEL_SAVE_LINE)
    ws.column_dimensions["A"].width = INSTRUCTIONS_WIDTH
    for row, (kind, text) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1)
        set_text(cell, text)
        cell.alignment = WRAP
        if kind == TITLE:
            cell.font = TITLE_FONT
        elif kind == HEAD:
            cell.font = BOLD
        if len(text) > 100:
            ws.row_dimensions[row].height = 15 * math.ceil(len(text) / 100) + 2
    # Column A is wider than A4 portrait holds: printed so, its right part was cut off (a
    # single column is never split across pages, and LibreOffice does not shrink it to
    # fit). Landscape holds it at 100 %.
    fit_to_page_width(ws)


# -- table tabs -----------------------------------------------------------------------------


def _write_table_tab(wb: Workbook, spec: TableSpec, meta: Worksheet) -> None:
    ws = wb.create_sheet(spec.tab)
    titles = table_titles(spec)
    last_row = 2 if spec.single_row else MULTI_ROW_LIMIT
    max_lines = 1
    for index, title in enumerate(titles, start=1):
        cell = ws.cell(row=1, column=index)
        set_text(cell, title)
        cell.font = BOLD
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGN
        cell.border = BORDER
        letter = get_column_letter(index)
        dim = ws.column_dimensions[letter]
        if index <= len(spec.columns):
            col = spec.columns[index - 1]
            width = column_width(col)
            cell.comment = _note(header_note(col))
            kind = column_number_kind(col)
            fmt = NUMBER_PATTERNS[kind] if kind else None
            if fmt:
                # A column style: Excel and LibreOffice give it to every cell typed there.
                dim.number_format = fmt
                if spec.single_row:
                    ws.cell(row=2, column=index).number_format = fmt
            _add_validation(wb, ws, col, letter, last_row, meta)
        elif title == EXPLANATION_TITLE:
            width = EXPLANATION_WIDTH
            cell.comment = _note(EXPLANATION_NOTE)
        else:
            width = STATUS_WIDTH
            cell.fill = OWNED_HEADER_FILL
            cell.font = Font(bold=True, italic=True, color=OWNED_FONT.color)
            cell.comment = _note(STATUS_NOTE)
            dim.fill = OWNED_FILL
            dim.font = OWNED_FONT
        dim.width = width
        if spec.single_row:
            ws.cell(row=2, column=index).border = BORDER
        max_lines = max(max_lines, math.ceil(len(title) * 1.1 / max(width - 2, 4)))
    ws.row_dimensions[1].height = 15 * max_lines + 6
    ws.freeze_panes = "A2"
    fit_to_page_width(ws, title_row=1)


def _note(text: str) -> Comment:
    return sized_comment(text, TEMPLATE_NOTE_AUTHOR)


def _add_validation(
    wb: Workbook, ws: Worksheet, col: ColumnSpec, letter: str, last_row: int, meta: Worksheet
) -> None:
    dv: DataValidation | None = None
    if col.type is ColumnType.CHOICE:
        dv = DataValidation(type="list", formula1=_list_formula(wb, ws, col, meta))
        dv.error = "Hãy chọn một giá trị trong danh sách."
        dv.prompt = CHOICE_PROMPT
    elif col.type is ColumnType.BOOL:
        dv = DataValidation(type="list", formula1='"Có,Không"')
        dv.error = "Hãy chọn Có hoặc Không."
        dv.prompt = BOOL_PROMPT
    elif col.type is ColumnType.INT:
        low = 0 if col.minimum is None else col.minimum
        if col.maximum is not None:
            dv = DataValidation(
                type="whole",
                operator="between",
                formula1=number_text(low),
                formula2=number_text(col.maximum),
            )
        else:
            dv = DataValidation(
                type="whole", operator="greaterThanOrEqual", formula1=number_text(low)
            )
        dv.error = f"Cột \"{col.title}\" là {describe_type(col)}."
        dv.prompt = "Nhập số nguyên, ví dụ 27.554. Để trống nếu không báo cáo."
    elif col.type is ColumnType.DATE:
        dv = DataValidation(
            type="date",
            operator="between",
            formula1=number_text(_DATE_MIN),
            formula2=number_text(_DATE_MAX),
        )
        dv.error = "Hãy nhập ngày theo thứ tự ngày/tháng/năm, ví dụ 07/06/2022."
        dv.prompt = DATE_PROMPT
    if dv is None:
        return
    # "warning" style: the clerk is told, and may still keep the value; the software's own
    # checks decide (an alias such as "mức 3" is acceptable to us but not to a list).
    dv.errorStyle = "warning"
    dv.errorTitle = "Giá trị chưa đúng"
    dv.promptTitle = col.title[:32]
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.showInputMessage = True
    ws.add_data_validation(dv)
    dv.add(f"{letter}2:{letter}{last_row}")


def _list_formula(wb: Workbook, ws: Worksheet, col: ColumnSpec, meta: Worksheet) -> str:
    labels = [c.label for c in col.choices]
    inline = '"' + ",".join(labels) + '"'
    if len(inline) <= _INLINE_LIST_LIMIT and not any("," in x or '"' in x for x in labels):
        return inline
    # Too long (or a label with a comma) for an inline list: list the labels in the hidden
    # metadata tab and point at them through a defined name. Excel keeps a name-based list
    # in the standard validation element (a direct reference to another sheet would be
    # moved into an extension that openpyxl drops on the next write).
    column = meta.max_column + 1 if meta.max_column >= 3 else 4
    for row, label in enumerate(labels, start=1):
        set_text(meta.cell(row=row, column=column), label)
    letter = get_column_letter(column)
    name = f"cchc_ds_{letter}"
    ref = f"{quote_sheetname(meta.title)}!${letter}$1:${letter}${len(labels)}"
    wb.defined_names[name] = DefinedName(name, attr_text=ref)
    return name


# -- metadata -------------------------------------------------------------------------------


def _write_meta(
    wb: Workbook, unit: Unit, period: Period, templates: TemplateSet, created_at: dt.datetime
) -> Worksheet:
    ws = wb.create_sheet(META_TAB)
    for row, (key, value) in enumerate(meta_values(unit, period, templates, created_at), start=1):
        set_text(ws.cell(row=row, column=1), key)
        set_text(ws.cell(row=row, column=2), value)
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 40
    return ws
