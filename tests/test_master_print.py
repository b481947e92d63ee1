"""Issue 13, point 6: a master a coordinator reads and prints. "Bất thường" shows values as
people write them (dates dd/mm/yyyy, choices by their label, Vietnamese numbers) and wraps
its messages; every tab prints on A4 landscape, fitted to the width, its header row
repeated on every page — checked in the workbook, through LibreOffice's PDF, and in what
the Google master gets (over HTTP to the fake Google API).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import openpyxl
import pytest
from openpyxl.utils import get_column_letter

from cchc_sync.app.demo_data import DISTRICT, UNITS_CSV
from cchc_sync.app.initialise import init_workspace
from cchc_sync.domain.records import Finding, Severity
from cchc_sync.publish.figures import compute_figures
from cchc_sync.publish.master import FINDINGS_TAB, build_master
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.memory import MemoryBackend
from cchc_sync.sources.sheet_layout import WRAPPED_WIDTH
from cchc_sync.sources.xlsx.master import build_master_workbook
from tests.contract.districts import PERIOD, GoogleDistrict
from tests.test_google_budget import registry

LONG = ("Ngày ban hành sau ngày kết thúc kỳ báo cáo; đề nghị đơn vị kiểm tra lại ngày ghi "
        "trên văn bản và sửa trong bảng tính của mình trước ngày khoá sổ kỳ báo cáo")


def findings_for(units: list[str]) -> list[Finding]:
    """A date, a choice and a count as the archive keeps them, then enough long messages
    (each with its own marker) to fill several printed pages."""
    first, second = units[0], units[1]
    out = [
        Finding(rule="van_ban.ngay-sau-ky", severity=Severity.WARNING, unit=first,
                table="van_ban", row=2, column="ngay_ban_hanh", value="2022-07-01",
                message=f"[M000] {LONG}"),
        Finding(rule="bien_che.vuot-bien-che", severity=Severity.ERROR, unit=second,
                table="bien_che", row=3, column="loai", value="cong_chuc",
                message=f"[M001] {LONG}"),
        Finding(rule="dao_tao.so-nguoi", severity=Severity.WARNING, unit=first,
                table="dao_tao", row=4, column="so_nguoi", value=12345,
                message=f"[M002] {LONG}"),
    ]
    out += [Finding(rule="thu.nghiem", severity=Severity.WARNING, unit=units[i % len(units)],
                    table="tthc", row=10 + i, column="tong_tiep_nhan", value=i,
                    message=f"[M{i:03d}] {LONG}") for i in range(3, 70)]
    return out


def book_for(ws, findings):
    units = ws.units_by_code
    figures = compute_figures([], ws.templates, units, ws.levels)
    return build_master(title="Tổng hợp CCHC", area_total=ws.config.area_total, period=PERIOD,
                        templates=ws.templates, units=units, rows=[], figures=figures,
                        findings=findings, progress=[], levels=ws.levels,
                        level_names=ws.config.level_names)


@pytest.fixture(scope="module")
def local_master(tmp_path_factory):
    root = tmp_path_factory.mktemp("master-print")
    (root / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(root / "district", units_csv=root / "units.csv", period=PERIOD,
                        name=DISTRICT, backend_factory=lambda config: MemoryBackend())
    try:
        book = book_for(ws, findings_for([u.code for u in ws.units]))
    finally:
        ws.close()
    path = root / "tong-hop.xlsx"
    build_master_workbook(book).save(path)
    return path, book


def test_every_master_tab_is_set_to_print_a4_landscape_fitted_with_its_header(local_master):
    path, book = local_master
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == list(book.tabs)
    for sheet in wb.worksheets:
        setup = sheet.page_setup
        assert (int(setup.paperSize), setup.orientation) == (9, "landscape"), sheet.title
        assert (int(setup.fitToWidth), int(setup.fitToHeight)) == (1, 0), sheet.title
        assert sheet.sheet_properties.pageSetUpPr.fitToPage is True, sheet.title
        assert sheet.print_title_rows == "$1:$1", sheet.title


def test_findings_show_values_as_people_write_them_and_wrap_messages(local_master):
    path, _ = local_master
    sheet = openpyxl.load_workbook(path)[FINDINGS_TAB]
    header = [c.value for c in sheet[1]]
    col = {title: i for i, title in enumerate(header)}
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    by_marker = {r[col["Nội dung"]][:6]: r for r in rows}
    assert by_marker["[M000]"][col["Giá trị"]] == "01/07/2022"  # was "2022-07-01"
    assert by_marker["[M001]"][col["Giá trị"]] == "Công chức"  # was "cong_chuc"
    assert by_marker["[M002]"][col["Giá trị"]] == "12.345"  # was "12345"
    for title in ("Nội dung", "Giải trình"):
        letter = get_column_letter(col[title] + 1)
        assert sheet.column_dimensions[letter].width == WRAPPED_WIDTH
    message = sheet.cell(row=2, column=col["Nội dung"] + 1)
    assert message.alignment.wrap_text is True


def _pdf_pages(xlsx, outdir) -> tuple[list[str], list[tuple[float, float]]]:
    soffice = shutil.which("soffice")
    subprocess.run(
        [soffice, f"-env:UserInstallation=file://{outdir / 'lo-profile'}", "--headless",
         "--convert-to", "pdf", "--outdir", str(outdir), str(xlsx)],
        check=True, capture_output=True, timeout=240)
    pdf = outdir / (xlsx.stem + ".pdf")
    assert pdf.exists(), "LibreOffice made no PDF: is Calc (libreoffice-calc-nogui) installed?"
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    sizes = [(float(w), float(h)) for w, h in
             re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info)]
    return text.split("\f"), sizes


@pytest.mark.skipif(not (shutil.which("soffice") and shutil.which("pdftotext")),
                    reason="LibreOffice or pdftotext is not installed")
def test_libreoffice_prints_the_master_on_a4_landscape_with_nothing_cut(local_master,
                                                                        tmp_path):
    path, _ = local_master
    pages, sizes = _pdf_pages(path, tmp_path)
    pages = [p for p in pages if p.strip()]
    assert sizes and len(sizes) >= len(pages)
    # A4 landscape: 842 x 595 points.
    assert all(round(w) == 842 and round(h) == 595 for w, h in sizes), sizes
    findings_pages = [p for p in pages if "[M0" in p]
    assert len(findings_pages) >= 2, "the findings fit one page: the header check is empty"
    for page in findings_pages:
        # The header row repeated on every page of the tab.
        assert "Mức độ" in page and "Nội dung" in page
    printed = " ".join(" ".join(p.split()) for p in findings_pages)
    # Every message is there, wrapped but whole: no word cut at the right margin.
    for i in range(70):
        assert f"[M{i:03d}]" in printed
    assert printed.count("khoá sổ kỳ báo cáo") == 70
    assert "01/07/2022" in printed and "Công chức" in printed


def test_the_google_master_gets_the_same_values_wrapping_and_frozen_header(tmp_path):
    """What Google stores for the master's "Bất thường" (Sheets has no print settings in
    its API: its print dialog repeats the frozen header row and fits to width itself)."""
    district = GoogleDistrict(tmp_path / "d", units_csv=registry(3), fill=False, data_rows=3)
    try:
        master = district.ws.archive.master(PERIOD)["ref"]
        book = book_for(district.ws, findings_for([u.code for u in district.ws.units]))
        assert district.backend.write_master(SheetRef(ref=master), book)
        sheets = {s["title"]: s for s in district.fake.spreadsheet(master)["sheets"]}
    finally:
        district.close()
    assert list(sheets)[:3] == ["Tổng hợp", "Tiến độ", FINDINGS_TAB]
    assert all(s["frozenRowCount"] == 1 for s in sheets.values())
    tab = sheets[FINDINGS_TAB]
    header = tab["values"][0]
    col = {title: i for i, title in enumerate(header)}
    rows = {r[col["Nội dung"]][:6]: r for r in tab["values"][1:] if r and len(r) > 6}
    assert rows["[M000]"][col["Giá trị"]] == "01/07/2022"
    assert rows["[M001]"][col["Giá trị"]] == "Công chức"
    assert rows["[M002]"][col["Giá trị"]] == "12.345"
    letter = get_column_letter(col["Nội dung"] + 1)
    fmt = tab["cells"][f"{letter}2"].get("userEnteredFormat", {})
    assert fmt.get("wrapStrategy") == "WRAP"
    width = tab["columnMetadata"][str(col["Nội dung"])]["pixelSize"]
    assert width == round(WRAPPED_WIDTH * 7 + 5)
