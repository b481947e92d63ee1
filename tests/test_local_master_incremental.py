"""The local master renders only the rows of the units that changed (issue 17 item 1), and
the file it writes is the one a whole render gives, part for part.

The sample district's own master book, changed unit by unit as a cycle would change it
(a figure in a table, the unit's line in "Tiến độ"), written by the real backend over the
master its first cycles wrote. The work is counted, not timed: the backend adds the data
rows openpyxl rendered to cchc_sync_master_rows_rendered_total. That a cycle takes this
path is asserted in test_master_skip (a row edited)."""

from __future__ import annotations

import dataclasses
import io
import zipfile

import openpyxl
import pytest

from cchc_sync.app.publishing import master_book
from cchc_sync.domain import telemetry
from cchc_sync.publish.master import PROGRESS_TAB
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.xlsx import master_update
from cchc_sync.sources.xlsx.common import workbook_bytes
from cchc_sync.sources.xlsx.master import build_master_workbook
from cchc_sync.sources.xlsx.master_update import WRITER_VERSION
from tests.conftest import make_district
from tests.test_master_skip import RENDERED, master_path

TABLE_TAB = "Đào tạo, bồi dưỡng"


@pytest.fixture
def synced(tmp_path, clock):
    ws = make_district(tmp_path / "district", clock=clock, cycles=2)
    yield ws
    ws.close()


def rendered() -> float:
    return telemetry.REGISTRY.value(RENDERED, backend="local") or 0.0


def units_in_both(book) -> list[str]:
    table = set(book.tabs[TABLE_TAB].iloc[:, 0].astype(str))
    return [u for u in book.tabs[PROGRESS_TAB].iloc[:, 0].astype(str) if u in table]


def changed(book, units, bump: int):
    """The book with, for each unit, its first number in TABLE_TAB and its line in
    "Tiến độ" changed; and how many rows those units' blocks hold in both tabs."""
    tabs = dict(book.tabs)
    rows = 0
    for name in (TABLE_TAB, PROGRESS_TAB):
        df = tabs[name].copy()
        column = next(c for c in df.columns
                      if df[c].dtype.kind in "if" and df[c].notna().any())
        for unit in units:
            mine = df.index[df.iloc[:, 0].astype(str) == unit]
            df.loc[mine[0], column] = 1000 + bump
            rows += len(mine)
        tabs[name] = df
    return dataclasses.replace(book, tabs=tabs), rows


def update(ws, book, shape):
    master = ws.archive.master(ws.period.code)
    before = rendered()
    shape = ws.backend.update_master(SheetRef(ref=master["ref"], url=master["url"]), book,
                                     shape)
    assert shape
    return shape, rendered() - before


def assert_as_whole(ws, book) -> None:
    """The master on disk is, part for part, what rendering `book` whole writes (only
    docProps/core.xml, which holds the time of saving, may differ)."""
    whole = zipfile.ZipFile(io.BytesIO(workbook_bytes(build_master_workbook(book))))
    written = zipfile.ZipFile(master_path(ws))
    assert written.namelist() == whole.namelist()
    for name in whole.namelist():
        if name != "docProps/core.xml":
            assert written.read(name) == whole.read(name), name


@pytest.mark.parametrize("band", [None, 1, 3], ids=["default", "band-1", "band-3"])
def test_k_units_changed_render_their_rows_only(synced, band, monkeypatch):
    """`band`: rows are spliced in bands of _BAND_ROWS (2,000: a 5,000-unit tab's kept
    rows are streamed, not joined); the sample's tabs are shorter than that, so smaller
    bands make the seams between bands fall inside kept and rendered blocks here."""
    if band is not None:
        monkeypatch.setattr(master_update, "_BAND_ROWS", band)
    ws = synced
    period = ws.period.code
    book = master_book(ws, ws.current_rows(period), ws.archive.open_findings(period))
    shape = ws.archive.master(period)["shape"]
    total = sum(len(df) for df in book.tabs.values())
    units = units_in_both(book)
    assert len(units) >= 3
    for bump, k in enumerate((1, 3), start=1):
        new, rows = changed(book, units[:k], bump)
        shape, count = update(ws, new, shape)
        # Exactly the changed units' blocks: work in proportion to k, not to the book.
        assert count == rows, (k, count, rows)
    assert_as_whole(ws, new)
    assert rows < total / 10

    # A master somebody opened and saved is not the file recorded: rendered whole, once.
    path = master_path(ws)
    openpyxl.load_workbook(path).save(path)
    new, _ = changed(book, units[:1], 10)
    shape, count = update(ws, new, shape)
    assert count == total
    assert_as_whole(ws, new)
    # Likewise a shape another version of this module wrote (or none: the first write).
    newer, rows = changed(book, units[:1], 11)
    shape, count = update(ws, newer, shape.replace(f'"version":{WRITER_VERSION}', '"version":0'))
    assert count == total
    assert update(ws, new, shape)[1] == rows  # and the next is in proportion again
