"""The compiled column readers (checks/row_cells.TableReader: a plain-int fast path and a
memo of clean readings per column) give exactly what normalise_cell gives for every cell:
the same values, of the same types, and the same findings in the same order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_sync.checks.row_cells import TableReader, normalise_row_per_cell, table_reader
from cchc_sync.domain.records import CellFormat, RawCell, RawRow
from cchc_sync.domain.templates import Choice, ColumnSpec, ColumnType, TableSpec, load_template_set

CHOICES = (
    Choice(code="muc_2", label="Mức độ 2 (thông tin)", aliases=("mức 2", "2")),
    Choice(code="toan_trinh", label="Toàn trình (mức độ 4)", aliases=("toàn trình", "4")),
)
COLUMNS = tuple(
    ColumnSpec(key=f"{t.value}{'_bat_buoc' if required else ''}", title=f"Cột {t.value}",
               type=t, required=required, choices=CHOICES if t is ColumnType.CHOICE else ())
    for t in ColumnType for required in (False, True)
) + (
    ColumnSpec(key="diem", title="Điểm", type=ColumnType.INT, minimum=1, maximum=99),
    ColumnSpec(key="am", title="Chênh lệch", type=ColumnType.INT, minimum=-5),
    ColumnSpec(key="khong", title="Số lượng", type=ColumnType.INT, minimum=0),  # as shipped
    ColumnSpec(key="lon", title="Số lớn", type=ColumnType.INT, minimum=0, maximum=10**16),
    ColumnSpec(key="nua", title="Điểm lẻ", type=ColumnType.INT, minimum=0.5, maximum=7.5),
)
TABLE = TableSpec(key="bang", tab="Bảng", columns=COLUMNS)

# What clerks type, and what the hostile-input and property tests throw at a cell.
TYPED = [
    "", " ", "\u00a0", "-", "--", "—", "\u200b", "#REF!", " #n/a ", "#DIV/0!", "0", "00",
    "007", "15", "27554", "27.554", "27 554", "0.123", "1,5", "5,0", "1.234,5", "12 hồ sơ",
    "15/16", "-3", "+4", "1" * 16, "٣", "96,16%", "96.16%", "100%", "0,5", "ngày 07 tháng 6 "
    "năm 2022", "07/6/2022", "31/02/2022", "2022-06-07", "175/KH-UBND", "175 / KH - UBND",
    "KH-UBND", "Có", "có", "x", "✓", "✗", "Không", "chưa", "yes", "Toàn trình", "toàn trình",
    "mức 2", "2", "4", "Mức độ 3", "Phßng Néi vô", "Phòng Nội vụ", "Pho\u0300ng Nô\u0323i vu\u0323",
    "=1+1", "@SUM(A1)", "a" * 199, "a" * 201, "b" * 40_000, "x\x00y", "\u202eabc", "😀",
    0, 1, 2, 3, 4, 7, 8, 15, 27554, -1, -5, -6, -7, 99, 100, 10**15 - 1, 10**15, 2**50,
    2**50 - 1, 10**16, 10**300,
    0.0, -0.0, 1.0, 0.5, 27.554, 1e300, float("nan"), float("inf"),
    Decimal("1.0"), Decimal("1.50"), Decimal("NaN"), True, False,
    dt.date(2022, 6, 7), dt.datetime(2022, 6, 7), dt.datetime(2022, 6, 7, 8, 30), dt.time(8),
    dt.datetime(1850, 1, 1), dt.datetime(2022, 6, 7, 23, 30, tzinfo=dt.UTC),
    dt.datetime(2022, 6, 8, 6, 30, tzinfo=dt.timezone(dt.timedelta(hours=7))),  # same instant
    None,
]
FORMATS = [None, *CellFormat]
TZ_PLUS_7 = dt.timezone(dt.timedelta(hours=7))

cell_values = st.one_of(
    st.sampled_from(TYPED), st.text(max_size=30), st.text(alphabet="0123456789.,/-% ",
                                                          max_size=12),
    st.integers(min_value=-10**17, max_value=10**17), st.floats(), st.booleans(), st.dates(),
    st.datetimes(), st.datetimes(timezones=st.sampled_from([dt.UTC, TZ_PLUS_7])),
)

SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def same(reader: TableReader, raw: RawRow, spec: TableSpec) -> None:
    expected = normalise_row_per_cell(raw, spec, "DV01")
    for _ in range(2):  # the second time, whatever the first one memoised is read back
        values, findings = reader.normalise_row(raw, "DV01")
        assert [(k, type(v), v) for k, v in values.items()] == \
               [(k, type(v), v) for k, v in expected[0].items()]
        assert repr(findings) == repr(expected[1])  # repr: a NaN in a finding is itself


@SETTINGS
@given(row=st.lists(st.tuples(st.sampled_from(COLUMNS), cell_values,
                              st.sampled_from(FORMATS)), max_size=8))
def test_a_row_of_anything_reads_as_cell_by_cell(row):
    raw = RawRow(sheet_row=5, cells={c.key: RawCell(value=v, fmt=f) for c, v, f in row})
    same(table_reader(TABLE), raw, TABLE)


def test_every_typed_value_in_every_column_and_format_reads_as_cell_by_cell():
    reader = TableReader(TABLE)
    for fmt in FORMATS:
        for value in TYPED:
            raw = RawRow(sheet_row=7, cells={c.key: RawCell(value=value, fmt=fmt)
                                             for c in COLUMNS})
            same(reader, raw, TABLE)


def test_the_templates_tables_read_as_cell_by_cell():
    for spec in load_template_set().tables.values():
        reader = TableReader(spec)
        for fmt in FORMATS:
            for value in TYPED:
                raw = RawRow(sheet_row=3, cells={c.key: RawCell(value=value, fmt=fmt)
                                                 for c in spec.columns})
                same(reader, raw, spec)


def test_memo_keys_keep_types_and_formats_apart():
    """1, True, 1.0 and "1" are equal or hash alike in places; a memoised reading of one
    is never given to another, nor a reading under one cell format to another."""
    reader = TableReader(TABLE)
    for value in ("1", 1, True, 1.0, Decimal("1.0"), "1", 1):
        for fmt in (None, CellFormat.DATE, CellFormat.PERCENT, CellFormat.TEXT):
            same(reader, RawRow(sheet_row=2, cells={c.key: RawCell(value=value, fmt=fmt)
                                                     for c in COLUMNS}), TABLE)


def test_a_column_of_unique_texts_stops_memoising():
    spec = TableSpec(key="t", tab="T", columns=(COLUMNS[6],))  # text, optional
    reader = TableReader(spec)
    for i in range(5000):
        values, _ = reader.normalise_row(
            RawRow(sheet_row=2, cells={spec.columns[0].key: RawCell(value=f"văn bản {i}")}), "U")
        assert values == {spec.columns[0].key: f"văn bản {i}"}
    assert len(reader.columns[0][-1]) == 4096  # the memo
