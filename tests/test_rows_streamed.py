"""The archive's current rows come off the cursor one at a time (issue 17 item 6): loading
them holds one list of rows, not the database's rows, the decoded rows and the dated rows
at once; and names that repeat from row to row are one string, not one per row."""

from __future__ import annotations

import tracemalloc

from tests.conftest import Clock, synced_copy


def test_current_rows_peak_is_the_rows_held(synced_template, tmp_path):
    ws = synced_copy(synced_template, tmp_path / "d", Clock())
    try:
        period = ws.period.code
        assert list(ws.archive.iter_current_rows(period)) == ws.archive.current_rows(period)
        tracemalloc.start()
        try:
            rows = ws.current_rows()
            held, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert len(rows) > 100
        # Before: fetchall() and two lists of rows (stored and dated) side by side, a peak
        # of ~1.4x what the rows hold. Now the peak is the rows and a little beside them.
        assert peak < 1.15 * held, (peak, held)
        # Every row's column keys, table and unit are the same string objects.
        keys = {id(k) for r in rows if r.table == rows[0].table for k in r.values}
        assert len(keys) <= len({k for r in rows if r.table == rows[0].table for k in r.values})
        assert len({id(r.table) for r in rows}) == len({r.table for r in rows})
        assert len({id(r.unit) for r in rows}) == len({r.unit for r in rows})
    finally:
        ws.close()
