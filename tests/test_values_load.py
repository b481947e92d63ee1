"""values_load.load_values_workbook reads what openpyxl's read-only load reads: every tab,
every stored cell's value, type and number format (dates, percentages, text-formatted
numbers, custom formats, booleans, errors, shared and inline strings), also from a
workbook whose <dimension> is wrong and one saved by LibreOffice; its stylesheet, shared
between workbooks with the same styles part, is the right one for each."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from openpyxl import load_workbook

from cchc_sync.sources.xlsx.values_load import load_values_workbook


def _cells(wb) -> dict:
    out = {}
    for ws in wb.worksheets:
        ws.reset_dimensions()
        out[ws.title] = [
            [(c.value, c.data_type, c.number_format, c.is_date) for c in row
             if getattr(c, "coordinate", None)]
            for row in ws.iter_rows()
        ]
    wb.close()
    return out


def _book(path, percent_format: str = "0.00%") -> None:
    from openpyxl.formatting.rule import CellIsRule
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Thủ tục hành chính"
    ws.append(["Số thủ tục", "Tỷ lệ", "Ngày", "Mã", "Đúng", "Lỗi", "Ghi chú"])
    ws.append([27554, 0.9616, dt.datetime(2022, 6, 7), "0123", True, "#DIV/0!", "ngày 07"])
    ws.append([None, 1.5, 44719, "12.345", False, None, "x" * 40])
    ws["B2"].number_format = ws["B3"].number_format = percent_format
    ws["C2"].number_format = ws["C3"].number_format = "dd/mm/yyyy"
    ws["D2"].number_format = ws["D3"].number_format = "@"
    ws["F2"].data_type = "e"
    ws["A2"].number_format = '#,##0" người"'
    # Parts of a tab the row parser skips: they must not change what the rows read.
    rule = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    ws.add_data_validation(rule)
    rule.add("A2:A500")
    ws.conditional_formatting.add("B2:B500", CellIsRule(operator="greaterThan",
                                                        formula=["1"]))
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = "A1:G3"
    other = wb.create_sheet("_cchc")
    other.append(["unit", "TP"])
    other.sheet_state = "hidden"
    wb.save(path)


def test_the_same_cells_as_openpyxls_read_only_load(tmp_path):
    first, second = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    _book(first)
    _book(second, percent_format="0%")  # another styles part: its own stylesheet
    for path in (first, second, first):
        ours = _cells(load_values_workbook(path))
        theirs = _cells(load_workbook(path, read_only=True, data_only=True))
        assert ours == theirs
        assert ours["Thủ tục hành chính"][1][1][2] == (
            "0.00%" if path == first else "0%")
    assert ours["Thủ tục hành chính"][1][2][3] is True  # a date format is a date


INLINE = [
    '<is><t>Đã kiểm tra</t></is>',
    '<is><t xml:space="preserve">  cách  </t></is>',
    '<is><r><t>Số </t></r><r><rPr><b/></rPr><t>27.554</t></r></is>',
    '<is><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></is>',
    '<is><t/></is>',
    '<is></is>',
    '<is><t>a_x0007_b</t></is>',
]


def test_inline_strings_read_as_openpyxl_reads_them(tmp_path):
    from openpyxl.cell.text import Text
    from openpyxl.xml.functions import fromstring

    from cchc_sync.sources.xlsx.values_load import inline_text

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    for xml in INLINE:
        element = fromstring(xml.replace("<is>", f"<is {ns}>", 1))
        assert inline_text(element) == Text.from_tree(element).content, xml
    # And whole: a tab whose text cells are inline strings (as the flag patch writes them).
    path = tmp_path / "a.xlsx"
    _book(path)
    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    styled = ' s="1"'  # a styled inline string keeps its style
    cells = "".join(f'<c r="{col}4" t="inlineStr"{styled if col == "B" else ""}>{xml}</c>'
                    for col, xml in zip("ABCDEFG", INLINE, strict=True))
    parts[sheet] = parts[sheet].replace(b"</sheetData>",
                                        f'<row r="4">{cells}</row></sheetData>'.encode())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    ours = _cells(load_values_workbook(path))
    assert ours == _cells(load_workbook(path, read_only=True, data_only=True))
    assert [c[0] for c in ours["Thủ tục hành chính"][3]][:3] == [
        "Đã kiểm tra", "  cách  ", "Số 27.554"]


def test_a_wrong_dimension_does_not_hide_rows(tmp_path):
    path = tmp_path / "a.xlsx"
    _book(path)


    with zipfile.ZipFile(path) as zf:
        parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b'<dimension ref="A1:G3"/>', b'<dimension ref="A1"/>')
    assert b'<dimension ref="A1"/>' in parts[sheet]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    wb = load_values_workbook(path)
    rows = list(wb["Thủ tục hành chính"].iter_rows(values_only=True))
    wb.close()
    assert len(rows) == 3 and rows[2][1] == 1.5


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_a_workbook_saved_by_libreoffice(tmp_path):
    path = tmp_path / "a.xlsx"
    _book(path)
    out = tmp_path / "lo"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(out), str(path)],
                   check=True, capture_output=True, timeout=300)
    saved = out / path.name
    assert _cells(load_values_workbook(saved)) == _cells(
        load_workbook(saved, read_only=True, data_only=True))
