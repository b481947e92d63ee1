"""Low-level python-docx helpers for the report: fonts for every script, run shading,
paragraph and table borders, column widths, and the printed width of a line of text."""

from __future__ import annotations

from typing import Any

from docx.document import Document as DocxDocument
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_PARAGRAPH_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.table import Table, _Cell, _Row
from docx.text.paragraph import Paragraph
from docx.text.run import Run
from matplotlib import ft2font

from cchc_sync.report.charts import serif_font_file

FONT = "Times New Roman"


# --- measuring text, for the lines under the issuer, the motto and the title ---------------


def text_width_cm(text: str, size_pt: float, bold: bool = False) -> float:
    """Printed width of one line in Times New Roman (or its metric twin); an estimate
    when neither is installed."""
    path = serif_font_file(bold)
    if path is None:
        return len(text) * size_pt * (0.62 if bold else 0.5) * 2.54 / 72
    font = ft2font.FT2Font(path)
    font.set_size(size_pt, 72)
    font.set_text(text, 0.0)
    width, _ = font.get_width_height()
    return width / 64 / 72 * 2.54


# --- low-level helpers -----------------------------------------------------------------------


def set_fonts(rpr_owner: Any, name: str = FONT) -> None:
    """Set every script's font (python-docx sets only ascii/hAnsi), so Vietnamese text never
    falls back to the theme font."""
    rpr = rpr_owner.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)
    for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attr), None)


def shade(run: Run, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    run._r.get_or_add_rPr().append(shd)


def bottom_border(paragraph: Paragraph) -> None:
    ppr = paragraph._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for k, v in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(k), v)
    borders.append(bottom)
    ppr.append(borders)


def no_borders(table: Table) -> None:
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def grid(table: Table) -> None:
    """Single 0.5 pt borders, set on the table itself (a custom template may not define
    the "Table Grid" style)."""
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        for k, v in (("w:val", "single"), ("w:sz", "4"), ("w:space", "0"),
                     ("w:color", "000000")):
            el.set(qn(k), v)
        borders.append(el)
    tbl_pr.append(borders)


def cell_margins(table: Table, cm: float) -> None:
    """Narrow left/right cell margins: an annex table has many number columns."""
    mar = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:w"), str(int(Cm(cm).twips)))
        el.set(qn("w:type"), "dxa")
        mar.append(el)
    table._tbl.tblPr.append(mar)


def set_widths(table: Table, widths_cm: list[float]) -> None:
    table.autofit = False
    grid = table._tbl.tblGrid
    for col, w in zip(grid.findall(qn("w:gridCol")), widths_cm, strict=False):
        col.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm, strict=False):
            cell.width = Cm(w)


def row_flags(row: _Row, header: bool = False) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    cant = OxmlElement("w:cantSplit")
    tr_pr.append(cant)
    if header:
        tr_pr.append(OxmlElement("w:tblHeader"))


def compact(paragraph: Paragraph, align: WD_PARAGRAPH_ALIGNMENT = WD_ALIGN_PARAGRAPH.CENTER,
            before: float = 0, after: float = 0) -> Paragraph:
    fmt = paragraph.paragraph_format
    fmt.alignment = align
    fmt.first_line_indent = Cm(0)
    fmt.space_before = Pt(before)
    fmt.space_after = Pt(after)
    fmt.line_spacing = 1.0
    return paragraph


def add_run(paragraph: Paragraph, text: str, *, size: float | None = None,
            bold: bool | None = None, italic: bool | None = None) -> Run:
    run = paragraph.add_run(text)
    if size is not None:
        run.font.size = Pt(size)
    if bold is not None:
        run.bold = bold
    if italic is not None:
        run.italic = italic
    return run


def short_line(cell_or_doc: _Cell | DocxDocument, width_cm: float, available_cm: float,
               space_after: float = 0, before: float = 1) -> Paragraph:
    """An empty paragraph whose bottom border, centred and width_cm long, draws the short
    line Decree 30 puts under the issuer, the motto and the summary."""
    p = cell_or_doc.add_paragraph()
    compact(p, before=before, after=space_after)
    side = max(0.0, (available_cm - width_cm) / 2)
    p.paragraph_format.left_indent = Cm(side)
    p.paragraph_format.right_indent = Cm(side)
    r = p.add_run("")
    r.font.size = Pt(2)
    p.paragraph_format.line_spacing = Pt(2)
    bottom_border(p)
    return p
