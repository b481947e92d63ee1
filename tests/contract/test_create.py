"""create_unit_sheet and create_master, the same on every backend: tabs in order, the
template's titles, a sheet that reads back empty, carried-forward rows typed in."""

from __future__ import annotations

from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import Unit
from cchc_sync.sources.base import CHECK_TAB, INSTRUCTIONS_TAB, META_TAB
from cchc_sync.sources.sheet_layout import table_titles
from cchc_sync.sources.sheet_text import CHECK_PLACEHOLDER
from tests.contract.conftest import read


def test_a_unit_sheet_has_the_templates_tabs_and_titles(district):
    templates = district.ws.templates
    tabs = district.tabs("U000")
    tables = [spec.tab for spec in templates.tables.values()]
    assert list(tabs) == [INSTRUCTIONS_TAB, *tables, CHECK_TAB, META_TAB]
    for spec in templates.tables.values():
        assert [v for v in tabs[spec.tab][0] if v is not None] == table_titles(spec), spec.tab
    assert tabs[CHECK_TAB][0][0] == CHECK_PLACEHOLDER[0]
    assert any("Phòng Nội vụ (mã đơn vị: U000)" in str(r[0]) for r in tabs[INSTRUCTIONS_TAB] if r)
    meta = {r[0]: r[1] for r in tabs[META_TAB] if len(r) >= 2}
    assert meta["unit"] == "U000" and meta["period"] == district.ws.period.code


def test_a_new_unit_sheet_reads_back_empty(district):
    found = read(district, "U000")
    assert found.template_version == district.ws.templates.version
    for key, table in found.tables.items():
        spec = district.ws.templates.table(key)
        assert table.tab_found and table.rows == (), key
        assert set(table.layout.columns) == {c.key for c in spec.columns}, key
        assert table.layout.status_col == len(spec.columns) + 2


def test_prefill_is_typed_in_from_row_two_in_template_order(district):
    ws = district.ws
    period = parse_period("2022S2", ws.config.cutoff_day, ws.config.calendar_periods)
    unit = Unit(code="U009", name="UBND xã Hòa Thuận", level="xa",
                emails=("hoathuan@example.gov.vn",))
    prefill = {"tthc": [{"linh_vuc": "Hộ tịch", "tu_ky_truoc": 7},
                        {"linh_vuc": "Đất đai", "tu_ky_truoc": 3}]}
    ref = ws.backend.create_unit_sheet(unit, period, ws.templates, prefill)
    found = ws.backend.read_unit("U009", ref, ws.templates)
    rows = found.tables["tthc"].rows
    assert [r.sheet_row for r in rows] == [2, 3]
    assert [(r.cells["linh_vuc"].value, r.cells["tu_ky_truoc"].value) for r in rows] == [
        ("Hộ tịch", 7), ("Đất đai", 3)]
    assert all(r.cells["tong_tiep_nhan"].value is None for r in rows)
    assert found.template_version == ws.templates.version


def test_the_master_starts_with_a_summary_saying_there_is_no_data_yet(district):
    master = district.master()
    # Google makes every tab at once (the master is later swapped in tab by tab); the
    # others make "Tổng hợp" alone.
    assert list(master)[0] == "Tổng hợp"
    lines = [r[0] for r in master["Tổng hợp"] if r]
    assert district.ws.config.name in lines[0]
    assert any("Chưa có số liệu" in str(line) for line in lines)
