"""Printing a local unit workbook: A4, every column on the page (one page wide, as many
tall as needed), landscape where the columns are wider than portrait holds, the header
row repeated on every page. The settings are made with the workbook and kept when the
software rewrites it (flags, "Kiểm tra").
"""

from __future__ import annotations

import shutil
import subprocess
import unicodedata
from pathlib import Path

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from cchc_sync.app.pipeline import Workspace, sync_once
from cchc_sync.sources.base import CHECK_TAB, INSTRUCTIONS_TAB
from cchc_sync.sources.sheet_layout import CHECK_HEADER_ROW
from cchc_sync.sources.xlsx.common import PORTRAIT_COLUMNS_WIDTH
from tests.conftest import make_district

A4 = 9  # paperSize code of A4 in SpreadsheetML


def workbook_of(ws: Workspace, unit: str) -> Path:
    return ws.config.root / ws.archive.sheets(ws.period.code)[unit].ref


def columns_width(sheet) -> float:
    return sum(sheet.column_dimensions[get_column_letter(i)].width or 8.43
               for i in range(1, sheet.max_column + 1))


def assert_fits_width(sheet, *, landscape: bool, title_rows: str | None = None) -> None:
    setup = sheet.page_setup
    assert int(setup.paperSize) == A4, sheet.title
    assert setup.orientation == ("landscape" if landscape else "portrait"), sheet.title
    assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), sheet.title
    assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, sheet.title
    assert sheet.print_title_rows == title_rows, sheet.title


def test_a_new_unit_workbook_prints_every_column_on_a4(tmp_path):
    ws = make_district(tmp_path / "d", fill=False)
    try:
        book = openpyxl.load_workbook(workbook_of(ws, "VP"))
        tabs = [spec.tab for spec in ws.templates.tables.values()]
    finally:
        ws.close()
    # "Hướng dẫn": one column wider than A4 portrait holds, so landscape.
    instructions = book[INSTRUCTIONS_TAB]
    assert columns_width(instructions) > PORTRAIT_COLUMNS_WIDTH
    assert_fits_width(instructions, landscape=True)
    for tab in tabs:
        sheet = book[tab]
        assert_fits_width(sheet, landscape=columns_width(sheet) > PORTRAIT_COLUMNS_WIDTH,
                          title_rows="$1:$1")
    assert any(book[tab].page_setup.orientation == "landscape" for tab in tabs)
    assert_fits_width(book[CHECK_TAB], landscape=False)  # the placeholder is narrow


def test_the_setup_survives_the_softwares_rewrites(district):
    sync_once(district)  # flags written, "Kiểm tra" rebuilt from scratch
    flagged = {f.unit for f in district.archive.open_findings(district.period.code)}
    clean = next(u.code for u in district.units if u.code not in flagged)
    tabs = [spec.tab for spec in district.templates.tables.values()]
    for unit in (sorted(flagged)[0], clean):
        book = openpyxl.load_workbook(workbook_of(district, unit))
        assert_fits_width(book[INSTRUCTIONS_TAB], landscape=True)
        for tab in tabs:
            assert_fits_width(book[tab], landscape=book[tab].page_setup.orientation
                              == "landscape", title_rows="$1:$1")
        check = book[CHECK_TAB]
        if unit == clean:
            assert_fits_width(check, landscape=False)
        else:  # the findings list: seven wide columns, its header on every page
            assert columns_width(check) > PORTRAIT_COLUMNS_WIDTH
            assert_fits_width(check, landscape=True,
                              title_rows=f"${CHECK_HEADER_ROW}:${CHECK_HEADER_ROW}")


def _words(text: str) -> set[str]:
    return set(unicodedata.normalize("NFC", text).split())


def _printed_words(xlsx: Path, outdir: Path, soffice: str) -> set[str]:
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{outdir / 'lo-profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx)],
        check=True, capture_output=True, timeout=240,
    )
    pdf = outdir / (xlsx.stem + ".pdf")
    assert pdf.exists(), "LibreOffice made no PDF: is Calc (libreoffice-calc-nogui) installed?"
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True,
                          text=True, timeout=60).stdout
    return _words(text)


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="LibreOffice or pdftotext is not installed")
def test_libreoffice_prints_every_word_of_the_instructions(tmp_path):
    """The "Hướng dẫn" tab alone, printed to PDF: every word of it is on the pages. The
    same tab set to portrait without fitting (how it was) loses the ends of its long lines
    at the right margin: the check sees a cut."""
    ws = make_district(tmp_path / "d", fill=False)
    try:
        source = workbook_of(ws, "VP")
    finally:
        ws.close()
    soffice = shutil.which("soffice")
    printed: dict[str, set[str]] = {}
    wanted: set[str] = set()
    for name in ("as-made", "portrait-unfitted"):
        book = openpyxl.load_workbook(source)
        for sheet in list(book.worksheets):
            if sheet.title != INSTRUCTIONS_TAB:
                book.remove(sheet)
        sheet = book[INSTRUCTIONS_TAB]
        wanted = set().union(*(_words(str(c.value)) for c in sheet["A"] if c.value))
        if name == "portrait-unfitted":
            sheet.page_setup.orientation = "portrait"
            sheet.sheet_properties.pageSetUpPr.fitToPage = False
        out = tmp_path / name
        out.mkdir()
        book.save(out / "huong-dan.xlsx")
        printed[name] = _printed_words(out / "huong-dan.xlsx", out, soffice)
    assert wanted - printed["as-made"] == set()
    assert wanted - printed["portrait-unfitted"]  # the cut the setup prevents
