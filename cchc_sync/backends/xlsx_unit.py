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

from ..models import Period, Unit
from ..templates import ColumnSpec, ColumnType, TableSpec, TemplateSet
from .base import CHECK_TAB, EXPLANATION_TITLE, INSTRUCTIONS_TAB, META_TAB, STATUS_TITLE
from .xlsx_common import (
    BOLD,
    BORDER,
    DATE_FORMAT,
    HEADER_ALIGN,
    HEADER_FILL,
    INT_FORMAT,
    OWNED_FILL,
    OWNED_FONT,
    OWNED_HEADER_FILL,
    PERCENT_FORMAT,
    TEXT_FORMAT,
    TITLE_FONT,
    WRAP,
    display_date,
    set_text,
    sized_comment,
)

MULTI_ROW_LIMIT = 500
"""Data validation covers rows 2..500 of a multi-row table (row 2 only for a one-row one)."""

TEMPLATE_NOTE_AUTHOR = "cchc-sync (mẫu)"
"""Author of the header notes made with the sheet: not NOTE_AUTHOR, so a check never
clears them."""

META_KEYS = (
    "unit",
    "unit_name",
    "period",
    "period_from",
    "period_to",
    "template_name",
    "template_version",
    "created_at",
)

_TYPE_WIDTH = {
    ColumnType.INT: 16,
    ColumnType.PCT: 14,
    ColumnType.DATE: 14,
    ColumnType.BOOL: 14,
    ColumnType.TEXT: 30,
    ColumnType.DOCNO: 20,
    ColumnType.CHOICE: 22,
}
_EXPLANATION_WIDTH = 32
_STATUS_WIDTH = 44
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
    _write_instructions(instructions, unit, period, templates)
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
    ws["A1"] = "Kết quả kiểm tra"
    ws["A1"].font = TITLE_FONT
    ws["A2"] = "Chưa kiểm tra. Kết quả sẽ hiện ở đây sau lần kiểm tra đầu tiên."
    ws.column_dimensions["A"].width = 80


# -- instructions ---------------------------------------------------------------------------


def _write_instructions(ws: Worksheet, unit: Unit, period: Period, templates: TemplateSet) -> None:
    signoff = templates.table(templates.signoff_table)
    signoff_col = signoff.column(templates.signoff_column)
    done = signoff_col.choice(templates.signoff_done)
    done_label = done.label if done else templates.signoff_done
    lines: list[tuple[str, str]] = [
        ("title", "HƯỚNG DẪN NHẬP SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH"),
        ("", f"Đơn vị: {unit.name} (mã đơn vị: {unit.code})"),
        (
            "",
            f"Kỳ báo cáo: {period.code} — số liệu tính từ ngày {display_date(period.start)} "
            f"đến ngày {display_date(period.end)}",
        ),
        ("", f"Bộ biểu mẫu: {templates.name}, phiên bản {templates.version}"),
        ("", ""),
        ("head", "1. Cách nhập số liệu"),
        (
            "",
            "Mỗi bảng số liệu là một trang tính (tab) riêng, liệt kê ở mục 4. Dòng 1 của mỗi "
            "tab là tiêu đề cột: giữ nguyên tên cột, không xóa cột (có thể đổi thứ tự cột). "
            "Nhập số liệu từ dòng 2 trở xuống, mỗi dòng một mục.",
        ),
        (
            "",
            "• Số: nhập số thuần (27554) hoặc dùng dấu chấm ngăn cách hàng nghìn (27.554). "
            "Dấu phẩy là dấu thập phân. Số hồ sơ, số văn bản, số người là số nguyên, không âm.",
        ),
        (
            "",
            "• Tỷ lệ phần trăm: nhập 96,16% (hoặc 96,16 vào ô đã định dạng phần trăm). "
            "Cột tỷ lệ có thể để trống: phần mềm tự tính tỷ lệ từ các số liệu.",
        ),
        ("", "• Ngày tháng: nhập theo thứ tự ngày/tháng/năm (dd/mm/yyyy), ví dụ 07/06/2022."),
        (
            "",
            "• Ô để trống nghĩa là \"không báo cáo\", không phải số 0. Nếu số liệu bằng 0, "
            "hãy nhập 0. Dòng để trống hoàn toàn được bỏ qua.",
        ),
        ("", "• Cột có danh sách: bấm vào ô và chọn giá trị trong danh sách."),
        ("", ""),
        ("head", "2. Phần mềm ghi gì vào tệp này"),
        (
            "",
            f"Phần mềm không bao giờ sửa số liệu đơn vị nhập. Phần mềm chỉ ghi vào: cột "
            f"\"{STATUS_TITLE}\" (tiêu đề màu xám) ở cuối mỗi bảng; ghi chú (note) và màu nền "
            f"trên ô có vấn đề; tab \"{CHECK_TAB}\" (danh sách lỗi, cảnh báo và thời điểm "
            f"kiểm tra). Không nhập gì vào những chỗ này: nội dung sẽ bị ghi đè.",
        ),
        (
            "",
            "• Ô tô màu đỏ: LỖI, cần sửa. Ô tô màu vàng: CẢNH BÁO, cần xem lại. Di chuột vào ô "
            "để đọc ghi chú.",
        ),
        (
            "",
            f"• Nếu số liệu bị cảnh báo là đúng, ghi lý do vào cột \"{EXPLANATION_TITLE}\" "
            f"của dòng đó; cảnh báo sẽ được ghi nhận là đã giải trình.",
        ),
        (
            "",
            "• Sau khi sửa và lưu tệp, kết quả được cập nhật ở lần kiểm tra sau. Hãy đóng tệp "
            "sau khi nhập: khi tệp đang mở, phần mềm không ghi được kết quả kiểm tra.",
        ),
        ("", ""),
        ("head", "3. Hoàn thành báo cáo"),
        (
            "",
            f"Khi đã nhập xong, chọn \"{signoff_col.title}\" = \"{done_label}\" ở tab "
            f"\"{signoff.tab}\". Báo cáo được tính là đã nộp từ lúc đó.",
        ),
        ("", ""),
        ("head", "4. Các bảng cần nhập"),
    ]
    for number, spec in enumerate(templates.tables.values(), start=1):
        lines.extend(_table_lines(number, spec))
    ws.column_dimensions["A"].width = 110
    for row, (kind, text) in enumerate(lines, start=1):
        cell = ws.cell(row=row, column=1)
        set_text(cell, text)
        cell.alignment = WRAP
        if kind == "title":
            cell.font = TITLE_FONT
        elif kind == "head":
            cell.font = BOLD
        if len(text) > 100:
            ws.row_dimensions[row].height = 15 * math.ceil(len(text) / 100) + 2


def _table_lines(number: int, spec: TableSpec) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [("head", f"4.{number}. Tab \"{spec.tab}\"")]
    if spec.form:
        out.append(("", f"Mẫu: {spec.form}"))
    if spec.description:
        out.append(("", spec.description))
    if spec.single_row:
        out.append(("", "Bảng một dòng: nhập vào dòng 2."))
    else:
        keys = ", ".join(f"\"{c.title}\"" for c in spec.key_columns)
        out.append(("", f"Nhiều dòng; mỗi dòng phân biệt bằng {keys} (không được trùng)."))
    for col in spec.columns:
        out.append(("", f"   • {col.title}: {describe_type(col)}{_required(col)}"))
    return out


def _required(col: ColumnSpec) -> str:
    return "; bắt buộc khi dòng có số liệu" if col.required else ""


def describe_type(col: ColumnSpec) -> str:
    """What the column expects, in Vietnamese, for notes and the instructions tab."""
    match col.type:
        case ColumnType.INT:
            low = 0 if col.minimum is None else col.minimum
            text = "số nguyên, không âm" if low == 0 else f"số nguyên, từ {_num(low)} trở lên"
            if col.maximum is not None:
                text += f", tối đa {_num(col.maximum)}"
            return text + " (ví dụ 27.554)"
        case ColumnType.PCT:
            return "tỷ lệ phần trăm, ví dụ 96,16% (có thể để trống)"
        case ColumnType.DATE:
            return "ngày tháng theo thứ tự ngày/tháng/năm, ví dụ 07/06/2022"
        case ColumnType.DOCNO:
            return "số, ký hiệu văn bản, ví dụ 175/KH-UBND"
        case ColumnType.BOOL:
            return "chọn Có hoặc Không"
        case ColumnType.CHOICE:
            return "chọn trong danh sách: " + "; ".join(c.label for c in col.choices)
        case _:
            return "chữ (văn bản)"


def _num(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".") if float(value).is_integer() else str(value)


# -- table tabs -----------------------------------------------------------------------------


def _write_table_tab(wb: Workbook, spec: TableSpec, meta: Worksheet) -> None:
    ws = wb.create_sheet(spec.tab)
    titles = [c.title for c in spec.columns] + [EXPLANATION_TITLE, STATUS_TITLE]
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
            width = col.width or _TYPE_WIDTH.get(col.type, 18)
            cell.comment = _header_note(col)
            fmt = _column_format(col)
            if fmt:
                # A column style: Excel and LibreOffice give it to every cell typed there.
                dim.number_format = fmt
                if spec.single_row:
                    ws.cell(row=2, column=index).number_format = fmt
            _add_validation(wb, ws, col, letter, last_row, meta)
        elif title == EXPLANATION_TITLE:
            width = _EXPLANATION_WIDTH
            cell.comment = _note(
                "Giải trình: ghi lý do khi số liệu bị cảnh báo nhưng là đúng (không bắt buộc)."
            )
        else:
            width = _STATUS_WIDTH
            cell.fill = OWNED_HEADER_FILL
            cell.font = Font(bold=True, italic=True, color=OWNED_FONT.color)
            cell.comment = _note(
                "Cột do phần mềm ghi kết quả kiểm tra từng dòng. Không nhập vào cột này."
            )
            dim.fill = OWNED_FILL
            dim.font = OWNED_FONT
        dim.width = width
        if spec.single_row:
            ws.cell(row=2, column=index).border = BORDER
        max_lines = max(max_lines, math.ceil(len(title) * 1.1 / max(width - 2, 4)))
    ws.row_dimensions[1].height = 15 * max_lines + 6
    ws.freeze_panes = "A2"


def _column_format(col: ColumnSpec) -> str | None:
    return {
        ColumnType.PCT: PERCENT_FORMAT,
        ColumnType.DATE: DATE_FORMAT,
        ColumnType.INT: INT_FORMAT,
        # Text keeps "0912..." phone numbers and "09/2019" numbers from becoming numbers/dates.
        ColumnType.TEXT: TEXT_FORMAT,
        ColumnType.DOCNO: TEXT_FORMAT,
    }.get(col.type)


def _note(text: str) -> Comment:
    return sized_comment(text, TEMPLATE_NOTE_AUTHOR)


def _header_note(col: ColumnSpec) -> Comment:
    parts = [f"{col.title}", f"Kiểu: {describe_type(col)}."]
    if col.required:
        parts.append("Bắt buộc khi dòng có số liệu.")
    if col.is_key:
        parts.append("Dùng để phân biệt các dòng: không được trùng.")
    parts.append("Để trống = không báo cáo (không phải 0).")
    return _note("\n".join(parts))


def _add_validation(
    wb: Workbook, ws: Worksheet, col: ColumnSpec, letter: str, last_row: int, meta: Worksheet
) -> None:
    dv: DataValidation | None = None
    if col.type is ColumnType.CHOICE:
        dv = DataValidation(type="list", formula1=_list_formula(wb, ws, col, meta))
        dv.error = "Hãy chọn một giá trị trong danh sách."
        dv.prompt = "Chọn trong danh sách."
    elif col.type is ColumnType.BOOL:
        dv = DataValidation(type="list", formula1='"Có,Không"')
        dv.error = "Hãy chọn Có hoặc Không."
        dv.prompt = "Chọn Có hoặc Không."
    elif col.type is ColumnType.INT:
        low = 0 if col.minimum is None else col.minimum
        if col.maximum is not None:
            dv = DataValidation(
                type="whole", operator="between", formula1=_f(low), formula2=_f(col.maximum)
            )
        else:
            dv = DataValidation(type="whole", operator="greaterThanOrEqual", formula1=_f(low))
        dv.error = f"Cột \"{col.title}\" là {describe_type(col)}."
        dv.prompt = "Nhập số nguyên, ví dụ 27.554. Để trống nếu không báo cáo."
    elif col.type is ColumnType.DATE:
        dv = DataValidation(
            type="date", operator="between", formula1=_f(_DATE_MIN), formula2=_f(_DATE_MAX)
        )
        dv.error = "Hãy nhập ngày theo thứ tự ngày/tháng/năm, ví dụ 07/06/2022."
        dv.prompt = "Ngày/tháng/năm, ví dụ 07/06/2022."
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


def _f(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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
    values = {
        "unit": unit.code,
        "unit_name": unit.name,
        "period": period.code,
        "period_from": period.start.isoformat(),
        "period_to": period.end.isoformat(),
        "template_name": templates.name,
        "template_version": templates.version,
        "created_at": created_at.isoformat(timespec="seconds"),
    }
    for row, key in enumerate(META_KEYS, start=1):
        set_text(ws.cell(row=row, column=1), key)
        set_text(ws.cell(row=row, column=2), values[key])
    ws.column_dimensions["A"].width = 20
    ws.column_dimensions["B"].width = 40
    return ws
