"""Checks that look across the rows of every unit of the period (the archive's current
rows), one class per template `kind`.

A unit's flags may never show another unit's values (privacy between units): these
messages name the other unit, not its data; a level is described by its common value or
its median.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from cchc_sync.checks.base import CheckSettings, CrossUnitCheck, Param, ParamKind, register
from cchc_sync.checks.row_checks import StatedRate
from cchc_sync.domain.records import CurrentRow, Finding, Unit
from cchc_sync.domain.templates import ColumnType
from cchc_sync.domain.vnformat import format_date, format_int, format_percent

MIN_UNITS_FOR_OUTLIERS = 5
"""A median of fewer units says little."""
MIN_OUTLIER_GAP = 10.0
"""Percent points from the level's median below which no rate is called an outlier: with
a handful of units that agree closely, a robust z-score alone flags ordinary spread."""


def _level(units: Mapping[str, Unit], code: str) -> str:
    return units[code].level if code in units else ""


@register
class DocnoDate(CrossUnitCheck):
    """One document number cited with two different dates: an error on every row involved,
    in one unit or across units, and across tables (a decision cited in "Văn bản chỉ đạo"
    and in "ISO 9001")."""

    kind = "docno_date"
    params = (
        Param(name="number", kind=ParamKind.COLUMN, types=(ColumnType.DOCNO,)),
        Param(name="date", kind=ParamKind.COLUMN, types=(ColumnType.DATE,)),
    )

    @classmethod
    def check_all(cls, checks: Sequence[CrossUnitCheck], rows: Sequence[CurrentRow],
                  units: Mapping[str, Unit], settings: CheckSettings) -> Iterator[Finding]:
        cited: dict[str, list[tuple[CurrentRow, dt.date, CrossUnitCheck]]] = defaultdict(list)
        for check in checks:
            number_key, date_key = check.args["number"], check.args["date"]
            for row in check.own_rows(rows):
                number, date = row.values.get(number_key), row.values.get(date_key)
                if number and date:
                    cited[number].append((row, date, check))
        for number, citations in cited.items():
            if len({date for _, date, _ in citations}) < 2:
                continue
            for row, date, check in citations:
                yield check.warn_on(row, _two_dates_message(number, row, date, citations, units),
                                    check.args["date"], date.isoformat())

    def check_units(self, rows: Sequence[CurrentRow], units: Mapping[str, Unit],
                    settings: CheckSettings) -> Iterator[Finding]:
        return self.check_all([self], rows, units, settings)


def _two_dates_message(number: str, row: CurrentRow, date: dt.date,
                       citations: list[tuple[CurrentRow, dt.date, CrossUnitCheck]],
                       units: Mapping[str, Unit]) -> str:
    same_unit = sorted(r.sheet_row or 0 for r, d, _ in citations
                       if r.unit == row.unit and d != date)
    others = sorted({units[r.unit].name if r.unit in units else r.unit
                     for r, d, _ in citations if r.unit != row.unit and d != date})
    where = []
    if same_unit:
        where.append("dòng " + ", ".join(str(r) for r in same_unit) + " của đơn vị mình")
    if others:
        where.append(", ".join(others))
    return (
        f"Văn bản số {number} được ghi ngày ban hành {format_date(date)} ở dòng này, nhưng "
        f"{' và '.join(where)} ghi ngày khác cho cùng số văn bản. Một văn bản chỉ có "
        "một ngày ban hành: hãy đối chiếu với bản gốc và sửa cho đúng."
    )


def common_value(values: Iterable[int]) -> int | None:
    """The value most units of a level report (ties: the larger, so a catalogue is not
    understated); None when nobody reported."""
    counts = Counter(values)
    if not counts:
        return None
    best = max(counts.values())
    return max(v for v, n in counts.items() if n == best)


@register
class CommonValue(CrossUnitCheck):
    """A catalogue-size column (`aggregate: common`): units of one level should agree; a
    unit that differs from the level's common value gets a warning. Bound for every such
    column without being written as a rule."""

    kind = "common_value"
    params = (Param(name="column", kind=ParamKind.COLUMN, types=(ColumnType.INT,)),)

    def check_units(self, rows: Sequence[CurrentRow], units: Mapping[str, Unit],
                    settings: CheckSettings) -> Iterator[Finding]:
        col = self.args["column"]
        groups: dict[tuple[str, str], list[CurrentRow]] = defaultdict(list)
        for row in self.own_rows(rows):
            if row.values.get(col) is not None:
                groups[(_level(units, row.unit), row.key)].append(row)
        for group in groups.values():
            value = common_value(r.values[col] for r in group)
            if value is None or len({r.values[col] for r in group}) < 2:
                continue
            for row in group:
                if row.values[col] == value:
                    continue
                yield self.warn_on(
                    row,
                    f'"{self.title(col)}" ghi {format_int(row.values[col])} nhưng phần '
                    f"lớn đơn vị cùng cấp ghi {format_int(value)}. Đây là số thủ tục "
                    "chung của cấp: hãy kiểm tra lại, hoặc giải trình nếu đúng.",
                    col, row.values[col],
                )


@register
class RateOutlier(CrossUnitCheck):
    """Rates far from those of the other units of the same level: modified z-score
    (Iglewicz and Hoaglin) above the configured threshold. Bound for every `rate` rule
    without being written as a rule."""

    kind = "rate_outlier"
    params = StatedRate.params[:3]

    def check_units(self, rows: Sequence[CurrentRow], units: Mapping[str, Unit],
                    settings: CheckSettings) -> Iterator[Finding]:
        rate_key, num, den = (self.args[k] for k in ("rate", "numerator", "denominator"))
        groups: dict[tuple[str, str], list[tuple[CurrentRow, float]]] = defaultdict(list)
        for row in self.own_rows(rows):
            n, d = row.values.get(num), row.values.get(den)
            if n is None or not d:
                continue
            groups[(_level(units, row.unit), row.key)].append((row, n * 100 / d))
        for group in groups.values():
            yield from self._outliers_in(group, rate_key, settings.outlier_z)

    def _outliers_in(self, group: list[tuple[CurrentRow, float]], rate_key: str,
                     threshold: float) -> Iterator[Finding]:
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
            yield self.warn_on(
                row,
                f"Tỷ lệ {format_percent(value)} khác xa các đơn vị cùng cấp (trung vị "
                f"{format_percent(median)}). Hãy kiểm tra lại số liệu, hoặc giải trình ở cột "
                '"Giải trình".',
                rate_key, round(value, 2),
            )
