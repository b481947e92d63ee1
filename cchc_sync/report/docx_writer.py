"""Render a `Report` as .docx in the administrative-document format of Decree
30/2020/NĐ-CP (Appendix I).

- A4 portrait; margins top 20 mm, bottom 20 mm, left 30 mm, right 15 mm.
- Times New Roman; body 14 pt, justified, first-line indent 1.27 cm, 6 pt between
  paragraphs, line spacing 1.2 lines; page numbers centred in the header from page 2.
- Heading block as a borderless two-column table: issuer (upper case, bold, short line
  under) and "Số: …/BC-…" on the left; national title (bold 12–13 pt), motto (bold 13 pt,
  a line under it as long as the text) and the italic place-and-date line on the right.
- "BÁO CÁO" and the summary, bold, centred, a short line under.
- "Nơi nhận:" (bold italic 12 pt, lines 11 pt) on the left and the signature block on
  the right, again a borderless table.

Placeholders are highlighted yellow; a figure resting on rows with open errors is shaded
light red and followed by a red superscript "(*)".
"""

from __future__ import annotations

import io
from pathlib import Path

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.section import Section
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.text.paragraph import Paragraph

from cchc_sync.report.docx_xml import (
    FONT,
    add_run,
    cell_margins,
    compact,
    grid,
    no_borders,
    row_flags,
    set_fonts,
    set_widths,
    shade,
    short_line,
    text_width_cm,
)
from cchc_sync.report.model import (
    TAINT_MARK,
    Block,
    Chart,
    PageBreak,
    Para,
    ParaStyle,
    Report,
    RowKind,
    Span,
    SpanKind,
    Table,
)

BODY_PT = 14
TABLE_PT = 11
TEXT_WIDTH_CM = 21.0 - 3.0 - 1.5
TAINT_FILL = "FFC7CE"
TAINT_COLOR = RGBColor(0xC0, 0x00, 0x00)
ALIGN = {
    "left": WD_ALIGN_PARAGRAPH.LEFT,
    "right": WD_ALIGN_PARAGRAPH.RIGHT,
    "center": WD_ALIGN_PARAGRAPH.CENTER,
}


# --- the writer --------------------------------------------------------------------------------


class DocxWriter:
    """Writes blocks into a document: a fresh one laid out for Decree 30, or (for a
    custom template) an existing one, adding only the paragraph styles it lacks."""

    def __init__(self, doc: DocxDocument | None = None) -> None:
        self._break_next = False
        if doc is None:
            self.doc = Document()
            self._page_setup()
            self._normal()
        else:
            self.doc = doc
        self._styles()

    def _page_setup(self) -> None:
        section = self.doc.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(20), Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
        section.header_distance, section.footer_distance = Mm(10), Mm(10)
        self._page_numbers(section)

    def _normal(self) -> None:
        normal = self.doc.styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(BODY_PT)
        set_fonts(normal.element)
        nf = normal.paragraph_format
        nf.space_before, nf.space_after, nf.line_spacing = Pt(0), Pt(0), 1.0

    def _styles(self) -> None:
        doc = self.doc
        if "CCHC Body" in {st.name for st in doc.styles}:
            return
        normal = doc.styles["Normal"]
        body = doc.styles.add_style("CCHC Body", WD_STYLE_TYPE.PARAGRAPH)
        body.base_style = normal
        body.font.name = FONT
        body.font.size = Pt(BODY_PT)
        set_fonts(body.element)
        bf = body.paragraph_format
        bf.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        bf.first_line_indent = Cm(1.27)
        bf.space_before, bf.space_after = Pt(6), Pt(0)
        bf.line_spacing = 1.2
        bf.widow_control = True
        for name, bold, italic, level in (
            ("CCHC Heading 1", True, False, 0),
            ("CCHC Heading 2", True, False, 1),
            ("CCHC Heading 3", False, True, 2),
        ):
            st = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            st.base_style = body
            st.font.bold, st.font.italic = bold, italic
            st.paragraph_format.keep_with_next = True
            outline = OxmlElement("w:outlineLvl")
            outline.set(qn("w:val"), str(level))
            st.element.get_or_add_pPr().append(outline)
        table_style = doc.styles.add_style("CCHC Table", WD_STYLE_TYPE.PARAGRAPH)
        table_style.base_style = normal
        table_style.font.name = FONT
        table_style.font.size = Pt(TABLE_PT)
        set_fonts(table_style.element)
        tf = table_style.paragraph_format
        tf.alignment = WD_ALIGN_PARAGRAPH.LEFT
        tf.first_line_indent = Cm(0)
        tf.space_before, tf.space_after, tf.line_spacing = Pt(1), Pt(1), 1.0

    def _page_numbers(self, section: Section) -> None:
        """Page number centred at the top from page 2 (Decree 30, Appendix I)."""
        section.different_first_page_header_footer = True
        p = section.header.paragraphs[0]
        compact(p)
        run = p.add_run()
        run.font.size = Pt(13)
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            if kind:
                el = OxmlElement("w:fldChar")
                el.set(qn("w:fldCharType"), kind)
            else:
                el = OxmlElement("w:instrText")
                el.set(qn("xml:space"), "preserve")
                el.text = text
            run._r.append(el)

    # --- blocks ----------------------------------------------------------------------------

    def paragraph(self, style: str = "CCHC Body") -> Paragraph:
        p = self.doc.add_paragraph(style=style)
        if self._break_next:
            p.paragraph_format.page_break_before = True
            self._break_next = False
        return p

    def spans(self, p: Paragraph, spans: list[Span], size: float | None = None) -> None:
        for s in spans:
            run = add_run(p, s.text, size=size)
            if s.kind is SpanKind.PLACEHOLDER:
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
            if s.tainted:
                shade(run, TAINT_FILL)
                mark = add_run(p, TAINT_MARK, size=size, bold=True)
                mark.font.superscript = True
                mark.font.color.rgb = TAINT_COLOR

    def para(self, para: Para) -> None:
        style = {
            ParaStyle.HEADING1: "CCHC Heading 1",
            ParaStyle.HEADING2: "CCHC Heading 2",
            ParaStyle.HEADING3: "CCHC Heading 3",
        }.get(para.style, "CCHC Body")
        p = self.paragraph(style)
        if para.style is ParaStyle.NOTE:
            p.paragraph_format.first_line_indent = Cm(1.27)
            self.spans(p, para.spans, size=13)
            for r in p.runs:
                r.italic = True
            return
        if para.style in (ParaStyle.TITLE, ParaStyle.SUBTITLE):
            compact(p, before=6)
            self.spans(p, para.spans)
            for r in p.runs:
                r.bold = para.style is ParaStyle.TITLE or None
                r.italic = para.style is ParaStyle.SUBTITLE or None
            return
        self.spans(p, para.spans)
        if para.plain().rstrip().endswith(":"):
            # "… Trong đó:" stays on the page of the lines it announces.
            p.paragraph_format.keep_with_next = True

    def table(self, table: Table) -> None:
        title = self.paragraph()
        title.paragraph_format.first_line_indent = Cm(0)
        title.paragraph_format.space_before = Pt(12)
        title.paragraph_format.keep_with_next = True
        add_run(title, table.title, size=13, bold=True)
        t = self.doc.add_table(rows=1 + len(table.rows), cols=len(table.header))
        grid(t)
        cell_margins(t, 0.1)
        t.alignment = WD_TABLE_ALIGNMENT.CENTER
        size = TABLE_PT if len(table.header) < 8 else TABLE_PT - 0.5
        set_widths(t, table.widths_cm)
        row_flags(t.rows[0], header=True)
        for cell, text in zip(t.rows[0].cells, table.header, strict=True):
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p.style = self.doc.styles["CCHC Table"]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            add_run(p, text, bold=True, size=size)
        for row, data in zip(t.rows[1:], table.rows, strict=True):
            row_flags(row)
            bold = data.kind in (RowKind.TOTAL, RowKind.SUBTOTAL, RowKind.GROUP)
            for cell, c in zip(row.cells, data.cells, strict=True):
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.style = self.doc.styles["CCHC Table"]
                p.alignment = ALIGN[c.align]
                self.spans(p, [Span(c.text, SpanKind.FIGURE if c.tainted else SpanKind.TEXT,
                                    tainted=c.tainted)], size=size)
                if bold:
                    for r in p.runs:
                        r.bold = True
        if table.note:
            note = self.paragraph()
            compact(note, align=WD_ALIGN_PARAGRAPH.LEFT, before=3)
            add_run(note, table.note, size=TABLE_PT, italic=True)

    def chart(self, chart: Chart) -> None:
        caption = self.paragraph()
        compact(caption, before=12, after=3)
        caption.paragraph_format.keep_with_next = True
        add_run(caption, chart.title, size=13, bold=True)
        p = self.paragraph()
        compact(p)
        p.add_run().add_picture(io.BytesIO(chart.png), width=Cm(chart.width_cm))
        if chart.note:
            note = self.paragraph()
            compact(note, align=WD_ALIGN_PARAGRAPH.LEFT, before=3)
            add_run(note, chart.note, size=TABLE_PT, italic=True)

    def block(self, block: Block) -> None:
        if isinstance(block, PageBreak):
            self._break_next = True
        elif isinstance(block, Para):
            self.para(block)
        elif isinstance(block, Table):
            self.table(block)
        elif isinstance(block, Chart):
            self.chart(block)

    # --- the fixed parts --------------------------------------------------------------------

    def letterhead(self, report: Report) -> None:
        lh = report.letterhead
        left_w, right_w = 6.3, TEXT_WIDTH_CM - 6.3
        t = self.doc.add_table(rows=2, cols=2)
        no_borders(t)
        set_widths(t, [left_w, right_w])
        pad = 0.4  # the cells' default left and right margins, together
        left, right = t.cell(0, 0), t.cell(0, 1)
        first = True
        lines = ([(lh.parent, False)] if lh.parent else []) + [(x, True) for x in lh.issuer]
        for text, bold in lines:
            p = left.paragraphs[0] if first else left.add_paragraph()
            first = False
            compact(p)
            add_run(p, text.upper(), size=13, bold=bold)
        widest = max(text_width_cm(x, 13, bold=True) for x in lh.issuer)
        short_line(left, min(widest, left_w - pad) * 0.45, left_w - pad)
        national = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
        size = 13 if text_width_cm(national, 13, bold=True) <= right_w - pad else 12
        p = compact(right.paragraphs[0])
        add_run(p, national, size=size, bold=True)
        motto = "Độc lập - Tự do - Hạnh phúc"
        p = compact(right.add_paragraph())
        add_run(p, motto, size=13, bold=True)
        short_line(right, text_width_cm(motto, 13, bold=True), right_w - pad)
        number = compact(t.cell(1, 0).paragraphs[0], before=6)
        add_run(number, f"Số: {lh.number or '      '}/BC-{lh.symbol}", size=13)
        date = compact(t.cell(1, 1).paragraphs[0], before=6)
        add_run(date, report.date_line, size=14, italic=True)

    def title(self, report: Report) -> None:
        p = compact(self.paragraph(), before=24)
        add_run(p, report.title, size=14, bold=True)
        p = compact(self.paragraph())
        add_run(p, report.subtitle, size=14, bold=True)
        width = min(text_width_cm(report.subtitle, 14, bold=True), TEXT_WIDTH_CM)
        short_line(self.doc, width * 0.35, TEXT_WIDTH_CM, space_after=6, before=3)

    def closing(self, report: Report) -> None:
        lh = report.letterhead
        # The signature block never splits across pages, and the last paragraph of the
        # body stays with it (keep_with_next), so no page holds a signature alone.
        body = [p for p in self.doc.paragraphs if p.text]
        if body:
            body[-1].paragraph_format.keep_with_next = True
        t = self.doc.add_table(rows=1, cols=2)
        no_borders(t)
        row_flags(t.rows[0])
        set_widths(t, [7.5, TEXT_WIDTH_CM - 7.5])
        left, right = t.cell(0, 0), t.cell(0, 1)
        p = compact(left.paragraphs[0], align=WD_ALIGN_PARAGRAPH.LEFT, before=12)
        add_run(p, "Nơi nhận:", size=12, bold=True, italic=True)
        for line in report.recipients:
            p = compact(left.add_paragraph(), align=WD_ALIGN_PARAGRAPH.LEFT)
            self.spans(p, line, size=11)
        for i, text in enumerate(lh.signer):
            p = compact(right.paragraphs[0] if i == 0 else right.add_paragraph(),
                         before=12 if i == 0 else 0)
            add_run(p, text, size=14, bold=True)
        for _ in range(4):
            compact(right.add_paragraph())
        p = compact(right.add_paragraph())
        if lh.signer_name:
            add_run(p, lh.signer_name, size=14, bold=True)
        else:
            self.spans(p, [Span("[Họ và tên người ký]", SpanKind.PLACEHOLDER)], size=14)
            p.runs[0].bold = True

    def annex(self, report: Report) -> None:
        if not report.annex:
            return
        self._break_next = True
        p = compact(self.paragraph())
        add_run(p, report.annex_title, size=14, bold=True)
        p = compact(self.paragraph())
        add_run(p, report.annex_subtitle, size=14, bold=True)
        p = compact(self.paragraph())
        add_run(p, report.annex_ref, size=14, italic=True)
        short_line(self.doc, 4.0, TEXT_WIDTH_CM, space_after=6)
        for block in report.annex:
            self.block(block)


def write_docx(report: Report, output: Path) -> Path:
    w = DocxWriter()
    w.letterhead(report)
    w.title(report)
    for block in report.body:
        w.block(block)
    w.closing(report)
    w.annex(report)
    for block in report.errors_page:
        w.block(block)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    w.doc.save(str(output))
    return output
