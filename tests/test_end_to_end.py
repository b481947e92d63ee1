"""init → fill as clerks do → sync → master, findings and flags → fix → cleared."""

from __future__ import annotations

import json

import openpyxl
import pytest

from cchc_sync.app.demo_data import MISTAKES, demo_rows
from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.base import ERROR_FILL, NOTE_AUTHOR, WARNING_FILL
from cchc_sync.testing.typist import set_cell
from tests.conftest import Clock, make_district
from tests.test_report_expected import error_rows, left_out

OWNED_TITLES = {"Kết quả kiểm tra"}


def workbook_path(ws, unit):
    return ws.config.root / ws.archive.sheets(ws.period.code)[unit].ref


def typed_values(path):
    """Every value in every clerk-owned cell of every table tab (not the owned column,
    not the software's tabs)."""
    wb = openpyxl.load_workbook(path)
    out = {}
    for sheet in wb.worksheets:
        if sheet.title in ("Kiểm tra", "_cchc", "Hướng dẫn"):
            continue
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows():
            for cell in row:
                if header[cell.column - 1] in OWNED_TITLES and cell.row > 1:
                    continue
                if cell.value is not None:
                    out[(sheet.title, cell.coordinate)] = cell.value
    return out


def finding_keys(ws):
    return {(f.unit, f.table, f.column, f.rule) for f in ws.archive.open_findings(ws.period.code)}


def test_the_district_flags_exactly_its_mistakes(district):
    result = sync_once(district)
    assert result.units_read == 12
    assert finding_keys(district) == set(MISTAKES)
    # No error anywhere else: consistent data gives no finding.
    clean = {"TP", "TCKH", "TT_SM", "XA_AB"}
    assert not [f for f in district.archive.open_findings("2022S1") if f.unit in clean]
    explained = [f for f in district.archive.open_findings("2022S1") if f.explained]
    assert [(f.unit, f.explained) for f in explained] == [
        ("XA_PH", "Xã chưa triển khai 3 thủ tục lĩnh vực đất đai")
    ]


def _summary(ws):
    """Tổng hợp tab of the master workbook: figure id -> {column title: value}."""
    path = ws.config.root / ws.archive.master("2022S1")["ref"]
    sheet = openpyxl.load_workbook(path)["Tổng hợp"]
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    # Labels first for the reader; the figure id is the last (hidden) column.
    assert header[0] == "Chỉ tiêu" and header[-1] == "Mã chỉ tiêu"
    assert sheet.column_dimensions[openpyxl.utils.get_column_letter(len(header))].hidden
    return {r[-1]: dict(zip(header, r, strict=False)) for r in rows[1:]}


def test_master_totals_equal_independent_sums(district):
    sync_once(district)
    summary = _summary(district)
    # Independent of the normaliser: the figures as the demo generated them (stored ints).
    generated = demo_rows([(u.code, u.name, u.level) for u in district.units], style=0)
    level = {u.code: u.level for u in district.units}
    # The counting rule, written out in tests/test_report_expected.left_out: rows with open
    # errors or parts not adding up are left out of every figure.
    errors = error_rows(district.archive, "2022S1")
    archived = district.archive.current_rows("2022S1")
    left = {r.unit for r in archived if r.table == "tthc" and left_out(r, errors, level)}
    assert left
    received = {"huyen": 0, "xa": 0}
    for r in archived:
        if r.table == "tthc" and not left_out(r, errors, level):
            received[level[r.unit]] += r.values["tong_tiep_nhan"]
    for code, tables in generated.items():
        if code not in left and tables.get("tthc"):
            assert sum(r["tong_tiep_nhan"] for r in tables["tthc"]) == sum(
                a.values["tong_tiep_nhan"] for a in archived
                if a.unit == code and a.table == "tthc")
    fig = summary["tthc.tiep_nhan"]
    assert fig["Cấp huyện"] == received["huyen"]
    assert fig["Cấp xã"] == received["xa"]
    assert fig["Toàn huyện Sông Mây"] == received["huyen"] + received["xa"]
    # From the archive's normalised rows, computed here without figures.py.
    rows = district.archive.current_rows("2022S1")
    on_time = {"huyen": 0, "xa": 0}
    arising = online = 0
    for r in rows:
        if left_out(r, errors, level):
            continue
        if r.table == "tthc":
            on_time[level[r.unit]] += (r.values.get("truoc_han") or 0) + (
                r.values.get("dung_han") or 0)
        if r.table == "dvctt" and r.values.get("loai") == "toan_trinh":
            arising += r.values.get("ho_so_phat_sinh") or 0
            online += r.values.get("ho_so_truc_tuyen") or 0
    assert summary["tthc.dung_han"]["Cấp huyện"] == on_time["huyen"]
    assert summary["tthc.dung_han"]["Cấp xã"] == on_time["xa"]
    rate = summary["dvctt.ty_le.toan_trinh"]["Toàn huyện Sông Mây"]
    assert rate == pytest.approx(round(online * 100 / arising, 2))
    # Counts are whole numbers in the mixed column (shown 27.554, not 27.554,00).
    assert isinstance(fig["Toàn huyện Sông Mây"], int)
    # The catalogue size is the level's common value, not a sum over units.
    assert summary["dvctt.so_thu_tuc.toan_trinh"]["Cấp xã"] == 68
    assert summary["dvctt.so_thu_tuc.toan_trinh"]["Cấp huyện"] == 126
    # Figures from which rows were left out say so.
    assert summary["tthc.tiep_nhan"]["Ghi chú"].startswith("Chưa đầy đủ")
    assert summary["ky_so.van_ban_di"]["Ghi chú"] is None


def test_flags_land_in_the_units_own_workbook_and_typed_values_stay(district):
    before = {u.code: typed_values(workbook_path(district, u.code)) for u in district.units}
    sync_once(district)
    for unit in district.units:
        assert typed_values(workbook_path(district, unit.code)) == before[unit.code], unit.code

    wb = openpyxl.load_workbook(workbook_path(district, "XA_LT"))
    sheet = wb["Giải quyết TTHC"]
    header = [c.value for c in sheet[1]]
    total = sheet.cell(row=2, column=header.index("Tổng số hồ sơ tiếp nhận") + 1)
    assert total.fill.fgColor.rgb.endswith(ERROR_FILL)
    assert total.comment.author == NOTE_AUTHOR
    assert "Tổng số hồ sơ tiếp nhận" in total.comment.text
    status = sheet.cell(row=2, column=header.index("Kết quả kiểm tra") + 1).value
    assert status.startswith("✖ 2 lỗi")
    assert sheet.cell(row=3, column=header.index("Kết quả kiểm tra") + 1).value == "✔ Hợp lệ"
    check = "\n".join(str(c) for row in wb["Kiểm tra"].iter_rows(values_only=True)
                      for c in row if c)
    assert "Kết quả kiểm tra lúc" in check and "Tổng số hồ sơ tiếp nhận" in check

    # A warning is yellow; its explanation shows.
    wb = openpyxl.load_workbook(workbook_path(district, "XA_PH"))
    sheet = wb["Dịch vụ công trực tuyến"]
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=3, column=header.index("Số thủ tục cung cấp") + 1)
    assert cell.fill.fgColor.rgb.endswith(WARNING_FILL)
    assert "Đã giải trình" in cell.comment.text


def test_a_fixed_value_clears_its_flag_and_nothing_else_moves(district, clock):
    sync_once(district)
    path = workbook_path(district, "XA_LT")
    wb = openpyxl.load_workbook(path, data_only=True)
    sheet = wb["Giải quyết TTHC"]
    header = [c.value for c in sheet[1]]
    parts = [sheet.cell(row=2, column=header.index(t) + 1).value for t in (
        "Từ kỳ trước chuyển qua", "Mới tiếp nhận trực tuyến", "Mới tiếp nhận trực tiếp, bưu chính")]
    right = sum(int(str(p).replace(".", "")) for p in parts)
    set_cell(path, "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận", f"{right:,}".replace(",", "."))
    before = typed_values(path)
    others = {u.code: typed_values(workbook_path(district, u.code))
              for u in district.units if u.code != "XA_LT"}
    clock.tick()
    result = sync_once(district)
    assert result.units_read == 1
    assert not [k for k in finding_keys(district) if k[0] == "XA_LT"]
    assert typed_values(path) == before
    for code, values in others.items():
        assert typed_values(workbook_path(district, code)) == values
    wb = openpyxl.load_workbook(path)
    sheet = wb["Giải quyết TTHC"]
    total = sheet.cell(row=2, column=header.index("Tổng số hồ sơ tiếp nhận") + 1)
    assert total.comment is None
    assert not (total.fill.fgColor.rgb or "").endswith(ERROR_FILL)
    assert sheet.cell(row=2, column=header.index("Kết quả kiểm tra") + 1).value == "✔ Hợp lệ"
    # The master follows: its anomalies tab no longer lists the unit, its total moved.
    master = openpyxl.load_workbook(district.config.root / district.archive.master("2022S1")["ref"])
    listed = {r[0] for r in master["Bất thường"].iter_rows(min_row=2, values_only=True)}
    assert "XA_LT" not in listed and "XA_TH" in listed


def test_an_idle_cycle_reads_and_writes_nothing(district, clock):
    sync_once(district)
    clock.tick()
    second = sync_once(district)
    assert (second.units_read, second.flags_written, second.master_written) == (0, 0, False)


def _exported(ws):
    out = {}
    for r in ws.archive.current_rows("2022S1"):
        values = {k: round(v, 6) if isinstance(v, float) else v for k, v in r.values.items()}
        out[(r.unit, r.table, r.key)] = values
    return out


@pytest.mark.parametrize("style", [1, 2])
def test_same_results_whether_clerks_typed_values_or_vietnamese_text(tmp_path, style):
    stored = make_district(tmp_path / "stored", style=0, clock=Clock())
    typed = make_district(tmp_path / f"typed{style}", style=style, clock=Clock())
    try:
        sync_once(stored)
        sync_once(typed)
        assert _exported(typed) == _exported(stored)
        assert finding_keys(typed) == finding_keys(stored) == set(MISTAKES)
        assert _summary(typed) == _summary(stored)
    finally:
        stored.close()
        typed.close()


def test_a_workbook_open_in_excel_gets_its_flags_next_cycle(district, clock):
    sync_once(district)
    path = workbook_path(district, "XA_LT")
    set_cell(path, "Giải quyết TTHC", 3, "Tổng số hồ sơ tiếp nhận", 1)
    lock = path.parent / f".~lock.{path.name}#"
    lock.write_text("Nguyễn Thị Lan,may-tinh-xa,01.06.2022 08:00,")
    raw = path.read_bytes()
    clock.tick()
    result = sync_once(district)
    assert result.flags_pending == ["XA_LT"]
    assert path.read_bytes() == raw  # nothing written while it is open
    assert ("XA_LT", "tthc", "tong_tiep_nhan", "tthc.tong-tiep-nhan") in finding_keys(district)
    lock.unlink()
    clock.tick()
    result = sync_once(district)
    assert result.flags_written == 1 and result.flags_pending == []
    sheet = openpyxl.load_workbook(path)["Giải quyết TTHC"]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(row=3, column=header.index("Kết quả kiểm tra") + 1).value.startswith("✖")


def test_deleted_row_becomes_a_tombstone_and_leaves_the_master(district, clock):
    sync_once(district)
    path = workbook_path(district, "TP")
    wb = openpyxl.load_workbook(path)
    wb["Đào tạo, bồi dưỡng"].delete_rows(2)
    wb.save(path)
    clock.tick()
    sync_once(district)
    versions = [v for v in district.archive.row_versions("2022S1")
                if v["unit"] == "TP" and v["tbl"] == "dao_tao"]
    assert [v["deleted"] for v in versions] == [0, 0, 0, 1]
    current = [r for r in district.archive.current_rows("2022S1")
               if r.unit == "TP" and r.table == "dao_tao"]
    assert len(current) == 2


def test_a_renamed_tab_is_one_finding_and_loses_no_rows(district, clock):
    sync_once(district)
    path = workbook_path(district, "TP")
    wb = openpyxl.load_workbook(path)
    wb["Biên chế"].title = "Bien che cu"
    wb.save(path)
    clock.tick()
    sync_once(district)
    tp = [f for f in district.archive.open_findings("2022S1") if f.unit == "TP"]
    assert [(f.table, f.rule) for f in tp] == [("bien_che", "tab.missing")]
    assert "Biên chế" in tp[0].message
    assert [r.key for r in district.archive.current_rows("2022S1", unit="TP")
            if r.table == "bien_che"]
    # Export stays stable JSON.
    json.dumps([f.to_json() for f in tp], ensure_ascii=False)
