"""The fake Google API's own memory stays in proportion to what it holds."""

from __future__ import annotations


def test_the_fakes_cells_share_equal_formats_and_a_write_changes_one_cell_only():
    """Memory in proportion (issue 17): a template formats hundreds of rows alike, so the
    fake keeps one copy of each distinct format; a write to one cell never shows in
    another that shared it."""
    import tracemalloc

    from cchc_sync.testing.fake_google.batch_cells import store_cell
    from cchc_sync.testing.fake_google.model import Sheet

    sheet = Sheet(props={"sheetId": 1, "title": "a",
                         "gridProperties": {"rowCount": 5000, "columnCount": 2}})
    fmt = {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"},
           "borders": {"top": {"style": "SOLID"}}}
    tracemalloc.start()
    try:
        for r in range(5000):
            store_cell(sheet, r, 0, {"userEnteredValue": {"numberValue": r},
                                     "userEnteredFormat": {**fmt}})
        per_cell = tracemalloc.get_traced_memory()[0] / 5000
    finally:
        tracemalloc.stop()
    assert per_cell < 700  # a dict of its own per cell: ~1,350 bytes
    assert sheet.cells[(0, 0)].fmt is sheet.cells[(4999, 0)].fmt
    store_cell(sheet, 0, 0, {"userEnteredFormat": {"textFormat": {"bold": True}}})
    assert sheet.cells[(0, 0)].fmt == {"textFormat": {"bold": True}}
    assert sheet.cells[(1, 0)].fmt["numberFormat"] == {"type": "NUMBER", "pattern": "#,##0"}
    assert "textFormat" not in sheet.cells[(1, 0)].fmt


def test_a_copy_of_a_spreadsheet_shares_its_cells_until_one_is_written():
    """Every edit works on a copy (atomic batchUpdate): the copy shares the cells and each
    written cell is copied alone, in whichever copy writes it (copy on write)."""
    from cchc_sync.testing.fake_google.batch_cells import store_cell
    from cchc_sync.testing.fake_google.model import Sheet, Spreadsheet
    from cchc_sync.testing.fake_google.sheets import set_cell

    sheet = Sheet(props={"sheetId": 1, "title": "a",
                         "gridProperties": {"rowCount": 100, "columnCount": 2}})
    ss = Spreadsheet(id="s", props={"title": "s"}, sheets=[sheet])
    for r in range(100):
        store_cell(sheet, r, 0, {"userEnteredValue": {"numberValue": r},
                                 "userEnteredFormat": {"textFormat": {"bold": True}}})
    copy = ss.clone()
    other = copy.sheets[0]
    assert other is not sheet and other.cells is not sheet.cells
    assert all(other.cells[k] is cell for k, cell in sheet.cells.items())  # none copied
    set_cell(other, 5, 0, 7, "RAW")
    store_cell(other, 6, 0, {"note": "ghi chú"})
    assert other.cells[(5, 0)].uev == {"numberValue": 7}
    assert other.cells[(6, 0)].note == "ghi chú" and other.cells[(6, 0)].uev is None
    assert sheet.cells[(5, 0)].uev == {"numberValue": 5}  # the original is untouched
    assert sheet.cells[(6, 0)].note is None and sheet.cells[(6, 0)].uev == {"numberValue": 6}
    assert other.cells[(7, 0)] is sheet.cells[(7, 0)]  # the rest still shared
    set_cell(sheet, 7, 0, 9, "RAW")  # nor does the original's write show in the copy
    assert other.cells[(7, 0)].uev == {"numberValue": 7}
    assert sheet.cells[(7, 0)].uev == {"numberValue": 9}
