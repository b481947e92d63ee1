"""A longer period built from the shorter ones the archive holds: the year 2026 from 2026S1
and 2026S2 (else its quarters, else its months), a half-year or 2026N9 from its quarters or
months, a quarter from its months. Units report half-years; the year report is their sum.

Rows are combined per (unit, table, row key), each column as the figures that read it
declare (`over_periods` in the template set): flows are added; stocks (staffing, catalogue
sizes, dossiers still open) are taken from the latest part holding the row; what was
carried in, from the earliest. A column that is the total of a `sum_equals` rule is
re-derived from its combined parts, so "tiếp nhận = từ kỳ trước + mới tiếp nhận" holds for
the year. Every other identity is then checked by the counting rule as for any period: a
combined row that breaks one (a half-year's carried-in dossiers that are not those still
open at the end of the half before) is left out and listed, naming the parts. A combined
row is left out as well when one of its parts' rows was left out, with that reason and
the part named. Nothing is combined when the archive holds rows for the period itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypeGuard

from cchc_sync.domain.periods import component_periods
from cchc_sync.domain.records import CurrentRow, Finding, Unit
from cchc_sync.domain.templates import FigureSpec, TemplateError, TemplateSet
from cchc_sync.publish.figures import parts_gap, rows_with_errors, split_counted
from cchc_sync.store.archive import Archive

RowKey = tuple[str, str, str]


class MissingParts(Exception):
    """The period has to be built from parts and some of them hold no rows yet."""

    def __init__(self, code: str, parts: tuple[str, ...], missing: list[str]):
        self.code, self.parts, self.missing = code, parts, missing
        super().__init__(
            f"Kỳ {code} được tổng hợp từ các kỳ {', '.join(parts)} nhưng kỳ "
            f"{', '.join(missing)} chưa có số liệu nào trong kho lưu trữ: hãy chạy "
            "`cchc-sync sync` cho kỳ đó trước")


@dataclass(kw_only=True)
class Combined:
    parts: tuple[str, ...]
    rows: list[CurrentRow]
    findings: list[Finding]
    """Open findings of every part (their messages explain the rows left out)."""
    units: list[Unit]
    """The registry of the last part that has one (units at the end of the period)."""
    excluded: dict[RowKey, str] = field(default_factory=dict)
    """Rows left out of the combined period, and why (split_counted's `excluded`)."""


def parts_to_combine(archive: Archive, code: str) -> tuple[str, ...] | None:
    """The shorter periods `code` is built from, or None when the archive holds rows for
    `code` itself or for no tiling of it. Raises MissingParts when the coarsest tiling
    with rows lacks some parts (a year report with 2026S2 not synced yet)."""
    if archive.count_current_rows(code):
        return None
    for parts in component_periods(code):
        missing = [p for p in parts if not archive.count_current_rows(p)]
        if not missing:
            return parts
        if len(missing) < len(parts):
            raise MissingParts(code, parts, missing)
    return None


def combine(archive: Archive, templates: TemplateSet, parts: tuple[str, ...],
            fallback_units: list[Unit]) -> Combined:
    """The rows of the period tiled by `parts` (see the module's docstring)."""
    versions: dict[RowKey, list[CurrentRow]] = {}
    excluded: dict[RowKey, str] = {}
    findings: list[Finding] = []
    units = list(fallback_units)
    for code in parts:
        rows = archive.current_rows(code)
        part_units = archive.units(code) or list(fallback_units)
        units = part_units
        part_findings = archive.open_findings(code)
        findings += part_findings
        _, left = split_counted(rows, templates, {u.code: u for u in part_units},
                                rows_with_errors(part_findings))
        for x in left:
            excluded.setdefault(_key(x.row), f"{x.reason} (kỳ {code})")
        for r in rows:
            versions.setdefault(_key(r), []).append(r)
    modes = column_period_modes(templates.figures)
    combined = [_combine_row(rows, templates, modes) for rows in versions.values()]
    for row in combined:
        key = _key(row)
        if key not in excluded and (gap := parts_gap(row, templates)) is not None:
            excluded[key] = f"{gap} khi cộng các kỳ {', '.join(parts)}"
    return Combined(parts=parts, rows=combined, findings=findings, units=units,
                    excluded=excluded)


def column_period_modes(figures: Iterable[FigureSpec]) -> dict[tuple[str, str], str]:
    """(table, column) -> how a longer period combines the column's values across its
    parts ("sum", "last", "first"), as declared by the figures that read the column
    (`over_periods`). Columns no figure reads are absent (the latest value is kept).
    Two figures that read one column must agree, or the year could not honour both."""
    modes: dict[tuple[str, str], str] = {}
    for f in figures:
        if not f.table:
            continue
        for col in (*f.sum, *([f.common] if f.common else ()), *f.units_where):
            seen = modes.setdefault((f.table, col), f.over_periods)
            if seen != f.over_periods:
                raise TemplateError(
                    f"figure {f.id}: column {f.table}.{col} is combined over periods as "
                    f"{f.over_periods!r} here and as {seen!r} by another figure")
    return modes


def _key(row: CurrentRow) -> RowKey:
    return row.unit, row.table, row.key


def _combine_row(rows: list[CurrentRow], templates: TemplateSet,
                 modes: dict[tuple[str, str], str]) -> CurrentRow:
    """One row from its versions in the parts, in period order."""
    first, last = rows[0], rows[-1]
    columns = list(dict.fromkeys(c for r in rows for c in r.values))
    values = {}
    for col in columns:
        mode = modes.get((first.table, col), "last")
        if mode == "first":
            values[col] = first.values.get(col)
        elif mode == "sum":
            values[col] = _added([r.values.get(col) for r in rows])
        else:
            values[col] = last.values.get(col)
    spec = templates.tables.get(first.table)
    derived: set[str] = set()
    for rule in spec.rules if spec else ():
        total = rule.params.get("total") if rule.kind == "sum_equals" else None
        if total is None or total in derived:
            continue
        derived.add(total)
        operands = [v for p in rule.params["parts"] if _is_number(v := values.get(p))]
        if operands:
            values[total] = sum(operands)
    explanation = next((r.explanation for r in reversed(rows) if r.explanation), None)
    return CurrentRow(unit=first.unit, table=first.table, key=first.key, sheet_row=None,
                      values=values, explanation=explanation)


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _added(values: list[Any]) -> Any:
    """The sum of the parts' values; None when no part has one; the latest value when one
    is not a number (such a cell carries an error finding, so the row is left out)."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    if all(_is_number(v) for v in present):
        return sum(present)
    return present[-1]
