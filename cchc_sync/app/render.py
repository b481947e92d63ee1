"""What commands print: Vietnamese for people, stable keys for --json."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

from cchc_sync.app.pipeline import CycleResult, Workspace
from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.records import Finding, Severity, Unit
from cchc_sync.domain.templates import TableSpec, TemplateSet
from cchc_sync.domain.vnformat import format_int
from cchc_sync.publish.master import (
    STATE_ENTERING,
    STATE_NOT_STARTED,
    STATE_SUBMITTED,
    UnitProgress,
    level_progress,
)

STATE_CODES = {
    STATE_NOT_STARTED: "not_started",
    STATE_ENTERING: "entering",
    STATE_SUBMITTED: "submitted",
}


def local_time(iso: str | None) -> str:
    """An archived UTC timestamp as Vietnamese local time, "14:05 07/06/2022"."""
    if not iso:
        return "—"
    t = dt.datetime.fromisoformat(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def init_summary(ws: Workspace) -> str:
    sheets = ws.archive.sheets(ws.period.code)
    master = ws.archive.master(ws.period.code)
    lines = [
        f"Đã tạo không gian làm việc tại {ws.config.root}",
        f"Kỳ báo cáo {ws.period.code}: từ {ws.period.start:%d/%m/%Y} đến {ws.period.end:%d/%m/%Y}",
        f"Bảng tính của {len(sheets)} đơn vị; bảng tổng hợp: {master['url'] if master else '—'}",
        f"Cấu hình: {ws.config.path}",
        "Bước tiếp theo: gửi bảng tính cho từng đơn vị, rồi chạy `cchc-sync sync` "
        "(hoặc `cchc-sync run` để chạy định kỳ).",
    ]
    return "\n".join(lines)


def cycle_summary(result: CycleResult) -> str:
    parts = []
    if result.period_closed:
        # "Đã đọc 0/12 đơn vị" alone reads like a failure: say why nothing was read.
        parts.append(
            f"Kỳ {result.period} đã khoá sổ"
            + (f" từ ngày {result.lock_day:%d/%m/%Y}" if result.lock_day else "")
            + f": bảng tính của {result.units_locked}/{result.units_total} đơn vị chỉ còn để "
            "xem, số liệu mới không được đọc (trừ đơn vị được mở lại bằng "
            "`cchc-sync period reopen`). Mở kỳ sau bằng `cchc-sync period open`.")
    parts += [
        f"Đã đọc {result.units_read}/{result.units_total} đơn vị, "
        f"{format_int(result.rows)} dòng số liệu ({format_int(result.rows_changed)} thay đổi).",
        f"Lỗi: {result.errors}; cảnh báo: {result.warnings}.",
    ]
    if result.units_unreachable:
        parts.append("Không truy cập được: " + ", ".join(result.units_unreachable) + ".")
    if result.flags_pending:
        parts.append(
            "Chưa ghi được kết quả kiểm tra (bảng tính đang mở hoặc vừa sửa), sẽ ghi ở lần sau: "
            + ", ".join(result.flags_pending) + "."
        )
    if result.late_edits:
        parts.append("Có đơn vị sửa bảng tính sau khi khoá (không được ghi nhận): "
                     + ", ".join(result.late_edits) + ".")
    if result.relocked:
        parts.append("Đã khoá lại bảng tính bị gỡ khoá bằng tay: "
                     + ", ".join(result.relocked) + ".")
    parts.append("Bảng tổng hợp đã cập nhật." if result.master_written
                 else "Bảng tổng hợp không thay đổi.")
    return "\n".join(parts)


def findings_table(items: list[Finding], templates: TemplateSet, units: Mapping[str, Unit]) -> str:
    if not items:
        return "Không có lỗi hay cảnh báo nào."
    rows = []
    for f in items:
        spec = templates.tables.get(f.table)
        col = ""
        if spec and f.column:
            col = next((c.title for c in spec.columns if c.key == f.column), f.column)
        rows.append([
            f.unit,
            spec.tab if spec else f.table,
            str(f.row or ""),
            col,
            "Lỗi" if f.severity is Severity.ERROR else "Cảnh báo",
            f.message + (f" (Giải trình: {f.explained})" if f.explained else ""),
        ])
    errors = sum(1 for f in items if f.severity is Severity.ERROR)
    head = f"{errors} lỗi, {len(items) - errors} cảnh báo đang mở:\n"
    return head + _table(["Đơn vị", "Bảng", "Dòng", "Cột", "Mức độ", "Nội dung"], rows)


def status_json(ws: Workspace, progress: list[UnitProgress]) -> list[dict]:
    out = []
    for p in progress:
        item = {
            "unit": p.unit.code,
            "name": p.unit.name,
            "level": p.unit.level,
            "state": STATE_CODES.get(p.state, p.state),
            "state_label": p.state,
            "submitted_at": p.submitted_at,
            "last_edit": p.last_edit,
            "last_check": p.last_check,
            "errors": p.errors,
            "warnings": p.warnings,
            "reachable": p.reachable,
            "reason": p.reason or None,
            "sheet": p.sheet,
            "deadline": p.deadline,
            "on_time": p.on_time,
            "approved_at": p.approved_at,
            "approved_by": p.approved_by,
            "reopen_until": p.reopen_until,
            "read_only": p.read_only,
            "late_edit_at": p.late_edit_at,
        }
        if ws.backend.kind == "local":
            item["workbook"] = p.sheet
        else:
            item["spreadsheet_id"] = p.sheet_ref
        out.append(item)
    return out


def status_table(ws: Workspace, progress: list[UnitProgress]) -> str:
    rows = [
        [
            p.unit.code,
            p.unit.name,
            p.state,
            local_time(p.submitted_at) if p.submitted_at else "—",
            "—" if p.on_time is None else "Đúng hạn" if p.on_time else "Trễ hạn",
            _lock_cell(p),
            local_time(p.last_check),
            str(p.errors),
            str(p.warnings),
            "Được" if p.reachable else f"Không: {p.reason}",
        ]
        for p in progress
    ]
    submitted = sum(1 for p in progress if p.state == STATE_SUBMITTED)
    deadline = next((p.deadline for p in progress if p.deadline), None)
    head = (
        f"Kỳ {ws.period.code} — {ws.config.name or 'tất cả đơn vị'}: "
        f"{submitted}/{len(progress)} đơn vị đã nộp"
        + (f" (hạn nộp {dt.date.fromisoformat(deadline):%d/%m/%Y})" if deadline else "")
        + ".\n"
    )
    head += "".join(f"  {name}: {line}.\n"
                    for name, line in level_progress(progress, ws.config.level_names))
    return head + _table(
        ["Mã", "Đơn vị", "Trạng thái", "Nộp lúc", "Hạn", "Duyệt/khoá", "Kiểm tra lúc", "Lỗi",
         "Cảnh báo", "Kết nối"],
        rows,
    )


def _lock_cell(p: UnitProgress) -> str:
    text = "Đã duyệt" if p.approved_at else ("Chỉ xem" if p.read_only else "—")
    if p.late_edit_at:
        text += f"; sửa sau khoá lúc {local_time(p.late_edit_at)}, chưa nhận"
    return text


ACTIONS = {
    "open": "Mở kỳ", "close": "Đóng kỳ", "reopen": "Mở lại cho đơn vị",
    "approve": "Phê duyệt", "unapprove": "Bỏ phê duyệt", "lock": "Khoá bảng tính",
    "unlock": "Mở khoá bảng tính", "relock": "Khoá lại bảng tính bị mở khoá",
    "late-edit": "Sửa sau khi khoá (chưa nhận)", "untrusted-time": "Thời điểm tệp không tin được",
}


def audit_table(entries: list[dict]) -> str:
    if not entries:
        return "Chưa có thao tác nào."
    rows = [[local_time(e["at"]), e["actor"], ACTIONS.get(e["action"], e["action"]),
             e["period"] or "", e["unit"] or "", e["detail"] or ""] for e in entries]
    return _table(["Thời điểm", "Người thực hiện", "Thao tác", "Kỳ", "Đơn vị", "Ghi chú"], rows)


def period_opened(ws: Workspace) -> str:
    sheets = ws.archive.sheets(ws.period.code)
    master = ws.archive.master(ws.period.code)
    return "\n".join([
        f"Đã mở kỳ {ws.period.code} (từ {ws.period.start:%d/%m/%Y} đến "
        f"{ws.period.end:%d/%m/%Y}) cho {len(sheets)} đơn vị.",
        f"Bảng tổng hợp: {master['url'] if master else '—'}",
        "Kỳ trước đã được chốt: bảng tính của kỳ trước chỉ còn xem, không sửa được.",
    ])


def export_records(ws: Workspace, spec: TableSpec) -> list[dict]:
    records = []
    for r in ws.archive.current_rows(ws.period.code):
        if r.table != spec.key:
            continue
        rec: dict[str, Any] = {"unit": r.unit, "period": ws.period.code}
        for col in spec.columns:
            rec[col.key] = r.values.get(col.key)
        records.append(rec)
    return records


DOCTOR_MARKS = {"ok": "✓", "fail": "✗", "note": "•"}


def doctor_text(checks: Iterable[Any]) -> str:
    """The doctor's answer: one line per check, the fix under each failure or note."""
    lines = []
    for check in checks:
        lines.append(f"{DOCTOR_MARKS[str(check.status)]} {check.message}")
        if check.fix and str(check.status) != "ok":
            lines.append(f"    Cách sửa: {check.fix}")
        if check.detail and str(check.status) == "fail":
            lines.append(f"    Chi tiết: {check.detail}")
    failed = sum(1 for c in checks if str(c.status) == "fail")
    lines.append("Mọi kiểm tra đều đạt." if not failed
                 else f"{failed} mục chưa đạt: hãy sửa theo hướng dẫn trên rồi chạy lại.")
    return "\n".join(lines)


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""What makes Excel or LibreOffice read a CSV cell as a formula (OWASP, CSV injection)."""


def inert_text(value: Any) -> Any:
    """A value safe to open in a spreadsheet: text that would start a formula gets a leading
    apostrophe (shown as text, the apostrophe hidden by Excel when typed, visible in a plain
    CSV reader); numbers, dates and everything else stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def write_csv(out: TextIO, keys: list[str], records: Iterable[dict]) -> None:
    """CSV with a header row; text cells made inert (see `inert_text`)."""
    writer = csv.DictWriter(out, fieldnames=keys, extrasaction="ignore")
    writer.writeheader()
    for record in records:
        writer.writerow({k: inert_text(v) for k, v in record.items()})
