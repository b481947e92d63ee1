"""Figure sentences as spans: numbers from the figures, Vietnamese formatting, an honest
"chưa có số liệu" where nobody reported, and the change against an earlier period."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from cchc_sync.domain.vnformat import format_number
from cchc_sync.publish.figures import TOTAL, FigureValue, format_rate
from cchc_sync.report.data import PeriodData, format_value
from cchc_sync.report.model import EARLIER, PLACEHOLDER_PREFIX, Para, ParaStyle, Span, SpanKind

NO_DATA = "chưa có số liệu"
LEVEL_NO_DATA = "chưa có đơn vị báo cáo số liệu"


Piece: TypeAlias = "Span | str | Sequence[Piece]"
"""What a paragraph is built from: strings, spans and (nested) lists of them."""


def text(s: str) -> Span:
    return Span(s)


def placeholder(what: str) -> Span:
    """A marked gap for the coordinator: "[Đề nghị bổ sung: …]"."""
    return Span(f"{PLACEHOLDER_PREFIX}{what}]", SpanKind.PLACEHOLDER)


def flatten(parts: Iterable[Piece]) -> list[Span]:
    """Strings, spans and (nested) lists of them, as one list of spans."""
    spans: list[Span] = []
    for p in parts:
        if isinstance(p, str):
            spans.append(Span(p))
        elif isinstance(p, Span):
            spans.append(p)
        else:
            spans.extend(flatten(p))
    return spans


def para(*parts: Piece, style: ParaStyle = ParaStyle.BODY) -> Para:
    """A paragraph from strings, spans and lists of them."""
    return Para(_merge(flatten(parts)), style)


def _merge(spans: list[Span]) -> list[Span]:
    """Join neighbouring plain-text spans (fewer runs in the docx, same text)."""
    out: list[Span] = []
    for s in spans:
        if not s.text:
            continue
        if out and s.kind is SpanKind.TEXT and out[-1].kind is SpanKind.TEXT:
            out[-1] = Span(out[-1].text + s.text)
        else:
            out.append(s)
    return out


def lower_first(s: str) -> str:
    """"Một phần (mức độ 3)" -> "một phần (mức độ 3)"; "UBND …" stays as it is."""
    if len(s) > 1 and s[0].isupper() and s[1].islower():
        return s[0].lower() + s[1:]
    return s


@dataclass(frozen=True, slots=True)
class Clause:
    """One "đã tiếp nhận 1.234 hồ sơ" part of a figure sentence."""

    before: str
    figure: str
    after: str = ""
    missing: str | None = None
    """What to write when nobody reported the figure (default "<before>: chưa có số liệu")."""


class Sentences:
    """Builds figure spans for one period, with optional comparison to an earlier one."""

    def __init__(self, data: PeriodData, earlier: PeriodData | None = None, label: str = ""):
        self.data = data
        self.earlier = earlier
        self.label = label
        """How the earlier period is named: "cùng kỳ năm 2021"."""
        self.compared_taint: set[str] = set()
        """Figure ids whose earlier-period value was printed with TAINT_MARK."""
        self.printed: set[str] = set()
        """Figure ids printed somewhere in the report (for the list of tainted ones)."""

    # --- single values -------------------------------------------------------------------

    def has(self, figure_id: str, group: str = TOTAL) -> bool:
        """Someone reported it: a value, from at least one unit (a count of rows is 0, not
        None, where nobody reported)."""
        fig = self.data.fig(figure_id)
        return (fig is not None and fig.values.get(group) is not None
                and fig.reporting.get(group, 0) > 0)

    def nobody(self, figure_id: str, sentence: str) -> Para:
        """The sentence saying nobody reported a topic — unless rows of it were reported
        and all left out by the counting rule: then that is said, marked and listed."""
        fig = self.data.fig(figure_id)
        if fig is None or not fig.tainted.get(TOTAL):
            return para(sentence)
        self.printed.add(figure_id)
        return para(Span(f"{sentence[:-1]}: các dòng số liệu đã báo cáo đều chưa được tổng "
                         "hợp (xem trang cuối “Số liệu chưa được tổng hợp”)",
                         tainted=True), ".")

    def value(self, figure_id: str, group: str = TOTAL) -> list[Span]:
        """The figure's formatted value as one FIGURE span, or "chưa có số liệu"."""
        fig = self.data.fig(figure_id)
        if fig is None or (shown := format_value(fig, group)) is None:
            if fig is not None and fig.tainted.get(group):
                # Every row was left out: not "nobody reported" — marked and listed.
                self.printed.add(figure_id)
                return [Span(NO_DATA, tainted=True)]
            return [text(NO_DATA)]
        self.printed.add(figure_id)
        return [_figure_span(fig, group, shown)]

    def comparison(self, figure_id: str, unit: str = "") -> list[Span]:
        """" (cùng kỳ năm 2021: 1.100 hồ sơ; tăng 12,18%)" after an area total."""
        if self.earlier is None:
            return []
        now, before = self.data.fig(figure_id), self.earlier.fig(figure_id)
        if now is None or now.total is None:
            return []
        if before is None or (shown := format_value(before)) is None:
            return [text(f" ({self.label}: {NO_DATA})")]
        spans = [text(f" ({self.label}: ")]
        if before.tainted.get(TOTAL):
            self.compared_taint.add(figure_id)
        spans.append(_figure_span(before, TOTAL, shown, EARLIER + TOTAL))
        if before.percent:
            spans += self._operands(self.earlier, before, TOTAL, EARLIER + TOTAL)
        if unit:
            spans.append(text(f" {unit}"))
        spans.append(text(_change(now, before) + ")"))
        return spans

    def _operands(self, data: PeriodData, fig: FigureValue, group: str, shown_group: str,
                  unit: str = "") -> list[Span]:
        """" (8.732/8.800 hồ sơ)" after a rate: its numerator and denominator."""
        num, den = data.fig(fig.numerator or ""), data.fig(fig.denominator or "")
        if num is None or den is None:
            return []
        a, b = format_value(num, group), format_value(den, group)
        if a is None or b is None:
            return []
        if shown_group == group:
            self.printed.update((num.id, den.id))
        return [text(" ("), _figure_span(num, group, a, shown_group), text("/"),
                _figure_span(den, group, b, shown_group), text(f" {unit})" if unit else ")")]

    def rate(self, figure_id: str, group: str = TOTAL, unit: str = "",
             compare: bool = False) -> list[Span]:
        """"99,23% (8.732/8.800 hồ sơ)": a rate always with what it divides."""
        fig = self.data.fig(figure_id)
        spans = self.value(figure_id, group)
        if fig is not None and fig.values.get(group) is not None:
            spans += self._operands(self.data, fig, group, group, unit)
        if compare and group == TOTAL:
            spans += self.comparison(figure_id)
        return spans

    # --- clauses and level lines -----------------------------------------------------------

    def clause(self, c: Clause, group: str = TOTAL, compare: bool = False) -> list[Span]:
        fig = self.data.fig(c.figure)
        if fig is None or (shown := format_value(fig, group)) is None:
            return [text(c.missing if c.missing is not None else f"{c.before}: {NO_DATA}")]
        self.printed.add(c.figure)
        spans = [text(c.before + " " if c.before else ""), _figure_span(fig, group, shown)]
        if fig.percent:
            spans += self._operands(self.data, fig, group, group, c.after)
        elif c.after:
            spans.append(text(" " + c.after))
        if compare and group == TOTAL:
            spans.extend(self.comparison(c.figure, c.after if not fig.percent else ""))
        return spans

    def clauses(
        self, items: list[Clause], group: str = TOTAL, sep: str = "; ", compare: bool = False
    ) -> list[Span]:
        spans: list[Span] = []
        for i, c in enumerate(items):
            if i:
                spans.append(text(sep))
            spans.extend(self.clause(c, group, compare))
        return spans

    def any_value(self, figure_ids: Iterable[str], group: str) -> bool:
        return any(self.has(f, group) for f in figure_ids)

    def coverage(self, figure_id: str, level: str) -> str:
        """" (5/6 đơn vị có số liệu)" when not every unit of the level contributes."""
        fig = self.data.fig(figure_id)
        count = len(self.data.level_units(level))
        got = fig.reporting.get(level, 0) if fig else 0
        if not fig or got >= count or got == 0:
            return ""
        return f" ({got}/{count} đơn vị có số liệu)"

    def level_items(
        self,
        build: Callable[[str], Sequence[Piece]],
        figure_ids: Sequence[str],
        main: str | None = None,
        style: ParaStyle = ParaStyle.ITEM,
        coverage: bool = True,
    ) -> list[Para]:
        """"+ Cấp huyện: …;" lines, one per level, the last ending with ".".

        build(level) returns the spans of a level's line; a level with none of figure_ids
        reported says so instead of printing zeros.
        """
        levels = self.data.levels
        out = []
        for i, level in enumerate(levels):
            end = "." if i == len(levels) - 1 else ";"
            name = self.data.level_name(level)
            if not self.any_value(figure_ids, level):
                out.append(para(f"+ {name}: {LEVEL_NO_DATA}{end}", style=style))
                continue
            cov = self.coverage(main or figure_ids[0], level) if coverage else ""
            out.append(para(f"+ {name}{cov}: ", build(level), end, style=style))
        return out

    def has_levels(self) -> bool:
        """A "Trong đó" per level says something only when there are several levels."""
        return len(self.data.levels) > 1


def _figure_span(fig: FigureValue, group: str, shown: str, printed_as: str | None = None) -> Span:
    return Span(shown, SpanKind.FIGURE, tainted=bool(fig.tainted.get(group)), figure=fig.id,
                group=printed_as or group)


def _change(now: FigureValue, before: FigureValue) -> str:
    a, b = now.total, before.total
    if a is None or b is None:
        return ""
    if now.percent:
        delta = a - b
        if abs(delta) < 0.005:
            return "; không thay đổi"
        word = "tăng" if delta > 0 else "giảm"
        return f"; {word} {format_number(abs(delta))} điểm phần trăm"
    if a == b:
        return "; không thay đổi"
    if b == 0:
        return ""
    word = "tăng" if a > b else "giảm"
    return f"; {word} {format_rate(abs(a - b) * 100 / b)}"
