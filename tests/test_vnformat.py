"""Vietnamese output formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cchc_sync.domain.vnformat import (
    format_date,
    format_date_long,
    format_datetime,
    format_int,
    format_number,
    format_percent,
)


@pytest.mark.parametrize(
    "n, shown",
    [(27554, "27.554"), (0, "0"), (999, "999"), (1000, "1.000"), (1234567, "1.234.567"),
     (-1200, "-1.200"), (27554.0, "27.554"), (Decimal("1200"), "1.200"), (2.5, "3"),
     (10**18, "1.000.000.000.000.000.000")],
)
def test_format_int(n, shown):
    assert format_int(n) == shown


@pytest.mark.parametrize(
    "x, decimals, shown",
    [(1234.5, 2, "1.234,5"), (1234.567, 2, "1.234,57"), (3.0, 2, "3"), (0.125, 2, "0,13"),
     (96.165, 2, "96,17"), (1234.5, 0, "1.235"), (0.1, 3, "0,1"), (-1234.5, 1, "-1.234,5"),
     (Decimal("2.675"), 2, "2,68")],
)
def test_format_number(x, decimals, shown):
    assert format_number(x, decimals) == shown


@pytest.mark.parametrize(
    "p, shown",
    [(96.16, "96,16%"), (100, "100%"), (30.7407, "30,74%"), (96.10, "96,1%"), (0, "0%"),
     (0.004, "0%"), (0.005, "0,01%"), (12.5, "12,5%"), (99.999, "100%")],
)
def test_format_percent(p, shown):
    assert format_percent(p) == shown


def test_format_percent_decimals():
    assert format_percent(96.1616, decimals=3) == "96,162%"
    assert format_percent(96.5, decimals=0) == "97%"


@pytest.mark.parametrize(
    "d, short, long",
    [
        (dt.date(2022, 6, 7), "07/6/2022", "ngày 07 tháng 6 năm 2022"),
        (dt.date(2022, 12, 25), "25/12/2022", "ngày 25 tháng 12 năm 2022"),
        # Decree 30/2020/NĐ-CP: months 1 and 2 take a leading zero
        (dt.date(2022, 1, 5), "05/01/2022", "ngày 05 tháng 01 năm 2022"),
        (dt.date(2022, 2, 15), "15/02/2022", "ngày 15 tháng 02 năm 2022"),
        (dt.date(2022, 3, 1), "01/3/2022", "ngày 01 tháng 3 năm 2022"),
    ],
)
def test_dates(d, short, long):
    assert format_date(d) == short
    assert format_date_long(d) == long


def test_format_datetime():
    assert format_datetime(dt.datetime(2022, 6, 7, 14, 5)) == "14:05 ngày 07/6/2022"
    assert format_datetime(dt.datetime(2022, 6, 7, 9, 0)) == "09:00 ngày 07/6/2022"


def test_aware_datetimes_are_shown_in_vietnam_time():
    utc = dt.datetime(2022, 6, 7, 7, 5, tzinfo=dt.UTC)
    assert format_datetime(utc) == "14:05 ngày 07/6/2022"
    late = dt.datetime(2022, 6, 7, 20, 0, tzinfo=dt.UTC)
    assert format_datetime(late) == "03:00 ngày 08/6/2022"
    assert format_date(late) == "08/6/2022"


def test_bad_input():
    with pytest.raises(ValueError):
        format_number(float("nan"))
    with pytest.raises(TypeError):
        format_int(True)
