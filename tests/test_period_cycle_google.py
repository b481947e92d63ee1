"""The two-period scenario of test_period_cycle.py on the Google backend (the fake Google
APIs over real HTTP, real gspread and google-auth): one late unit, one reopen, one
approval, one merged commune and one explained warning."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from openpyxl.utils import get_column_letter

from cchc_sync.app.demo_data import DISTRICT
from cchc_sync.app.demo_google import fill_demo_google
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import open_workspace, sync_once, unit_progress
from cchc_sync.app.workflow import approve_unit, open_period, reopen_unit
from cchc_sync.domain.config import GoogleSettings, load_config
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.sources.google.create import LOCK_DESCRIPTION
from cchc_sync.store.period_state import FINAL, audit_log, get_period
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from tests.conftest import Clock
from tests.test_period_cycle import MERGED_UNITS, SUCCESSORS, vn

FAST = 100_000  # the fake has no quota


def a1(ws, table: str, column: str | None, row: int) -> str:
    """Where a column of a table sits in a unit spreadsheet made from the templates."""
    spec = ws.templates.table(table)
    keys = [c.key for c in spec.columns] + ["__explanation__"]
    return f"{get_column_letter(keys.index(column or '__explanation__') + 1)}{row}"


def values(fake: FakeGoogle, sid: str, tab: str) -> list[list[Any]]:
    dump = fake.spreadsheet(sid)
    sheet = next(s for s in dump["sheets"] if s["title"] == tab)
    rows: dict[int, dict[int, Any]] = {}
    for ref, cell in sheet["cells"].items():
        value = cell.get("effectiveValue")
        if not value:
            continue
        letters = "".join(ch for ch in ref if ch.isalpha())
        number = int(ref[len(letters):])
        col = 0
        for ch in letters:
            col = col * 26 + ord(ch) - 64
        rows.setdefault(number, {})[col] = next(iter(value.values()))
    return [[rows[r].get(c) for c in range(1, max(rows[r]) + 1)] for r in sorted(rows)]


def locked(fake: FakeGoogle, sid: str) -> bool:
    dump = fake.spreadsheet(sid)
    return any(p.get("description") == LOCK_DESCRIPTION
               for s in dump["sheets"] for p in s.get("protectedRanges", []))


@pytest.fixture
def google_ws(tmp_path):
    (tmp_path / "units.csv").write_text(MERGED_UNITS, encoding="utf-8")
    (tmp_path / "successors.csv").write_text(SUCCESSORS, encoding="utf-8")
    fake = FakeGoogle().start()
    key = tmp_path / "service-account.json"
    fake.register_key(make_service_account_key(key, fake.token_uri, DEFAULT_EMAIL))
    folder = fake.create_folder("Báo cáo CCHC", share_with=DEFAULT_EMAIL)
    google = GoogleSettings(credentials=key, folder=folder, endpoint=fake.url,
                            reads_per_minute=FAST, writes_per_minute=FAST)
    backend: list[GoogleBackend] = []

    def factory(config):
        backend.append(GoogleBackend.from_config(config))
        return backend[-1]

    ws = init_workspace(tmp_path / "ws", units_csv=tmp_path / "units.csv", period="2022S1",
                        backend="google", name=DISTRICT, google=google, backend_factory=factory,
                        successors_csv=tmp_path / "successors.csv")
    config = ws.config.path
    ws.close()
    clock = Clock(vn("2022-06-10"))
    ws = open_workspace(load_config(config), backend=backend[0], clock=clock)
    yield ws, clock, fake
    ws.close()
    fake.stop()


def test_two_periods_on_google(google_ws):
    ws, clock, fake = google_ws
    sid = {code: s.ref for code, s in ws.archive.sheets("2022S1").items()}
    assert set(sid) == {u.code for u in ws.units} and "XA_LTHT" not in sid
    fill_demo_google(ws, fake)
    sync_once(ws)

    # Late sign-off.
    clock.now = vn("2022-06-19")
    fake.edit_cells(sid["TT_SM"], "Thông tin", a1(ws, "thong_tin", "trang_thai", 2),
                    [["Hoàn thành"]])
    sync_once(ws)
    progress = {p.unit.code: p for p in unit_progress(ws)}
    assert progress["TT_SM"].on_time is False and progress["VP"].on_time is True

    # The lock day: final, every sheet protected.
    clock.now = vn("2022-06-20")
    sync_once(ws)
    assert get_period(ws.archive, "2022S1").state == FINAL
    assert all(locked(fake, s) for s in sid.values())
    assert unit_progress(ws)[0].read_only

    approve_unit(ws, "2022S1", "VP", actor="Trần Thị Hoa (Phòng Nội vụ)")

    # Open 2022S2: the merged commune gets one spreadsheet with both communes' fields.
    clock.now = vn("2022-06-25")
    s1_rows = ws.archive.current_rows("2022S1")
    s2 = open_period(ws, "2022S2", actor="Trần Thị Hoa (Phòng Nội vụ)")
    sid2 = {code: s.ref for code, s in s2.archive.sheets("2022S2").items()}
    assert "XA_LTHT" in sid2 and "XA_LT" not in sid2 and "XA_HT" not in sid2
    carried = {r[0]: r[1] for r in values(fake, sid2["XA_LTHT"], "Giải quyết TTHC")[1:] if r}
    expected: dict[str, int] = {}
    for r in s1_rows:
        if r.unit in ("XA_LT", "XA_HT") and r.table == "tthc":
            pending = (r.values.get("dang_trong_han") or 0) + (r.values.get("dang_qua_han") or 0)
            expected[r.values["linh_vuc"]] = expected.get(r.values["linh_vuc"], 0) + pending
    assert carried == expected

    # Reopen one unit of 2022S1 while 2022S2 runs; it fixes "15/16".
    reopen_unit(s2, "2022S1", "XA_TH", dt.date(2022, 6, 30), actor="Trần Thị Hoa")
    assert not locked(fake, sid["XA_TH"])
    fake.edit_cells(sid["XA_TH"], "Biên chế", a1(ws, "bien_che", "hien_co", 2), [["15"]])
    clock.now = vn("2022-06-26")
    sync_once(s2)
    assert not [f for f in s2.archive.open_findings("2022S1") if f.unit == "XA_TH"]
    clock.now = vn("2022-07-01")
    sync_once(s2)
    assert locked(fake, sid["XA_TH"])

    # 2022S2: a changed carried number, explained.
    merged = sid2["XA_LTHT"]
    for offset, (name, pending) in enumerate(carried.items()):
        # In line with 2022S1 (the first year compares with the previous half-year).
        total = max(pending + 40, received_s1(s1_rows, name))
        fake.edit_cells(merged, "Giải quyết TTHC",
                        a1(ws, "tthc", "tong_tiep_nhan", 2 + offset), [[str(total)]])
    first = next(iter(carried.values()))
    fake.edit_cells(merged, "Giải quyết TTHC", a1(ws, "tthc", "tu_ky_truoc", 2),
                    [[str(first + 3)]])
    fake.edit_cells(merged, "Giải quyết TTHC", a1(ws, "tthc", None, 2),
                    [["Nhận thêm 3 hồ sơ chuyển từ xã Hòa Thuận sau sáp nhập"]])
    clock.now = vn("2022-12-10")
    sync_once(s2)
    (warning,) = [f for f in s2.archive.open_findings("2022S2") if f.unit == "XA_LTHT"]
    assert warning.rule == "tthc.tu-ky-truoc"
    assert warning.explained == "Nhận thêm 3 hồ sơ chuyển từ xã Hòa Thuận sau sáp nhập"
    tab = values(fake, merged, "Giải quyết TTHC")
    status_col = tab[0].index("Kết quả kiểm tra")
    assert "đã giải trình" in tab[1][status_col]

    old = s2.for_period("2022S1")
    assert len(old.units) == 12
    assert {p.unit.code: p for p in unit_progress(old)}["VP"].approved_at
    actions = {(e["action"], e["period"], e["unit"]) for e in audit_log(ws.archive)}
    assert {("close", "2022S1", None), ("approve", "2022S1", "VP"), ("open", "2022S2", None),
            ("reopen", "2022S1", "XA_TH"), ("lock", "2022S1", "XA_TH")} <= actions


def received_s1(s1_rows, field: str) -> int:
    """What the merged commune's predecessors received in 2022S1 for one field."""
    return sum(r.values.get("tong_tiep_nhan") or 0 for r in s1_rows
               if r.unit in ("XA_LT", "XA_HT") and r.table == "tthc"
               and r.values["linh_vuc"] == field)
