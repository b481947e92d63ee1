"""The read (one values.batchGet, dates as the strings they show) and the grid data of the
same sheet (the flag write's answer, google_rows.prints_after; the missing-tab fallback)
give the same RawTables, so the row digests the flag write compares match for a sheet
nobody touched in between.

The sheet holds what clerks type (the fake's USER_ENTERED in vi_VN): counts, a date, a time
and a date with a time typed into counts (Sheets makes them dates), a date typed as text
into a count, dates in date columns, percentages, text shaped like a date in a text column,
and explanations. A second unit has dates typed where no rule reads them back (an
explanation, a choice): the read gets what they show ("15/6"); grid data gets that only
with `formattedValue` in its mask (the fallback's does; the flag write's does not yet).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
from types import SimpleNamespace

import pytest

from cchc_sync.domain.records import CellFormat
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.google.basis import flag_basis
from cchc_sync.sources.google.cells import quote_title
from cchc_sync.sources.google.flag_write import SHEETS
from cchc_sync.sources.google.read import ALL_VALUES_FIELDS, grid_values, read_table
from cchc_sync.sources.google.rows import RESPONSE_FIELDS, tab_prints, unmoved
from tests.contract.districts import GoogleDistrict
from tests.test_google_budget import registry

THIS_YEAR = dt.date.today().year
TYPED = {
    "Giải quyết TTHC": [
        ["Chứng thực", "1", "2", "3", "6", "2", "2", "1", "1", "0", "Số liệu theo sổ"],
        ["Hộ tịch", "1", "2", "3", "15/6", "2", "2", "8:30", "1", "0"],
        ["Đất đai", "1", "2", "3", "15/6/2025 8:30", "1.234", "'15/06/2026", "1", "1", "0",
         "Đã giải trình ngày 15/06/2026"],
    ],
    "Dịch vụ công trực tuyến": [["Toàn trình", "12", "40", "30", "75%"],
                                ["Một phần", "3", "10", "9", "96,16%", "Theo báo cáo quý"]],
    "Văn bản chỉ đạo": [["12/KH-UBND", "07/06/2022", "Kế hoạch", "15/06/2026"],
                        ["15/6", "15/6", "Công văn", "Họp ngày 15/6"]],
    "ISO 9001": [["Có", "45/QĐ-UBND", "1/3/2024"]],
}
DATES_ELSEWHERE = {
    "Giải quyết TTHC": [["Chứng thực", "1", "2", "3", "6", "2", "2", "1", "1", "0", "15/6"]],
    "Biên chế": [["UBND xã", "15/6", "12", "10", "2"]],
}


@pytest.fixture(scope="module")
def district(tmp_path_factory):
    made = GoogleDistrict(tmp_path_factory.mktemp("prints"), units_csv=registry(2),
                          fill=False, data_rows=5)
    made.reads = {}
    for unit, typed in (("U000", TYPED), ("U001", DATES_ELSEWHERE)):
        sid = made.sheet_id(unit)
        for tab, rows in typed.items():
            made.fake.edit_cells(sid, tab, "A2", rows)
        made.reads[unit] = made.backend.read_unit(unit, SheetRef(ref=sid), made.ws.templates)
    made.read = made.reads["U000"]
    yield made
    made.close()


FLAG_WRITE_FIELDS = RESPONSE_FIELDS.removeprefix("updatedSpreadsheet(").removesuffix(")")
"""What prints_after sees of the flag write's answer, as a spreadsheets.get mask."""


def grid_tables(district, fields: str, unit: str = "U000") -> dict:
    """The tables as the grid data of every template tab shows them (one spreadsheets.get
    with that field mask, as the flag write's answer or the fallback read sees them)."""
    specs = list(district.ws.templates.tables.values())
    data = district.backend.transport.call(
        "GET", f"{SHEETS}/{district.sheet_id(unit)}",
        params={"ranges": [quote_title(s.tab) for s in specs], "fields": fields})
    by_title = {s["properties"]["title"]: s for s in data["sheets"]}
    return {s.key: read_table(s, grid_values(by_title[s.tab])) for s in specs}


def test_the_read_sees_dates_where_sheets_made_them(district):
    tthc = {row.sheet_row: row for row in district.read.tables["tthc"].rows}
    date = tthc[3].cells["tong_tiep_nhan"]
    assert date.value == dt.datetime(THIS_YEAR, 6, 15) and date.fmt is CellFormat.DATE
    assert tthc[3].cells["qua_han"].value == dt.time(8, 30)
    assert tthc[4].cells["tong_tiep_nhan"].value == dt.datetime(2025, 6, 15, 8, 30)
    assert tthc[4].cells["truoc_han"].value == 1234
    # typed as text ('15/06/2026): taken as a date too (docs/google-backend.md)
    assert tthc[4].cells["dung_han"].value == dt.datetime(2026, 6, 15)
    assert tthc[2].cells["tong_tiep_nhan"].value == 6
    assert tthc[2].cells["tong_tiep_nhan"].fmt is CellFormat.NUMBER
    assert tthc[4].explanation == "Đã giải trình ngày 15/06/2026"
    van_ban = {row.sheet_row: row for row in district.read.tables["van_ban"].rows}
    assert van_ban[2].cells["ngay_ban_hanh"].value == dt.datetime(2022, 6, 7)
    assert van_ban[2].cells["trich_yeu"].value == "15/06/2026"  # text column: text
    assert van_ban[3].cells["so_ky_hieu"].value == "15/6"  # document numbers stay text
    assert van_ban[3].cells["ngay_ban_hanh"].value == dt.datetime(THIS_YEAR, 6, 15)
    iso = district.read.tables["iso"].rows[0]
    assert iso.cells["ngay_cong_bo"].value == dt.datetime(2024, 3, 1)
    dvctt = district.read.tables["dvctt"].rows
    assert [r.cells["ty_le"].value for r in dvctt] == [0.75, 0.9616]
    assert {r.cells["ty_le"].fmt for r in dvctt} == {CellFormat.PERCENT}


def test_the_flag_writes_answer_prints_as_the_read(district):
    """prints_after reads the batchUpdate answer's grid data with RESPONSE_FIELDS' mask."""
    grid = grid_tables(district, FLAG_WRITE_FIELDS)
    assert tab_prints(grid) == tab_prints(district.read.tables)
    assert grid == district.read.tables


def test_the_missing_tab_fallback_reads_as_the_read(district):
    specs = list(district.ws.templates.tables.values())
    rows = district.backend.reader.all_values(district.sheet_id("U000"), specs)
    assert all(rows[s.key] is not None for s in specs)  # every tab found by its title
    tables = {s.key: read_table(s, rows[s.key]) for s in specs}
    assert tables == district.read.tables
    assert tab_prints(tables) == tab_prints(district.read.tables)


def test_dates_typed_where_no_rule_reads_them_stay_what_they_show(district):
    read = district.reads["U001"]
    assert read.tables["tthc"].rows[0].explanation == "15/6"
    assert read.tables["bien_che"].rows[0].cells["loai"].value == "15/6"
    grid = grid_tables(district, ALL_VALUES_FIELDS, "U001")  # with formattedValue
    assert grid == read.tables
    assert tab_prints(grid) == tab_prints(read.tables)


def test_the_flag_writes_answer_prints_dates_elsewhere_as_the_read(district):
    read = district.reads["U001"]
    assert tab_prints(grid_tables(district, FLAG_WRITE_FIELDS, "U001")) == \
        tab_prints(read.tables)


def answer_of(district, unit: str) -> tuple[dict, dict, dict]:
    """(the grid data of every template tab as a flag write's answer holds it, a plan-like
    table key -> tab, table key -> sheet id)."""
    specs = list(district.ws.templates.tables.values())
    data = district.backend.transport.call(
        "GET", f"{SHEETS}/{district.sheet_id(unit)}",
        params={"ranges": [quote_title(s.tab) for s in specs], "fields": FLAG_WRITE_FIELDS})
    ids = {s["properties"]["title"]: s["properties"]["sheetId"] for s in data["sheets"]}
    plan = SimpleNamespace(tabs={s.key: SimpleNamespace(tab=s.tab) for s in specs})
    return {"updatedSpreadsheet": data}, plan, ids


@pytest.mark.parametrize("unit", ["U000", "U001"])
def test_an_answer_showing_the_rows_read_is_unmoved_without_parsing_it(district, unit):
    """The shortcut of the row check (rows.unmoved): the read's raw digest per tab, kept in
    its basis, equals the digest of the answer's grid data of the untouched sheet (dates,
    times, percentages, text shaped like dates included); one cell changed, it does not."""
    prints = flag_basis(district.reads[unit].basis, district.sheet_id(unit)).prints
    assert prints and all(p.raw is not None for p in prints.values())
    answer, plan, ids = answer_of(district, unit)
    assert unmoved(answer, plan, ids, prints)
    # The statuses a flag write puts below the header are no change (its own column).
    written = copy.deepcopy(answer)
    for sheet in written["updatedSpreadsheet"]["sheets"]:
        key = next(k for k, t in plan.tabs.items() if t.tab == sheet["properties"]["title"])
        tab = prints.get(key)
        if tab is None or tab.status_col is None:
            continue
        for row in sheet["data"][0]["rowData"][tab.header_row:tab.span]:
            values = row.setdefault("values", [])
            values += [{}] * (tab.status_col - len(values))
            values[tab.status_col - 1] = {"effectiveValue": {"stringValue": "✔ Hợp lệ"}}
    assert written != answer and unmoved(written, plan, ids, prints)
    for sheet in answer["updatedSpreadsheet"]["sheets"]:
        key = next(k for k, t in plan.tabs.items() if t.tab == sheet["properties"]["title"])
        if key not in prints or not prints[key].rows:
            continue
        row = prints[key].rows[-1][0]
        changed = copy.deepcopy(answer)
        target = next(s for s in changed["updatedSpreadsheet"]["sheets"]
                      if s["properties"]["sheetId"] == sheet["properties"]["sheetId"])
        column = min(c for _, c in prints[key].columns)  # a typed column, not the status
        target["data"][0]["rowData"][row - 1]["values"][column - 1] = {
            "effectiveValue": {"stringValue": "sửa"}}
        assert not unmoved(changed, plan, ids, prints), key
    # A basis kept before raw digests were: the prints are compared, as before.
    old = {k: dataclasses.replace(p, raw=None) for k, p in prints.items()}
    assert not unmoved(answer, plan, ids, old)
