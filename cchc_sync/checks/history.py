"""Warnings that look back in time: continuity with the previous period, and large changes
against the same period a year earlier (or, where a unit has no such period yet, against
the previous period of the same length).

They see earlier periods only through `EarlierPeriods` (built by the app layer from the
archive, a unit's predecessors included). A unit answers such a warning in its "Giải
trình" column; the warning then stays visible as explained. Messages show the unit its own
earlier figures, never another unit's values.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from cchc_sync.checks.base import CheckSettings, HistoryCheck, Param, ParamKind, register
from cchc_sync.checks.earlier import EarlierPeriod, EarlierPeriods, Relation
from cchc_sync.domain.records import CurrentRow, Finding
from cchc_sync.domain.templates import ColumnType
from cchc_sync.domain.vnformat import format_int, format_percent

_COMPARED_WITH = {
    Relation.YEAR_EARLIER: "cùng kỳ năm trước",
    Relation.PREVIOUS: "kỳ trước",
}


@register
class CarriedOver(HistoryCheck):
    """This period's carried-over figure should be what the previous period left pending
    (e.g. "Từ kỳ trước chuyển qua" = last period's pending in time + pending overdue)."""

    kind = "carried_over"
    params = (
        Param(name="column", kind=ParamKind.COLUMN, types=(ColumnType.INT,)),
        Param(name="pending", kind=ParamKind.COLUMNS, types=(ColumnType.INT,)),
        Param(name="pending_text", kind=ParamKind.TEXT, required=False),
        # How the message names last period's pending amount; {n} is the number.
    )

    def check_history(self, rows: Sequence[CurrentRow], earlier: EarlierPeriods,
                      settings: CheckSettings) -> Iterator[Finding]:
        previous = earlier.previous
        if previous is None:
            return
        col, pending = self.args["column"], self.args["pending"]
        for row in self.own_rows(rows):
            carried = row.values.get(col)
            if carried is None:
                continue
            before = previous.rows_for(row.unit, row.table, row.key)
            left = [r.values.get(k) for r in before for k in pending]
            if not before or all(v is None for v in left):
                continue
            expected = sum(v or 0 for v in left)
            if expected == carried:
                continue
            yield self.warn_on(
                row,
                f'"{self.title(col)}" ghi {format_int(carried)} nhưng cuối kỳ trước '
                f"({previous.code}) {self._pending(expected)}. Hãy kiểm tra lại hoặc giải trình.",
                col, carried,
            )

    def _pending(self, n: int) -> str:
        text = self.args["pending_text"]
        if text:
            return text.replace("{n}", format_int(n))
        parts = " + ".join(f'"{self.title(k)}"' for k in self.args["pending"])
        return f"dòng này có {parts} = {format_int(n)}"


@register
class Change(HistoryCheck):
    """A figure that moved by more than the configured share against the same period a year
    earlier, or, for a row that has none (a unit in its first year), against the previous
    period of the same length. Bound for every column marked `history: true` without being
    written as a rule."""

    kind = "change"
    params = (
        Param(name="column", kind=ParamKind.COLUMN, types=(ColumnType.INT, ColumnType.PCT)),
        Param(name="share", kind=ParamKind.NUMBER, required=False),
        Param(name="min_base", kind=ParamKind.NUMBER, required=False),
    )

    def check_history(self, rows: Sequence[CurrentRow], earlier: EarlierPeriods,
                      settings: CheckSettings) -> Iterator[Finding]:
        col = self.args["column"]
        share = self.args["share"] if self.args["share"] is not None else settings.change_share
        base_min = (self.args["min_base"] if self.args["min_base"] is not None
                    else settings.min_base)
        for row in self.own_rows(rows):
            now = row.values.get(col)
            if now is None:
                continue
            compared = _comparison(earlier, row, col)
            if compared is None:
                continue
            period, before = compared
            base = sum(before)
            if base < base_min or abs(now - base) <= share * base:
                continue
            change = (now - base) * 100 / base
            word = "tăng" if change > 0 else "giảm"
            yield self.warn_on(
                row,
                f'"{self.title(col)}" ghi {format_int(now)}, {word} '
                f"{format_percent(abs(change))} so với {_COMPARED_WITH[period.relation]} "
                f"({period.code}: {format_int(base)}). Hãy kiểm tra "
                'lại, hoặc giải trình lý do ở cột "Giải trình".',
                col, now,
            )


def _comparison(earlier: EarlierPeriods, row: CurrentRow,
                column: str) -> tuple[EarlierPeriod, list[int]] | None:
    """The earlier period this row is compared with and its reported values there: a year
    earlier where the row existed then, else the previous period of the same length."""
    for period in (earlier.year_earlier, earlier.previous):
        if period is None or (period.relation is Relation.PREVIOUS
                              and earlier.year_earlier is not None
                              and period.code == earlier.year_earlier.code):
            continue
        if period.rows_for(row.unit, row.table, row.key):
            values = period.values_for(row.unit, row.table, row.key, column)
            return (period, values) if values else None
    return None
