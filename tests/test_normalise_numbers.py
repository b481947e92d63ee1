"""Counts (int) and percentages (pct), including the traps clerks fall into."""

from __future__ import annotations

import datetime as dt
import math

import pytest

from cchc_sync.domain.records import CellFormat, RawCell, Severity
from cchc_sync.domain.templates import ColumnSpec, ColumnType
from cchc_sync.normalise import Parsed, normalise_cell
from cchc_sync.normalise.vietnamese import has_vietnamese_letters

COUNT = ColumnSpec(key="hien_co", title="Biên chế hiện có", type=ColumnType.INT, minimum=0)
RATE = ColumnSpec(key="ty_le", title="Tỷ lệ (%)", type=ColumnType.PCT)


def parse(value, column=COUNT, fmt=None) -> Parsed:
    return normalise_cell(RawCell(value=value, fmt=fmt), column)


def only_error(parsed: Parsed, rule: str):
    assert parsed.value is None
    assert [i.rule for i in parsed.issues] == [rule]
    issue = parsed.issues[0]
    assert issue.severity is Severity.ERROR
    assert has_vietnamese_letters(issue.message)
    return issue


# --- int: accepted -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        ("27.554", 27554),
        ("27 554", 27554),
        ("27\u00a0554", 27554),
        ("27\u202f554", 27554),
        ("1.234.567", 1234567),
        ("02", 2),
        ("0", 0),
        (" 15 ", 15),
        ("+15", 15),
        ("5,0", 5),
        ("27.554,00", 27554),
        ("12 hồ sơ", 12),
        ("1.200 người", 1200),
        ("3 văn bản", 3),
        (15, 15),
        (15.0, 15),
        (0, 0),
        (27554, 27554),
    ],
)
def test_int_accepted(value, expected):
    parsed = parse(value)
    assert parsed == Parsed(value=expected)
    assert type(parsed.value) is int


@pytest.mark.parametrize("value", [None, "", "  ", "-", "–", "—", "\u00a0"])
def test_int_blank_is_not_reported(value):
    assert parse(value) == Parsed(value=None)


# --- int: the traps ----------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0.123", "00.123", "0.123.456", "0.5"])
def test_a_dot_after_a_leading_zero_is_said_never_read_as_zero(value):
    """ "0.123" is no Vietnamese number (a thousands group cannot lead with 0): an English
    Excel's decimal, or a mistyped count. It used to be stored as 0 without a word."""
    parsed = parse(value)
    assert parsed.value is None
    issue = only_error(parsed, "cell.int.ambiguous")
    assert value in issue.message and "dấu chấm" in issue.message
    assert "ví dụ 0" not in issue.message  # the suggestion is a number, not "0123"


def test_comma_decimal_is_not_fifteen():
    issue = only_error(parse("1,5"), "cell.int.decimal")
    assert '"1,5"' in issue.message
    assert "số nguyên" in issue.message
    assert issue.value == "1,5"


@pytest.mark.parametrize("value", ["1.234,5", "0,5", "12,25"])
def test_decimal_text(value):
    only_error(parse(value), "cell.int.decimal")


@pytest.mark.parametrize("value", [1.5, 0.25, 27554.5])
def test_stored_float_with_fraction(value):
    only_error(parse(value), "cell.int.decimal")


def test_two_numbers_in_one_cell():
    issue = only_error(parse("15/16"), "cell.int.two-numbers")
    assert '"15/16"' in issue.message
    assert "15 và 16" in issue.message
    assert "cột" in issue.message  # tells the clerk to split into the columns


@pytest.mark.parametrize("value", ["15 / 16", "15\\16", "15-16", "15 – 16", "1.200/1.500"])
def test_two_numbers_other_separators(value):
    only_error(parse(value), "cell.int.two-numbers")


def test_date_where_a_count_belongs():
    issue = only_error(parse(dt.date(2022, 6, 15)), "cell.int.date")
    assert "15/6/2022" in issue.message
    assert '"15/6"' in issue.message  # what the clerk probably typed
    assert "Số" in issue.message  # format the cell as a number


def test_datetime_where_a_count_belongs():
    only_error(parse(dt.datetime(2022, 6, 15, 0, 0)), "cell.int.date")


def test_date_serial_in_a_date_formatted_count():
    serial = (dt.date(2022, 6, 15) - dt.date(1899, 12, 30)).days
    issue = only_error(parse(serial, fmt=CellFormat.DATE), "cell.int.date")
    assert "15/6/2022" in issue.message


def test_date_text_in_a_count():
    only_error(parse("15/6/2022"), "cell.int.date")


@pytest.mark.parametrize("value", ["-5", "- 5", "–5", "\u22125", -5, -1.0])
def test_negative(value):
    issue = only_error(parse(value), "cell.int.negative")
    assert "âm" in issue.message


@pytest.mark.parametrize("value", [True, False])
def test_bool(value):
    only_error(parse(value), "cell.int.bool")


@pytest.mark.parametrize("value", ["1.5", "1.23", "12.3456", "1.2.3", "1,500", "12,345",
                                   "1,234.5", "1,234,567"])
def test_ambiguous(value):
    issue = only_error(parse(value), "cell.int.ambiguous")
    assert f'"{value}"' in issue.message


def test_ambiguous_dot_explains_grouping():
    issue = only_error(parse("1.5"), "cell.int.ambiguous")
    assert "3 chữ số" in issue.message and "15" in issue.message


def test_ambiguous_comma_offers_both_readings():
    issue = only_error(parse("1,500"), "cell.int.ambiguous")
    assert "1.500" in issue.message and "1,500" in issue.message


@pytest.mark.parametrize("value", ["abc", "12 ngày", "mười hai", "1e5", "(5)", "5%", "١٢",
                                   "12abc34", "x"])
def test_not_a_number(value):
    only_error(parse(value), "cell.int.not-number")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite(value):
    only_error(parse(value), "cell.int.not-number")


def test_huge_numbers():
    only_error(parse(10**40), "cell.int.range")
    only_error(parse("9" * 20), "cell.int.range")
    only_error(parse("99.999.999.999.999.999"), "cell.int.range")
    assert parse("9" * 50_000).value is None
    only_error(parse(1e300), "cell.int.range")


def test_column_bounds():
    col = ColumnSpec(key="k", title="Số lớp", type=ColumnType.INT, minimum=1, maximum=10)
    assert parse(1, col).value == 1
    assert parse("10", col).value == 10
    only_error(parse(0, col), "cell.int.range")
    only_error(parse("11", col), "cell.int.range")
    only_error(parse(-1, col), "cell.int.negative")


def test_negative_allowed_when_column_says_so():
    col = ColumnSpec(key="k", title="Chênh lệch", type=ColumnType.INT, minimum=-100)
    assert parse("-5", col).value == -5
    only_error(parse(-101, col), "cell.int.range")


def test_minimum_none_still_means_counts_are_not_negative():
    col = ColumnSpec(key="k", title="Số hồ sơ", type=ColumnType.INT)
    only_error(parse(-1, col), "cell.int.negative")


# --- pct ---------------------------------------------------------------------------------


def test_percent_formatted_fraction_equals_typed_percent():
    stored = parse(0.9616, RATE, CellFormat.PERCENT)
    typed = parse("96,16%", RATE)
    assert stored == typed == Parsed(value=96.16)


@pytest.mark.parametrize(
    "value, fmt, expected",
    [
        ("96,16%", None, 96.16),
        ("96,16 %", None, 96.16),
        ("96,16", None, 96.16),
        ("96.16%", None, 96.16),  # English decimal point: a percentage has no thousands
        ("96.16", None, 96.16),
        ("100%", None, 100.0),
        ("0%", None, 0.0),
        ("0,5%", None, 0.5),
        ("30,7407", None, 30.7407),
        (0.9616, CellFormat.PERCENT, 96.16),
        (1, CellFormat.PERCENT, 100.0),
        (0, CellFormat.PERCENT, 0.0),
        (96.16, CellFormat.PERCENT, 96.16),  # typed 96.16 into a percent cell
        (0.9616, None, 96.16),  # unknown format: 0..1 is a fraction
        (0.5, None, 50.0),
        (1, None, 100.0),
        (96.16, None, 96.16),  # unknown format: above 1 is percent points
        (50, None, 50.0),
        (96.16, CellFormat.NUMBER, 96.16),
        (0.5, CellFormat.NUMBER, 0.5),
        (0.07, CellFormat.PERCENT, 7.0),
        (0.307407, CellFormat.PERCENT, 30.7407),
    ],
)
def test_pct_accepted(value, fmt, expected):
    parsed = parse(value, RATE, fmt)
    assert parsed.issues == ()
    assert parsed.value == expected
    assert type(parsed.value) is float


@pytest.mark.parametrize("value, fmt", [("101%", None), ("-3%", None), (150, CellFormat.NUMBER),
                                        (150, None), (-0.1, CellFormat.PERCENT),
                                        ("1.234,5%", None), (1e300, None)])
def test_pct_out_of_range(value, fmt):
    issue = only_error(parse(value, RATE, fmt), "cell.pct.range")
    assert "100%" in issue.message


@pytest.mark.parametrize("value", ["abc", "96,16%%", "1,234.5%", "15/16", True, math.nan])
def test_pct_not_a_number(value):
    only_error(parse(value, RATE), "cell.pct.not-number")


def test_pct_date():
    only_error(parse(dt.date(2022, 6, 7), RATE), "cell.pct.date")
    only_error(parse(44719, RATE, CellFormat.DATE), "cell.pct.date")


def test_pct_keeps_the_float_unrounded():
    assert parse("33,333333%", RATE).value == 33.333333
