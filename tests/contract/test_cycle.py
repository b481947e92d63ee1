"""The whole cycle on every backend: init → fill as clerks do → sync → the same findings,
the same master figures, flags visible in the units' own sheets, typed values untouched →
fix one value → sync → its flag cleared.

The local backend runs on real .xlsx files, the Google backend on the fake Google APIs
over real HTTP with real gspread and google-auth, the memory backend on Python values
(tests/contract/districts.py). The other files of this folder hold the backends to the
same behaviour method by method.
"""

from __future__ import annotations

import math

import pytest

from cchc_sync.app.demo_data import MISTAKES
from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.base import ERROR_FILL, WARNING_FILL
from cchc_sync.testing.keys import DEFAULT_EMAIL
from tests.contract.districts import (
    BACKENDS,
    PERIOD,
    SOFTWARE_TABS,
    finding_keys,
    make,
    status_cells,
    summary,
    typed_values,
)

# -- the contract --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synced(tmp_path_factory):
    """Every backend, each with the sample district filled and checked once."""
    out = {}
    for kind in BACKENDS:
        district = make(kind, tmp_path_factory.mktemp(kind))
        district.before = {u.code: typed_values(district, u.code) for u in district.ws.units}
        if kind == "memory":
            district.typed_layer = {u.code: district.memory.sheet(district.ref(u.code))
                                    .typed_values() for u in district.ws.units}
        district.result = sync_once(district.ws)
        out[kind] = district
    yield out
    for district in out.values():
        district.close()


@pytest.mark.parametrize("kind", BACKENDS)
def test_each_backend_finds_exactly_the_mistakes(synced, kind):
    district = synced[kind]
    assert district.result.units_read == 12
    assert finding_keys(district.ws) == set(MISTAKES)


@pytest.mark.parametrize("kind", ["google", "memory"])
def test_every_backend_agrees_with_local_on_findings_rows_and_figures(synced, kind):
    local, google = synced["local"], synced[kind]
    assert finding_keys(google.ws) == finding_keys(local.ws)

    def findings(ws):
        return {(f.unit, f.table, f.row, f.column, f.rule): f
                for f in ws.archive.open_findings(PERIOD)}

    local_findings, google_findings = findings(local.ws), findings(google.ws)
    assert google_findings.keys() == local_findings.keys()
    for key, found in google_findings.items():
        typed = local_findings[key]
        if isinstance(typed.value, str) and isinstance(found.value, int | float):
            # "1,5" stays text in the local typist's cell; Sheets in vi_VN stores the number
            # 1.5, and the message says what the cell holds. Same value, same rule.
            assert float(typed.value.replace(".", "").replace(",", ".")) == found.value, key
            continue
        assert found.message == typed.message, key

    def rows(ws):
        return {(r.unit, r.table, r.key): {k: round(v, 6) if isinstance(v, float) else v
                                           for k, v in r.values.items()}
                for r in ws.archive.current_rows(PERIOD)}

    assert rows(google.ws) == rows(local.ws)
    local_summary, google_summary = summary(local), summary(google)
    assert google_summary == local_summary
    assert local_summary["tthc.tiep_nhan"]["Toàn huyện Sông Mây"] > 0


@pytest.mark.parametrize("kind", BACKENDS)
def test_master_has_every_tab(synced, kind):
    master = synced[kind].master()
    assert list(master)[:3] == ["Tổng hợp", "Tiến độ", "Bất thường"]
    assert "Giải quyết TTHC" in master and "Thông tin" in master
    progress = master["Tiến độ"]
    assert progress[0][0] == "Mã đơn vị"
    assert {row[0] for row in progress[1:] if row} >= {u.code for u in synced[kind].ws.units}


@pytest.mark.parametrize("kind", BACKENDS)
def test_flags_are_visible_in_the_units_own_sheet(synced, kind):
    district = synced[kind]
    note, fill = district.cell_flag("XA_LT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận")
    assert fill == ERROR_FILL
    assert note and "Tổng số hồ sơ tiếp nhận" in note
    statuses = status_cells(district, "XA_LT", "Giải quyết TTHC")
    assert statuses[0].startswith("✖ 2 lỗi")
    assert statuses[1] == "✔ Hợp lệ"
    check = "\n".join(str(v) for row in district.tabs("XA_LT")["Kiểm tra"] for v in row if v)
    assert "Kết quả kiểm tra lúc" in check and "Tổng số hồ sơ tiếp nhận" in check
    # A warning is yellow, and the unit's explanation shows.
    note, fill = district.cell_flag("XA_PH", "Dịch vụ công trực tuyến", 3, "Số thủ tục cung cấp")
    assert fill == WARNING_FILL
    assert "Đã giải trình" in note
    # A clean cell has neither.
    assert district.cell_flag("TP", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận") == (None, "")


@pytest.mark.parametrize("kind", BACKENDS)
def test_typed_values_are_untouched(synced, kind):
    district = synced[kind]
    for unit in district.ws.units:
        assert typed_values(district, unit.code) == district.before[unit.code], unit.code
    assert len(district.before["XA_LT"]) > 50


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_fixed_value_clears_its_flag_and_nothing_else_moves(tmp_path, kind):
    district = make(kind, tmp_path / kind)
    try:
        ws = district.ws
        sync_once(ws)
        district.clock.tick()
        sync_once(ws)  # Google re-reads each sheet once after its own flag write
        district.clock.tick()
        assert sync_once(ws).units_read == 0
        rows = district.tabs("XA_LT")["Giải quyết TTHC"]
        header = rows[0]
        parts = [rows[1][header.index(t)] for t in (
            "Từ kỳ trước chuyển qua", "Mới tiếp nhận trực tuyến",
            "Mới tiếp nhận trực tiếp, bưu chính")]
        right = sum(int(p) if isinstance(p, int | float) else int(str(p).replace(".", ""))
                    for p in parts)
        district.type_value("XA_LT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận",
                            f"{right:,}".replace(",", "."))
        before = {u.code: typed_values(district, u.code) for u in ws.units}
        district.clock.tick()
        result = sync_once(ws)
        assert result.units_read == 1
        assert not [k for k in finding_keys(ws) if k[0] == "XA_LT"]
        for unit in ws.units:
            assert typed_values(district, unit.code) == before[unit.code], unit.code
        assert district.cell_flag("XA_LT", "Giải quyết TTHC", 2,
                                  "Tổng số hồ sơ tiếp nhận") == (None, "")
        assert status_cells(district, "XA_LT", "Giải quyết TTHC")[0] == "✔ Hợp lệ"
        check = district.tabs("XA_LT")["Kiểm tra"]
        assert any("Không có lỗi nào." in str(v) for row in check for v in row)
        listed = {r[0] for r in district.master()["Bất thường"][1:]}
        assert "XA_LT" not in listed and "XA_TH" in listed
    finally:
        district.close()


def same_tabs_and_headers(local, other) -> tuple[dict, dict]:
    """Asserts the other backend's sheet of VP has the local workbook's tabs, in order,
    and its table tabs' header titles; returns both sheets' values."""
    local_tabs, other_tabs = local.tabs("VP"), other.tabs("VP")
    assert list(other_tabs) == list(local_tabs)
    for tab, rows in local_tabs.items():
        if tab not in SOFTWARE_TABS:
            assert other_tabs[tab][0] == [v for v in rows[0] if v is not None], tab
    return local_tabs, other_tabs


def test_google_sheet_is_made_like_the_local_workbook(synced):
    """Same tabs, same header titles, hidden metadata tab, protections on owned cells."""
    local, google = synced["local"], synced["google"]
    local_tabs, google_tabs = same_tabs_and_headers(local, google)
    assert google_tabs["Hướng dẫn"][:4] == [
        [v for v in row if v is not None] for row in local_tabs["Hướng dẫn"][:4]]
    instructions = "\n".join(str(r[0]) for r in google_tabs["Hướng dẫn"] if r)
    assert "đóng tệp" not in instructions and "tự lưu" in instructions
    assert "Văn phòng HĐND và UBND huyện (mã đơn vị: VP)" in instructions
    meta = dict((r[0], r[1]) for r in google_tabs["_cchc"][:8])
    assert meta["unit"] == "VP" and meta["template_version"] == "1"
    dump = google.fake.spreadsheet(google.sheet_id("VP"))
    assert dump["locale"] == "vi_VN"
    sheets = {s["title"]: s for s in dump["sheets"]}
    assert sheets["_cchc"]["hidden"] and sheets["Giải quyết TTHC"]["frozenRowCount"] == 1
    protected = {p["range"] for s in dump["sheets"] for p in s["protectedRanges"]}
    assert "'Giải quyết TTHC'!L1:L1000" in protected
    assert any(r.startswith("'Kiểm tra'!") for r in protected)
    for s in dump["sheets"]:
        for p in s["protectedRanges"]:
            assert p["editors"]["users"] == [DEFAULT_EMAIL]
    rules = sheets["Dịch vụ công trực tuyến"]["dataValidation"]
    assert rules["A2"]["condition"]["type"] == "ONE_OF_LIST" and rules["A2"]["strict"] is False
    assert sheets["Giải quyết TTHC"]["dataValidation"]["B2"]["condition"]["type"] == \
        "NUMBER_GREATER_THAN_EQ"
    assert sheets["Văn bản chỉ đạo"]["dataValidation"]["B2"]["condition"]["type"] == \
        "DATE_IS_VALID"
    formats = {a1: c.get("userEnteredFormat", {}).get("numberFormat")
               for a1, c in sheets["Dịch vụ công trực tuyến"]["cells"].items()}
    assert formats["E2"]["type"] == "PERCENT"
    assert "dd/mm/yyyy" in sheets["Văn bản chỉ đạo"]["cells"]["B2"]["userEnteredFormat"][
        "numberFormat"]["pattern"]
    header_note = sheets["Giải quyết TTHC"]["cells"]["A1"]["note"]
    assert header_note.startswith("Lĩnh vực\nKiểu:")
    writers = {p.get("emailAddress"): p["role"] for p in dump["permissions"]}
    assert writers["vanphong@songmay.example.gov.vn"] == "writer"
    master = google.fake.spreadsheet(google.ws.archive.master(PERIOD)["ref"])
    roles = {p.get("emailAddress"): p["role"] for p in master["permissions"]}
    assert roles["phongnoivu@example.gov.vn"] == "reader"
    assert dump["parents"] == [google.folder]


def test_memory_sheet_is_made_like_the_local_workbook(synced):
    """Same tabs in the same order, same header titles and instructions; the typed layer
    of every memory sheet is exactly what the clerks typed and the template laid out."""
    local, memory = synced["local"], synced["memory"]
    local_tabs, memory_tabs = same_tabs_and_headers(local, memory)
    assert memory_tabs["Hướng dẫn"][1] == local_tabs["Hướng dẫn"][1]
    sheet = memory.memory.sheet(memory.ref("VP"))
    assert sheet.tab("_cchc").hidden
    assert memory.typed_layer["VP"] == sheet.typed_values()


def test_percent_columns_keep_points_in_both_masters(synced):
    for kind, district in synced.items():
        rows = district.master()["Dịch vụ công trực tuyến"]
        col = rows[0].index("Tỷ lệ trực tuyến (%)")
        rates = [r[col] for r in rows[1:] if len(r) > col and r[col] is not None]
        assert rates and all(0 <= float(v) <= 100 for v in rates), kind
        assert any(float(v) > 1 for v in rates), kind
        assert not any(isinstance(v, float) and math.isnan(v) for v in rates)
