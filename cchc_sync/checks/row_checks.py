"""Checks of one row of one unit's table, one class per template `kind`.

Missing-value strategy: a rule whose operand is blank is skipped (blank is "not reported",
never zero).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from cchc_sync.checks.base import Param, ParamKind, RowCheck, register
from cchc_sync.domain.records import Finding, Period, TypedRow
from cchc_sync.domain.templates import Choice, ColumnType, RuleSpec, TableSpec, TemplateError
from cchc_sync.domain.vnformat import format_date, format_int, format_number, format_percent
from cchc_sync.normalise import DocNo, parse_docno_cached

RATE_TOLERANCE = 0.01
"""A stated rate may differ from its own numbers by this many percent points (rounding)."""

_NUMBERS = (ColumnType.INT, ColumnType.PCT)


class _OneRow(RowCheck):
    def at(self, row: TypedRow, unit: str, message: str, column: str | None,
           value: Any = None) -> Finding:
        return self.finding(message, unit=unit, row=row.sheet_row, column=column, value=value)


def _any_blank(values: Mapping[str, Any], keys: Iterable[str]) -> bool:
    """A blank operand: an arithmetic check says nothing about the row then (a blank is not
    a zero)."""
    # map() in C rather than any() over a generator: called for every row. No row value
    # (int, float, text, date, bool) compares equal to None, so `in` is `is None` here.
    return None in map(values.get, keys)


@register
class SumEquals(_OneRow):
    """total = part + part + … (e.g. received = on time + late + pending)."""

    kind = "sum_equals"
    params = (
        Param(name="total", kind=ParamKind.COLUMN, types=(ColumnType.INT,)),
        Param(name="parts", kind=ParamKind.COLUMNS, types=(ColumnType.INT,)),
    )

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        keys = (self.args["total"], *self.args["parts"])
        total: Any
        parts: list[Any]
        for i, row in enumerate(rows):
            total, *parts = map(row.values.get, keys)
            if total is None or None in parts:
                continue
            if sum(parts) != total:
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        v, total, parts = row.values, self.args["total"], self.args["parts"]
        if _any_blank(v, (total, *parts)):
            return
        s = sum(v[k] for k in parts)
        if s != v[total]:
            terms = " + ".join(f"{format_int(v[k])} ({self.title(k)})" for k in parts)
            yield self.at(
                row, unit,
                f'"{self.title(total)}" ghi {format_int(v[total])} nhưng {terms} = '
                f"{format_int(s)}. Hãy kiểm tra lại các số này.",
                total, v[total],
            )


@register
class LessOrEqual(_OneRow):
    """A part cannot exceed its whole (online dossiers ≤ dossiers)."""

    kind = "le"
    params = (
        Param(name="left", kind=ParamKind.COLUMN, types=_NUMBERS),
        Param(name="right", kind=ParamKind.COLUMN, types=_NUMBERS),
    )

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        left, right = self.args["left"], self.args["right"]
        for i, row in enumerate(rows):
            a, b = row.values.get(left), row.values.get(right)
            if a is not None and b is not None and a > b:
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        v, left, right = row.values, self.args["left"], self.args["right"]
        if _any_blank(v, (left, right)):
            return
        if v[left] > v[right]:
            yield self.at(
                row, unit,
                f'"{self.title(left)}" ({format_int(v[left])}) lớn hơn "{self.title(right)}" '
                f"({format_int(v[right])}): số phần không thể vượt số tổng. Hãy kiểm tra lại.",
                left, v[left],
            )


@register
class StatedRate(_OneRow):
    """A stated rate must be its own numerator over its denominator (± rounding)."""

    kind = "rate"
    params = (
        Param(name="rate", kind=ParamKind.COLUMN, types=_NUMBERS),
        Param(name="numerator", kind=ParamKind.COLUMN, types=(ColumnType.INT,)),
        Param(name="denominator", kind=ParamKind.COLUMN, types=(ColumnType.INT,)),
        Param(name="tolerance", kind=ParamKind.NUMBER, required=False, default=RATE_TOLERANCE),
    )

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        keys = tuple(self.args[k] for k in ("rate", "numerator", "denominator"))
        tolerance = float(self.args["tolerance"]) + 1e-9
        for i, row in enumerate(rows):
            rate, num, den = map(row.values.get, keys)
            if rate is None or num is None or den is None:
                continue
            if den == 0:
                if rate != 0:
                    yield i
            elif abs(rate - round(num * 100 / den, 2)) > tolerance:
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        v = row.values
        rate, num, den = (self.args[k] for k in ("rate", "numerator", "denominator"))
        if _any_blank(v, (rate, num, den)):
            return
        if v[den] == 0:
            if v[rate] != 0:
                yield self.at(
                    row, unit,
                    f'Tỷ lệ ghi {format_percent(v[rate])} nhưng "{self.title(den)}" bằng 0 '
                    "nên không thể tính tỷ lệ. Hãy kiểm tra lại.",
                    rate, v[rate],
                )
            return
        expected = round(v[num] * 100 / v[den], 2)
        if abs(v[rate] - expected) > float(self.args["tolerance"]) + 1e-9:
            yield self.at(
                row, unit,
                f"Tỷ lệ ghi {format_percent(v[rate])} nhưng {format_int(v[num])}/"
                f"{format_int(v[den])} = {format_percent(expected)}. Hãy sửa tỷ lệ "
                "(hoặc để trống, phần mềm sẽ tự tính).",
                rate, v[rate],
            )


@register
class DocnoType(_OneRow):
    """The type code inside a document number agrees with the chosen document type."""

    kind = "docno_type"
    params = (
        Param(name="number", kind=ParamKind.COLUMN, types=(ColumnType.DOCNO,)),
        Param(name="choice", kind=ParamKind.COLUMN, types=(ColumnType.CHOICE,)),
    )

    def __init__(self, rule: RuleSpec, table: TableSpec, args: dict[str, Any]):
        super().__init__(rule, table, args)
        self._choices: dict[Any, Choice] = {}  # code -> its first choice, as .choice() finds
        for c in table.column(args["choice"]).choices:
            self._choices.setdefault(c.code, c)

    def _disagreeing(self, values: Mapping[str, Any]) -> tuple[Any, Any, Choice, DocNo] | None:
        """(number, code, choice, parsed number) when the number's type code is not the
        chosen type's; None when they agree or either is blank or unreadable."""
        number, code = values.get(self.args["number"]), values.get(self.args["choice"])
        if number is None or code is None:
            return None
        # Cached: the number is already normalised text, the same for every unit citing it.
        parsed = parse_docno_cached(number)
        if not isinstance(parsed, DocNo):
            return None
        choice = self._choices.get(code)
        if choice is None or choice.doc_type == parsed.type_code:
            return None
        return number, code, choice, parsed

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        disagreeing = self._disagreeing
        for i, row in enumerate(rows):
            if disagreeing(row.values) is not None:
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        found = self._disagreeing(row.values)
        if found is None:
            return
        number, code, choice, parsed = found
        choice_key = self.args["choice"]
        col = self.table.column(choice_key)
        expected, actual = choice.doc_type, parsed.type_code
        if expected is None and actual is not None:
            owner = next((c for c in col.choices if c.doc_type == actual), None)
            shown = f"{actual} ({owner.label})" if owner else actual
            message = (
                f'Loại văn bản là "{choice.label}" nhưng số, ký hiệu {number} có mã loại '
                f"{shown}. Hãy kiểm tra lại loại văn bản hoặc số, ký hiệu."
            )
        elif expected is not None and actual is None:
            message = (
                f'Loại văn bản là "{choice.label}" nhưng số, ký hiệu {number} không có mã '
                f"{expected} (dạng đúng: số/{expected}-cơ quan ban hành, ví dụ "
                f"175/{expected}-UBND)."
            )
        else:
            message = (
                f'Loại văn bản là "{choice.label}" (mã {expected}) nhưng số, ký hiệu {number} '
                f"có mã {actual}. Hãy kiểm tra lại."
            )
        yield self.at(row, unit, message, choice_key, code)


@register
class DateInPeriod(_OneRow):
    """A date after the period's end is probably a typing mistake."""

    kind = "date_in_period"
    params = (Param(name="column", kind=ParamKind.COLUMN, types=(ColumnType.DATE,)),)

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        col, end = self.args["column"], period.end
        for i, row in enumerate(rows):
            d = row.values.get(col)
            if d is not None and d > end:
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        col = self.args["column"]
        d = row.values.get(col)
        if d is not None and d > period.end:
            yield self.at(
                row, unit,
                f'"{self.title(col)}" là {format_date(d)}, sau ngày kết thúc kỳ báo cáo '
                f"{period.code} ({format_date(period.end)}). Hãy kiểm tra lại ngày.",
                col, d.isoformat(),
            )


@register
class Requires(_OneRow):
    """A "Có" in one column requires other columns to be filled."""

    kind = "requires"
    params = (
        Param(name="when", kind=ParamKind.COLUMN, types=(ColumnType.BOOL,)),
        Param(name="then", kind=ParamKind.COLUMNS),
    )

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        when, then = self.args["when"], self.args["then"]
        for i, row in enumerate(rows):
            v = row.values
            if v.get(when) is True and None in map(v.get, then):
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        v, when = row.values, self.args["when"]
        if v.get(when) is True:
            missing = [k for k in self.args["then"] if v.get(k) is None]
            if missing:
                names = ", ".join(f'"{self.title(k)}"' for k in missing)
                yield self.at(
                    row, unit, f'Đã chọn "Có" ở "{self.title(when)}" nhưng chưa ghi {names}.',
                    missing[0],
                )


@register
class ExpectedRange(_OneRow):
    """DHIS2's min-max: a value outside the range a figure usually stays in. Unlike a
    column's hard `min`/`max` (an error, the value refused), this is a warning the unit
    may explain in "Giải trình"; the value is kept."""

    kind = "range"
    params = (
        Param(name="column", kind=ParamKind.COLUMN, types=_NUMBERS),
        Param(name="min", kind=ParamKind.NUMBER, required=False),
        Param(name="max", kind=ParamKind.NUMBER, required=False),
    )

    def __init__(self, rule: RuleSpec, table: TableSpec, args: dict[str, Any]):
        super().__init__(rule, table, args)
        low, high = args["min"], args["max"]
        if low is None and high is None:
            raise TemplateError(f"{rule.origin}: a range needs min, max or both")
        if low is not None and high is not None and low > high:
            raise TemplateError(f"{rule.origin}: min {low} is above max {high}")

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterator[int]:
        col, low, high = self.args["column"], self.args["min"], self.args["max"]
        for i, row in enumerate(rows):
            value = row.values.get(col)
            if value is None:
                continue
            if (low is not None and value < low) or (high is not None and value > high):
                yield i

    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterator[Finding]:
        col, low, high = self.args["column"], self.args["min"], self.args["max"]
        value = row.values.get(col)
        if value is None:
            return
        if low is not None and value < low:
            bound = f"thấp hơn mức thường gặp (tối thiểu {_number(low)})"
        elif high is not None and value > high:
            bound = f"cao hơn mức thường gặp (tối đa {_number(high)})"
        else:
            return
        yield self.at(
            row, unit,
            f'"{self.title(col)}" ghi {_number(value)}, {bound}. Hãy kiểm tra lại số liệu, '
            'hoặc giải trình ở cột "Giải trình" nếu đúng.',
            col, value,
        )


def _number(value: float) -> str:
    return format_int(value) if float(value).is_integer() else format_number(value)
