"""Issue 14 on the Google backend where it behaves differently from the local one: a closed
period's master (a spreadsheet of its own on Google) shows its workflow state after the
next cycle — an approval, its withdrawal, an edit saved into a locked sheet — and is not
rewritten while nothing of that period changes. One district, one run (the cached
GoogleDistrict, a service account in a shared drive)."""

from __future__ import annotations

import json

from cchc_sync.app.demo_google import type_table
from cchc_sync.app.pipeline import sync_once
from cchc_sync.app.workflow import open_period
from cchc_sync.publish.master import PROGRESS_TAB
from tests.contract.districts import GoogleDistrict
from tests.test_faults import subset_csv
from tests.test_locked_sheets import CLERK, a1, remove_protection_by_hand
from tests.test_period_cycle import vn
from tests.test_period_workflow import COORDINATOR, run


def progress(district: GoogleDistrict, unit: str) -> dict:
    """The unit's line in "Tiến độ" of 2022S1's master, as the spreadsheet holds it."""
    rows = district.master("2022S1")[PROGRESS_TAB]
    header = rows[0]
    line = next(r for r in rows[1:] if r and r[0] == unit)
    return dict(zip(header, [*line, *[None] * (len(header) - len(line))], strict=True))


TTHC = {"linh_vuc": "Tư pháp", "tu_ky_truoc": 1, "truc_tuyen": 2, "truc_tiep": 3,
        "tong_tiep_nhan": 6, "truoc_han": 2, "dung_han": 2, "qua_han": 1, "dang_trong_han": 1,
        "dang_qua_han": 0}


def test_a_closed_periods_master_on_google_follows_its_workflow_state(tmp_path):
    # Three units of the sample district (every step below costs Google requests per unit),
    # each with a row of figures; VP signed off, TP and XA_PH are still entering.
    district = GoogleDistrict(tmp_path / "d", units_csv=subset_csv(("VP", "TP", "XA_PH")),
                              fill=False)
    try:
        clock, config = district.clock, str(district.ws.config.path)
        for unit in ("VP", "TP", "XA_PH"):
            sid, table = district.sheet_id(unit), district.ws.templates.table
            type_table(district.fake, sid, table("tthc"), [TTHC])
            type_table(district.fake, sid, table("thong_tin"), [{
                "nguoi_lap": "Nguyễn Thị Lan",
                "trang_thai": "Hoàn thành" if unit == "VP" else "Đang nhập"}])
        clock.tick(10)
        sync_once(district.ws)
        clock.now = vn("2022-06-25")
        s2 = district.ws = open_period(district.ws, "2022S2", actor=COORDINATOR)
        sync_once(s2)
        s1_master = district.master_ref("2022S1").ref
        vp = district.sheet_id("VP", "2022S1")
        assert district.locked("VP", "2022S1")  # 2022S1 is final: its sheets read only

        def cycle() -> int:
            """One cycle of the current period; the requests that wrote 2022S1's master."""
            district.fake.reset_stats()
            district.fake.record_bodies()
            clock.tick(10)
            sync_once(s2)
            return sum(1 for e in district.fake.requests()
                       if e["path"].endswith(f"/{s1_master}:batchUpdate"))

        cycle()
        assert cycle() == 0  # nothing of 2022S1 changed: its master is not rewritten
        assert progress(district, "VP")["Phê duyệt"] is None

        assert run("approve", "2022S1", "--unit", "VP", "--by", COORDINATOR,
                   "--config", config)[0] == 0
        assert cycle() >= 1
        assert progress(district, "VP")["Phê duyệt"].endswith(f"({COORDINATOR})")
        assert cycle() == 0

        assert run("unapprove", "2022S1", "--unit", "VP", "--reason", "Cần sửa",
                   "--config", config)[0] == 0
        assert cycle() >= 1
        assert progress(district, "VP")["Phê duyệt"] is None

        # Point 6 on Google for a closed period: someone removes the protection of a
        # 2022S1 sheet and types. The edit is not taken; the lock is redone; the coordinator
        # sees it in 2022S1's "Tiến độ" and in `status --period 2022S1`, the clerk in
        # "Kiểm tra".
        before = s2.archive.row_versions("2022S1")
        remove_protection_by_hand(district.fake, vp, CLERK)
        district.fake.edit_cells(vp, "Đào tạo, bồi dưỡng",
                                 a1(s2, "dao_tao", "so_nguoi", 2), [["99"]], user=CLERK)
        assert cycle() >= 1
        assert district.locked("VP", "2022S1")  # redone
        assert s2.archive.row_versions("2022S1") == before
        assert "đã sửa sau khi khoá" in progress(district, "VP")["Khoá"]
        assert progress(district, "TP")["Khoá"] == "Chỉ xem"
        code, out = run("status", "--json", "--period", "2022S1", "--config", config)
        seen = {u["unit"]: u for u in json.loads(out)}
        assert code == 0 and seen["VP"]["late_edit_at"] and seen["VP"]["read_only"]
        check = district.tabs("VP", "2022S1")["Kiểm tra"]
        assert "đã được lưu lúc" in "\n".join(str(c) for r in check for c in r if c)
        assert cycle() == 0  # noticed once
    finally:
        district.close()
