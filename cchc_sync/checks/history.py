"""Warnings that look back in time or across a level: continuity with the previous period,
large changes against the same period a year earlier, and outlying rates.

A unit answers such a warning in its "Giải trình" column; the warning then stays visible
as explained. Messages show the unit its own earlier figures or an aggregate of its level
(a median), never another unit's values.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from typing import TYPE_CHECKING

from cchc_sync.checks.cross_unit import CurrentRow
from cchc_sync.domain.periods import PeriodError, previous_period, year_earlier
from cchc_sync.domain.records import Finding, Severity
from cchc_sync.domain.registry import load_successions, load_units, predecessors
from cchc_sync.domain.vnformat import format_int, format_percent

if TYPE_CHECKING:
    from cchc_sync.app.pipeline import Workspace

MIN_UNITS_FOR_OUTLIERS = 5
"""A median of fewer units says little."""
MIN_OUTLIER_GAP = 10.0
"""Percent points from the level's median below which no rate is called an outlier: with
a handful of units that agree closely, a robust z-score alone flags ordinary spread."""


def history_findings(ws: Workspace, rows: list[CurrentRow]) -> list[Finding]:
    try:
        successions = load_successions(ws.config.successors_file, load_units(ws.config.units_file))
        prev_code, year_code = previous_period(ws.period.code), year_earlier(ws.period.code)
    except PeriodError:
        return []
    lineage = {u.code: [u.code, *predecessors(u.code, successions)] for u in ws.units}
    findings = list(_continuity(rows, ws.archive.current_rows(prev_code), lineage, prev_code))
    findings += _year_change(ws, rows, ws.archive.current_rows(year_code), lineage, year_code)
    findings += _outliers(ws, rows)
    return findings


def _index(rows: Iterable[CurrentRow]) -> dict[tuple[str, str, str], CurrentRow]:
    return {(r.unit, r.table, r.key): r for r in rows}


def _earlier(index, lineage, unit, table, key) -> list[CurrentRow]:
    return [index[(code, table, key)] for code in lineage.get(unit, [unit])
            if (code, table, key) in index]


def _continuity(rows, prev_rows, lineage, prev_code):
    """This period's "Từ kỳ trước chuyển qua" should be what was still pending at the end
    of the previous period (in time and overdue), for the same field of procedures."""
    index = _index(prev_rows)
    for row in rows:
        if row.table != "tthc" or row.values.get("tu_ky_truoc") is None:
            continue
        earlier = _earlier(index, lineage, row.unit, "tthc", row.key)
        pending = [r.values.get(k) for r in earlier for k in ("dang_trong_han", "dang_qua_han")]
        if not earlier or all(v is None for v in pending):
            continue
        expected = sum(v or 0 for v in pending)
        if expected == row.values["tu_ky_truoc"]:
            continue
        yield Finding(
            rule="tthc.tu-ky-truoc",
            severity=Severity.WARNING,
            message=(
                f'"Từ kỳ trước chuyển qua" ghi {format_int(row.values["tu_ky_truoc"])} nhưng '
                f"cuối kỳ trước ({prev_code}) lĩnh vực này còn {format_int(expected)} hồ sơ "
                "đang giải quyết (trong hạn và quá hạn). Hãy kiểm tra lại hoặc giải trình."
            ),
            unit=row.unit, table="tthc", row=row.sheet_row, column="tu_ky_truoc",
            value=row.values["tu_ky_truoc"], row_key=row.key, explained=row.explanation or None,
        )


def _year_change(ws, rows, year_rows, lineage, year_code):
    """A figure that moved by more than the configured share against a year earlier."""
    index = _index(year_rows)
    share, base_min = ws.config.history_change_share, ws.config.history_min_base
    for row in rows:
        spec = ws.templates.tables.get(row.table)
        if spec is None:
            continue
        earlier = _earlier(index, lineage, row.unit, row.table, row.key)
        if not earlier:
            continue
        for col in (c for c in spec.columns if c.history):
            now = row.values.get(col.key)
            before = [r.values.get(col.key) for r in earlier if r.values.get(col.key) is not None]
            if now is None or not before:
                continue
            base = sum(before)
            if base < base_min or abs(now - base) <= share * base:
                continue
            change = (now - base) * 100 / base
            word = "tăng" if change > 0 else "giảm"
            yield Finding(
                rule="history.change",
                severity=Severity.WARNING,
                message=(
                    f'"{col.title}" ghi {format_int(now)}, {word} {format_percent(abs(change))} '
                    f"so với cùng kỳ năm trước ({year_code}: {format_int(base)}). Hãy kiểm tra "
                    "lại, hoặc giải trình lý do ở cột \"Giải trình\"."
                ),
                unit=row.unit, table=row.table, row=row.sheet_row, column=col.key, value=now,
                row_key=row.key, explained=row.explanation or None,
            )


def _outliers(ws, rows):
    """Rates far from those of the other units of the same level: modified z-score
    (Iglewicz and Hoaglin) above the configured threshold."""
    level = {u.code: u.level for u in ws.units}
    for spec in ws.templates.tables.values():
        for rule in (r for r in spec.rules if r.kind == "rate"):
            rate_key, num, den = (rule.params[k] for k in ("rate", "numerator", "denominator"))
            groups: dict[tuple[str, str], list[tuple[CurrentRow, float]]] = defaultdict(list)
            for row in rows:
                if row.table != spec.key:
                    continue
                n, d = row.values.get(num), row.values.get(den)
                if n is None or not d:
                    continue
                groups[(level.get(row.unit, ""), row.key)].append((row, n * 100 / d))
            for group in groups.values():
                yield from _outliers_in(group, spec, rate_key, ws.config.outlier_z)


def _outliers_in(group, spec, rate_key, threshold):
    if len(group) < MIN_UNITS_FOR_OUTLIERS:
        return
    values = [v for _, v in group]
    median = statistics.median(values)
    mad = statistics.median(abs(v - median) for v in values)
    if mad == 0:
        mean_ad = statistics.fmean(abs(v - median) for v in values)
        if mean_ad == 0:
            return
        scale = 1.253314 * mean_ad  # Iglewicz-Hoaglin fallback when half the values tie
    else:
        scale = 1.4826 * mad
    for row, value in group:
        z = (value - median) / scale
        if abs(z) <= threshold or abs(value - median) < MIN_OUTLIER_GAP:
            continue
        yield Finding(
            rule="history.outlier",
            severity=Severity.WARNING,
            message=(
                f"Tỷ lệ {format_percent(value)} khác xa các đơn vị cùng cấp (trung vị "
                f"{format_percent(median)}). Hãy kiểm tra lại số liệu, hoặc giải trình ở cột "
                '"Giải trình".'
            ),
            unit=row.unit, table=spec.key, row=row.sheet_row, column=rate_key,
            value=round(value, 2), row_key=row.key, explained=row.explanation or None,
        )
