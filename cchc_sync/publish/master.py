"""The master: every unit's rows, the figures by level, the open findings and who has
submitted — rebuilt from the archive each time, never edited in place."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.records import CurrentRow, Finding, Severity, Unit
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TemplateSet
from cchc_sync.domain.vnformat import format_datetime, format_number
from cchc_sync.publish.figures import TOTAL, FigureValue, format_rate, level_name, rate
from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.sheet_layout import Link, PercentPoints

SUMMARY_TAB = "Tổng hợp"
FINDINGS_TAB = "Bất thường"
PROGRESS_TAB = "Tiến độ"

STATE_NOT_STARTED = "Chưa bắt đầu"
STATE_ENTERING = "Đang nhập"
STATE_SUBMITTED = "Đã nộp"


@dataclass(frozen=True, kw_only=True, slots=True)
class UnitProgress:
    """One line of "Tiến độ" and of `status`."""

    unit: Unit
    state: str
    submitted_at: str | None
    last_edit: str | None
    last_check: str | None
    errors: int
    warnings: int
    reachable: bool
    reason: str
    sheet: str
    """Where the unit's sheet is (path or URL)."""
    sheet_ref: str
    on_time: bool | None = None
    """Submitted by the deadline (None: not submitted)."""
    deadline: str | None = None
    approved_at: str | None = None
    approved_by: str | None = None
    reopen_until: str | None = None
    read_only: bool = False
    late_edit_at: str | None = None
    """An edit saved into the locked sheet at this time: noticed, not taken in."""


def unit_state(rows: list[CurrentRow], templates: TemplateSet) -> str:
    if any(
        r.table == templates.signoff_table
        and r.values.get(templates.signoff_column) == templates.signoff_done
        for r in rows
    ):
        return STATE_SUBMITTED
    meaningful = [
        r for r in rows
        if not (r.table == templates.signoff_table
                and set(r.values) <= {templates.signoff_column})
    ]
    return STATE_ENTERING if meaningful else STATE_NOT_STARTED


def _display(value: object, ctype: ColumnType, spec_col: ColumnSpec) -> object:
    if value is None:
        return None
    if ctype is ColumnType.CHOICE:
        # Codes are text: a value of another type is no code and shows as it is.
        choice = spec_col.choice(value) if isinstance(value, str) else None
        return choice.label if choice else value
    if ctype is ColumnType.BOOL:
        return "Có" if value else "Không"
    return value  # a date is a `datetime.date` already (Workspace.current_rows)


def table_frames(
    rows: list[CurrentRow],
    templates: TemplateSet,
    units: Mapping[str, Unit],
    period: str,
    level_names: Mapping[str, str],
    findings: list[Finding],
) -> dict[str, pd.DataFrame]:
    """One DataFrame per table with unit code, name, level and period before the columns."""
    worst: dict[tuple[str, str, str], str] = {}
    for f in findings:
        if f.row_key is None:
            continue
        k = (f.unit, f.table, f.row_key)
        if f.severity is Severity.ERROR or k not in worst:
            worst[k] = "Lỗi" if f.severity is Severity.ERROR else "Cảnh báo"
    order = {code: i for i, code in enumerate(units)}
    frames = {}
    for spec in templates.tables.values():
        records = []
        for r in sorted(
            (r for r in rows if r.table == spec.key),
            key=lambda r: (order.get(r.unit, 1e9), r.sheet_row or 0, r.key),
        ):
            u = units.get(r.unit)
            rec: dict[str, object] = {
                "Mã đơn vị": r.unit,
                "Tên đơn vị": u.name if u else r.unit,
                "Cấp": level_name(u.level, level_names) if u else "",
                "Kỳ báo cáo": period,
            }
            for col in spec.columns:
                rec[col.title] = _display(r.values.get(col.key), col.type, col)
            rec["Giải trình"] = r.explanation or None
            rec["Kiểm tra"] = worst.get((r.unit, r.table, r.key), "Hợp lệ")
            records.append(rec)
        columns = ["Mã đơn vị", "Tên đơn vị", "Cấp", "Kỳ báo cáo"]
        columns += [c.title for c in spec.columns] + ["Giải trình", "Kiểm tra"]
        frames[spec.tab] = pd.DataFrame.from_records(records, columns=columns)
    return frames


FIGURE_KEY = "Mã chỉ tiêu"
WRAPPED_FINDINGS = ("Nội dung", "Giải trình")
"""Columns of "Bất thường" whose long sentences wrap in a column of fixed width, so the
tab reads (and prints) without scrolling sideways."""
"""The figure id column of "Tổng hợp": last, hidden (for scripts and `export`)."""
LEFT_OUT_NOTE = "Chưa đầy đủ: có dòng chưa được tổng hợp (còn lỗi hoặc tổng không khớp)"


def _summary_value(fig: FigureValue, group: str) -> object:
    """A count as a whole number, a rate as percent points (shown 96,16%)."""
    value = fig.values.get(group)
    if value is None:
        return None
    return PercentPoints(value) if fig.percent else int(value)


def summary_frame(
    figures: list[FigureValue], levels: list[str], level_names: Mapping[str, str], total: str
) -> pd.DataFrame:
    """The figures a coordinator reads: Vietnamese label first, one column per level and
    the total (counts and rates in one column, each cell typed), how many units' rows are
    counted ("có số liệu", not "đã nộp": see Tiến độ), the figure id hidden last."""
    records = []
    for fig in figures:
        rec: dict[str, object] = {
            "Chỉ tiêu": fig.label,
            "Đơn vị tính": "%" if fig.percent else "",
        }
        for lvl in levels:
            rec[level_name(lvl, level_names)] = _summary_value(fig, lvl)
        rec[total] = _summary_value(fig, TOTAL)
        rec["Số đơn vị có số liệu"] = fig.reporting.get(TOTAL, 0)
        rec["Ghi chú"] = LEFT_OUT_NOTE if fig.tainted.get(TOTAL) else None
        rec[FIGURE_KEY] = fig.id
        records.append(rec)
    level_titles = [level_name(lv, level_names) for lv in levels]
    columns = ["Chỉ tiêu", "Đơn vị tính", *level_titles, total, "Số đơn vị có số liệu",
               "Ghi chú", FIGURE_KEY]
    # object dtype: pandas would turn a column of counts and rates into floats (9.406,00).
    return pd.DataFrame(records, columns=columns, dtype=object)


def finding_value(value: object, column: ColumnSpec | None) -> str | None:
    """A finding's value as the clerk writes it: a date dd/mm/yyyy (the archive keeps it
    ISO), a choice by its label (the archive keeps its code), Có/Không, a number with
    Vietnamese separators; a value as typed (an unreadable date) stays as typed."""
    if value is None:
        return None
    kind = column.type if column is not None else None
    if kind is ColumnType.DATE and isinstance(value, str):
        try:
            return f"{dt.date.fromisoformat(value):%d/%m/%Y}"
        except ValueError:
            return value
    if column is not None and kind is ColumnType.CHOICE and isinstance(value, str):
        choice = column.choice(value)
        return choice.label if choice else value
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return f"{value:%d/%m/%Y}"
    if isinstance(value, int | float):
        return format_number(value)
    return str(value)


def findings_frame(
    findings: list[Finding], templates: TemplateSet, units: Mapping[str, Unit]
) -> pd.DataFrame:
    records = []
    for f in sorted(findings, key=lambda f: (f.severity is not Severity.ERROR, f.unit, f.table,
                                             f.row or 0)):
        spec = templates.tables.get(f.table)
        col_title = None
        column = None
        if spec and f.column:
            try:
                column = spec.column(f.column)
                col_title = column.title
            except KeyError:
                col_title = f.column
        records.append(
            {
                "Mã đơn vị": f.unit,
                "Tên đơn vị": units[f.unit].name if f.unit in units else f.unit,
                "Bảng": spec.tab if spec else f.table,
                "Dòng": f.row,
                "Cột": col_title,
                "Mức độ": "Lỗi" if f.severity is Severity.ERROR else "Cảnh báo",
                "Nội dung": f.message,
                "Giá trị": finding_value(f.value, column),
                "Giải trình": f.explained,
                "Mã quy tắc": f.rule,
            }
        )
    columns = ["Mã đơn vị", "Tên đơn vị", "Bảng", "Dòng", "Cột", "Mức độ", "Nội dung",
               "Giá trị", "Giải trình", "Mã quy tắc"]
    return pd.DataFrame.from_records(records, columns=columns)


def _timeliness(p: UnitProgress) -> str | None:
    if p.on_time is None:
        return None
    return "Đúng hạn" if p.on_time else "Trễ hạn"


def lock_text(p: UnitProgress) -> str | None:
    """"Chỉ xem", and an edit saved after the lock (not taken in) when there was one."""
    if not p.read_only:
        return None
    if p.late_edit_at:
        return f"Chỉ xem; đơn vị đã sửa sau khi khoá ({_vn_time(p.late_edit_at)}), chưa ghi nhận"
    return "Chỉ xem"


def progress_frame(progress: list[UnitProgress], level_names: Mapping[str, str]) -> pd.DataFrame:
    records = [
        {
            "Mã đơn vị": p.unit.code,
            "Tên đơn vị": p.unit.name,
            "Cấp": level_name(p.unit.level, level_names),
            "Trạng thái": p.state,
            "Thời điểm nộp": _vn_time(p.submitted_at),
            "Hạn nộp": _vn_day(p.deadline),
            "Đúng hạn": _timeliness(p),
            "Phê duyệt": (f"Đã duyệt {_vn_time(p.approved_at)} ({p.approved_by})"
                          if p.approved_at else None),
            "Mở lại đến": _vn_day(p.reopen_until),
            "Khoá": lock_text(p),
            "Sửa lần cuối": _vn_time(p.last_edit),
            "Kiểm tra lần cuối": _vn_time(p.last_check),
            "Số lỗi": p.errors,
            "Số cảnh báo": p.warnings,
            "Kết nối": "Được" if p.reachable else f"Không truy cập được: {p.reason}",
            "Bảng tính": p.sheet,
            "Mở bảng tính": Link(f"Mở {p.unit.code}", p.sheet) if p.sheet else None,
        }
        for p in progress
    ]
    columns = ["Mã đơn vị", "Tên đơn vị", "Cấp", "Trạng thái", "Thời điểm nộp", "Hạn nộp",
               "Đúng hạn", "Phê duyệt", "Mở lại đến", "Khoá", "Sửa lần cuối",
               "Kiểm tra lần cuối", "Số lỗi", "Số cảnh báo", "Kết nối", "Bảng tính",
               "Mở bảng tính"]
    frame = pd.DataFrame.from_records(records, columns=columns)
    # Below the units: submitted / expected by level, on time or late.
    summary: list[dict[str, str | None]] = [{"Mã đơn vị": None}]
    for level, line in level_progress(progress, level_names):
        summary.append({"Mã đơn vị": level, "Tên đơn vị": line})
    return pd.concat([frame, pd.DataFrame.from_records(summary, columns=columns)],
                     ignore_index=True)


def level_progress(
    progress: list[UnitProgress], level_names: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Per level, then for all levels: ("Cấp xã", "5/6 đơn vị đã nộp (4 đúng hạn, 1 trễ
    hạn); tỷ lệ nộp báo cáo 83,33% (5/6), nộp đúng hạn 80,00% (4/5); 6/6 đơn vị có số
    liệu; 1 đã duyệt").

    The two rates are DHIS2's reporting rate (submitted / expected) and on-time rate
    (submitted on time / submitted). "Có số liệu" (rows typed, signed off or not) is
    kept apart from "đã nộp" (signed off)."""
    levels: dict[str, list[UnitProgress]] = {}
    for p in progress:
        levels.setdefault(p.unit.level, []).append(p)
    out = [(level_name(level, level_names), _progress_line(items))
           for level, items in levels.items()]
    if len(levels) > 1:
        out.append((ALL_LEVELS, _progress_line(progress)))
    return out


ALL_LEVELS = "Tất cả các cấp"


def _progress_line(items: list[UnitProgress]) -> str:
    submitted = [p for p in items if p.state == STATE_SUBMITTED]
    late = sum(1 for p in submitted if p.on_time is False)
    on_time = len(submitted) - late
    with_data = sum(1 for p in items if p.state != STATE_NOT_STARTED)
    approved = sum(1 for p in items if p.approved_at)
    line = (f"{len(submitted)}/{len(items)} đơn vị đã nộp "
            f"({on_time} đúng hạn, {late} trễ hạn); tỷ lệ nộp báo cáo "
            f"{_share(len(submitted), len(items))}, nộp đúng hạn "
            f"{_share(on_time, len(submitted))}; {with_data}/{len(items)} đơn vị có số liệu")
    if approved:
        line += f"; {approved} đã duyệt"
    return line


def _share(part: int, whole: int) -> str:
    if not whole:
        return "— (0/0)"
    return f"{format_rate(rate(part, whole))} ({part}/{whole})"


def _vn_time(iso: str | None) -> str | None:
    if not iso:
        return None
    t = dt.datetime.fromisoformat(iso)
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.astimezone(VIETNAM).strftime("%H:%M %d/%m/%Y")


def _vn_day(iso: str | None) -> str | None:
    return dt.date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else None


def build_master(
    *,
    title: str,
    area_total: str,
    period: str,
    templates: TemplateSet,
    units: Mapping[str, Unit],
    rows: list[CurrentRow],
    figures: list[FigureValue],
    findings: list[Finding],
    progress: list[UnitProgress],
    levels: list[str],
    level_names: Mapping[str, str],
) -> MasterBook:
    """Assemble the master: Tổng hợp, Tiến độ, Bất thường, then one tab per table."""
    tabs: dict[str, pd.DataFrame] = {
        SUMMARY_TAB: summary_frame(figures, levels, level_names, area_total),
        PROGRESS_TAB: progress_frame(progress, level_names),
        FINDINGS_TAB: findings_frame(findings, templates, units),
    }
    tabs.update(table_frames(rows, templates, units, period, level_names, findings))
    percent_cols: dict[str, tuple[str, ...]] = {
        spec.tab: tuple(c.title for c in spec.columns if c.type is ColumnType.PCT)
        for spec in templates.tables.values()
    }
    return MasterBook(title=title, tabs=tabs, percent_columns=percent_cols,
                      hidden_columns={SUMMARY_TAB: (FIGURE_KEY,)},
                      wrapped_columns={FINDINGS_TAB: WRAPPED_FINDINGS})


def summary_problems(frame: pd.DataFrame, templates: TemplateSet, level_titles: list[str],
                     total_title: str) -> list[str]:
    """Contradictions in a "Tổng hợp" frame: the total of an additive figure (or of a
    catalogue size) is not the sum of its levels, a declared decomposition does not add
    up, a rate is not its numerator / denominator, a difference is not a - b."""
    rows = {r[FIGURE_KEY]: r for r in frame.to_dict("records")}
    out = []
    for spec in templates.figures:
        row = rows.get(spec.id)
        if row is None:
            continue
        if not (spec.ratio or spec.difference):
            known = [row[t] for t in level_titles if row[t] is not None]
            if known and row[total_title] != sum(known):
                out.append(f"{spec.id}: {row[total_title]} != sum of levels {sum(known)}")
        for group in [*level_titles, total_title]:
            value = row[group]
            if value is None:
                continue
            for parts in spec.parts:
                got = [rows[p][group] for p in parts]
                if all(v is not None for v in got) and sum(got) != value:
                    out.append(f"{spec.id} [{group}]: {value} != parts {sum(got)}")
            refs = spec.ratio or spec.difference
            if refs:
                a, b = (rows[x][group] for x in refs)
                want = None
                if a is not None and b is not None:
                    want = a - b if spec.difference else (rate(a, b) if b else None)
                if want is not None and abs(float(value) - float(want)) > 0.005:
                    out.append(f"{spec.id} [{group}]: {value} != {want}")
    return out
