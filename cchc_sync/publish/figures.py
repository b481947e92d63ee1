"""The report's figures by level and in total, computed from the archive's current rows.

The master's "Tổng hợp" tab and the coordinator's report both read these, so a figure
printed in the report is, by construction, the figure in the master.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from cchc_sync.checks.cross_unit import common_value
from cchc_sync.domain.records import CurrentRow, Unit
from cchc_sync.domain.templates import FigureSpec, TemplateSet

DEFAULT_LEVEL_NAMES = {
    "tinh": "Cấp tỉnh",
    "so": "Cấp sở, ban, ngành",
    "huyen": "Cấp huyện",
    "xa": "Cấp xã",
    "phuong": "Cấp phường",
}
TOTAL = "__total__"


@dataclass(frozen=True, kw_only=True, slots=True)
class FigureValue:
    id: str
    label: str
    values: dict[str, float | int | None]
    """Level code -> value; TOTAL -> the value over all units. None: nobody reported."""
    percent: bool = False
    """Values are percent points (96.16)."""
    reporting: dict[str, int] = field(default_factory=dict)
    """Level code (and TOTAL) -> number of units whose rows contribute."""
    tainted: dict[str, bool] = field(default_factory=dict)
    """Level code (and TOTAL) -> a contributing row carries an open error."""

    @property
    def total(self) -> float | int | None:
        return self.values.get(TOTAL)


def level_name(level: str, names: Mapping[str, str] | None = None) -> str:
    if names and level in names:
        return names[level]
    return DEFAULT_LEVEL_NAMES.get(level, f"Cấp {level}")


def ordered_levels(units: Iterable[Unit], order: Iterable[str] = ()) -> list[str]:
    """Configured order first, then the levels in the order the registry shows them."""
    seen = [lvl for lvl in order]
    for u in units:
        if u.level not in seen:
            seen.append(u.level)
    return seen


def rows_frame(rows: Iterable[CurrentRow], units: Mapping[str, Unit]) -> pd.DataFrame:
    """Long frame: one line per current row with unit, level, table, key and its values."""
    records = []
    for r in rows:
        unit = units.get(r.unit)
        records.append(
            {
                "unit": r.unit,
                "level": unit.level if unit else "",
                "table": r.table,
                "key": r.key,
                "values": r.values,
            }
        )
    return pd.DataFrame.from_records(records, columns=["unit", "level", "table", "key", "values"])


def compute_figures(
    rows: Iterable[CurrentRow],
    templates: TemplateSet,
    units: Mapping[str, Unit],
    levels: list[str],
    error_rows: set[tuple[str, str, str]] = frozenset(),
) -> list[FigureValue]:
    """Every figure of the template set, by level and in total.

    error_rows: (unit, table, row key) of rows carrying an open error, to mark figures
    that rest on them.
    """
    frame = rows_frame(rows, units)
    results: dict[str, FigureValue] = {}
    for spec in templates.figures:
        results[spec.id] = _compute(spec, frame, levels, results, error_rows)
    return list(results.values())


def _where(frame: pd.DataFrame, keep) -> pd.DataFrame:
    """Rows whose values dict satisfies keep (an explicit bool mask: an empty frame keeps
    its columns)."""
    mask = pd.Series([bool(keep(v)) for v in frame["values"]], index=frame.index, dtype=bool)
    return frame.loc[mask]


def _select(spec: FigureSpec, frame: pd.DataFrame) -> pd.DataFrame:
    sel = frame.loc[frame["table"] == spec.table]
    return _where(sel, lambda v: all(v.get(c) == w for c, w in spec.where.items()))


def _compute(spec, frame, levels, done, error_rows) -> FigureValue:
    groups = [*levels, TOTAL]
    if spec.ratio or spec.difference:
        a, b = (done[x] for x in (spec.ratio or spec.difference))
        values: dict[str, float | int | None] = {}
        for g in groups:
            x, y = a.values.get(g), b.values.get(g)
            if spec.ratio:
                values[g] = round(x * 100 / y, 2) if x is not None and y else None
            else:
                values[g] = x - y if x is not None and y is not None else None
        return FigureValue(
            id=spec.id,
            label=spec.label,
            values=values,
            percent=bool(spec.ratio),
            reporting={g: min(a.reporting.get(g, 0), b.reporting.get(g, 0)) for g in groups},
            tainted={g: a.tainted.get(g, False) or b.tainted.get(g, False) for g in groups},
        )
    sel = _select(spec, frame)
    values, reporting, tainted = {}, {}, {}
    for g in groups:
        part = sel if g == TOTAL else sel.loc[sel["level"] == g]
        if spec.sum:
            contributing = _where(part, lambda v: any(v.get(c) is not None for c in spec.sum))
            total = sum(
                sum(v.get(c) or 0 for c in spec.sum) for v in contributing["values"]
            )
            values[g] = int(total) if len(contributing) else None
        elif spec.common:
            contributing = _where(part, lambda v: v.get(spec.common) is not None)
            if g == TOTAL:
                per_level = [values[lv] for lv in levels if values.get(lv) is not None]
                values[g] = sum(per_level) if per_level else None
            else:
                values[g] = common_value(v[spec.common] for v in contributing["values"])
        elif spec.count_rows:
            contributing = part
            values[g] = len(part)
        elif spec.units_reporting:
            contributing = part
            values[g] = part["unit"].nunique()
        elif spec.units_where:
            contributing = _where(
                part, lambda v: all(v.get(c) == w for c, w in spec.units_where.items())
            )
            values[g] = contributing["unit"].nunique()
        else:  # pragma: no cover - the loader rejects figures of no kind
            raise ValueError(spec.id)
        reporting[g] = int(contributing["unit"].nunique())
        tainted[g] = any(
            (u, t, k) in error_rows
            for u, t, k in zip(
                contributing["unit"], contributing["table"], contributing["key"], strict=True
            )
        )
    return FigureValue(
        id=spec.id,
        label=spec.label,
        values=values,
        percent=False,
        reporting=reporting,
        tainted=tainted,
    )
