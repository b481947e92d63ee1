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
