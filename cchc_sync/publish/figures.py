"""The report's figures by level and in total, computed from the archive's current rows.

The master's "Tổng hợp" tab and the coordinator's report both read these, so a figure
printed in the report is, by construction, the figure in the master.

Counting rule (one for the master, the report body, its annex and its charts): a row is
*counted* unless it carries an open error, belongs to a unit missing from the period's
registry, or its parts do not add up to its total (each `sum_equals` rule of its table,
blank cells taken as 0 — the validator skips such a row, the figures cannot). A row that
is not counted is *left out* of every figure and listed with its reason
(`split_counted`); a figure from whose table rows were left out in a group is marked
there (`FigureValue.tainted`). Counted rows satisfy their identities, so every figure
identity (parts, level = sum of its units, total = sum of its levels) holds exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from cchc_sync.checks.cross_unit import common_value
from cchc_sync.domain.records import CurrentRow, Finding, Severity, Unit
from cchc_sync.domain.templates import FigureSpec, TemplateSet
from cchc_sync.domain.vnformat import format_int

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
    """Level code (and TOTAL) -> rows of this figure's table were left out there (open
    errors, parts that do not add up): the value is incomplete and marked."""
    numerator: str | None = None
    denominator: str | None = None
    """A rate's figures (a rate is always printed beside them)."""

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


@dataclass(frozen=True, slots=True)
class _Line:
    """One current row with its unit's level: what a figure selects and groups by."""

    unit: str
    level: str
    table: str
    values: dict


def _lines(rows: Iterable[CurrentRow], units: Mapping[str, Unit]) -> list[_Line]:
    # Plain lists, not a DataFrame: a report computes every figure for every unit (a few
    # hundred tiny selections), where pandas' per-call overhead cost seconds.
    return [_Line(r.unit, units[r.unit].level if r.unit in units else "", r.table, r.values)
            for r in rows]


@dataclass(frozen=True, slots=True)
class LeftOut:
    """A row the figures do not count, and why (Vietnamese, for the report and master)."""

    row: CurrentRow
    reason: str


REASON_ERROR = "còn lỗi chưa khắc phục"
REASON_UNIT = "đơn vị không có trong danh sách đơn vị của kỳ báo cáo"


def split_counted(
    rows: Iterable[CurrentRow],
    templates: TemplateSet,
    units: Mapping[str, Unit],
    error_rows: AbstractSet[tuple[str, str, str]] = frozenset(),
    excluded: Mapping[tuple[str, str, str], str] | None = None,
) -> tuple[list[CurrentRow], list[LeftOut]]:
    """The counting rule: (rows counted in every figure, rows left out with the reason).

    excluded: (unit, table, row key) -> reason, rows left out for a reason found before
    (a year's row one of whose half-year rows was left out)."""
    counted: list[CurrentRow] = []
    left: list[LeftOut] = []
    for r in rows:
        if r.unit not in units:
            left.append(LeftOut(r, REASON_UNIT))
        elif excluded and (r.unit, r.table, r.key) in excluded:
            left.append(LeftOut(r, excluded[(r.unit, r.table, r.key)]))
        elif (r.unit, r.table, r.key) in error_rows:
            left.append(LeftOut(r, REASON_ERROR))
        elif (gap := parts_gap(r, templates)) is not None:
            left.append(LeftOut(r, gap))
        else:
            counted.append(r)
    return counted, left


def parts_gap(row: CurrentRow, templates: TemplateSet) -> str | None:
    """Why a row's parts do not add up to its total (blank = 0), or None."""
    spec = templates.tables.get(row.table)
    if spec is None:
        return None
    titles = {c.key: c.title for c in spec.columns}
    for rule in spec.rules:
        if rule.kind != "sum_equals":
            continue
        total, parts = rule.params["total"], list(rule.params["parts"])
        whole = _number(row.values.get(total))
        summed = sum(_number(row.values.get(p)) for p in parts)
        if whole != summed:
            names = ", ".join(f"\u201c{titles.get(p, p)}\u201d" for p in parts)
            return (f"\u201c{titles.get(total, total)}\u201d ({format_int(whole)}) khác tổng "
                    f"các cột {names} ({format_int(summed)}); ô để trống được tính là 0")
    return None


def _number(value: object) -> int | float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else 0


def rows_with_errors(findings: Iterable[Finding]) -> set[tuple[str, str, str]]:
    """(unit, table, row key) of every row carrying an open error (compute_figures marks
    the figures they feed)."""
    return {
        (f.unit, f.table, f.row_key)
        for f in findings
        if f.severity is Severity.ERROR and f.row_key is not None
    }


def compute_figures(
    rows: Iterable[CurrentRow],
    templates: TemplateSet,
    units: Mapping[str, Unit],
    levels: list[str],
    error_rows: AbstractSet[tuple[str, str, str]] = frozenset(),
    excluded: Mapping[tuple[str, str, str], str] | None = None,
) -> list[FigureValue]:
    """Every figure of the template set, by level and in total, under the counting rule.

    error_rows: (unit, table, row key) of rows carrying an open error: left out, and the
    figures of their table marked in their groups. excluded: see split_counted.
    """
    counted, left = split_counted(rows, templates, units, error_rows, excluded)
    frame = _lines(counted, units)
    left_frame = _lines((x.row for x in left), units)
    results: dict[str, FigureValue] = {}
    for spec in templates.figures:
        results[spec.id] = _compute(spec, frame, levels, results, left_frame)
    return list(results.values())


def rate(numerator: float | Decimal, denominator: float | Decimal) -> float:
    """numerator / denominator in percent points, rounded half-up to two decimals, but
    never 100 unless they are equal and never 0 unless the numerator is 0 (a rounding
    that would claim "all" or "none" stops one hundredth short of it)."""
    exact = Decimal(numerator) * 100 / Decimal(denominator)
    shown = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if shown == 100 and numerator != denominator:
        shown = Decimal("99.99")
    if shown == 0 and numerator != 0:
        shown = Decimal("0.01")
    return float(shown)


def format_rate(value: float | int) -> str:
    """A rate as official reports print it: always two decimals, "39,60%", "100,00%"."""
    d = Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, frac = f"{d:.2f}".split(".")
    return f"{format_int(int(whole))},{frac}%" if not whole.startswith("-") else (
        f"-{format_int(-int(whole))},{frac}%")


def _select(spec: FigureSpec, lines: list[_Line]) -> list[_Line]:
    return [x for x in lines if x.table == spec.table
            and all(x.values.get(c) == w for c, w in spec.where.items())]


def _units(lines: list[_Line]) -> int:
    return len({x.unit for x in lines})


def _compute(spec: FigureSpec, lines: list[_Line], levels: Iterable[str],
             done: Mapping[str, FigureValue], left_lines: list[_Line]) -> FigureValue:
    groups = [*levels, TOTAL]
    pair = spec.ratio or spec.difference
    if pair:
        a, b = (done[x] for x in pair)
        values: dict[str, float | int | None] = {}
        for g in groups:
            x, y = a.values.get(g), b.values.get(g)
            if spec.ratio:
                values[g] = rate(x, y) if x is not None and y else None
            else:
                values[g] = x - y if x is not None and y is not None else None
        return FigureValue(
            id=spec.id,
            label=spec.label,
            values=values,
            percent=bool(spec.ratio),
            reporting={g: min(a.reporting.get(g, 0), b.reporting.get(g, 0)) for g in groups},
            tainted={g: a.tainted.get(g, False) or b.tainted.get(g, False) for g in groups},
            numerator=a.id if spec.ratio else None,
            denominator=b.id if spec.ratio else None,
        )
    sel = _select(spec, lines)
    left_sel = _select(spec, left_lines)
    values, reporting, tainted = {}, {}, {}
    for g in groups:
        part = sel if g == TOTAL else [x for x in sel if x.level == g]
        if spec.sum:
            contributing = [x for x in part if any(x.values.get(c) is not None
                                                   for c in spec.sum)]
            total = sum(sum(x.values.get(c) or 0 for c in spec.sum) for x in contributing)
            values[g] = int(total) if contributing else None
        elif spec.common:
            contributing = [x for x in part if x.values.get(spec.common) is not None]
            if g == TOTAL:
                per_level = [v for lv in levels if (v := values.get(lv)) is not None]
                values[g] = sum(per_level) if per_level else None
            else:
                values[g] = common_value(x.values[spec.common] for x in contributing)
        elif spec.count_rows:
            contributing = part
            values[g] = len(part)
        elif spec.units_reporting:
            contributing = part
            values[g] = _units(part)
        elif spec.units_where:
            contributing = [x for x in part
                            if all(x.values.get(c) == w for c, w in spec.units_where.items())]
            values[g] = _units(contributing)
        else:  # pragma: no cover - the loader rejects figures of no kind
            raise ValueError(spec.id)
        reporting[g] = _units(contributing)
        tainted[g] = any(g == TOTAL or x.level == g for x in left_sel)
    return FigureValue(
        id=spec.id,
        label=spec.label,
        values=values,
        percent=False,
        reporting=reporting,
        tainted=tainted,
    )
