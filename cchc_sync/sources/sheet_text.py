"""The words a clerk reads in a unit's sheet, the same in either backend.

The instructions tab ("Hướng dẫn"), the header notes, the "Kiểm tra" placeholder and
heading, the empty master's "Tổng hợp" and the key/value rows of "_cchc" are made here as
plain text; `xlsx_*` and `google_*` only decide how they look (fonts, fills, notes or
comments). The one sentence that differs is how the clerk's edits reach the software:
`EXCEL_SAVE_LINE` (save and close the file) or `GOOGLE_SAVE_LINE` (Sheets saves by itself).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.records import Finding, Period, Severity, Unit
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TableSpec, TemplateSet
from cchc_sync.sources.base import CHECK_TAB, EXPLANATION_TITLE, STATUS_TITLE, FlagPlan

TITLE, HEAD, PLAIN = "title", "head", ""
"""Kinds of instruction lines: the sheet's title, a section heading, ordinary text."""

EXCEL_SAVE_LINE = (
    "• Sau khi sửa và lưu tệp, kết quả được cập nhật ở lần kiểm tra sau. Hãy đóng tệp "
    "sau khi nhập: khi tệp đang mở, phần mềm không ghi được kết quả kiểm tra."
)
GOOGLE_SAVE_LINE = (
    "• Google Trang tính tự lưu mọi thay đổi: kết quả kiểm tra được cập nhật ở lần kiểm tra "
    "sau (vài phút), không cần đóng bảng tính. Các ô do phần mềm ghi được khoá, chỉ phần "
    "mềm sửa được."
)

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
"""Keys of the "_cchc" rows, in order."""

EXPLANATION_NOTE = "Giải trình: ghi lý do khi số liệu bị cảnh báo nhưng là đúng (không bắt buộc)."
STATUS_NOTE = "Cột do phần mềm ghi kết quả kiểm tra từng dòng. Không nhập vào cột này."

CHECK_PLACEHOLDER = (
    "Kết quả kiểm tra",
    "Chưa kiểm tra. Kết quả sẽ hiện ở đây sau lần kiểm tra đầu tiên.",
)
"""The "Kiểm tra" tab before the first check: title and line."""
NO_FINDINGS = "Không có lỗi nào."
EXCEL_CHECK_HINT = (
    "Sửa số liệu ở các ô được đánh dấu rồi lưu tệp; kết quả được cập nhật ở lần kiểm tra "
    "sau. Cảnh báo về số liệu đúng: ghi lý do vào cột \"Giải trình\" của dòng đó."
)
GOOGLE_CHECK_HINT = (
    "Sửa số liệu ở các ô được đánh dấu; kết quả được cập nhật ở lần kiểm tra sau. "
    "Cảnh báo về số liệu đúng: ghi lý do vào cột \"Giải trình\" của dòng đó."
)
SEVERITY_TEXT = {Severity.ERROR: "Lỗi", Severity.WARNING: "Cảnh báo"}

CHOICE_PROMPT = "Chọn trong danh sách."
BOOL_PROMPT = "Chọn Có hoặc Không."
DATE_PROMPT = "Ngày/tháng/năm, ví dụ 07/06/2022."

NO_DATA = "Chưa có số liệu: bảng tổng hợp được cập nhật sau lần đồng bộ đầu tiên."


def display_date(value: dt.date) -> str:
    return value.strftime("%d/%m/%Y")


def to_vn_time(moment: dt.datetime) -> dt.datetime:
    """`moment` in Vietnam's time; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM)


# -- the instructions tab -------------------------------------------------------------------


def instruction_lines(
    unit: Unit, period: Period, templates: TemplateSet, *, save_line: str
) -> list[tuple[str, str]]:
    """(kind, text) per line of "Hướng dẫn"; `save_line` says how edits reach the software
    (EXCEL_SAVE_LINE or GOOGLE_SAVE_LINE)."""
    signoff = templates.table(templates.signoff_table)
    signoff_col = signoff.column(templates.signoff_column)
    done = signoff_col.choice(templates.signoff_done)
    done_label = done.label if done else templates.signoff_done
    lines: list[tuple[str, str]] = [
        (TITLE, "HƯỚNG DẪN NHẬP SỐ LIỆU BÁO CÁO CẢI CÁCH HÀNH CHÍNH"),
        (PLAIN, f"Đơn vị: {unit.name} (mã đơn vị: {unit.code})"),
        (
            PLAIN,
            f"Kỳ báo cáo: {period.code} — số liệu tính từ ngày {display_date(period.start)} "
            f"đến ngày {display_date(period.end)}",
        ),
        (PLAIN, f"Bộ biểu mẫu: {templates.name}, phiên bản {templates.version}"),
        (PLAIN, ""),
        (HEAD, "1. Cách nhập số liệu"),
        (
            PLAIN,
            "Mỗi bảng số liệu là một trang tính (tab) riêng, liệt kê ở mục 4. Dòng 1 của mỗi "
            "tab là tiêu đề cột: giữ nguyên tên cột, không xóa cột (có thể đổi thứ tự cột). "
            "Nhập số liệu từ dòng 2 trở xuống, mỗi dòng một mục.",
        ),
        (
            PLAIN,
            "• Số: nhập số thuần (27554) hoặc dùng dấu chấm ngăn cách hàng nghìn (27.554). "
            "Dấu phẩy là dấu thập phân. Số hồ sơ, số văn bản, số người là số nguyên, không âm.",
        ),
        (
            PLAIN,
            "• Tỷ lệ phần trăm: nhập 96,16% (hoặc 96,16 vào ô đã định dạng phần trăm). "
            "Cột tỷ lệ có thể để trống: phần mềm tự tính tỷ lệ từ các số liệu.",
        ),
        (PLAIN, "• Ngày tháng: nhập theo thứ tự ngày/tháng/năm (dd/mm/yyyy), ví dụ 07/06/2022."),
        (
            PLAIN,
            "• Ô để trống nghĩa là \"không báo cáo\", không phải số 0. Nếu số liệu bằng 0, "
            "hãy nhập 0. Dòng để trống hoàn toàn được bỏ qua.",
        ),
        (PLAIN, "• Cột có danh sách: bấm vào ô và chọn giá trị trong danh sách."),
        (PLAIN, ""),
        (HEAD, "2. Phần mềm ghi gì vào tệp này"),
        (
            PLAIN,
            f"Phần mềm không bao giờ sửa số liệu đơn vị nhập. Phần mềm chỉ ghi vào: cột "
            f"\"{STATUS_TITLE}\" (tiêu đề màu xám) ở cuối mỗi bảng; ghi chú (note) và màu nền "
            f"trên ô có vấn đề; tab \"{CHECK_TAB}\" (danh sách lỗi, cảnh báo và thời điểm "
            f"kiểm tra). Không nhập gì vào những chỗ này: nội dung sẽ bị ghi đè.",
        ),
        (
            PLAIN,
            "• Ô màu đỏ: LỖI, cần sửa. Ô màu vàng: CẢNH BÁO, cần xem lại. Di chuột vào ô "
            "để đọc ghi chú.",
        ),
        (
            PLAIN,
            f"• Nếu số liệu bị cảnh báo là đúng, ghi lý do vào cột \"{EXPLANATION_TITLE}\" "
            f"của dòng đó; cảnh báo sẽ được ghi nhận là đã giải trình.",
        ),
        (PLAIN, save_line),
        (PLAIN, ""),
        (HEAD, "3. Hoàn thành báo cáo"),
        (
            PLAIN,
            f"Khi đã nhập xong, chọn \"{signoff_col.title}\" = \"{done_label}\" ở tab "
            f"\"{signoff.tab}\". Báo cáo được tính là đã nộp từ lúc đó.",
        ),
        (PLAIN, ""),
        (HEAD, "4. Các bảng cần nhập"),
    ]
    for number, spec in enumerate(templates.tables.values(), start=1):
        lines.extend(_table_lines(number, spec))
    return lines


def _table_lines(number: int, spec: TableSpec) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [(HEAD, f"4.{number}. Tab \"{spec.tab}\"")]
    if spec.form:
        out.append((PLAIN, f"Mẫu: {spec.form}"))
    if spec.description:
        out.append((PLAIN, spec.description))
    if spec.single_row:
        out.append((PLAIN, "Bảng một dòng: nhập vào dòng 2."))
    else:
        keys = ", ".join(f"\"{c.title}\"" for c in spec.key_columns)
        out.append((PLAIN, f"Nhiều dòng; mỗi dòng phân biệt bằng {keys} (không được trùng)."))
    for col in spec.columns:
        out.append((PLAIN, f"   • {col.title}: {describe_type(col)}{_required(col)}"))
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


# -- table headers and "_cchc" ---------------------------------------------------------------


def header_note(col: ColumnSpec) -> str:
    """The note on a template column's header."""
    parts = [f"{col.title}", f"Kiểu: {describe_type(col)}."]
    if col.required:
        parts.append("Bắt buộc khi dòng có số liệu.")
    if col.is_key:
        parts.append("Dùng để phân biệt các dòng: không được trùng.")
    parts.append("Để trống = không báo cáo (không phải 0).")
    return "\n".join(parts)


def header_notes(spec: TableSpec) -> list[str]:
    """The note of every header of a table tab: its columns, "Giải trình", the status."""
    return [*(header_note(c) for c in spec.columns), EXPLANATION_NOTE, STATUS_NOTE]


def meta_values(
    unit: Unit, period: Period, templates: TemplateSet, created_at: dt.datetime
) -> list[tuple[str, str]]:
    """The key/value rows of "_cchc", in META_KEYS order."""
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
    return [(key, values[key]) for key in META_KEYS]


# -- "Kiểm tra" and the master -------------------------------------------------------------


def check_heading(plan: FlagPlan) -> tuple[str, str, str]:
    """The first three lines of "Kiểm tra": when, whose, how many."""
    checked = to_vn_time(plan.checked_at)
    errors = [f for f in plan.findings if f.severity == Severity.ERROR]
    warnings = [f for f in plan.findings if f.severity != Severity.ERROR]
    explained = sum(1 for f in warnings if f.explained)
    counts = f"Số lỗi: {len(errors)}. Số cảnh báo: {len(warnings)}"
    if explained:
        counts += f" (đã giải trình: {explained})"
    # The lock notice goes on the bold line the clerk reads first.
    return (
        f"Kết quả kiểm tra lúc {checked:%H:%M} ngày {display_date(checked)}",
        f"Đơn vị: {plan.unit_name} ({plan.unit}) — Kỳ báo cáo: {plan.period}",
        counts + "." + (f" {plan.notice}" if plan.notice else ""),
    )


def severity_label(f: Finding) -> str:
    """"Lỗi", "Cảnh báo" or "Cảnh báo (đã giải trình)"."""
    text = SEVERITY_TEXT.get(Severity(f.severity), str(f.severity))
    if f.severity == Severity.WARNING and f.explained:
        text += " (đã giải trình)"
    return text


def empty_master_lines(title: str, period: Period) -> Iterable[str]:
    """"Tổng hợp" of a master before the first cycle."""
    return (
        title,
        f"Kỳ báo cáo: {period.code} (từ ngày {display_date(period.start)} "
        f"đến ngày {display_date(period.end)})",
        NO_DATA,
    )
