"""Date cells: stored dates, serials, and text written day first."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from babel.dates import get_date_format

from cchc_sync.domain.records import CellFormat, RawCell, Severity
from cchc_sync.domain.templates import ColumnSpec, ColumnType
from cchc_sync.normalise import Parsed, normalise_cell, parse_date_text, serial_to_date

DATE = ColumnSpec(key="ngay_ban_hanh", title="Ngày ban hành", type=ColumnType.DATE)
JUNE_7 = dt.date(2022, 6, 7)


def parse(value, fmt=None) -> Parsed:
    return normalise_cell(RawCell(value=value, fmt=fmt), DATE)


def test_cldr_agrees_that_vietnamese_dates_are_day_first():
    pattern = get_date_format("short", locale="vi").pattern
    assert pattern.index("d") < pattern.index("M") < pattern.index("y")


@pytest.mark.parametrize(
    "text",
    [
        "07/6/2022",
        "7/6/2022",
        "07/06/2022",
        "7-6-2022",
        "07.06.2022",
        "7/6/22",
        "07 / 06 / 2022",
        "ngày 07 tháng 6 năm 2022",
        "ngày 7 tháng 06 năm 2022",
        "Ngày 07 tháng 6 năm 2022",
        "NGÀY 07 THÁNG 6 NĂM 2022",
        "ngày 07/6/2022",
        "Ngày 07/6/2022",
        "Ngày: 07/6/2022",
        "nga\u0300y 07 tha\u0301ng 6 na\u0306m 2022",  # NFD
        "ngay 7 thang 6 nam 2022",
        "Bến Tre, ngày 07 tháng 6 năm 2022",
        "2022-06-07",
        "2022-6-7",
        "2022/06/07",
        "2022-06-07T14:05:00",
        "07/6/2022 14:05",
        "\u00a007/6/2022\u200b",
    ],
)
def test_text_forms(text):
    assert parse(text) == Parsed(value=JUNE_7)


@pytest.mark.parametrize("value", [dt.date(2022, 6, 7), dt.datetime(2022, 6, 7, 23, 59)])
def test_stored_dates(value):
    assert parse(value) == Parsed(value=JUNE_7)


def test_serials():
    serial = (JUNE_7 - dt.date(1899, 12, 30)).days
    assert serial == 44719
    assert serial_to_date(44719) == JUNE_7
    assert serial_to_date(44719.75) == JUNE_7  # the fraction is the time of day
    assert serial_to_date(0) == dt.date(1899, 12, 30)
    assert serial_to_date(61) == dt.date(1900, 3, 1)
    assert parse(44719, CellFormat.DATE).value == JUNE_7
    assert parse(44719.5, CellFormat.DATE).value == JUNE_7
    assert parse(44719).value == JUNE_7  # unknown format, plausible serial
    assert parse(44719.0).value == JUNE_7


def test_two_digit_year_is_this_century():
    assert parse("7/6/99").value == dt.date(2099, 6, 7)
    assert parse("01/01/00").value == dt.date(2000, 1, 1)


@pytest.mark.parametrize("text", ["31/02/2022", "29/02/2023", "32/1/2022", "00/1/2022",
                                  "6/13/2022", "ngày 31 tháng 4 năm 2022", "2022-02-30"])
def test_impossible_dates(text):
    parsed = parse(text)
    assert parsed.value is None
    (issue,) = parsed.issues
    assert issue.rule == "cell.date.invalid"
    assert issue.severity is Severity.ERROR
    assert f'"{text}"' in issue.message
    assert "dd/mm/yyyy" in issue.message


def test_leap_day_is_fine():
    assert parse("29/02/2024").value == dt.date(2024, 2, 29)


@pytest.mark.parametrize("value", ["abc", "15/6", "2022", "07062022", "07/6/2022 ngày",
                                   "tháng 6 năm 2022", "7/6/202", True, math.nan,
                                   "07/06/2022/1"])
def test_not_a_date(value):
    parsed = parse(value)
    assert parsed.value is None
    assert [i.rule for i in parsed.issues] == ["cell.date.invalid"]
    assert "dd/mm/yyyy" in parsed.issues[0].message


def test_number_in_a_number_formatted_date_cell():
    parsed = parse(5, CellFormat.NUMBER)
    assert [i.rule for i in parsed.issues] == ["cell.date.invalid"]


@pytest.mark.parametrize("value, fmt", [("07/6/2202", None), ("07/6/1800", None),
                                        (dt.date(1066, 10, 14), None),
                                        (10_000_000, CellFormat.DATE)])
def test_implausible_years(value, fmt):
    parsed = parse(value, fmt)
    assert parsed.value is None
    assert [i.rule for i in parsed.issues] == ["cell.date.range"]


def test_large_number_with_unknown_format_is_no_serial():
    parsed = parse(10_000_000)
    assert [i.rule for i in parsed.issues] == ["cell.date.invalid"]


def test_parse_date_text_shapes():
    assert parse_date_text("07/6/2022").date == JUNE_7
    assert parse_date_text("31/02/2022").problem == "impossible"
    assert parse_date_text("07/6/2202").problem == "year"
    assert parse_date_text("15 hồ sơ") is None
    assert parse_date_text("x" * 50_000) is None
