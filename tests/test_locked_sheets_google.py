"""Locked sheets and row history on the Google backend (the fake Google APIs over real
HTTP): the lock notice in "Kiểm tra", a protection removed by hand redone, an edit saved
after the lock noticed and taken in on reopen, and who saved each version (Drive's
lastModifyingUser)."""

from __future__ import annotations

import datetime as dt
import json

from cchc_sync.app.demo_google import fill_demo_google
from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.google.create import LOCK_DESCRIPTION
from cchc_sync.store.period_state import audit_log
from tests.test_locked_sheets import LOCK_LINE, run, status
from tests.test_period_cycle import vn
from tests.test_period_cycle_google import (
    a1,
    google_ws,  # noqa: F401  (the fixture)
    locked,
    values,
)

CLERK = "can-bo.phuoc-hoa@example.gov.vn"


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


def check_text(fake, sid: str) -> str:
    return "\n".join(str(c) for r in values(fake, sid, "Kiểm tra") for c in r if c)


def test_locked_google_sheet_relocked_late_edit_noticed_history(google_ws):  # noqa: F811
    ws, clock, fake = google_ws
    sid = {code: s.ref for code, s in ws.archive.sheets("2022S1").items()}
    fill_demo_google(ws, fake)
    sync_once(ws)
    # Who saved it: the clerk's edit, as Drive's lastModifyingUser.
    fake.edit_cells(sid["XA_PH"], "Đào tạo, bồi dưỡng", a1(ws, "dao_tao", "so_nguoi", 2),
                    [["41"]], user=CLERK)
    clock.tick(10)
    sync_once(ws)
    code, out = run("history", "--unit", "xa_ph", "--table", "dao_tao", "--json",
                    "--config", str(ws.config.path))
    assert code == 0, out
    versions = [v for v in json.loads(out) if v["values"] and v["values"].get("so_nguoi") == 41]
    assert versions and versions[-1]["saved_by"] == CLERK

    clock.now = vn("2022-06-20")  # the lock day
    sync_once(ws)
    assert locked(fake, sid["XA_PH"])
    text = check_text(fake, sid["XA_PH"])
    assert LOCK_LINE in text and "không được ghi nhận" in text

    # Somebody removes the protection and types a new figure.
    before = ws.archive.row_versions("2022S1")
    remove_protection_by_hand(fake, sid["XA_PH"], CLERK)
    fake.edit_cells(sid["XA_PH"], "Đào tạo, bồi dưỡng", a1(ws, "dao_tao", "so_nguoi", 2),
                    [["99"]], user=CLERK)
    clock.tick(10)
    result = sync_once(ws)
    assert locked(fake, sid["XA_PH"])  # redone
    assert result.relocked == ["2022S1/XA_PH"] and result.late_edits == ["2022S1/XA_PH"]
    assert ws.archive.row_versions("2022S1") == before
    actions = [e["action"] for e in audit_log(ws.archive, "2022S1") if e["unit"] == "XA_PH"]
    assert actions[-2:] == ["late-edit", "relock"]
    assert status(ws)["XA_PH"]["late_edit_at"]
    assert "đã được lưu lúc" in check_text(fake, sid["XA_PH"])
    # The relock and our flag write move Drive's version: checked once more, not logged again.
    clock.tick(10)
    result = sync_once(ws)
    clock.tick(10)
    result = sync_once(ws)
    assert result.relocked == [] and result.late_edits == []

    # Reopened: the edit is taken in.
    until = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    code, out = run("period", "reopen", "2022S1", "--unit", "XA_PH", "--until", until,
                    "--config", str(ws.config.path))
    assert code == 0, out
    assert not locked(fake, sid["XA_PH"])
    clock.tick(10)
    sync_once(ws)
    rows = [r for r in ws.archive.current_rows("2022S1", unit="XA_PH") if r.table == "dao_tao"]
    assert any(r.values.get("so_nguoi") == 99 for r in rows)
    assert status(ws)["XA_PH"]["late_edit_at"] is None
