import datetime as dt

import pytest

from cchc_sync.domain.periods import PeriodError, parse_period
from cchc_sync.domain.registry import RegistryError, parse_units


def test_units_csv_keeps_unknown_columns_and_splits_emails():
    units = parse_units(
        "ma,ten,cap,cha,email,ghi_chu\n"
        "VP,Văn phòng HĐND và UBND huyện,huyen,,a@x.vn; b@x.vn,trụ sở\n"
        "XA_LT,UBND xã Long Trị,xa,VP,c@x.vn,\n"
    )
    assert [u.code for u in units] == ["VP", "XA_LT"]
    assert units[0].emails == ("a@x.vn", "b@x.vn")
    assert units[0].extra == {"ghi_chu": "trụ sở"}
    assert units[1].parent == "VP"


def test_units_csv_with_semicolons_and_nfd_names():
    text = "ma;ten;cap\nXA;UBND xa\u0303 Long Tri\u0323;xa\n"
    (unit,) = parse_units(text)
    assert unit.name == "UBND xã Long Trị"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ma,ten\nVP,Văn phòng\n", "thiếu cột cap"),
        ("ma,ten,cap\nVP,Văn phòng,huyen\nVP,Khác,huyen\n",
         "dòng 3: mã đơn vị 'VP' đã dùng ở dòng 2"),
        ("ma,ten,cap\nVP,,huyen\n", "dòng 2: đơn vị VP chưa có tên"),
        ("ma,ten,cap,cha\nXA,UBND xã,xa,HUYEN\n", "đơn vị cha 'HUYEN'"),
        ("ma,ten,cap\n", "không có đơn vị nào"),
    ],
)
def test_units_csv_mistakes_name_the_line(text, message):
    with pytest.raises(RegistryError, match=message):
        parse_units(text)


@pytest.mark.parametrize(
    ("code", "start", "end"),
    [
        ("2022S1", dt.date(2021, 12, 15), dt.date(2022, 6, 14)),
        ("2022S2", dt.date(2022, 6, 15), dt.date(2022, 12, 14)),
        ("2022Q2", dt.date(2022, 3, 15), dt.date(2022, 6, 14)),
        ("202206", dt.date(2022, 5, 15), dt.date(2022, 6, 14)),
        ("202201", dt.date(2021, 12, 15), dt.date(2022, 1, 14)),
        ("2022", dt.date(2021, 12, 15), dt.date(2022, 12, 14)),
        ("2022N9", dt.date(2021, 12, 15), dt.date(2022, 9, 14)),
    ],
)
def test_periods_follow_decree_09_windows(code, start, end):
    p = parse_period(code)
    assert (p.code, p.start, p.end) == (code, start, end)


def test_period_cutoff_is_configuration():
    p = parse_period("2022S1", cutoff_day=16)
    assert (p.start, p.end) == (dt.date(2021, 12, 16), dt.date(2022, 6, 15))
    c = parse_period("2022Q1", calendar=True)
    assert (c.start, c.end) == (dt.date(2022, 1, 1), dt.date(2022, 3, 31))


def test_unknown_period_code():
    with pytest.raises(PeriodError, match="2022S1"):
        parse_period("2022H1")
