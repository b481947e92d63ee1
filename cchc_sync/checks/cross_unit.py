"""Rules that look across rows of different units: computed from the archive's current rows.

A unit's flags may never show another unit's values (privacy between units): these
messages name the other unit, not its data.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cchc_sync.domain.records import Finding, Severity, Unit
from cchc_sync.domain.templates import Aggregate, TemplateSet
from cchc_sync.domain.vnformat import format_date, format_int


@dataclass(frozen=True, kw_only=True, slots=True)
class CurrentRow:
    """A row as the archive holds it now."""

    unit: str
    table: str
    key: str
    sheet_row: int | None
    values: dict[str, Any]
    explanation: str | None = None


def cross_unit_findings(
    rows: Iterable[CurrentRow], templates: TemplateSet, units: Mapping[str, Unit]
) -> list[Finding]:
    rows = list(rows)
    findings = list(_docno_dates(rows, templates, units))
    findings.extend(_common_values(rows, templates, units))
    return findings


def _docno_dates(rows: list[CurrentRow], templates: TemplateSet, units: Mapping[str, Unit]):
    """One document number cited with two different dates: an error on every row involved,
    in one unit or across units."""
    pairs: dict[str, list[tuple[CurrentRow, str, str, str, str]]] = defaultdict(list)
    for spec in templates.tables.values():
        for rule in spec.rules:
            if rule.kind != "docno_date":
                continue
            number_key, date_key = rule.params["number"], rule.params["date"]
            for row in rows:
                if row.table != spec.key:
                    continue
                number, date = row.values.get(number_key), row.values.get(date_key)
                if number and date:
                    pairs[number].append((row, date, rule.id, number_key, date_key))
    for number, cited in pairs.items():
        dates = {c[1] for c in cited}
        if len(dates) < 2:
            continue
        for row, date, rule_id, _number_key, date_key in cited:
            own = format_date(dt.date.fromisoformat(date))
            same_unit = sorted(
                c[0].sheet_row or 0
                for c in cited
                if c[0].unit == row.unit and c[1] != date
            )
            others = sorted(
                {units[c[0].unit].name if c[0].unit in units else c[0].unit
                 for c in cited if c[0].unit != row.unit and c[1] != date}
            )
            where = []
            if same_unit:
                where.append("dòng " + ", ".join(str(r) for r in same_unit) + " của đơn vị mình")
            if others:
                where.append(", ".join(others))
            message = (
                f"Văn bản số {number} được ghi ngày ban hành {own} ở dòng này, nhưng "
                f"{' và '.join(where)} ghi ngày khác cho cùng số văn bản. Một văn bản chỉ có "
                "một ngày ban hành: hãy đối chiếu với bản gốc và sửa cho đúng."
            )
            yield Finding(
                rule=rule_id,
                severity=Severity.ERROR,
                message=message,
                unit=row.unit,
                table=row.table,
                row=row.sheet_row,
                column=date_key,
                value=date,
                row_key=row.key,
            )


def common_value(values: Iterable[int]) -> int | None:
    """The value most units of a level report (ties: the larger, so a catalogue is not
    understated); None when nobody reported."""
    counts = Counter(values)
    if not counts:
        return None
    best = max(counts.values())
    return max(v for v, n in counts.items() if n == best)


def _common_values(rows: list[CurrentRow], templates: TemplateSet, units: Mapping[str, Unit]):
    """A catalogue-size column: units of one level should agree; a unit that differs from
    the level's common value gets a warning."""
    for spec in templates.tables.values():
        common_cols = [c for c in spec.columns if c.aggregate is Aggregate.COMMON]
        if not common_cols:
            continue
        for col in common_cols:
            groups: dict[tuple[str, str], list[CurrentRow]] = defaultdict(list)
            for row in rows:
                if row.table == spec.key and row.values.get(col.key) is not None:
                    level = units[row.unit].level if row.unit in units else ""
                    groups[(level, row.key)].append(row)
            for (_level, _key), group in groups.items():
                value = common_value(r.values[col.key] for r in group)
                if len({r.values[col.key] for r in group}) < 2:
                    continue
                for row in group:
                    if row.values[col.key] == value:
                        continue
                    yield Finding(
                        rule=f"{spec.key}.{col.key}.khac-cap",
                        severity=Severity.WARNING,
                        message=(
                            f'"{col.title}" ghi {format_int(row.values[col.key])} nhưng phần '
                            f"lớn đơn vị cùng cấp ghi {format_int(value)}. Đây là số thủ tục "
                            "chung của cấp: hãy kiểm tra lại, hoặc giải trình nếu đúng."
                        ),
                        unit=row.unit,
                        table=row.table,
                        row=row.sheet_row,
                        column=col.key,
                        value=row.values[col.key],
                        row_key=row.key,
                        explained=row.explanation or None,
                    )
