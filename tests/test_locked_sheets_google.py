"""Locked sheets and row history on the Google backend (the fake Google APIs over real
HTTP): the lock notice in "Kiểm tra", a protection removed by hand redone, an edit saved
after the lock noticed and taken in on reopen, and who saved each version (Drive's
lastModifyingUser)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from openpyxl.utils import get_column_letter

from cchc_sync.app.demo_data import DISTRICT
from cchc_sync.app.demo_google import fill_demo_google
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import open_workspace, sync_once
from cchc_sync.domain.config import GoogleSettings, load_config
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.sources.google.create import LOCK_DESCRIPTION
from cchc_sync.store.period_state import audit_log
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from tests.conftest import Clock
from tests.test_locked_sheets import LOCK_LINE, run, status
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
