"""Two periods end to end on every backend (local .xlsx, the fake Google APIs over real
HTTP, memory): 2022S1 then 2022S2, with one late unit, one reopen, one approval, one merged
commune and one explained warning."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.demo_data import UNITS_CSV
from cchc_sync.app.pipeline import create_missing_sheets, sync_once, unit_progress
from cchc_sync.app.workflow import approve_unit, open_period, reopen_unit
from cchc_sync.store.period_state import FINAL, audit_log, get_period
from tests.contract.districts import BACKENDS, make

MERGED_UNITS = UNITS_CSV + "XA_LTHT,UBND xã Long Thuận,xa,,ubnd.longthuan@songmay.example.gov.vn\n"
SUCCESSORS = "ma_cu,ma_moi,ngay_hieu_luc\nXA_LT,XA_LTHT,01/07/2022\nXA_HT,XA_LTHT,01/07/2022\n"
TTHC = "Giải quyết TTHC"
EXPLANATION = "Nhận thêm 3 hồ sơ chuyển từ xã Hòa Thuận sau sáp nhập"
COORDINATOR = "Trần Thị Hoa (Phòng Nội vụ)"


def vn(day: str, hour: int = 9) -> dt.datetime:
    """A moment in Vietnamese local time, as UTC."""
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=7)


@pytest.fixture(params=BACKENDS)
def district(request, tmp_path):
    made = make(request.param, tmp_path / request.param, units_csv=MERGED_UNITS,
                successors_csv=SUCCESSORS, fill=False, period="2022S1")
    made.clock.now = vn("2022-06-10")
    made.reopen()  # as the next command would: from the config file
    yield made
    made.close()


def test_two_periods(district):
    ws, clock = district.ws, district.clock
    # -- 2022S1: twelve units expected; the merged commune does not exist yet.
    assert "XA_LTHT" not in ws.units_by_code and len(ws.units) == 12
    sid = {code: s.ref for code, s in ws.archive.sheets("2022S1").items()}  # init made them
    assert set(sid) == {u.code for u in ws.units} and "XA_LTHT" not in sid
    create_missing_sheets(ws)
    assert set(ws.archive.sheets("2022S1")) == {u.code for u in ws.units}
    district.fill_demo()
    sync_once(ws)
    record = get_period(ws.archive, "2022S1")
    assert record.deadline == dt.date(2022, 6, 17) and record.lock_at == dt.date(2022, 6, 20)

    # TT_SM signs off two days after the deadline: submitted, late.
    clock.now = vn("2022-06-19")
    district.type_value("TT_SM", "Thông tin", 2, "Trạng thái", "Hoàn thành")
    sync_once(ws)
    progress = {p.unit.code: p for p in unit_progress(ws)}
    assert progress["TT_SM"].on_time is False and progress["VP"].on_time is True
    assert progress["TCKH"].on_time is None  # still entering
    status = CliRunner().invoke(cli, ["status", "--config", str(ws.config.path)]).output
    assert "Cấp xã: 5/6 đơn vị đã nộp (4 đúng hạn, 1 trễ hạn)" in status

    # The lock day: the period becomes final and every sheet read-only (local: the file
    # loses its write bits; Google: protected ranges).
    clock.now = vn("2022-06-20")
    sync_once(ws)
    assert get_period(ws.archive, "2022S1").state == FINAL
    assert all(district.locked(u.code) for u in ws.units)
    assert unit_progress(ws)[0].read_only
    if district.kind != "google":  # Google refuses edits in protected ranges
        # A unit that edits anyway (another program, a copy) is not read any more.
        before = ws.archive.row_versions("2022S1")
        district.type_despite_lock("XA_PH", "Đào tạo, bồi dưỡng", 2, "Số lượt người", 99)
        clock.now = vn("2022-06-21")
        assert sync_once(ws).units_read == 0
        assert ws.archive.row_versions("2022S1") == before

    # Approve one unit: shown as approved and locked.
    approve_unit(ws, "2022S1", "VP", actor=COORDINATOR)

    # -- Open 2022S2: the two communes merged on 01/07/2022.
    clock.now = vn("2022-06-25")
    s1_rows = ws.archive.current_rows("2022S1")
    s2 = open_period(ws, "2022S2", actor=COORDINATOR)
    assert s2.period.code == "2022S2"
    assert {u.code for u in s2.units} == ({u.code for u in ws.units} - {"XA_LT", "XA_HT"}) | {
        "XA_LTHT"}
    sid2 = s2.archive.sheets("2022S2")
    assert "XA_LTHT" in sid2 and "XA_LT" not in sid2 and "XA_HT" not in sid2
    assert 'period = "2022S2"' in ws.config.path.read_text(encoding="utf-8")
    # Carried forward: fields of procedures with pending dossiers, staffing rows.
    district.ws = s2
    merged = district.tabs("XA_LTHT", "2022S2")
    carried = {r[0]: r[1] for r in merged[TTHC][1:] if r and r[0]}
    expected: dict[str, int] = {}
    for r in s1_rows:
        if r.unit in ("XA_LT", "XA_HT") and r.table == "tthc":
            pending = (r.values.get("dang_trong_han") or 0) + (r.values.get("dang_qua_han") or 0)
            expected[r.values["linh_vuc"]] = expected.get(r.values["linh_vuc"], 0) + pending
    assert carried == expected
    assert [tuple(r[:2]) for r in merged["Biên chế"][1:] if r and r[0]] == [
        ("UBND xã Long Trị", "Công chức"), ("UBND xã Hòa Thuận", "Công chức")]

    # -- Reopen one unit of the closed 2022S1 while 2022S2 runs: it fixes its mistake.
    ws = s2
    reopen_unit(ws, "2022S1", "XA_TH", dt.date(2022, 6, 30), actor="Trần Thị Hoa")
    assert not district.locked("XA_TH", "2022S1")
    district.type_value("XA_TH", "Biên chế", 2, "Biên chế hiện có", 15, period="2022S1")
    clock.now = vn("2022-06-26")
    result = sync_once(ws)
    assert result.units_read >= 1
    assert not [f for f in ws.archive.open_findings("2022S1") if f.unit == "XA_TH"]
    # After the reopen expires the sheet is locked again.
    clock.now = vn("2022-07-01")
    sync_once(ws)
    assert district.locked("XA_TH", "2022S1")

    # -- 2022S2: the merged commune changes a carried number and explains why.
    field = next(iter(carried))
    for offset, (name, pending) in enumerate(carried.items()):
        # The clerk completes each carried row (its total is required), in line with what
        # both communes received in 2022S1 (the first year compares with that half-year).
        district.type_value("XA_LTHT", TTHC, 2 + offset, "Tổng số hồ sơ tiếp nhận",
                            max(pending + 40, received_s1(s1_rows, name)))
    district.type_value("XA_LTHT", TTHC, 2, "Từ kỳ trước chuyển qua", carried[field] + 3)
    district.type_value("XA_LTHT", TTHC, 2, "Giải trình", EXPLANATION)
    district.type_rows("XA_LTHT", {"Thông tin": [{"Trạng thái": "Hoàn thành"}]})
    clock.now = vn("2022-12-10")
    sync_once(ws)
    (warning,) = [f for f in ws.archive.open_findings("2022S2") if f.unit == "XA_LTHT"]
    assert warning.rule == "tthc.tu-ky-truoc"
    assert warning.explained == EXPLANATION
    note, _ = district.cell_flag("XA_LTHT", TTHC, 2, "Từ kỳ trước chuyển qua")
    assert "Đã giải trình" in note
    tab = district.tabs("XA_LTHT")[TTHC]
    assert "đã giải trình" in tab[1][tab[0].index("Kết quả kiểm tra")]
    listed = [r for r in district.master("2022S2")["Bất thường"][1:] if r and r[0] == "XA_LTHT"]
    assert listed and listed[0][8] == EXPLANATION

    # 2022S1 still rolls up with its own twelve units; its approval shows.
    old = ws.for_period("2022S1")
    assert len(old.units) == 12
    progress = {p.unit.code: p for p in unit_progress(old)}
    assert progress["VP"].approved_by == COORDINATOR and progress["VP"].approved_at

    # The audit log holds every action, who and when.
    actions = [(e["action"], e["period"], e["unit"]) for e in audit_log(ws.archive)]
    for wanted in [("close", "2022S1", None), ("approve", "2022S1", "VP"),
                   ("open", "2022S2", None), ("reopen", "2022S1", "XA_TH"),
                   ("lock", "2022S1", "XA_TH"), ("unlock", "2022S1", "XA_TH")]:
        assert wanted in actions
    log_text = CliRunner().invoke(cli, ["period", "log", "--config", str(ws.config.path)]).output
    assert "Phê duyệt" in log_text and COORDINATOR in log_text


def received_s1(s1_rows, field: str) -> int:
    """What the merged commune's predecessors received in 2022S1 for one field."""
    return sum(r.values.get("tong_tiep_nhan") or 0 for r in s1_rows
               if r.unit in ("XA_LT", "XA_HT") and r.table == "tthc"
               and r.values["linh_vuc"] == field)
