"""The master writes only what changed (issue 17): k units changed cost O(k) rows written,
not O(N), and the master then is exactly what a whole rewrite would make.

Over real HTTP to the fake Google API with real gspread and google-auth. The books are
made here (a master's tabs: figures, one line per unit, findings, a table with a few rows a
unit) so that 12 and 200 units cost a few seconds; the cycle-level budget is in
test_google_budget.py. Row counts are the fake's own request log (the bodies it received).
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest

from cchc_sync.sources.base import MasterBook, SheetRef
from cchc_sync.sources.google.master_update import MARKER_KEY
from cchc_sync.sources.google.transport import RetryPolicy
from tests.contract.districts import PERIOD, GoogleDistrict

BATCH_UPDATE = "POST spreadsheets.batchUpdate"
TABLE_TAB = "Giải quyết TTHC"


def make_book(n: int, *, changed: dict[int, int] = None, grown: dict[int, int] = None,
              errors: set[int] = frozenset(), extra_column: bool = False) -> MasterBook:
    """A master of n units: unit i has 3 rows (grown: unit -> rows instead), its values
    moved by changed[i] when given, findings for the units in `errors`."""
    changed, grown = changed or {}, grown or {}
    table, progress, findings = [], [], []
    totals = [0, 0]
    for i in range(n):
        code, bump = f"U{i:03d}", changed.get(i, 0)
        for r in range(grown.get(i, 3)):
            count = 10 * i + r + bump
            totals[i % 2] += count
            table.append({"Mã đơn vị": code, "Tên đơn vị": f"Đơn vị số {i}",
                          "Kỳ báo cáo": PERIOD, "Lĩnh vực": f"Lĩnh vực {r}",
                          "Tổng số": count, "Tỷ lệ": 50.0 + r + bump / 4,
                          "Ngày": dt.date(2026, 1, 1 + r), "Kiểm tra": "Hợp lệ"})
        progress.append({"Mã đơn vị": code, "Tên đơn vị": f"Đơn vị số {i}",
                         "Trạng thái": "Đã nộp" if (i + bump) % 2 else "Đang nhập",
                         "Số lỗi": 1 if i in errors else 0})
        if i in errors:
            findings.append({"Mã đơn vị": code, "Mức độ": "Lỗi", "Nội dung": "Tổng không khớp",
                             "Dòng": 2})
    progress.append({"Mã đơn vị": None})
    progress.append({"Mã đơn vị": "Tất cả các cấp", "Tên đơn vị": f"{n} đơn vị"})
    summary = [{"Chỉ tiêu": "Tổng số hồ sơ", "Cấp huyện": totals[0], "Cấp xã": totals[1],
                "Toàn huyện": sum(totals)},
               {"Chỉ tiêu": "Số đơn vị", "Cấp huyện": n, "Cấp xã": n, "Toàn huyện": n}]
    table_frame = pd.DataFrame.from_records(table)
    if extra_column:
        table_frame["Ghi chú"] = "mới"
    return MasterBook(
        title="Tổng hợp", percent_columns={TABLE_TAB: ("Tỷ lệ",)},
        wrapped_columns={"Bất thường": ("Nội dung",)},
        tabs={"Tổng hợp": pd.DataFrame.from_records(summary),
              "Tiến độ": pd.DataFrame.from_records(progress),
              "Bất thường": pd.DataFrame.from_records(
                  findings, columns=["Mã đơn vị", "Mức độ", "Nội dung", "Dòng"]),
              TABLE_TAB: table_frame})


@pytest.fixture(scope="module")
def google(tmp_path_factory):
    """One fake and backend for the module; each test makes its own masters."""
    district = GoogleDistrict(tmp_path_factory.mktemp("g"), units_csv="ma,ten,cap,cha,email\n"
                              "U000,Đơn vị số 0,xa,,\n", fill=False, data_rows=3,
                              retry=RetryPolicy(max_attempts=3, base_delay=0, jitter=0))
    district.fake.record_bodies()
    yield district
    district.close()


def new_master(google) -> SheetRef:
    return google.backend.create_master("Tổng hợp", google.ws.period)


def sheets(google, ref: SheetRef, book: MasterBook) -> list[dict]:
    """The book's tabs as the fake holds them: properties, cells, filter, widths, row
    metadata (a new master also has a tab per template table, which no book here has)."""
    tabs = google.fake.spreadsheet(ref.ref)["sheets"]
    assert not any(t["title"].startswith("_cchc") for t in tabs)
    return [t for t in tabs if t["title"] in book.tabs]


def master_writes(google, ref: SheetRef) -> list[dict]:
    return [e for e in google.fake.requests()
            if e["kind"] == BATCH_UPDATE and e["path"].endswith(f"/{ref.ref}:batchUpdate")]


def rows_written(requests: list[dict]) -> int:
    """Rows of cells the batchUpdates carried (updateCells), every tab together."""
    return sum(len(r["updateCells"].get("rows", [])) for e in requests
               for r in body(e)["requests"] if "updateCells" in r)


def body(entry: dict) -> dict:
    return json.loads(entry["body"])


def written(google, ref: SheetRef, book: MasterBook, shape: str | None) -> tuple[str, list]:
    google.fake.reset_stats()
    new_shape = google.backend.update_master(ref, book, shape)
    assert new_shape
    return new_shape, master_writes(google, ref)


def reference(google, book: MasterBook) -> list[dict]:
    """The book written whole into a fresh master."""
    ref = new_master(google)
    assert google.backend.update_master(ref, book, None)
    return sheets(google, ref, book)


def markers(google, ref: SheetRef) -> list[dict]:
    return [m for m in google.fake.spreadsheet(ref.ref).get("developerMetadata", [])
            if m["metadataKey"] == MARKER_KEY]


@pytest.mark.parametrize("n", [12, 200])
def test_k_units_changed_write_rows_in_proportion_to_k_not_n(google, n):
    ref = new_master(google)
    shape, first = written(google, ref, make_book(n), None)
    assert len(first) == 1 and rows_written(first) >= 3 * n  # the first write is whole

    k = 3
    shape, update = written(google, ref, make_book(n, changed={1: 5, n // 2: 7, n - 1: 9}),
                            shape)
    assert len(update) == 1  # one atomic batchUpdate
    # Per changed unit: its 3 table rows and its progress line; and the one figure that
    # moved ("Số đơn vị" did not). The same at 12 and at 200 units: O(k), not O(N).
    assert rows_written(update) == k * (3 + 1) + 1
    assert update[0]["bytes"] < 12_000  # the whole master at 200 units: ~200 KB
    assert len(markers(google, ref)) == 1

    # Nothing changed in the book: nothing is sent.
    same, idle = written(google, ref, make_book(n, changed={1: 5, n // 2: 7, n - 1: 9}), shape)
    assert same == shape and idle == []
    if n == 12:
        book = make_book(n, changed={1: 5, n // 2: 7, n - 1: 9})
        assert sheets(google, ref, book) == reference(google, book)


def test_rows_added_and_removed_land_where_a_whole_rewrite_puts_them(google):
    n = 12
    ref = new_master(google)
    shape, _ = written(google, ref, make_book(n, errors={4}), None)
    # Unit 2 gains two rows, unit 7 loses one, unit 4's finding goes and unit 9 gets one.
    book = make_book(n, changed={2: 1}, grown={2: 5, 7: 2}, errors={9, 11})
    shape, update = written(google, ref, book, shape)
    kinds = [next(iter(r)) for r in body(update[0])["requests"]]
    assert "insertDimension" in kinds and "deleteDimension" in kinds
    assert "setBasicFilter" in kinds  # heights changed: the filter covers the new rows
    assert rows_written(update) < 20
    assert sheets(google, ref, book) == reference(google, book)

    # A column added to a table: its layout changed, so every tab is rewritten.
    wider = make_book(n, extra_column=True)
    shape, whole = written(google, ref, wider, shape)
    assert rows_written(whole) >= 3 * n
    assert sheets(google, ref, wider) == reference(google, wider)
    assert len(markers(google, ref)) == 1


def test_a_difference_sent_twice_is_refused_and_the_master_rewritten_whole(google):
    """The answer to our write is lost and the transport sends it again: the second copy
    would insert the rows twice. Its marker is already there, so Google refuses it and the
    backend rewrites the master whole."""
    n = 12
    ref = new_master(google)
    shape, _ = written(google, ref, make_book(n), None)
    book = make_book(n, grown={3: 6})
    google.fake.set_faults(shape="truncated", count=1, kinds=[BATCH_UPDATE])
    try:
        _, writes = written(google, ref, book, shape)
    finally:
        google.fake.clear_faults()
    assert [e["status"] for e in writes] == [200, 400, 200]
    assert sheets(google, ref, book) == reference(google, book)
    assert len(markers(google, ref)) == 1


def test_a_master_not_known_to_be_written_is_written_whole_next_time(tmp_path):
    """The publisher forgets the shape when a write failed; the archive keeps it per
    period and a re-registered master starts without one."""
    from cchc_sync.store.archive import Archive

    archive = Archive(tmp_path / "a.db")
    archive.register_master(PERIOD, "google", "abc", "")
    archive.set_master_hash(PERIOD, "h", "k", '{"tabs": []}')
    assert archive.master(PERIOD)["shape"] == '{"tabs": []}'
    archive.forget_master_shape(PERIOD)
    assert archive.master(PERIOD)["shape"] is None
    archive.set_master_hash(PERIOD, "h", "k", '{"tabs": []}')
    archive.register_master(PERIOD, "google", "other", "")
    assert archive.master(PERIOD)["shape"] is None
