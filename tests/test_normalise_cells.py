"""normalise_cell: text, choice and bool columns, formula errors, blanks, odd input."""

from __future__ import annotations

import datetime as dt
import logging
import time

import pytest

from cchc_sync.domain.records import CellFormat, RawCell, Severity
from cchc_sync.domain.templates import Choice, ColumnSpec, ColumnType, load_template_set
from cchc_sync.normalise import Parsed, normalise_cell

TEXT = ColumnSpec(key="linh_vuc", title="Lĩnh vực", type=ColumnType.TEXT)
PHONE = ColumnSpec(key="dien_thoai", title="Điện thoại", type=ColumnType.TEXT)
BOOL = ColumnSpec(key="ap_dung", title="Đã công bố ISO", type=ColumnType.BOOL)
STATUS = ColumnSpec(
    key="trang_thai",
    title="Trạng thái",
    type=ColumnType.CHOICE,
    choices=(Choice(code="dang_nhap", label="Đang nhập"),
             Choice(code="hoan_thanh", label="Hoàn thành")),
)
ALL_TYPES = [
    ColumnSpec(key=t.value, title=f"Cột {t.value}", type=t,
               choices=STATUS.choices if t is ColumnType.CHOICE else ())
    for t in ColumnType
]


def parse(value, column, fmt=None) -> Parsed:
    return normalise_cell(RawCell(value=value, fmt=fmt), column)


# --- text --------------------------------------------------------------------------------


def test_text_is_cleaned():
    assert parse("  Pho\u0300ng\u00a0Nô\u0323i  vu\u0323 ", TEXT) == Parsed(value="Phòng Nội vụ")


def test_text_nfd_equals_nfc():
    assert parse("Pho\u0300ng Nô\u0323i vu\u0323", TEXT) == parse("Phòng Nội vụ", TEXT)


def test_text_eth():
    assert parse("Ðất đai", TEXT).value == "Đất đai"


@pytest.mark.parametrize(
    "typed, encoding, reading",
    [
        ("Phßng Néi vô", "TCVN3", "Phòng Nội vụ"),
        ("Phoøng Noäi vuï", "VNI", "Phòng Nội vụ"),
    ],
)
def test_text_legacy_encoding_warns_and_keeps_value(typed, encoding, reading):
    parsed = parse(typed, TEXT)
    assert parsed.value == typed
    (issue,) = parsed.issues
    assert issue.rule == "cell.text.legacy-encoding"
    assert issue.severity is Severity.WARNING
    assert encoding in issue.message
    assert f'"{reading}"' in issue.message
    assert f'"{typed}"' in issue.message
    assert "Unicode" in issue.message


@pytest.mark.parametrize(
    "value, expected",
    [
        (912345678, "912345678"),
        (2022, "2022"),
        (5.0, "5"),
        (1.5, "1.5"),
        (dt.date(2022, 6, 7), "07/6/2022"),
        (dt.datetime(2022, 6, 7), "07/6/2022"),
        (dt.datetime(2022, 6, 7, 14, 5), "14:05 ngày 07/6/2022"),
        (True, "TRUE"),
    ],
)
def test_text_from_stored_values(value, expected):
    assert parse(value, PHONE) == Parsed(value=expected)


def test_text_of_invisible_characters_only_is_blank():
    assert parse("\u200b\u200e", TEXT) == Parsed(value=None)


# --- choice ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, code",
    [("Hoàn thành", "hoan_thanh"), ("hoàn thành", "hoan_thanh"), ("HOÀN THÀNH", "hoan_thanh"),
     (" Đang  nhập ", "dang_nhap"), ("Ðang nhập", "dang_nhap"), ("hoan_thanh", "hoan_thanh")],
)
def test_choice(typed, code):
    assert parse(typed, STATUS) == Parsed(value=code)


def test_choice_unknown_lists_the_labels():
    parsed = parse("Xong rồi", STATUS)
    assert parsed.value is None
    (issue,) = parsed.issues
    assert issue.rule == "cell.choice.unknown"
    assert '"Đang nhập"' in issue.message and '"Hoàn thành"' in issue.message
    assert '"Xong rồi"' in issue.message


def test_choice_from_a_number():
    loai = load_template_set().table("dvctt").column("loai")
    assert parse(3, loai).value == "mot_phan"
    assert parse(4.0, loai).value == "toan_trinh"
    assert parse(7, loai).issues[0].rule == "cell.choice.unknown"


@pytest.mark.parametrize("value", [True, dt.date(2022, 1, 1), 1.5])
def test_choice_odd_values(value):
    assert parse(value, STATUS).issues[0].rule == "cell.choice.unknown"


# --- bool --------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Có", "có", "CÓ", "x", "X", "✓", "✔", "Đã công bố",
                                   "đã công bố", True, 1, 1.0, "TRUE", "true", "Yes"])
def test_bool_true(value):
    assert parse(value, BOOL) == Parsed(value=True)


@pytest.mark.parametrize("value", ["Không", "không", "KHÔNG", "chưa", "Chưa", "khong", False, 0,
                                   0.0, "FALSE", "Chưa công bố"])
def test_bool_false(value):
    assert parse(value, BOOL) == Parsed(value=False)


@pytest.mark.parametrize("value", ["có lẽ", "2", 2, "maybe", dt.date(2022, 1, 1), "?"])
def test_bool_unknown(value):
    parsed = parse(value, BOOL)
    assert parsed.value is None
    (issue,) = parsed.issues
    assert issue.rule == "cell.bool.unknown"
    assert '"Có"' in issue.message and '"Không"' in issue.message


# --- any type ----------------------------------------------------------------------------


@pytest.mark.parametrize("column", ALL_TYPES, ids=lambda c: c.key)
@pytest.mark.parametrize("value", [None, "", "  ", "\u00a0", "-", "–", "—"])
def test_blank_for_every_type(column, value):
    assert parse(value, column) == Parsed(value=None)


@pytest.mark.parametrize("column", ALL_TYPES, ids=lambda c: c.key)
@pytest.mark.parametrize("code", ["#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!",
                                  "#ERROR!", " #ref! "])
def test_formula_errors(column, code):
    parsed = parse(code, column)
    assert parsed.value is None
    (issue,) = parsed.issues
    assert issue.rule == "cell.formula-error"
    assert issue.severity is Severity.ERROR
    assert "Công thức" in issue.message
    assert code.strip().upper() in issue.message


@pytest.mark.parametrize("column", ALL_TYPES, ids=lambda c: c.key)
def test_very_long_strings_are_quick(column):
    samples = [
        "9" * 50_000,
        "1." * 25_000,
        "1 " * 25_000,
        "Phòng Nội vụ " * 4_000,
        "Phßng Néi vô " * 4_000,
        "a/" * 25_000,
        "ngày " * 10_000,
        "15/" * 16_000 + "x",
        "\u0300" * 50_000,
        "-" * 50_000 + "x",
    ]
    # CPU time, not the wall clock: a busy machine must not fail a bound on our work.
    start = time.process_time()
    for s in samples:
        assert isinstance(parse(s, column), Parsed)
    assert time.process_time() - start < 2.0


@pytest.mark.parametrize("column", ALL_TYPES, ids=lambda c: c.key)
@pytest.mark.parametrize("value", ["\x00\x01\x1b", "😀🎉", "\u202eabc\u202c", "\u200f15\u200f",
                                   "\ud800", "ﷺ", "\U0010ffff", "𝟙𝟚"])
def test_odd_characters_never_crash(column, value, caplog):
    with caplog.at_level(logging.ERROR):
        parsed = parse(value, column)
    assert isinstance(parsed, Parsed)
    assert not caplog.records  # the safety net in normalise_cell was not needed


def test_rtl_marks_around_a_number():
    col = ALL_TYPES[0]
    assert col.type is ColumnType.INT
    assert parse("\u200f15\u200f", col).value == 15


@pytest.mark.parametrize("column", ALL_TYPES, ids=lambda c: c.key)
def test_unexpected_python_types_do_not_raise(column):
    for value in (object(), [1, 2], {"a": 1}, dt.time(10, 0), b"15", complex(1, 2)):
        parsed = parse(value, column)
        assert isinstance(parsed, Parsed)
        for issue in parsed.issues:
            assert issue.message


def test_fmt_text_with_number():
    col = ALL_TYPES[0]
    assert parse(15, col, CellFormat.TEXT).value == 15
    assert parse("15", col, CellFormat.TEXT).value == 15
