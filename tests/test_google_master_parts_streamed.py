"""A master written in parts holds one part's requests at a time (issue 17 item 6).

At 5,000 units the master is ~55 requests of 2 MB; building every part's CellData before
sending the first held all of them at once (+635 MB). `master_batches` is a generator that
makes a part's rows only when the part is due, so consuming its parts one by one (as the
backend sends them) must peak far below holding them all, and send the same requests.
"""

from __future__ import annotations

import datetime as dt
import gc
import json
import tracemalloc
from collections.abc import Callable

import pandas as pd
import pytest

from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.google.cells import fixed_sheet_ids
from cchc_sync.sources.google.master import (
    STAGING_PREFIX,
    MasterTab,
    json_size,
    master_batches,
    master_tab_titles,
    master_tabs,
)
from cchc_sync.sources.google.master_spool import encode_body
from cchc_sync.sources.google.master_update import _digest, master_shape

BUDGET = 40_000
"""Bytes per part: the ~2 MB of text below becomes ~60 parts."""


def big_book(rows: int = 6_000) -> MasterBook:
    frame = pd.DataFrame({
        "Mã đơn vị": [f"XA{i // 40:04d}" for i in range(rows)],
        "Tên thủ tục": [f"Thủ tục hành chính số {i} về đất đai" for i in range(rows)],
        "Số hồ sơ": list(range(rows)),
        "Tỷ lệ": [96.16 + i % 7 for i in range(rows)],
        "Ngày": [dt.date(2022, 6, 1 + i % 28) for i in range(rows)],
    })
    return MasterBook(title="Tổng hợp", tabs={"Tổng hợp": frame.head(3), "Thủ tục": frame},
                      percent_columns={"Thủ tục": ("Tỷ lệ",)})


def ids_of(book: MasterBook) -> dict[str, int]:
    return fixed_sheet_ids(master_tab_titles(list(book.tabs)))


def peak_while(consume: Callable[[], object]) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        consume()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_parts_are_made_one_at_a_time() -> None:
    book = big_book()
    ids = ids_of(book)
    tabs = master_tabs(book, ids)
    sizes: list[int] = []

    def send_each() -> None:
        for part in master_batches(book, ids, budget=BUDGET, tabs=tabs):
            sizes.append(json_size({"requests": part}))  # as the transport encodes it

    streamed = peak_while(send_each)
    held = peak_while(lambda: list(master_batches(book, ids, budget=BUDGET, tabs=tabs)))
    assert len(sizes) > 30, len(sizes)
    assert max(sizes) <= BUDGET
    # Written into staging tabs, then one swap: the book is really in parts.
    parts = list(master_batches(book, ids, budget=BUDGET, tabs=tabs))
    assert any(STAGING_PREFIX in str(r) for r in parts[0])
    # One part alive at a time: a small fraction of all of them held together (~60 parts).
    assert streamed < held / 8, (streamed, held)


def test_small_master_is_one_request_with_every_row() -> None:
    book = big_book(rows=50)
    ids = ids_of(book)
    (only,) = list(master_batches(book, ids))
    cells = [r["updateCells"] for r in only if "updateCells" in r]
    # Each tab's whole grid, the header and every row of its frame.
    assert [len(c["rows"]) for c in cells] == [4, 51]
    assert cells[1]["rows"][1]["values"][0] == {"userEnteredValue": {"stringValue": "XA0000"}}


def test_rows_the_shape_spooled_are_sent_as_made_and_never_made_again(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """master_shape makes each row once and spools its JSON (master_spool.py); the write
    takes the rows back from the spool: the same parts as rows made from the frame, the
    same sizes, and no row made a second time. The blocks' digests are those of the rows'
    cells as before the spool (a shape an archive recorded still matches)."""
    for rows, budget in ((50, 2_000_000), (6_000, BUDGET)):
        book = big_book(rows)
        ids = ids_of(book)
        made = list(master_batches(book, ids, budget=budget, tabs=master_tabs(book, ids)))
        tabs = master_tabs(book, ids)
        shape = master_shape(tabs)
        assert all(tab.spool.done for tab in tabs)
        for tab, shaped in zip(tabs, shape["tabs"], strict=True):
            rows_made = [r["values"] for r in tab.made_rows(1, tab.height)]
            at = 0
            for digest, height in shaped["blocks"]:
                assert digest == _digest(rows_made[at:at + height])
                at += height
            assert at == len(rows_made)
        with monkeypatch.context() as m:
            m.setattr(MasterTab, "made_rows", lambda *a: pytest.fail("a row made again"))
            bodies = [encode_body(p) for p in master_batches(book, ids, budget=budget,
                                                               tabs=tabs)]
            assert all(tab.rows_size(budget) for tab in tabs)
        # The bodies sent: the rows spliced in as spooled, the very requests made from the
        # frame, each the size the budget counted (as the transport would encode them).
        assert [json.loads(b) for b in bodies] == [{"requests": p} for p in made]
        assert [len(b) for b in bodies] == [json_size({"requests": p}) for p in made]
        assert max(len(b) for b in bodies) <= budget
        for tab in tabs:
            tab.spool.close()


def test_spooled_parts_are_held_one_at_a_time() -> None:
    book = big_book()
    ids = ids_of(book)

    def send_each() -> None:
        tabs = master_tabs(book, ids)
        master_shape(tabs)
        for _ in master_batches(book, ids, budget=BUDGET, tabs=tabs):
            pass

    held = peak_while(lambda: list(master_batches(book, ids, budget=BUDGET)))
    streamed = peak_while(send_each)
    assert streamed < held / 4, (streamed, held)
