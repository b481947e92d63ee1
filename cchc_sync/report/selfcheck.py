"""The report checks itself: after rendering, read the .docx back and re-derive every
identity a reader could check by hand.

What is read: every paragraph and every table of the written document (python-docx). The
report's model says where its figures are (which span of which paragraph, which column of
which table, for which level or unit); the values themselves are parsed from the document's
text, so a writer that printed something else than the model is caught too.

What is checked (each failure is one Vietnamese line):

- the document holds every figure paragraph and annex table the model built;
- a figure printed twice (same figure, same level/unit) has one value;
- every decomposition declared in the template set (`parts`) adds up, for every group in
  which the whole and all its parts are printed;
- a rate is printed beside its numerator and denominator (same paragraph or table row)
  and equals their quotient (two decimals, half-up; "100,00%" only when they are equal,
  "0,00%" only for a zero numerator), and is written with two decimals;
- a difference (e.g. unused staffing) equals a - b;
- in every annex table, each level line is the sum of its unit lines and the area line the
  sum of the level lines (for additive figures), and in the whole document the area total
  is the sum of the printed level values;
- a chart's bars are the values the annex prints for the same units.

A chart is an image: its bars are taken from the model, not read back from the PNG.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from cchc_sync.publish.figures import TOTAL, rate
from cchc_sync.report.data import PeriodData
from cchc_sync.report.model import (
    EARLIER,
    TAINT_MARK,
    Chart,
    Para,
    Report,
    RowKind,
    SpanKind,
    Table,
)

RATE_TEXT = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d\d%$")
COUNT_TEXT = re.compile(r"^-?\d{1,3}(\.\d{3})*$")
ADDITIVE = ("sum", "count_rows", "units_where", "units_reporting")


class ReportCheckError(Exception):
    """The rendered report contradicts itself; `problems` lists every contradiction."""

    def __init__(self, problems: list[str]):
        super().__init__(f"{len(problems)} chỗ không khớp trong báo cáo")
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Seen:
    figure: str
    group: str
    text: str
    value: Decimal | None
    where: str
    scope: str
    """Paragraph or table row it was printed in (a rate's operands must share it)."""


def parse_value(shown: str) -> Decimal | None:
    """"8.844(*)" -> 8844; "99,23%" -> 99.23; "—" / "chưa có số liệu" -> None."""
    t = shown.replace(TAINT_MARK, "").strip()
    if t.endswith("%"):
        t = t[:-1]
    t = t.replace(".", "").replace(",", ".")
    try:
        return Decimal(t)
    except ArithmeticError:
        return None


def _kind(data: PeriodData, figure_id: str) -> str:
    try:
        spec = data.templates.figure(figure_id)
    except KeyError:
        return ""
    for k in ADDITIVE:
        if getattr(spec, k):
            return "additive"
    if spec.common:
        return "common"
    if spec.ratio:
        return "ratio"
    return "difference" if spec.difference else ""


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class _Reader:
    """Collects every printed figure from the document, located through the model."""

    def __init__(self, report: Report, doc_paragraphs: list[str], doc_tables: list):
        self.report = report
        self.paras = doc_paragraphs
        self.tables = doc_tables
        self.seen: list[Seen] = []
        self.problems: list[str] = []
        self.table_blocks: list[tuple[Table, list[list[str]]]] = []

    def read(self) -> None:
        blocks = [*self.report.body, *self.report.annex, *self.report.errors_page]
        pi = ti = 0
        for n, block in enumerate(blocks):
            if isinstance(block, Para) and any(s.figure for s in block.spans):
                pi = self._para(block, pi, n)
            elif isinstance(block, Table) and block.figures:
                ti = self._table(block, ti)
            elif isinstance(block, Chart) and block.figure:
                for code, value in block.bars:
                    self.seen.append(Seen(block.figure, code, "", Decimal(repr(value)),
                                          block.title, f"chart:{n}:{code}"))

    def _para(self, para: Para, start: int, n: int) -> int:
        want = para.plain()
        for i in range(start, len(self.paras)):
            if self.paras[i] == want:
                break
        else:
            self.problems.append(
                f"Đoạn văn có số liệu không có trong tệp: \u201c{_short(want)}\u201d")
            return start
        text, pos = self.paras[i], 0
        for s in para.spans:
            shown = text[pos:pos + len(s.plain())]
            pos += len(s.plain())
            if s.kind is SpanKind.FIGURE and s.figure and s.group:
                self.seen.append(Seen(s.figure, s.group, shown, parse_value(shown),
                                      f"đoạn \u201c{_short(text)}\u201d", f"para:{n}"))
        return i + 1

    def _table(self, table: Table, start: int) -> int:
        for i in range(start, len(self.tables)):
            rows = self.tables[i]
            if rows and rows[0] == table.header and len(rows) == len(table.rows) + 1:
                break
        else:
            self.problems.append(f"Bảng \u201c{table.title}\u201d không có trong tệp")
            return start
        for r, (row, cells) in enumerate(zip(table.rows, rows[1:], strict=True)):
            if row.group is None:
                continue
            label = cells[1] if len(cells) > 1 else ""
            for c, figure in enumerate(table.figures):
                if not figure:
                    continue
                if figure.endswith(".*"):
                    figure = figure[:-1] + row.suffix
                self.seen.append(Seen(figure, row.group, cells[c], parse_value(cells[c]),
                                      f"{table.title}, dòng \u201c{label}\u201d",
                                      f"table:{table.title}:{r}"))
        self.table_blocks.append((table, rows[1:]))
        return i + 1


def _docx_content(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    from docx import Document

    doc = Document(str(path))
    paras = [p.text for p in doc.paragraphs]
    tables = [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables]
    return paras, tables


def _model_content(report: Report) -> tuple[list[str], list[list[list[str]]]]:
    """The model's own text, for formats read back as the model (Markdown)."""
    blocks = [*report.body, *report.annex, *report.errors_page]
    paras = [b.plain() for b in blocks if isinstance(b, Para)]
    tables = [[t.header, *[[c.text + (TAINT_MARK if c.tainted else "") for c in r.cells]
                           for r in t.rows]] for t in blocks if isinstance(t, Table)]
    return paras, tables


def check_report(report: Report, data: PeriodData, docx: Path | None = None) -> list[str]:
    """Every contradiction in the rendered report (empty: it reconciles)."""
    paras, tables = _docx_content(docx) if docx is not None else _model_content(report)
    reader = _Reader(report, paras, tables)
    reader.read()
    problems = list(reader.problems)
    problems += _same_value(data, reader.seen)
    values = _first_values(reader.seen)
    problems += _identities(data, values)
    problems += _rates(data, reader.seen)
    problems += _table_sums(data, reader.table_blocks)
    problems += _level_sums(data, values)
    return problems


def _label(data: PeriodData, figure: str, group: str) -> str:
    where = group
    earlier = group.startswith(EARLIER)
    g = group[len(EARLIER):] if earlier else group
    if g == TOTAL:
        where = "toàn địa bàn"
    elif g in data.levels:
        where = data.level_name(g)
    else:
        where = data.unit_name(g.split("|")[0])
    try:
        name = data.templates.figure(figure).label
    except KeyError:
        name = figure
    return f"{name} ({where}{', kỳ so sánh' if earlier else ''})"


def _name(data: PeriodData, figure: str) -> str:
    try:
        return f"\u201c{data.templates.figure(figure).label}\u201d"
    except KeyError:
        return figure


def _same_value(data: PeriodData, seen: list[Seen]) -> list[str]:
    by: dict[tuple[str, str], list[Seen]] = defaultdict(list)
    for s in seen:
        by[(s.figure, s.group)].append(s)
    out = []
    for (figure, group), items in by.items():
        distinct = {s.value for s in items}
        if len(distinct) > 1:
            shown = "; ".join(f"{s.text or s.value} ({s.where})" for s in items)
            out.append(f"Số liệu {_label(data, figure, group)} được in với các giá trị khác "
                       f"nhau: {shown}")
    return out


def _first_values(seen: list[Seen]) -> dict[tuple[str, str], Decimal | None]:
    values: dict[tuple[str, str], Decimal | None] = {}
    for s in seen:
        values.setdefault((s.figure, s.group), s.value)
    return values


def _identities(data: PeriodData, values: dict) -> list[str]:
    out = []
    groups = {g for _, g in values}
    for spec in data.templates.figures:
        for g in groups:
            whole = values.get((spec.id, g))
            if whole is None:
                continue
            for parts in spec.parts:
                printed = [values.get((p, g)) for p in parts]
                got = [v for v in printed if v is not None]
                # A part nobody reported is printed as "no data", not 0: the identity
                # cannot be read off the page then (the validator's missing-value rule).
                if len(got) < len(printed):
                    continue
                if sum(got) != whole:
                    names = ", ".join(_name(data, p) for p in parts)
                    out.append(f"{_label(data, spec.id, g)} = {whole} nhưng tổng các thành "
                               f"phần {names} = {sum(got)}")
            if spec.difference:
                a, b = (values.get((x, g)) for x in spec.difference)
                if a is not None and b is not None and a - b != whole:
                    out.append(f"{_label(data, spec.id, g)} = {whole} khác {a} - {b}")
    return out


def _rates(data: PeriodData, seen: list[Seen]) -> list[str]:
    out = []
    in_scope: dict[tuple[str, str, str], Decimal | None] = {}
    for s in seen:
        in_scope.setdefault((s.scope, s.figure, s.group), s.value)
    for s in seen:
        try:
            spec = data.templates.figure(s.figure)
        except KeyError:
            continue
        if not spec.ratio or s.value is None or s.scope.startswith("chart:"):
            continue
        where = f"{_label(data, s.figure, s.group)}, {s.where}"
        if not RATE_TEXT.match(s.text.replace(TAINT_MARK, "")):
            out.append(f"Tỷ lệ {s.text} không viết với hai chữ số thập phân: {where}")
        num, den = (in_scope.get((s.scope, x, s.group)) for x in spec.ratio)
        if num is None or den is None:
            out.append(f"Tỷ lệ {s.text} không in kèm tử số và mẫu số: {where}")
            continue
        if den == 0:
            out.append(f"Tỷ lệ {s.text} có mẫu số bằng 0: {where}")
            continue
        expected = Decimal(repr(rate(num, den)))
        if abs(expected - s.value) > Decimal("0.005"):
            out.append(f"Tỷ lệ {s.text} khác {num}/{den} = {expected}%: {where}")
        elif s.value == 100 and num != den:
            out.append(f"Tỷ lệ in 100% nhưng {num} khác {den}: {where}")
        elif s.value == 0 and num != 0:
            out.append(f"Tỷ lệ in 0% nhưng tử số là {num}: {where}")
    return out


def _table_sums(data: PeriodData, tables: list) -> list[str]:
    out = []
    for table, cells in tables:
        for c, figure in enumerate(table.figures):
            if not figure:
                continue
            kind = _kind(data, figure.replace(".*", "." + _first_suffix(table)))
            if kind not in ("additive", "difference"):
                continue
            out += _column_sums(data, table, cells, c, figure)
    return out


def _first_suffix(table: Table) -> str:
    return next((r.suffix for r in table.rows if r.suffix), "")


def _column_sums(data: PeriodData, table: Table, cells: list, c: int, figure: str) -> list[str]:
    """Per suffix (staffing kind): subtotal = sum of the unit lines under it; total = sum
    of subtotals (or of unit lines when there is one level)."""
    out = []
    by_suffix: dict[str, list[tuple[RowKind, str, Decimal | None, str]]] = defaultdict(list)
    for row, texts in zip(table.rows, cells, strict=True):
        if row.group is not None:
            by_suffix[row.suffix].append((row.kind, row.group, parse_value(texts[c]),
                                          texts[1]))
    for suffix, rows in by_suffix.items():
        fid = figure[:-1] + suffix if figure.endswith(".*") else figure
        total = next((v for k, _, v, _ in rows if k is RowKind.TOTAL), None)
        subtotals = [(g, v, name) for k, g, v, name in rows if k is RowKind.SUBTOTAL]
        units_of: dict[str | None, list[Decimal | None]] = defaultdict(list)
        current = None
        for k, g, v, _ in rows:
            if k is RowKind.SUBTOTAL:
                current = g
            elif k is RowKind.UNIT:
                units_of[current].append(v)
        for g, v, name in subtotals:
            known = [x for x in units_of.get(g, []) if x is not None]
            got = sum(known) if known else None
            if got != v:
                out.append(f"{table.title}: dòng \u201c{name}\u201d cột {_name(data, fid)} là "
                           f"{v} nhưng tổng các đơn vị là {got}")
        parts = ([v for _, v, _ in subtotals] if subtotals else units_of.get(None, []))
        known = [x for x in parts if x is not None]
        got = sum(known) if known else None
        if got != total:
            out.append(f"{table.title}: dòng tổng cột {_name(data, fid)} là {total} nhưng "
                       f"tổng các dòng thành phần là {got}")
    return out


def _level_sums(data: PeriodData, values: dict) -> list[str]:
    """The area total printed anywhere = the sum of the level values printed anywhere."""
    out: list[str] = []
    if len(data.levels) < 2:
        return out
    for spec in data.templates.figures:
        if _kind(data, spec.id) not in ("additive", "common"):
            continue
        for prefix in ("", EARLIER):
            total = values.get((spec.id, prefix + TOTAL))
            levels = [(prefix + lv) for lv in data.levels]
            if total is None or not all((spec.id, g) in values for g in levels):
                continue
            known = [values[(spec.id, g)] for g in levels if values[(spec.id, g)] is not None]
            if known and sum(known) != total:
                out.append(f"{_label(data, spec.id, prefix + TOTAL)} = {total} nhưng tổng các "
                           f"cấp = {sum(known)}")
    return out
