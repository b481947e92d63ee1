"""The master's data rows written directly as XML (sources/xlsx/master_rows.py) are the bytes
openpyxl writes for them, cell kind by cell kind, whole tab or only some rows."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pandas as pd
import pytest

from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.sheet_layout import Link, PercentPoints
from cchc_sync.sources.xlsx.common import workbook_bytes
from cchc_sync.sources.xlsx.master import build_master_workbook, master_bytes
from cchc_sync.sources.xlsx.master_rows import SPOOL_BYTES

VN = dt.timezone(dt.timedelta(hours=7))
LONG = "Hồ sơ quá hạn vì thiếu giấy tờ; đã hướng dẫn bổ sung. " * 6


def every_kind() -> pd.DataFrame:
    return pd.DataFrame({
        "Đơn vị": ["x", " y ", "=1", "Đ&<>\"'\n\t", None, "+84 912", "\u00a0nbsp", "😀 ok", "",
                   "@a"],
        "Số": [1, 2, 3, 4, 5, 6, 7, 8, 9, 12345678901234567890],
        "Tỷ số": [1.5, float("nan"), 2.0, 1e20, 0.1, 1 / 3, -0.0, 7.25, None, 2.5e-9],
        "Có": [True, False, None, True, False, None, True, True, False, None],
        "Ngày": [dt.date(2022, 1, 1), None, dt.datetime(2022, 1, 1, 10, 5),
                 dt.date(2022, 1, 2), None, dt.datetime(2022, 6, 1, 23, 0, tzinfo=dt.UTC),
                 dt.datetime(2022, 6, 2), None, dt.date(1999, 12, 31), None],
        "Mở": [Link("Mở", "/x/y.xlsx"), "t", None, "u", "v", Link('a "b"', "/p&q/r.xlsx"),
               None, 3, 4.5, "w"],
        "Tỷ lệ": [PercentPoints(96.16), 1, None, 2.5, 3, None, 0, 100, 99.99, None],
        "Ghi chú": [LONG, None, "=SUM(A1)", "ngắn", True, 12, dt.date(2022, 3, 4), LONG[:60],
                    "a\nb\nc", ""],
        "Ngày ISO": ["2022-01-01", None, "2022-02-28", "2022-12-31", None, None, "2021-06-15",
                     None, None, "2020-02-29"],
        "Int có trống": [1.0, None, 3.0, None, 5.0, 6.0, None, 8.0, 9.0, 10.0],
        "Giờ": pd.to_datetime(["2022-01-01 08:00", None, "2022-01-02 00:00", None, None, None, None,
                               None, None, "2022-05-05 17:30"]),
        "Trống": [None] * 10,
    })


def book_of(**tabs: pd.DataFrame) -> MasterBook:
    return MasterBook(title="Tổng hợp thử", tabs=dict(tabs),
                      percent_columns={"A": ("Tỷ lệ",)}, hidden_columns={"A": ("Có",)},
                      wrapped_columns={"A": ("Ghi chú", "Mở")},
                      generated_at=dt.datetime(2022, 6, 10, 3, 0, tzinfo=dt.UTC))


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name != "docProps/core.xml"}


def openpyxl_bytes(book: MasterBook, only=None) -> bytes:
    return workbook_bytes(build_master_workbook(book, only))


@pytest.mark.parametrize("only", [None, {0: [range(0, 3), range(5, 10)], 1: [range(1, 2)]},
                                  {0: [], 1: [range(0, 4)]}],
                         ids=["whole", "some-rows", "no-rows"])
def test_direct_rows_are_the_bytes_openpyxl_writes(only):
    frame = every_kind()
    book = book_of(A=frame, B=frame.iloc[::-1].reset_index(drop=True), C=frame.iloc[:0])
    direct: dict[str, bytes] = {}
    workbook_bytes(build_master_workbook(book, only, direct=direct))
    # Every tab with rows took the direct path (the test would prove nothing otherwise).
    assert set(direct) == {"xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                           "xl/worksheets/sheet3.xml"}
    assert parts(master_bytes(book, only)) == parts(openpyxl_bytes(book, only))


@pytest.mark.parametrize("odd", ["#N/A", "dòng\r\nmới", dt.time(8, 30)],
                         ids=["error-code", "carriage-return", "time"])
def test_a_value_it_cannot_write_leaves_the_tab_to_openpyxl(odd):
    frame = every_kind()
    frame.loc[3, "Mở"] = odd  # a column of mixed types (pandas keeps the object as it is)
    book = book_of(A=frame, B=every_kind())
    direct: dict[str, bytes] = {}
    workbook_bytes(build_master_workbook(book, direct=direct))
    assert set(direct) == {"xl/worksheets/sheet2.xml"}
    assert parts(master_bytes(book)) == parts(openpyxl_bytes(book))


def test_a_large_tabs_rows_are_never_all_in_memory():
    """The rows' XML of a large master goes through a temporary file into the compressed
    part (issue 17: a 5,000-unit master's rows are hundreds of MB). Holding them in memory
    once, as one string, then as bytes, then in the spliced part, peaked at 3-4x their
    size; streamed, the peak is under their size (most of it the rows' values read out of
    the frame, about 0.7x here)."""
    import tracemalloc

    n = 25_000
    frame = pd.DataFrame({"Đơn vị": [f"Xã số {i}" for i in range(n)],
                          "Tiếp nhận": range(n), "Giải quyết": range(n, 2 * n),
                          "Quá hạn": [i % 7 for i in range(n)]})
    book = MasterBook(title="Lớn", tabs={"A": frame})
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        data = master_bytes(book)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()
    rows_xml = len(parts(data)["xl/worksheets/sheet1.xml"])
    assert rows_xml > 4 * SPOOL_BYTES  # far beyond the in-memory spool
    assert peak < rows_xml, (peak, rows_xml)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.read("xl/worksheets/sheet1.xml").count(b"<row ") == n + 1
