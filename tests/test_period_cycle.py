"""Two periods end to end: 2022S1 then 2022S2, with one late unit, one reopen, one
approval, one merged commune and one explained warning."""

from __future__ import annotations

import datetime as dt
import os
import stat

import openpyxl
import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.demo import fill_demo_workbooks
from cchc_sync.app.demo_data import UNITS_CSV
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import open_workspace, sync_once, unit_progress
from cchc_sync.app.workflow import approve_unit, open_period, reopen_unit
from cchc_sync.domain.config import load_config
from cchc_sync.store.period_state import FINAL, audit_log, get_period
from cchc_sync.testing.typist import set_cell, type_rows
from tests.conftest import Clock

MERGED_UNITS = UNITS_CSV + "XA_LTHT,UBND xã Long Thuận,xa,,ubnd.longthuan@songmay.example.gov.vn\n"
SUCCESSORS = "ma_cu,ma_moi,ngay_hieu_luc\nXA_LT,XA_LTHT,01/07/2022\nXA_HT,XA_LTHT,01/07/2022\n"


def vn(day: str, hour: int = 9) -> dt.datetime:
    """A moment in Vietnamese local time, as UTC."""
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=7)


def sheet_path(ws, unit, period=None):
    period = period or ws.period.code
    return ws.config.root / ws.archive.sheets(period)[unit].ref


def writable(path) -> bool:
    return bool(os.stat(path).st_mode & stat.S_IWUSR)


def cell_by_title(path, tab, row, title):
    sheet = openpyxl.load_workbook(path)[tab]
    header = [c.value for c in sheet[1]]
    return sheet.cell(row=row, column=header.index(title) + 1)


@pytest.fixture
def workspace(tmp_path):
    (tmp_path / "units.csv").write_text(MERGED_UNITS, encoding="utf-8")
    (tmp_path / "successors.csv").write_text(SUCCESSORS, encoding="utf-8")
    clock = Clock(vn("2022-06-10"))
    ws = init_workspace(tmp_path / "ws", units_csv=tmp_path / "units.csv", period="2022S1",
                        name="huyện Sông Mây", successors_csv=tmp_path / "successors.csv")
    config = ws.config.path
    ws.close()
    ws = open_workspace(load_config(config), clock=clock)
    yield ws, clock
    ws.close()


def test_two_periods(workspace):
    ws, clock = workspace
    # -- 2022S1: twelve units expected; the merged commune does not exist yet.
    assert "XA_LTHT" not in ws.units_by_code and len(ws.units) == 12
    ws.archive.sheets("2022S1")  # init created them
    from cchc_sync.app.pipeline import create_missing_sheets

    create_missing_sheets(ws)
    assert set(ws.archive.sheets("2022S1")) == {u.code for u in ws.units}
    fill_demo_workbooks(ws)
    sync_once(ws)
    record = get_period(ws.archive, "2022S1")
    assert record.deadline == dt.date(2022, 6, 17) and record.lock_at == dt.date(2022, 6, 20)

    # TT_SM signs off two days after the deadline: submitted, late.
    clock.now = vn("2022-06-19")
    set_cell(sheet_path(ws, "TT_SM"), "Thông tin", 2, "Trạng thái", "Hoàn thành")
    sync_once(ws)
    progress = {p.unit.code: p for p in unit_progress(ws)}
    assert progress["TT_SM"].on_time is False and progress["VP"].on_time is True
    assert progress["TCKH"].on_time is None  # still entering
    status = CliRunner().invoke(cli, ["status", "--config", str(ws.config.path)]).output
    assert "Cấp xã: 5/6 đơn vị đã nộp (4 đúng hạn, 1 trễ hạn)" in status

    # The lock day: the period becomes final and every sheet read-only.
    clock.now = vn("2022-06-20")
    sync_once(ws)
    assert get_period(ws.archive, "2022S1").state == FINAL
    assert not any(writable(sheet_path(ws, u.code)) for u in ws.units)
    # A unit that edits anyway (another program, a copy) is not read any more.
    before = ws.archive.row_versions("2022S1")
    os.chmod(sheet_path(ws, "XA_PH"), 0o644)
    set_cell(sheet_path(ws, "XA_PH"), "Đào tạo, bồi dưỡng", 2, "Số lượt người", 99)
    clock.now = vn("2022-06-21")
    assert sync_once(ws).units_read == 0
    assert ws.archive.row_versions("2022S1") == before

    # Approve one unit: shown as approved and locked.
    approve_unit(ws, "2022S1", "VP", actor="Trần Thị Hoa (Phòng Nội vụ)")

    # -- Open 2022S2: the two communes merged on 01/07/2022.
    clock.now = vn("2022-06-25")
    s1_rows = ws.archive.current_rows("2022S1")
    s2 = open_period(ws, "2022S2", actor="Trần Thị Hoa (Phòng Nội vụ)")
    assert s2.period.code == "2022S2"
    assert {u.code for u in s2.units} == ({u.code for u in ws.units} - {"XA_LT", "XA_HT"}) | {
        "XA_LTHT"}
    assert 'period = "2022S2"' in ws.config.path.read_text(encoding="utf-8")
    # Carried forward: fields of procedures with pending dossiers, staffing rows.
    merged = openpyxl.load_workbook(sheet_path(s2, "XA_LTHT"))["Giải quyết TTHC"]
    carried = {r[0]: r[1] for r in merged.iter_rows(min_row=2, max_col=2, values_only=True)
               if r[0]}
    expected: dict[str, int] = {}
    for r in s1_rows:
        if r.unit in ("XA_LT", "XA_HT") and r.table == "tthc":
            pending = (r.values.get("dang_trong_han") or 0) + (r.values.get("dang_qua_han") or 0)
            expected[r.values["linh_vuc"]] = expected.get(r.values["linh_vuc"], 0) + pending
    assert carried == expected
    staffing = openpyxl.load_workbook(sheet_path(s2, "XA_LTHT"))["Biên chế"]
    assert [r[:2] for r in staffing.iter_rows(min_row=2, max_col=2, values_only=True) if r[0]] \
        == [("UBND xã Long Trị", "Công chức"), ("UBND xã Hòa Thuận", "Công chức")]

    # -- Reopen one unit of the closed 2022S1 while 2022S2 runs: it fixes its mistake.
    ws = s2
    reopen_unit(ws, "2022S1", "XA_TH", dt.date(2022, 6, 30), actor="Trần Thị Hoa")
    s1_view = ws.for_period("2022S1")
    assert writable(sheet_path(s1_view, "XA_TH"))
    set_cell(sheet_path(s1_view, "XA_TH"), "Biên chế", 2, "Biên chế hiện có", 15)
    clock.now = vn("2022-06-26")
    result = sync_once(ws)
    assert result.units_read >= 1
    assert not [f for f in ws.archive.open_findings("2022S1") if f.unit == "XA_TH"]
    # After the reopen expires the sheet is locked again.
    clock.now = vn("2022-07-01")
    sync_once(ws)
    assert not writable(sheet_path(s1_view, "XA_TH"))

    # -- 2022S2: the merged commune changes a carried number and explains why.
    path = sheet_path(ws, "XA_LTHT")
    field = next(iter(carried))
    for offset, (name, pending) in enumerate(carried.items()):
        # The clerk completes each carried row (its total is required), in line with what
        # both communes received in 2022S1 (the first year compares with that half-year).
        set_cell(path, "Giải quyết TTHC", 2 + offset, "Tổng số hồ sơ tiếp nhận",
                 max(pending + 40, received_s1(s1_rows, name)))
    set_cell(path, "Giải quyết TTHC", 2, "Từ kỳ trước chuyển qua", carried[field] + 3)
    set_cell(path, "Giải quyết TTHC", 2, "Giải trình",
             "Nhận thêm 3 hồ sơ chuyển từ xã Hòa Thuận sau sáp nhập")
    type_rows(path, {"Thông tin": [{"Trạng thái": "Hoàn thành"}]})
    clock.now = vn("2022-12-10")
    sync_once(ws)
    found = [f for f in ws.archive.open_findings("2022S2") if f.unit == "XA_LTHT"]
    (warning,) = found
    assert warning.rule == "tthc.tu-ky-truoc"
    assert warning.explained == "Nhận thêm 3 hồ sơ chuyển từ xã Hòa Thuận sau sáp nhập"
    note = cell_by_title(path, "Giải quyết TTHC", 2, "Từ kỳ trước chuyển qua").comment.text
    assert "Đã giải trình" in note
    status = cell_by_title(path, "Giải quyết TTHC", 2, "Kết quả kiểm tra").value
    assert "đã giải trình" in status
    master = openpyxl.load_workbook(ws.config.root / ws.archive.master("2022S2")["ref"])
    listed = [r for r in master["Bất thường"].iter_rows(min_row=2, values_only=True)
              if r[0] == "XA_LTHT"]
    assert listed and listed[0][8] == "Nhận thêm 3 hồ sơ chuyển từ xã Hòa Thuận sau sáp nhập"

    # 2022S1 still rolls up with its own twelve units; its approval shows.
    old = ws.for_period("2022S1")
    assert len(old.units) == 12
    progress = {p.unit.code: p for p in unit_progress(old)}
    assert progress["VP"].approved_by == "Trần Thị Hoa (Phòng Nội vụ)"

    # The audit log holds every action, who and when.
    actions = [(e["action"], e["period"], e["unit"]) for e in audit_log(ws.archive)]
    for wanted in [("close", "2022S1", None), ("approve", "2022S1", "VP"),
                   ("open", "2022S2", None), ("reopen", "2022S1", "XA_TH"),
                   ("lock", "2022S1", "XA_TH"), ("unlock", "2022S1", "XA_TH")]:
        assert wanted in actions
    log_text = CliRunner().invoke(cli, ["period", "log", "--config", str(ws.config.path)]).output
    assert "Phê duyệt" in log_text and "Trần Thị Hoa (Phòng Nội vụ)" in log_text


def received_s1(s1_rows, field: str) -> int:
    """What the merged commune's predecessors received in 2022S1 for one field."""
    return sum(r.values.get("tong_tiep_nhan") or 0 for r in s1_rows
               if r.unit in ("XA_LT", "XA_HT") and r.table == "tthc"
               and r.values["linh_vuc"] == field)
