"""Locked sheets (issue 14, point 6) on the local and the Google backend (the fake Google
APIs over real HTTP), submission times the software can vouch for (issue 16, point 3) and a
row's history (issue 14, point 8), through the CLI."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
import stat

import openpyxl
import pytest
from click.testing import CliRunner
from openpyxl.utils import get_column_letter

from cchc_sync.app.cli import cli
from cchc_sync.app.pipeline import sync_once
from cchc_sync.publish.master import PROGRESS_TAB
from cchc_sync.sources.google.create import LOCK_DESCRIPTION
from cchc_sync.store.period_state import audit_log
from cchc_sync.testing.typist import set_cell
from tests.conftest import make_district
from tests.contract.districts import GoogleDistrict
from tests.test_period_cycle import vn
from tests.test_period_workflow import master_progress


def writable(path) -> bool:
    return bool(os.stat(path).st_mode & stat.S_IWUSR)


def sheet_path(ws, unit, period=None):
    period = period or ws.period.code
    return ws.config.root / ws.archive.sheets(period)[unit].ref

LOCK_LINE = "BẢNG TÍNH CHỈ CÒN ĐỂ XEM"
CLERK = "can-bo.phuoc-hoa@example.gov.vn"


def run(*args: str, quiet: bool = True) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-q", *args] if quiet else list(args),
                                catch_exceptions=False)
    return result.exit_code, result.output


def status(ws, *args: str) -> dict[str, dict]:
    code, out = run("status", "--json", *args, "--config", str(ws.config.path))
    assert code == 0, out
    return {u["unit"]: u for u in json.loads(out)}


def check_tab_text(path) -> str:
    wb = openpyxl.load_workbook(path)
    return "\n".join(str(c) for r in wb["Kiểm tra"].iter_rows(values_only=True) for c in r if c)


def actions(ws, unit: str) -> list[str]:
    return [e["action"] for e in audit_log(ws.archive, "2022S1") if e["unit"] == unit]


class LocalSite:
    """The sample district in a folder of workbooks; a clerk is the file's owner."""

    kind = "local"
    settle_cycles = 1
    """Cycles after a relock before nothing more is noticed."""

    def __init__(self, ws, clock) -> None:
        self.ws, self.clock = ws, clock
        self.person = getpass.getuser()  # who saved a workbook: its owner

    def edit(self, unit: str, value: int) -> None:
        set_cell(sheet_path(self.ws, unit), "Đào tạo, bồi dưỡng", 2, "Số lượt người", value)

    def unlock_by_hand(self, unit: str) -> None:
        os.chmod(sheet_path(self.ws, unit), 0o664)  # the write bits given back

    def locked(self, unit: str) -> bool:
        return not writable(sheet_path(self.ws, unit))

    def check_text(self, unit: str) -> str:
        return check_tab_text(sheet_path(self.ws, unit))

    def progress(self, unit: str) -> dict:
        return master_progress(self.ws, "2022S1", unit)


class GoogleSite:
    """The sample district on the fake Google APIs; a clerk edits as a Google account."""

    kind = "google"
    settle_cycles = 2
    """The relock and our flag write move Drive's version: checked once more."""

    def __init__(self, district) -> None:
        self.district, self.ws, self.clock = district, district.ws, district.clock
        self.person = CLERK  # who saved it: Drive's lastModifyingUser

    def edit(self, unit: str, value: int) -> None:
        self.district.fake.edit_cells(self.district.sheet_id(unit), "Đào tạo, bồi dưỡng",
                                      a1(self.ws, "dao_tao", "so_nguoi", 2), [[str(value)]],
                                      user=CLERK)

    def unlock_by_hand(self, unit: str) -> None:
        remove_protection_by_hand(self.district.fake, self.district.sheet_id(unit), CLERK)

    def locked(self, unit: str) -> bool:
        return self.district.locked(unit)

    def check_text(self, unit: str) -> str:
        return "\n".join(str(c) for r in self.district.tabs(unit)["Kiểm tra"] for c in r if c)

    def progress(self, unit: str) -> dict:
        rows = self.district.master()[PROGRESS_TAB]
        return next(dict(zip(rows[0], r, strict=False)) for r in rows[1:] if r[0] == unit)


def remove_protection_by_hand(fake, sid: str, person: str) -> None:
    """What an owner does in the Sheets UI: Data > Protect sheets > delete."""
    with fake.store.lock:
        file = fake.store.files[sid]
        ss = file.spreadsheet.clone()
        for sheet in ss.sheets:
            sheet.protected = [p for p in sheet.protected
                               if p.get("description") != LOCK_DESCRIPTION]
        file.spreadsheet = ss
        fake.store.bump(file, person)


def a1(ws, table: str, column: str, row: int) -> str:
    """Where a column of a table sits in a unit spreadsheet made from the templates."""
    keys = [c.key for c in ws.templates.table(table).columns]
    return f"{get_column_letter(keys.index(column) + 1)}{row}"


@pytest.fixture(params=["local", "google"])
def site(request, tmp_path, clock):
    if request.param == "local":
        ws = make_district(tmp_path / "district", clock=clock)
        yield LocalSite(ws, clock)
        ws.close()
        return
    district = GoogleDistrict(tmp_path / "google")
    district.clock.now = vn("2022-06-10")
    yield GoogleSite(district)
    district.close()


def test_a_locked_sheet_says_so_notices_late_edits_and_relocks(site):
    """The same on both backends: the lock notice in "Kiểm tra", an edit saved after the
    lock noticed once (not archived), the lock redone (write bits / protection given back
    by hand), the edit taken in on reopen, and who saved each version."""
    ws, clock = site.ws, site.clock
    sync_once(ws)
    assert LOCK_LINE not in site.check_text("XA_PH")
    # Who saved a version: the workbook's owner; Drive's lastModifyingUser.
    site.edit("XA_PH", 41)
    clock.tick(10)
    sync_once(ws)
    code, out = run("history", "--unit", "xa_ph", "--table", "dao_tao", "--json",
                    "--config", str(ws.config.path))
    assert code == 0, out
    versions = [v for v in json.loads(out) if v["values"] and v["values"].get("so_nguoi") == 41]
    assert versions and versions[-1]["saved_by"] == site.person

    clock.now = vn("2022-06-20")  # the lock day
    result = sync_once(ws)
    assert site.locked("XA_PH")
    # Where the clerk looks: the period is closed, changes are not taken, whom to ask.
    text = site.check_text("XA_PH")
    assert LOCK_LINE in text and "khoá sổ từ ngày 20/6/2022" in text
    assert "không được ghi nhận" in text and "liên hệ bộ phận tổng hợp" in text
    assert result.period_closed

    # `sync` says why nothing was read.
    code, out = run("sync", "--config", str(ws.config.path), quiet=False)
    assert code == 0
    assert "Kỳ 2022S1 đã khoá sổ từ ngày 20/06/2022" in out and "12/12 đơn vị" in out
    assert "period reopen" in out

    # A clerk undoes the lock and saves a change anyway.
    before = ws.archive.row_versions("2022S1")
    site.unlock_by_hand("XA_PH")
    site.edit("XA_PH", 99)
    clock.now = vn("2022-06-21")
    result = sync_once(ws)
    assert result.units_read == 0 and ws.archive.row_versions("2022S1") == before
    assert site.locked("XA_PH")  # the lock is redone
    assert result.relocked == ["2022S1/XA_PH"] and result.late_edits == ["2022S1/XA_PH"]
    assert actions(ws, "XA_PH")[-2:] == ["late-edit", "relock"]
    # Shown to the coordinator: status, "Tiến độ"; and to the clerk in "Kiểm tra".
    seen = status(ws)["XA_PH"]
    assert seen["late_edit_at"] and seen["read_only"]
    assert status(ws)["VP"]["late_edit_at"] is None
    code, out = run("status", "--config", str(ws.config.path))
    assert "sửa sau khoá lúc" in out
    assert "đã sửa sau khi khoá" in site.progress("XA_PH")["Khoá"]
    assert site.progress("VP")["Khoá"] == "Chỉ xem"
    assert "đã được lưu lúc" in site.check_text("XA_PH")
    # Noticed once, not at every cycle.
    for _ in range(site.settle_cycles):
        clock.tick(10)
        result = sync_once(ws)
    assert result.late_edits == [] and result.relocked == []
    assert actions(ws, "XA_PH").count("late-edit") == 1

    # The lock undone without an edit: relocked, logged, no late edit.
    site.unlock_by_hand("VP")
    clock.tick(10)
    result = sync_once(ws)
    assert result.relocked == ["2022S1/VP"] and site.locked("VP")
    assert "late-edit" not in actions(ws, "VP")

    # Reopened: the late edit is read and archived.
    until = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    code, out = run("period", "reopen", "2022S1", "--unit", "XA_PH", "--until", until,
                    "--config", str(ws.config.path))
    assert code == 0, out
    assert not site.locked("XA_PH")
    clock.tick(10)
    result = sync_once(ws)
    assert result.units_read == 1
    rows = [r for r in ws.archive.current_rows("2022S1", unit="XA_PH") if r.table == "dao_tao"]
    assert any(r.values.get("so_nguoi") == 99 for r in rows)
    assert status(ws)["XA_PH"]["late_edit_at"] is None
    assert LOCK_LINE not in site.check_text("XA_PH")


def test_backdating_a_late_sign_off_does_not_make_it_on_time(district, clock):
    ws = district
    config = str(ws.config.path)
    sync_once(ws)  # 10/06: every sheet read once
    # (The files made by this test are dated today, in the future of the test's clock.)
    distrusted = actions(ws, "TCKH").count("untrusted-time")
    # A time inside the window since the software last looked is believed: the daemon was
    # down from 10/06 to 19/06 and TCKH signed off on 15/06, on time.
    path = sheet_path(ws, "TCKH")
    set_cell(path, "Thông tin", 2, "Trạng thái", "Hoàn thành")
    saved = vn("2022-06-15").timestamp()
    os.utime(path, (saved, saved))
    clock.now = vn("2022-06-19")
    sync_once(ws)
    tckh = status(ws)["TCKH"]
    assert tckh["on_time"] is True and tckh["submitted_at"] == vn("2022-06-15").isoformat()
    assert actions(ws, "TCKH").count("untrusted-time") == distrusted

    # TT_SM signs off ten minutes later, two days late, then sets the file's time back to
    # 12/06: before the cycle that had just listed the file unchanged.
    clock.tick(10)
    path = sheet_path(ws, "TT_SM")
    set_cell(path, "Thông tin", 2, "Trạng thái", "Hoàn thành")
    backdated = vn("2022-06-12").timestamp()
    os.utime(path, (backdated, backdated))
    sync_once(ws)
    tt = status(ws)["TT_SM"]
    assert tt["state"] == "submitted" and tt["on_time"] is False
    assert tt["submitted_at"] == clock.now.isoformat()
    entry = [e for e in audit_log(ws.archive, "2022S1")
             if e["unit"] == "TT_SM" and e["action"] == "untrusted-time"][-1]
    assert "sớm hơn lần phần mềm xem tệp trước đó" in entry["detail"]
    code, out = run("period", "log", "2022S1", "--config", config)
    assert "Thời điểm tệp không tin được" in out

    # A time in the future is not believed either.
    path = sheet_path(ws, "NV")
    set_cell(path, "Đào tạo, bồi dưỡng", 2, "Số lượt người", 7)
    future = vn("2030-01-01").timestamp()
    os.utime(path, (future, future))
    clock.tick(10)
    sync_once(ws)
    entries = [e for e in audit_log(ws.archive, "2022S1")
               if e["unit"] == "NV" and e["action"] == "untrusted-time"]
    assert "ở tương lai" in entries[-1]["detail"]
    assert status(ws)["NV"]["last_edit"] == clock.now.isoformat()


def test_history_of_a_row(district, clock):
    ws = district
    config = str(ws.config.path)
    sync_once(ws)
    path = sheet_path(ws, "VP")
    wb = openpyxl.load_workbook(path)
    field = wb["Giải quyết TTHC"]["A2"].value
    set_cell(path, "Giải quyết TTHC", 2, "Đã giải quyết quá hạn", 5)
    clock.tick(10)
    sync_once(ws)
    code, out = run("history", "--unit", "VP", "--table", "tthc", "--row", field, "--json",
                    "--config", config)
    assert code == 0, out
    versions = json.loads(out)
    assert [v["version"] for v in versions] == [1, 2]
    assert versions[1]["values"]["qua_han"] == 5
    assert versions[0]["values"]["qua_han"] != 5
    assert versions[0]["run_id"] < versions[1]["run_id"]
    assert versions[1]["first_seen"] == clock.now.isoformat()
    assert {v["saved_by"] for v in versions} == {getpass.getuser()}
    code, out = run("history", "--unit", "VP", "--table", "tthc", "--row", field,
                    "--config", config)
    assert code == 0
    assert "Phiên bản 2" in out and "Đã giải quyết quá hạn:" in out and "→ 5" in out
    assert f"người lưu: {getpass.getuser()}" in out
    # Every row of the table without --row; unknown names are usage errors.
    code, out = run("history", "--unit", "VP", "--table", "tthc", "--json", "--config", config)
    assert json.loads(out) == versions  # VP has one field of procedures
    for args in (["--unit", "XX", "--table", "tthc"], ["--unit", "VP", "--table", "nope"],
                 ["--unit", "VP", "--table", "tthc", "--row", "không có"]):
        code, out = run("history", *args, "--config", config)
        assert code == 2 and out.count("\n") == 1
