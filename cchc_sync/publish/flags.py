"""What the software writes back into a unit's sheet: a FlagPlan, computed purely from the
archive's view of that unit (its open findings, tab layouts and row positions)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping

from cchc_sync.domain.records import Finding, Severity, TabLayout
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import CellMark, FlagPlan, TabFlags

OK_STATUS = "✔ Hợp lệ"


def row_status_text(findings: list[Finding]) -> str:
    """Short Vietnamese status for a row's status cell."""
    errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    warnings = [f for f in findings if f.severity is Severity.WARNING]
    open_warnings = sum(1 for f in warnings if not f.explained)
    explained = len(warnings) - open_warnings
    parts = []
    if errors:
        parts.append(f"✖ {errors} lỗi")
    if open_warnings:
        parts.append(f"⚠ {open_warnings} cảnh báo")
    if explained:
        parts.append(f"ⓘ {explained} cảnh báo đã giải trình")
    if not parts:
        return OK_STATUS
    first = next((f for f in findings if f.severity is Severity.ERROR), findings[0])
    return "; ".join(parts) + f" — {first.message}"


def plan_flags(
    *,
    unit: str,
    unit_name: str,
    period: str,
    checked_at: dt.datetime,
    templates: TemplateSet,
    layouts: dict[str, TabLayout],
    row_positions: Mapping[str, Iterable[int]],
    findings: list[Finding],
    notice: str = "",
) -> FlagPlan:
    """Build the flags for one unit: a status for every data row, a note and a colour on
    every offending cell, and the findings list for the "Kiểm tra" tab.

    row_positions: table key -> sheet rows that hold data now.
    """
    by_row: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for f in findings:
        if f.row is not None:
            by_row[(f.table, f.row)].append(f)
    tabs: dict[str, TabFlags] = {}
    for table, layout in layouts.items():
        if table not in templates.tables:
            continue
        rows = sorted(set(row_positions.get(table, ())) | {r for (t, r) in by_row if t == table})
        status: dict[int, str] = {}
        severity: dict[int, Severity | None] = {}
        marks: dict[tuple[int, int], CellMark] = {}
        for sheet_row in rows:
            row_findings = by_row.get((table, sheet_row), [])
            status[sheet_row] = row_status_text(row_findings)
            severity[sheet_row] = _worst(row_findings)
            cell_notes: dict[int, list[Finding]] = defaultdict(list)
            for f in row_findings:
                col = layout.columns.get(f.column) if f.column else None
                if col is None:
                    # A row-level problem is marked on the row's first column.
                    col = min(layout.columns.values()) if layout.columns else None
                if col is not None:
                    cell_notes[col].append(f)
            for col, fs in cell_notes.items():
                marks[(sheet_row, col)] = CellMark(
                    severity=_worst(fs) or Severity.WARNING,
                    note="\n".join(_note_line(f) for f in fs),
                )
        tabs[table] = TabFlags(
            tab=templates.tables[table].tab,
            layout=layout,
            row_status=status,
            row_severity=severity,
            cell_marks=marks,
        )
    ordered = sorted(
        findings,
        key=lambda f: (
            f.severity is not Severity.ERROR,
            list(templates.tables).index(f.table) if f.table in templates.tables else 99,
            f.row or 0,
            f.column or "",
        ),
    )
    return FlagPlan(
        unit=unit,
        unit_name=unit_name,
        period=period,
        checked_at=checked_at,
        tabs=tabs,
        findings=tuple(ordered),
        table_titles={k: t.tab for k, t in templates.tables.items()},
        notice=notice,
    )


def _worst(findings: list[Finding]) -> Severity | None:
    if any(f.severity is Severity.ERROR for f in findings):
        return Severity.ERROR
    if findings:
        return Severity.WARNING
    return None


def _note_line(f: Finding) -> str:
    label = "Lỗi" if f.severity is Severity.ERROR else "Cảnh báo"
    line = f"{label}: {f.message}"
    if f.explained:
        line += f" (Đã giải trình: {f.explained})"
    return line
