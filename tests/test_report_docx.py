"""The .docx: Decree 30/2020/NĐ-CP layout (A4, margins, Times New Roman, heading block,
national motto, "Nơi nhận", signature), annex tables and charts, marks and highlights, a
coordinator's own docxtpl template, and a real conversion to PDF when LibreOffice is
installed."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_COLOR_INDEX
from docx.oxml.ns import qn

from cchc_sync.report import ReportError, build_report, write_report
from tests.test_report_expected import build_district, expected_for

PERIOD = "2022S1"
FONT = "Times New Roman"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_district(tmp_path_factory.mktemp("docx") / "district")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def docx_path(ws, tmp_path_factory):
    return write_report(ws, PERIOD, tmp_path_factory.mktemp("out") / "bao-cao.docx")


@pytest.fixture(scope="module")
def doc(docx_path):
    return Document(docx_path)


def all_paragraphs(doc):
    """Body paragraphs and paragraphs inside tables, in document order."""
    out = []
    for block in doc.element.body.iter():
        if block.tag == qn("w:p"):
            out.append(block)
    from docx.text.paragraph import Paragraph

    return [Paragraph(p, doc) for p in out]


def test_page_size_margins_and_fonts(doc):
    sec = doc.sections[0]
    assert (round(sec.page_width.mm), round(sec.page_height.mm)) == (210, 297)
    assert 20 <= round(sec.top_margin.mm) <= 25 and 20 <= round(sec.bottom_margin.mm) <= 25
    assert 30 <= round(sec.left_margin.mm) <= 35 and 15 <= round(sec.right_margin.mm) <= 20
    normal = doc.styles["Normal"]
    assert normal.font.name == FONT
    fonts = normal.element.rPr.find(qn("w:rFonts"))
    assert all(fonts.get(qn(a)) == FONT for a in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"))
    body = doc.styles["CCHC Body"]
    assert body.font.size.pt == 14
    assert 1.0 <= body.paragraph_format.first_line_indent.cm <= 1.27 + 1e-6
    assert 1.0 <= body.paragraph_format.line_spacing <= 1.5
    assert body.paragraph_format.space_before.pt >= 6
    assert body.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.JUSTIFY
    # No run anywhere asks for another font.
    for p in all_paragraphs(doc):
        for r in p.runs:
            assert r.font.name in (None, FONT)
    # Page numbers at the top from page 2.
    assert sec.different_first_page_header_footer
    assert "PAGE" in sec.header._element.xml


def test_heading_block_and_title(doc):
    head = doc.tables[0]
    borders = head._tbl.tblPr.find(qn("w:tblBorders"))
    assert all(el.get(qn("w:val")) == "nil" for el in borders)
    issuer = head.cell(0, 0).paragraphs
    assert [p.text for p in issuer[:2]] == ["ỦY BAN NHÂN DÂN", "HUYỆN SÔNG MÂY"]
    assert all(r.bold and r.font.size.pt == 13 for p in issuer[:2] for r in p.runs)
    # The short line under the issuer: a paragraph with a bottom border.
    assert issuer[2]._p.pPr.find(qn("w:pBdr")) is not None
    national, motto, line = head.cell(0, 1).paragraphs[:3]
    assert national.text == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
    assert national.runs[0].bold and 12 <= national.runs[0].font.size.pt <= 13
    assert motto.text == "Độc lập - Tự do - Hạnh phúc"
    assert motto.runs[0].bold and 13 <= motto.runs[0].font.size.pt <= 14
    assert line._p.pPr.find(qn("w:pBdr")) is not None
    assert re.fullmatch(r"Số: +/BC-UBND", head.cell(1, 0).text)
    date = head.cell(1, 1).paragraphs[0]
    assert re.fullmatch(r"Sông Mây, ngày +tháng +năm 2022", date.text)
    assert date.runs[0].italic
    paragraphs = [p for p in doc.paragraphs if p.text]
    title, subtitle = paragraphs[0], paragraphs[1]
    assert title.text == "BÁO CÁO" and title.runs[0].bold
    assert title.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert subtitle.text == ("Kết quả thực hiện công tác cải cách hành chính 6 tháng đầu năm "
                             "2022")


def test_body_is_the_report_content(doc, ws):
    report = build_report(ws, PERIOD)
    texts = {p.text for p in doc.paragraphs}
    for para in report.body:
        assert para.plain() in texts
    exp = expected_for(ws, PERIOD)
    assert any(t.startswith(f"Toàn huyện Sông Mây đã tiếp nhận {exp.text('tthc.tiep_nhan')} "
                            "hồ sơ") for t in texts)


def test_recipients_and_signature(doc):
    closing = next(t for t in doc.tables if t.cell(0, 0).text.startswith("Nơi nhận:"))
    label = closing.cell(0, 0).paragraphs[0].runs[0]
    assert label.bold and label.italic and label.font.size.pt == 12
    lines = [p.text for p in closing.cell(0, 0).paragraphs[1:]]
    assert lines[-1] == "- Lưu: VT." and all(x.startswith("- ") for x in lines)
    sign = [p.text for p in closing.cell(0, 1).paragraphs if p.text]
    assert sign[:3] == ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]
    assert sign[-1] == "[Họ và tên người ký]"


def test_annex_tables_and_charts(doc):
    texts = [p.text for p in doc.paragraphs]
    assert "PHỤ LỤC" in texts
    data_tables = [t for t in doc.tables if t.cell(0, 0).text == "STT"]
    titles = [p for p in texts if re.match(r"Biểu \d", p)]
    assert titles[:5] == [
        "Biểu 1. Kết quả giải quyết thủ tục hành chính",
        "Biểu 2. Hồ sơ dịch vụ công trực tuyến",
        "Biểu 3. Hồ sơ tiếp nhận, xử lý trên Hệ thống thông tin một cửa điện tử",
        "Biểu 4. Văn bản điện tử, chữ ký số",
        "Biểu 5. Biên chế theo cơ quan, đơn vị",
    ]
    assert len(data_tables) >= 5 + 2  # the annex and the two tables of the last page
    dossiers = data_tables[0]
    names = [row.cells[1].text for row in dossiers.rows]
    assert names[1:3] == ["Toàn huyện Sông Mây", "Cấp huyện"]
    assert "UBND xã An Bình" in names
    # The header row repeats on every page.
    assert dossiers.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert len(doc.inline_shapes) == 2
    assert "Biểu đồ 1. Tỷ lệ hồ sơ nộp trực tuyến theo đơn vị" in texts
    assert "SỐ LIỆU CHƯA ĐƯỢC TỔNG HỢP" in texts


def test_marks_and_highlights(doc):
    runs = [r for p in all_paragraphs(doc) for r in p.runs]
    placeholders = [r for r in runs if r.text.startswith("[Đề nghị bổ sung")]
    assert len(placeholders) >= 9
    assert all(r.font.highlight_color == WD_COLOR_INDEX.YELLOW for r in placeholders)
    marks = [i for i, r in enumerate(runs) if r.text == "(*)"]
    assert len(marks) > 20
    for i in marks:
        assert runs[i].font.superscript
        shading = runs[i - 1]._r.rPr.find(qn("w:shd"))
        assert shading is not None and shading.get(qn("w:fill")) == "FFC7CE"


def _template(path):
    """A coordinator's layout using the documented variables."""
    d = Document()
    d.add_paragraph("BÁO CÁO CCHC {{ period.title }} – {{ area_total }}")
    d.add_paragraph("Tiếp nhận: {{ fig['tthc.tiep_nhan'].total }}; cấp xã: "
                    "{{ fig['tthc.tiep_nhan'].xa }}; trực tuyến: "
                    "{{ fig['dvctt.ty_le_tong'].total }}; ký số cấp huyện: "
                    "{{ fig['ky_so.ty_le'].levels.huyen }}")
    d.add_paragraph("{{ text.tthc[0] }}")
    d.add_paragraph("{%p for d in directives %}")
    d.add_paragraph("{{ d.number }} ngày {{ d.date }}{% if d.tainted %} (cần kiểm tra)"
                    "{% endif %}")
    d.add_paragraph("{%p endfor %}")
    t = d.add_table(rows=4, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "Đơn vị", "Tiếp nhận"
    t.cell(1, 0).text = "{%tr for u in units %}"
    t.cell(2, 0).text = "{{ u.name }}"
    t.cell(2, 1).text = "{{ u.fig['tthc.tiep_nhan'].text }}"
    t.cell(3, 0).text = "{%tr endfor %}"
    d.add_paragraph("{{ chart_online }}")
    d.add_paragraph("Số liệu cần kiểm tra: {{ tainted|length }}")
    d.save(path)
    return path


def test_custom_template(ws, tmp_path):
    exp = expected_for(ws, PERIOD)
    out = write_report(ws, PERIOD, tmp_path / "rieng.docx",
                       template=_template(tmp_path / "mau.docx"))
    doc = Document(out)
    texts = [p.text for p in doc.paragraphs]
    assert "BÁO CÁO CCHC 6 tháng đầu năm 2022 – Toàn huyện Sông Mây" in texts
    assert (f"Tiếp nhận: {exp.text('tthc.tiep_nhan')}; cấp xã: "
            f"{exp.text('tthc.tiep_nhan', 'xa')}; trực tuyến: {exp.text('dvctt.ty_le_tong')}; "
            f"ký số cấp huyện: {exp.text('ky_so.ty_le', 'huyen')}") in texts
    assert any(t.startswith("Toàn huyện Sông Mây đã tiếp nhận") for t in texts)
    # The directive rows with an open error are left out of the list (counting rule).
    assert not any(t.startswith("175/KH-UBND ngày 07/01/2022") for t in texts)
    assert "10/KH-UBND ngày 10/01/2022" in texts
    table = doc.tables[0]
    rows = {r.cells[0].text: r.cells[1].text for r in table.rows[1:]}
    assert len(rows) == 12
    assert rows["UBND xã An Bình"] == "—"
    assert rows["UBND xã Long Trị"].endswith("(*)")
    assert len(doc.inline_shapes) == 1
    assert any(t.startswith("Số liệu cần kiểm tra: ") and t != "Số liệu cần kiểm tra: 0"
               for t in texts)
    # Tainted figures: the last page is appended to the coordinator's layout too.
    assert "SỐ LIỆU CHƯA ĐƯỢC TỔNG HỢP" in texts


def test_custom_template_with_an_unknown_variable(ws, tmp_path):
    d = Document()
    d.add_paragraph("{{ fig['tthc.tiep_nhan_sai'].total }}")
    d.save(tmp_path / "sai.docx")
    with pytest.raises(ReportError, match="sai.docx"):
        write_report(ws, PERIOD, tmp_path / "x.docx", template=tmp_path / "sai.docx")


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed")
def test_libreoffice_renders_the_report(docx_path, tmp_path):
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [_soffice(), f"-env:UserInstallation=file://{profile}", "--headless",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(docx_path)],
        check=True, capture_output=True, timeout=240,
    )
    pdf = tmp_path / "bao-cao.pdf"
    data = pdf.read_bytes()
    pages = len(re.findall(rb"/Type\s*/Page[^s]", data))
    assert pages >= 2
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf),
                        str(tmp_path / "page")], check=True, timeout=60)
        png = next(tmp_path.glob("page*.png"))
        assert png.stat().st_size > 10_000
