"""A batchUpdate copies only the tabs it can change (the fake stays fast on a big master)
and stays atomic."""

from __future__ import annotations

import pytest

from cchc_sync.testing.fake_google.control import get_file
from tests.test_fake_google_gspread import drive, fake, gc, key_file  # noqa: F401  (fixtures)


def _cells(sid: int, row: int, text: str) -> dict:
    return {"updateCells": {"start": {"sheetId": sid, "rowIndex": row, "columnIndex": 0},
                            "rows": [{"values": [{"userEnteredValue": {"stringValue": text}}]}],
                            "fields": "userEnteredValue"}}


def test_tabs_a_batch_cannot_touch_are_shared_and_a_failure_changes_nothing(fake, gc, drive):  # noqa: F811
    """The fake's own speed, checked through its store: untouched tabs are the same objects."""
    sh = gc.create("Sổ", drive)
    sh.batch_update({"requests": [{"addSheet": {"properties": {"sheetId": 7, "title": "B"}}}]})
    first = sh.sheet1.id
    sh.batch_update({"requests": [_cells(first, 0, "a"), _cells(7, 0, "b")]})
    spreadsheet = lambda: get_file(fake.store, sh.id).spreadsheet  # noqa: E731
    before = {s.sheet_id: s for s in spreadsheet().sheets}
    sh.batch_update({"requests": [_cells(7, 1, "b2")]})
    after = {s.sheet_id: s for s in spreadsheet().sheets}
    assert after[first] is before[first]  # not copied: the batch names only tab 7
    assert after[7] is not before[7]
    assert sh.worksheet("B").get_all_values() == [["b"], ["b2"]]
    # Atomic still: a refused request after a good one leaves every tab as it was.
    with pytest.raises(Exception, match="400"):
        sh.batch_update({"requests": [_cells(7, 2, "lost"), _cells(first, 5000, "x")]})
    assert sh.worksheet("B").get_all_values() == [["b"], ["b2"]]
    assert sh.sheet1.get_all_values() == [["a"]]
    # A structural change may reach any tab: everything is copied.
    sh.batch_update({"requests": [{"insertDimension": {"range": {
        "sheetId": 7, "dimension": "ROWS", "startIndex": 0, "endIndex": 1}}}]})
    assert all(s is not after.get(s.sheet_id) for s in spreadsheet().sheets)
