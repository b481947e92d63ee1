"""A clerk changes a Google sheet while the cycle writes its flags (google_rows.py).

The clerk's edits are made as a person, with the fake's own request handlers (so a sort
moves each cell's note and colour with its row, as Sheets does, and protected cells are
refused to the clerk): a sort of the table's data columns, a column inserted left of the
status column. Each edit lands after the cycle's one Drive version check and before the
unit's flag write: the edit is made on the fake's request thread as the request after the
previous unit's write (or the unit's own write) arrives, before it is served
(FakeGoogle.on_request) — an ordering of events, not a race against a latency.

"The right rows" is what a fault-free run gives on the final data: a fresh site holding
it, synced once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.google import flag_write
from cchc_sync.testing.fake_google import batch
from cchc_sync.testing.fake_google.control import get_file
from cchc_sync.testing.fake_google.server import DEFAULT_PERSON
from tests.contract.districts import dump_values
from tests.test_concurrent_edits import STATUS_TITLE, TAB, UNIT, _flag_writes, google_flags
from tests.test_faults import Edit, GoogleSite

EXPLANATION = Edit(UNIT, TAB, 3, "Giải trình", "Số liệu đã rà soát lại")


def person_batch(site: GoogleSite, code: str, requests: list[dict[str, Any]]) -> None:
    """A clerk's own batchUpdate in the Sheets UI: the fake's handlers, as that person
    (protected cells refused), one atomic change that moves the Drive version on."""
    store = site.fake.store
    with store.lock:
        file = get_file(store, site.sheets[code])
        ss = file.spreadsheet.clone()
        for req in requests:
            kind, payload = next(iter(req.items()))
            batch._check_protection(ss, kind, payload, "", DEFAULT_PERSON, file.owner)
            batch.HANDLERS[kind](ss, payload, "", store=store, caller=DEFAULT_PERSON,
                                 owner=file.owner)
        ss.recalc()
        file.spreadsheet = ss
        store.bump(file, DEFAULT_PERSON)


def sign(site: GoogleSite, codes: tuple[str, ...] = ("VP", UNIT)) -> None:
    """The clerks of `codes` sign their sheets: content to read, and flags to write (in
    unit order: VP's first)."""
    for code in codes:
        site.fake.edit_cells(site.sheets[code], "Thông tin", "A2", [[f"'Ký {code}"]])


def tab_id(site: GoogleSite, code: str) -> int:
    dump = site.fake.spreadsheet(site.sheets[code])
    return next(s["sheetId"] for s in dump["sheets"] if s["title"] == TAB)


def sort_rows(site: GoogleSite, descending: bool = True) -> None:
    """The clerk selects the table's data columns (not the protected status column) and
    sorts by the first one."""
    rows = dump_values(site.fake.spreadsheet(site.sheets[UNIT]))[TAB]
    status = rows[0].index(STATUS_TITLE)
    last = max(i for i, row in enumerate(rows) if row and row[0]) + 1
    person_batch(site, UNIT, [{"sortRange": {
        "range": {"sheetId": tab_id(site, UNIT), "startRowIndex": 1, "endRowIndex": last,
                  "startColumnIndex": 0, "endColumnIndex": status},
        "sortSpecs": [{"dimensionIndex": 0,
                       "sortOrder": "DESCENDING" if descending else "ASCENDING"}]}}])


def insert_column(site: GoogleSite) -> None:
    """The clerk inserts an empty column B (left of every data column but the first)."""
    person_batch(site, UNIT, [{"insertDimension": {"range": {
        "sheetId": tab_id(site, UNIT), "dimension": "COLUMNS", "startIndex": 1,
        "endIndex": 2}}}])


def after_writes_to(site: GoogleSite, code: str, mark: int, edits: list[Callable[[], None]]
                    ) -> Clerk:
    """A clerk who makes edits[i] as soon as the (i+1)-th flag write into `code`'s sheet
    since `mark` was served: before the fake serves the request that follows it."""

    def served() -> int:
        return len([r for r in site.fake.requests()[mark:]
                    if r["kind"] == "POST spreadsheets.batchUpdate"
                    and site.sheets[code] in r["path"]])

    return Clerk(site, served, edits)


def while_writes_wait(site: GoogleSite, edits: list[Callable[[], None]]) -> Clerk:
    """A clerk who makes edits[i] as soon as the (i+1)-th batchUpdate from now reached the
    fake, before it is served (so the edit lands first)."""
    start = site.fake.stats()["by_kind"].get(BATCH, 0)
    return Clerk(site, lambda: site.fake.stats()["by_kind"].get(BATCH, 0) - start, edits)


BATCH = "POST spreadsheets.batchUpdate"


class Clerk:
    """Edits made on the fake's request thread as requests arrive (FakeGoogle.on_request):
    an edit lands exactly between two of the cycle's requests, whatever the machine's
    load (the clerk used to be a thread racing the fake's 300 ms latency)."""

    def __init__(self, site: GoogleSite, count: Callable[[], int],
                 edits: list[Callable[[], None]]) -> None:
        self.edits, self.done = edits, 0
        self._count = count
        self._lock = threading.Lock()
        self._remove = site.fake.on_request(self._on_request)

    def _on_request(self, _kind: str, _path: str) -> None:
        with self._lock:
            if self.done < len(self.edits) and self._count() > self.done:
                self.edits[self.done]()
                self.done += 1

    def finish(self) -> None:
        """The cycle is over: no more edits; every one of them was made."""
        self._remove()
        assert self.done == len(self.edits), f"{self.done} of {len(self.edits)} edits made"


def reference_flags(tmp_path, edit: Callable[[GoogleSite], None]) -> dict[str, Any]:
    """The flags a fault-free run puts on the same final data."""
    reference = GoogleSite(tmp_path / "reference")
    reference.apply(EXPLANATION)
    edit(reference)
    ws = reference.open()
    try:
        sync_once(ws)
        return google_flags(reference)
    finally:
        ws.close()
        reference.close()


def values_but_status(site: GoogleSite) -> list[list[Any]]:
    rows = dump_values(site.fake.spreadsheet(site.sheets[UNIT]))[TAB]
    status = rows[0].index(STATUS_TITLE)
    return [[v for i, v in enumerate(row) if i != status] for row in rows]


@pytest.fixture
def site(tmp_path):
    site = GoogleSite(tmp_path / "site")
    site.apply(EXPLANATION)
    yield site
    site.close()


def test_a_sort_between_cycles_takes_our_old_notes_along_and_they_are_found(site, tmp_path):
    """No race: the clerk sorts between two cycles. Sheets moved our notes with the rows;
    the next write finds them by the rows' content and leaves none behind."""
    ws = site.open()
    try:
        sync_once(ws)
        sync_once(ws)
        before = google_flags(site)[TAB]
        sort_rows(site)
        sync_once(ws)
        got = google_flags(site)
    finally:
        ws.close()
    assert before[1], "the unit's rows have notes to move"
    assert got == reference_flags(tmp_path, sort_rows)


def test_a_sort_during_the_flag_write_is_followed_at_once(site, tmp_path):
    ws = site.open()
    try:
        sync_once(ws)
        sync_once(ws)
        sign(site)
        mark = len(site.fake.requests())
        clerk = after_writes_to(site, "VP", mark, [lambda: sort_rows(site)])
        result = sync_once(ws)
        clerk.finish()
        assert UNIT not in result.flags_pending
        assert _flag_writes(site, mark) == 2  # the write, and the one that moved the flags
        got = google_flags(site)
    finally:
        ws.close()

    def signed_and_sorted(ref: GoogleSite) -> None:
        sign(ref)
        sort_rows(ref)

    assert got == reference_flags(tmp_path, signed_and_sorted)


def test_a_column_inserted_during_the_flag_write_changes_no_typed_value(site, tmp_path):
    """Without the anchor, the status column's old index would now be "Giải trình": the
    write would put statuses over the clerk's explanations."""
    ws = site.open()
    try:
        sync_once(ws)
        sync_once(ws)
        sign(site)
        mark = len(site.fake.requests())
        seen: dict[str, Any] = {}

        def clerk_inserts() -> None:
            insert_column(site)
            seen["values"] = values_but_status(site)

        clerk = after_writes_to(site, "VP", mark, [clerk_inserts])
        result = sync_once(ws)
        clerk.finish()
        assert result.flags_pending == [UNIT]
        assert values_but_status(site) == seen["values"]
        assert "Số liệu đã rà soát lại" in [v for row in seen["values"] for v in row]
        result = sync_once(ws)  # reads the new layout; flags where its status column is
        assert UNIT not in result.flags_pending and result.flags_written >= 1
        got = google_flags(site)
    finally:
        ws.close()

    def signed_and_inserted(ref: GoogleSite) -> None:
        sign(ref)
        insert_column(ref)

    assert got == reference_flags(tmp_path, signed_and_inserted)


def test_rows_that_keep_moving_lose_their_flags_until_the_next_read(site, tmp_path):
    ws = site.open()
    try:
        sync_once(ws)
        sync_once(ws)
        sign(site, (UNIT,))
        mark = len(site.fake.requests())
        sorts = [lambda: sort_rows(site, True), lambda: sort_rows(site, False),
                 lambda: sort_rows(site, True)]
        # The unit's write is the cycle's only flag write: the version check is before
        # it; the clerk sorts as each of its first three writes arrives, before it is served.
        clerk = while_writes_wait(site, sorts)
        sync_once(ws)
        clerk.finish()
        assert _flag_writes(site, mark) == 4  # write, two moves, then the flags come off
        status, notes = google_flags(site)[TAB]
        assert status == {} and notes == {}
        result = sync_once(ws)  # the next read puts them back
        assert result.flags_written >= 1
        got = google_flags(site)
    finally:
        ws.close()

    def signed_and_sorted(ref: GoogleSite) -> None:
        sign(ref, (UNIT,))
        sort_rows(ref, True)

    assert got == reference_flags(tmp_path, signed_and_sorted)
    assert any(str(text).startswith("✖") for text in got[TAB][0].values())


def test_a_flag_write_nobody_raced_is_checked_without_parsing_its_answer(site, monkeypatch):
    """The row check's shortcut (rows.unmoved) holds for the answer of a real flag write
    on a sheet nobody touched: the statuses the write put in the status column are no
    change. So the answer is not parsed into prints (prints_after); a sort during the next
    write is still seen and followed (the prints compared as before)."""
    parsed: list[int] = []
    real = flag_write.prints_after

    def counted(*args: Any, **kwargs: Any) -> Any:
        parsed.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(flag_write, "prints_after", counted)
    ws = site.open()
    try:
        sync_once(ws)
        assert google_flags(site)[TAB][0]  # statuses written
        sync_once(ws)
        assert parsed == []
        sign(site)
        mark = len(site.fake.requests())
        clerk = after_writes_to(site, "VP", mark, [lambda: sort_rows(site)])
        sync_once(ws)
        clerk.finish()
        assert _flag_writes(site, mark) == 2  # the write, and the one that moved the flags
        assert parsed
    finally:
        ws.close()
