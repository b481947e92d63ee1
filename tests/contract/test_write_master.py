"""write_master: the book replaces the master's content, tabs in order, values typed,
percent columns in points — the same on every backend."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from cchc_sync.sources.base import MasterBook


def book(*tabs: str) -> MasterBook:
    frames = {
        "Tổng hợp": pd.DataFrame({"Chỉ tiêu": ["Số hồ sơ tiếp nhận", "Tỷ lệ trực tuyến"],
                                  "Toàn huyện": [9406, 96.16]}),
        "Tiến độ": pd.DataFrame({"Mã đơn vị": ["U000", "U001"],
                                 "Ngày nộp": ["2022-06-15", None],
                                 "Tỷ lệ (%)": [96.16, 30.74]}),
    }
    return MasterBook(title="Tổng hợp CCHC 2022S1", tabs={t: frames[t] for t in tabs},
                      percent_columns={"Tiến độ": ("Tỷ lệ (%)",)},
                      generated_at=dt.datetime(2022, 6, 10, 2, tzinfo=dt.UTC))


def as_date(value) -> dt.date:
    """A date as each backend stores it: a date, a datetime or a Sheets serial."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))


def test_the_book_is_written_tab_by_tab(district):
    backend = district.ws.backend
    assert backend.write_master(district.master_ref(), book("Tổng hợp", "Tiến độ")) is True
    master = district.master()
    assert list(master)[:2] == ["Tổng hợp", "Tiến độ"]
    summary = master["Tổng hợp"]
    assert summary[0] == ["Chỉ tiêu", "Toàn huyện"]
    assert summary[1] == ["Số hồ sơ tiếp nhận", 9406]
    assert float(summary[2][1]) == 96.16
    progress = master["Tiến độ"]
    assert progress[0] == ["Mã đơn vị", "Ngày nộp", "Tỷ lệ (%)"]
    assert as_date(progress[1][1]) == dt.date(2022, 6, 15)
    # Percent points stay points: 96,16 %, never 0.9616 or 9616.
    assert [float(r[2]) for r in progress[1:]] == [96.16, 30.74]
    assert progress[2][1] is None


def test_a_second_book_replaces_the_first(district):
    backend = district.ws.backend
    backend.write_master(district.master_ref(), book("Tổng hợp", "Tiến độ"))
    second = book("Tổng hợp", "Tiến độ")
    second.tabs["Tiến độ"].loc[1, "Tỷ lệ (%)"] = 50.5
    second.tabs["Tổng hợp"].loc[0, "Toàn huyện"] = 9500
    assert backend.write_master(district.master_ref(), second) is True
    master = district.master()
    assert master["Tổng hợp"][1] == ["Số hồ sơ tiếp nhận", 9500]
    assert [float(r[2]) for r in master["Tiến độ"][1:]] == [96.16, 50.5]


@pytest.mark.parametrize("district", ["local", "memory"], indirect=True)
def test_a_tab_the_book_no_longer_has_goes(district):
    """Not on Google: its master is made with every tab and keeps a tab a later book
    lacks (the product's books always have the same tabs)."""
    backend = district.ws.backend
    backend.write_master(district.master_ref(), book("Tổng hợp", "Tiến độ"))
    assert backend.write_master(district.master_ref(), book("Tổng hợp")) is True
    master = district.master()
    assert list(master) == ["Tổng hợp"]
    assert master["Tổng hợp"][1] == ["Số hồ sơ tiếp nhận", 9406]
