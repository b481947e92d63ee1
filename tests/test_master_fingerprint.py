"""The master book's fingerprint (issue 17 item 6): any cell, title or tab changes it, and
it is computed a band of rows at a time, never holding the book's whole JSON (at 5,000
units decoding and re-encoding that held ~520 MB)."""

from __future__ import annotations

import gc
import tracemalloc

import pandas as pd

from cchc_sync.sources.base import MasterBook
from tests.test_google_master_parts_streamed import big_book


def test_every_cell_title_and_tab_counts() -> None:
    book = big_book(rows=5_000)
    same = big_book(rows=5_000)
    assert book.fingerprint() == same.fingerprint()
    frame = same.tabs["Thủ tục"].copy()
    frame.iloc[4_999, 1] = "Thủ tục khác"  # the last row, in the last band
    changed = MasterBook(title=book.title, tabs={**book.tabs, "Thủ tục": frame})
    assert changed.fingerprint() != book.fingerprint()
    renamed = MasterBook(title=book.title, tabs={"Tổng hợp": book.tabs["Tổng hợp"],
                                                 "Thủ tục (2)": book.tabs["Thủ tục"]})
    assert renamed.fingerprint() != book.fingerprint()
    reordered = MasterBook(title=book.title, tabs=dict(reversed(book.tabs.items())))
    assert reordered.fingerprint() != book.fingerprint()
    empty = MasterBook(title=book.title, tabs={"Tổng hợp": pd.DataFrame(columns=["A"])})
    other = MasterBook(title=book.title, tabs={"Tổng hợp": pd.DataFrame(columns=["B"])})
    assert empty.fingerprint() != other.fingerprint()


def test_it_holds_a_band_not_the_book() -> None:
    book = big_book(rows=60_000)
    whole = sum(len(df.to_json(orient="split", date_format="iso", force_ascii=False))
                for df in book.tabs.values())
    gc.collect()
    tracemalloc.start()
    try:
        book.fingerprint()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # The whole book's JSON is ~6 MB here; one band of rows is a small part of it.
    assert peak < whole / 4, (peak, whole)
