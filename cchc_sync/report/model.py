"""The report as plain data: what the writers (docx, markdown) render, and what tests read.

Nothing here knows python-docx or markdown. A figure is a `Span` that remembers which
figure it prints and whether the rows behind it carry open errors, so every writer can
mark it the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

TAINT_MARK = "(*)"
EARLIER = "@earlier:"
"""Prefix of a span's group when it prints the compared period's value."""
"""Printed right after a figure whose source rows carry open errors."""
PLACEHOLDER_PREFIX = "[Đề nghị bổ sung: "


class SpanKind(StrEnum):
    TEXT = "text"
    FIGURE = "figure"
    """A number taken from the consolidated figures (or a unit's own figures)."""
    PLACEHOLDER = "placeholder"
    """Text the coordinator must write or check: highlighted in the draft."""


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    kind: SpanKind = SpanKind.TEXT
    tainted: bool = False
    """A figure resting on rows with open errors: the writers add TAINT_MARK."""
    figure: str | None = None
    """Figure id, for a FIGURE span."""
    group: str | None = None
    """Which value of the figure: a level code, TOTAL, a unit code, or EARLIER + one of
    those for the period compared with (the self-check reads it)."""

    def plain(self) -> str:
        return self.text + (TAINT_MARK if self.tainted else "")


class ParaStyle(StrEnum):
    HEADING1 = "heading1"
    """"I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH": bold, upper case."""
    HEADING2 = "heading2"
    """"1. Cải cách thể chế": bold."""
    HEADING3 = "heading3"
    """"a) Kết quả giải quyết thủ tục hành chính": italic."""
    BODY = "body"
    ITEM = "item"
    """A "+ Cấp huyện: …" or "- Kế hoạch số …" line; the writer keeps the leading sign."""
    NOTE = "note"
    """Italic remark (e.g. what "(*)" means)."""
    TITLE = "title"
    """Centred bold title (annex and last page)."""
    SUBTITLE = "subtitle"
    """Centred italic line under a title."""


@dataclass(slots=True)
class Para:
    spans: list[Span]
    style: ParaStyle = ParaStyle.BODY

    def plain(self) -> str:
        return "".join(s.plain() for s in self.spans)


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    tainted: bool = False
    align: str = "left"
    """left | right | center."""


class RowKind(StrEnum):
    UNIT = "unit"
    GROUP = "group"
    """A level heading inside a table ("Cấp huyện")."""
    SUBTOTAL = "subtotal"
    TOTAL = "total"


@dataclass(slots=True)
class TableRow:
    cells: list[Cell]
    kind: RowKind = RowKind.UNIT
    group: str | None = None
    """Whose values the row holds: TOTAL, a level code, a unit code, or "<unit>|<n>" for
    the n-th of a unit's own rows (None: not figures)."""
    suffix: str = ""
    """Replaces the "*" of the table's column figure ids ("bien_che.hien_co.*")."""


@dataclass(slots=True)
class Table:
    title: str
    header: list[str]
    rows: list[TableRow]
    widths_cm: list[float]
    note: str = ""
    """Italic line under the table (sources, what "(*)" means)."""
    figures: list[str | None] = field(default_factory=list)
    """Figure id printed in each column (None: not a figure), for the self-check."""


@dataclass(slots=True)
class Chart:
    title: str
    draw: Callable[[], bytes]
    """Renders the PNG when a writer needs it: Markdown and the self-check never pay for
    matplotlib."""
    key: str = ""
    """"online" | "one_stop": the name a custom template uses (chart_online, …)."""
    figure: str = ""
    bars: list[tuple[str, float]] = field(default_factory=list)
    """(unit code, value) of each bar, for the self-check."""
    width_cm: float = 16.0
    note: str = ""

    @property
    def png(self) -> bytes:
        return self.draw()


@dataclass(slots=True)
class PageBreak:
    pass


Block = Para | Table | Chart | PageBreak


@dataclass(frozen=True, kw_only=True, slots=True)
class Letterhead:
    """The heading block of Decree 30/2020/NĐ-CP (Appendix I) and the signature.

    The default is a report issued by the People's Committee of the area (drafted by its
    home-affairs office): "ỦY BAN NHÂN DÂN / HUYỆN SÔNG MÂY", "Số: …/BC-UBND",
    "TM. ỦY BAN NHÂN DÂN / KT. CHỦ TỊCH / PHÓ CHỦ TỊCH". For a report issued by the office
    itself set parent="UBND HUYỆN SÔNG MÂY", issuer=("PHÒNG NỘI VỤ",), symbol="PNV",
    signer=("TRƯỞNG PHÒNG",).
    """

    parent: str = ""
    """Governing body, upper case, regular 13 pt (empty for a People's Committee)."""
    issuer: tuple[str, ...] = ("ỦY BAN NHÂN DÂN",)
    """Issuing body, upper case, bold 13 pt, one item per line."""
    symbol: str = "UBND"
    """Issuer's symbol in the document number: "Số: …/BC-UBND"."""
    number: str = ""
    """The document number when known; blank in a draft (the clerk numbers it)."""
    place: str = ""
    """Place name of the date line: "Sông Mây, ngày … tháng … năm 2022"."""
    signer: tuple[str, ...] = ("TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")
    signer_name: str = ""
    """Empty: a placeholder is printed."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TaintedFigure:
    """A figure printed with TAINT_MARK, for the last page."""

    figure: str
    label: str
    printed: str
    """The value as printed for the whole area (or the first level printed)."""
    groups: tuple[str, ...]
    """Display names of the levels (and the area total) whose value is tainted."""
    units: tuple[str, ...]
    """Names of the units whose rows with open errors feed the figure."""


@dataclass(frozen=True, kw_only=True, slots=True)
class OpenError:
    unit: str
    """Unit name."""
    table: str
    """Tab title."""
    row: int | None
    message: str


@dataclass(kw_only=True, slots=True)
class Report:
    letterhead: Letterhead
    date_line: str
    """"Sông Mây, ngày      tháng      năm 2022"."""
    title: str
    """"BÁO CÁO"."""
    subtitle: str
    """"Kết quả thực hiện công tác cải cách hành chính 6 tháng đầu năm 2022"."""
    body: list[Block]
    recipients: list[list[Span]]
    """Lines of the "Nơi nhận:" block."""
    annex_title: str
    annex_subtitle: str
    annex_ref: str
    annex: list[Block]
    tainted: list[TaintedFigure] = field(default_factory=list)
    open_errors: list[OpenError] = field(default_factory=list)
    errors_page: list[Block] = field(default_factory=list)
    """The last page, "Số liệu chưa khắc phục lỗi" (empty when no figure is tainted)."""

    def paragraphs(self) -> list[Para]:
        return [b for b in [*self.body, *self.annex, *self.errors_page] if isinstance(b, Para)]

    def tables(self) -> list[Table]:
        return [b for b in [*self.body, *self.annex, *self.errors_page] if isinstance(b, Table)]

    def charts(self) -> list[Chart]:
        return [b for b in [*self.body, *self.annex] if isinstance(b, Chart)]
