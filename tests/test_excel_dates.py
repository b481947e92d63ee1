"""Dates as Excel shows them, read from a real .xlsx: Excel's fictitious 29/02/1900
(serial 60) and a number no date can be are findings that say so, not a date a day off
and not a broken formula."""

from __future__ import annotations

import datetime as dt

import openpyxl

from cchc_sync.checks.validate import check_unit
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import UnitRead
from cchc_sync.domain.templates import load_template_set
from cchc_sync.sources.xlsx.read import read_workbook

T = load_template_set()
TITLES = ["Số, ký hiệu", "Ngày ban hành", "Loại văn bản", "Trích yếu nội dung"]


def workbook_with_dates(path, *dates):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Văn bản chỉ đạo"
    ws.append(TITLES)
    for n, value in enumerate(dates, start=1):
        ws.append([f"{n}/KH-UBND", value, "Kế hoạch", "Kế hoạch cải cách hành chính"])
        ws.cell(row=n + 1, column=2).number_format = "dd/mm/yyyy"
    wb.save(path)


def findings_of(path):
    tables, _, _ = read_workbook(path, T)
    check = check_unit(UnitRead(unit="TP", tables=tables), T, parse_period("2022S1"))
    return check, {f.row: f for f in check.findings if f.table == "van_ban"}


def test_serial_60_is_the_29th_of_february_1900_that_never_was(tmp_path):
    path = tmp_path / "tp.xlsx"
    workbook_with_dates(path, 60, 59, dt.datetime(2022, 6, 7))
    check, found = findings_of(path)
    leap = found[2]
    assert leap.rule == "cell.date.invalid" and leap.column == "ngay_ban_hanh"
    assert "ngày 29/02/1900 không tồn tại" in leap.message
    assert "#VALUE!" not in leap.message and "Công thức" not in leap.message
    dates = {r.sheet_row: r.values.get("ngay_ban_hanh") for r in check.rows["van_ban"]}
    # 59 is 28/02/1900 in Excel (not a day earlier); 2022 dates read as ever; 60 is no date.
    assert dates == {2: None, 3: dt.date(1900, 2, 28), 4: dt.date(2022, 6, 7)}


def test_a_number_far_outside_the_date_range_is_no_date_not_a_broken_formula(tmp_path):
    path = tmp_path / "tp.xlsx"
    workbook_with_dates(path, 10_000_000)
    _, found = findings_of(path)
    far = found[2]
    assert far.rule == "cell.date.range" and far.column == "ngay_ban_hanh"
    assert "không phải là ngày" in far.message and "10.000.000" in far.message
    assert far.rule != "cell.formula-error" and "#VALUE!" not in far.message
    assert far.value == 10_000_000
