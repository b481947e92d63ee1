"""What a report reads from the archive for one period: units, levels, current rows, open
errors and the figures — the same `compute_figures` the master's "Tổng hợp" uses.

Per-unit values (the annex and the charts) are `compute_figures` over one unit's rows, so
a unit's rate is computed exactly as the level's is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

from cchc_sync.domain.config import Config
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import CurrentRow, Finding, Period, Unit
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.domain.vnformat import format_int
from cchc_sync.publish.figures import (
    TOTAL,
    FigureValue,
    LeftOut,
    compute_figures,
    format_rate,
    level_name,
    ordered_levels,
    rows_with_errors,
    split_counted,
)
from cchc_sync.publish.master import STATE_ENTERING, STATE_NOT_STARTED, STATE_SUBMITTED, unit_state
from cchc_sync.report.combined import MissingParts, combine, parts_to_combine
from cchc_sync.store.archive import Archive
from cchc_sync.store.row_values import with_dates


class ReportSource(Protocol):
    """What the report reads of a workspace (app.workspace.Workspace is one; the report
    sits below app and names only this)."""

    config: Config
    templates: TemplateSet
    archive: Archive
    units: list[Unit]

    def current_rows(self, period: str | None = None) -> list[CurrentRow]: ...


class ReportError(Exception):
    """The report cannot be made (no data for the period, bad template, unknown format);
    the message says why, in one line."""


_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_AREA_KINDS = ("thành phố", "thị xã", "thị trấn", "huyện", "quận", "tỉnh", "xã", "phường",
               "đặc khu")


def period_kind(code: str) -> tuple[str, int]:
    """("S1", 2022) for "2022S1"; ("Y", 2022) for "2022"; ("M06", 2022) for "202206"."""
    code = code.strip().upper()
    year = int(code[:4])
    rest = code[4:]
    if not rest:
        return "Y", year
    if re.fullmatch(r"\d\d", rest):
        return f"M{rest}", year
    return rest, year


def period_title(code: str) -> str:
    """How a report names its period: "6 tháng đầu năm 2022" (S1), "6 tháng cuối năm 2022"
    (S2: its window is the second half only), "năm 2022" (the year), "quý II năm 2022",
    "9 tháng đầu năm 2022", "tháng 6 năm 2022"."""
    kind, year = period_kind(code)
    if kind == "S1":
        return f"6 tháng đầu năm {year}"
    if kind == "S2":
        return f"6 tháng cuối năm {year}"
    if kind == "Y":
        return f"năm {year}"
    if kind.startswith("Q"):
        return f"quý {_ROMAN[int(kind[1])]} năm {year}"
    if kind == "N9":
        return f"9 tháng đầu năm {year}"
    month = int(kind[1:])
    return f"tháng {month:02d} năm {year}" if month <= 2 else f"tháng {month} năm {year}"


def compare_label(current: str, earlier: str) -> str:
    """"cùng kỳ năm 2021" for the same part of an earlier year, else the earlier period's
    title ("6 tháng cuối năm 2021")."""
    (kind, year), (ekind, eyear) = period_kind(current), period_kind(earlier)
    if kind == ekind and eyear != year:
        return f"cùng kỳ năm {eyear}"
    return period_title(earlier)


def area_parts(name: str) -> tuple[str, str]:
    """("huyện", "Sông Mây") for "huyện Sông Mây"; ("", name) when no kind word leads."""
    clean = " ".join(name.split())
    lowered = clean.lower()
    for kind in _AREA_KINDS:
        if lowered.startswith(kind + " "):
            return kind, clean[len(kind) + 1:]
    return "", clean


def format_value(fig: FigureValue, group: str = TOTAL) -> str | None:
    """A figure's value in Vietnamese formatting, or None when nobody reported it."""
    value = fig.values.get(group)
    if value is None:
        return None
    return format_rate(value) if fig.percent else format_int(value)


@dataclass(kw_only=True)
class PeriodData:
    """One period as the report sees it."""

    code: str
    period: Period
    templates: TemplateSet
    config: Config
    units: list[Unit]
    levels: list[str]
    """Levels that have units, in the configured order."""
    rows: list[CurrentRow]
    findings: list[Finding]
    """Open findings of the period."""
    error_rows: set[tuple[str, str, str]]
    figures: dict[str, FigureValue]
    left_out: list[LeftOut] = field(default_factory=list)
    """Rows the figures do not count (the counting rule), with the reason."""
    parts: tuple[str, ...] = ()
    """The shorter periods the rows were combined from (the year from S1 and S2), or ()."""
    excluded: dict[tuple[str, str, str], str] = field(default_factory=dict)
    """Combined rows left out, and why (report.combined)."""
    _unit_cache: dict[str, dict[str, FigureValue]] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return period_title(self.code)

    @cached_property
    def units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    def level_name(self, level: str) -> str:
        return level_name(level, self.config.level_names)

    def level_units(self, level: str) -> list[Unit]:
        return [u for u in self.units if u.level == level]

    def unit_name(self, code: str) -> str:
        unit = self.units_by_code.get(code)
        return unit.name if unit else code

    def fig(self, figure_id: str) -> FigureValue | None:
        return self.figures.get(figure_id)

    def unit_figures(self, code: str) -> dict[str, FigureValue]:
        """The unit's own figures: compute_figures over its rows alone (TOTAL = the unit)."""
        if code not in self._unit_cache:
            unit = self.units_by_code[code]
            rows = [r for r in self.rows if r.unit == code]
            figs = compute_figures(rows, self.templates, self.units_by_code, [unit.level],
                                   self.error_rows, self.excluded)
            self._unit_cache[code] = {f.id: f for f in figs}
        return self._unit_cache[code]

    def unit_value(self, code: str, figure_id: str) -> tuple[str | None, bool]:
        fig = self.unit_figures(code).get(figure_id)
        if fig is None:
            return None, False
        return format_value(fig), bool(fig.tainted.get(TOTAL))

    @cached_property
    def states(self) -> dict[str, str]:
        """Unit code -> "Chưa bắt đầu" | "Đang nhập" | "Đã nộp"."""
        by_unit: dict[str, list[CurrentRow]] = {}
        for r in self.rows:
            by_unit.setdefault(r.unit, []).append(r)
        return {u.code: unit_state(by_unit.get(u.code, []), self.templates) for u in self.units}

    def units_in_state(self, state: str) -> list[Unit]:
        return [u for u in self.units if self.states[u.code] == state]

    @property
    def submitted(self) -> list[Unit]:
        return self.units_in_state(STATE_SUBMITTED)

    @property
    def entering(self) -> list[Unit]:
        return self.units_in_state(STATE_ENTERING)

    @property
    def not_started(self) -> list[Unit]:
        return self.units_in_state(STATE_NOT_STARTED)

    def rows_of(self, table: str) -> list[CurrentRow]:
        return [r for r in self.rows if r.table == table]

    def row_has_error(self, row: CurrentRow) -> bool:
        return (row.unit, row.table, row.key) in self.error_rows

    @cached_property
    def _left_keys(self) -> set[tuple[str, str, str]]:
        return {(x.row.unit, x.row.table, x.row.key) for x in self.left_out}

    def row_counted(self, row: CurrentRow) -> bool:
        """The row enters the figures (the counting rule of publish.figures)."""
        return (row.unit, row.table, row.key) not in self._left_keys


def load_period(ws: ReportSource, code: str, *, require_rows: bool = True) -> PeriodData:
    """Read one period from the workspace's archive.

    Units come from the archive's registry for that period (the registry may have changed
    since), falling back to the workspace's current registry.
    """
    config: Config = ws.config
    period = parse_period(code, config.cutoff_day, config.calendar_periods)
    try:
        parts = parts_to_combine(ws.archive, period.code)
    except MissingParts as exc:
        raise ReportError(str(exc)) from None
    if parts:
        combined = combine(ws.archive, ws.templates, parts, list(ws.units))
        units = ws.archive.units(period.code) or combined.units
        # Dates as dates, like Workspace.current_rows (the parts are read from the archive).
        rows = with_dates(combined.rows, ws.templates)
        findings, excluded = combined.findings, combined.excluded
    else:
        units = ws.archive.units(period.code) or list(ws.units)
        rows = ws.current_rows(period.code)
        findings, excluded = ws.archive.open_findings(period.code), {}
    if require_rows and not rows:
        raise ReportError(
            f"Kỳ {period.code} chưa có số liệu nào trong kho lưu trữ {ws.archive.path}: "
            "hãy chạy `cchc-sync sync` cho kỳ này trước"
        )
    error_rows = rows_with_errors(findings)
    # The master's levels are ordered_levels over the registry; a configured level with no
    # unit has nothing to say in a report.
    present = {u.level for u in units}
    levels = [lv for lv in ordered_levels(units, config.level_order) if lv in present]
    units_by_code = {u.code: u for u in units}
    figures = compute_figures(rows, ws.templates, units_by_code, levels, error_rows, excluded)
    _, left_out = split_counted(rows, ws.templates, units_by_code, error_rows, excluded)
    return PeriodData(
        left_out=left_out,
        parts=parts or (),
        excluded=excluded,
        code=period.code,
        period=period,
        templates=ws.templates,
        config=config,
        units=units,
        levels=levels,
        rows=rows,
        findings=findings,
        error_rows=error_rows,
        figures={f.id: f for f in figures},
    )
