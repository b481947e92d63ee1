"""A clerk edits between the cycle's read of a sheet and its write-back of flags.

The flags are computed for the rows as they were read; written after the clerk inserted,
deleted or sorted rows they would land on the wrong rows. So they must either land on the
right rows or wait for the next cycle — and the next cycle must then put them on the right
rows, and pick up a row typed during the sync.

How the edit gets between the read and the write, without patching our classes: the
cycle's `progress` callable (the daemon passes one to show "unit i/n") is resumed right
after each unit was read and archived, and before the cycle's flag writes; the clerk edits
there. "The right rows" is what a fault-free run gives on the final data: a fresh
workspace holding it, synced once — its status column, marked cells and notes.

Edits that land in Google between the cycle's version check and a unit's flag write (a
sort, a column inserted) are in test_google_flag_races.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.utils.cell import coordinate_from_string

from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.base import NOTE_AUTHOR
from cchc_sync.testing.typist import set_cell
from tests.contract.districts import dump_values
from tests.test_faults import Edit, GoogleSite, LocalSite

UNIT = "XA_LT"  # four rows in "Giải quyết TTHC", the first with a broken total
TAB = "Giải quyết TTHC"
STATUS_TITLE = "Kết quả kiểm tra"
SIGNER = Edit(UNIT, "Thông tin", 2, "Người lập biểu", "Lê Văn Tám")
NEW_ROW = ["Hộ tịch lưu động", 1, 2, 3, 6, 2, 2, 1, 1, 0]


def after_read_of(code: str, clerk: Callable[[], None]):
    """A progress callable whose clerk edits `code`'s sheet once it was read and
    archived, before any flag of the cycle is written."""

    def progress(items, label):
        for item in items:
            yield item
            if item == code:
                clerk()

    return progress


# -- the local backend: rows moved in the workbook, as Excel does --------------------------


def local_op(path: Path, op: str) -> None:
    """The clerk's edit of the TTHC tab, saved: insert a row above the others, delete the
    second row, sort the rows (by field, Z to A; the data columns only, as when a clerk
    selects the table) or type a new row at the end."""
    wb = openpyxl.load_workbook(path)
    ws = next(s for s in wb.worksheets if s.title == TAB)
    header = [c.value for c in ws[1]]
    status = header.index(STATUS_TITLE) + 1
    data_cols = [c for c in range(1, len(header) + 1) if c != status]
    last = max(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value is not None)
    if op == "insert":
        ws.insert_rows(2)
        for col, value in zip(data_cols, NEW_ROW, strict=False):
            ws.cell(2, col).value = value
    elif op == "delete":
        ws.delete_rows(3)
    elif op == "sort":
        rows = [[ws.cell(r, c).value for c in data_cols] for r in range(2, last + 1)]
        rows.sort(key=lambda row: str(row[0]), reverse=True)
        for r, row in enumerate(rows, start=2):
            for col, value in zip(data_cols, row, strict=True):
                ws.cell(r, col).value = value
    elif op == "type":
        for col, value in zip(data_cols, NEW_ROW, strict=False):
            ws.cell(last + 1, col).value = value
    wb.save(path)


def local_flags(path: Path) -> dict[str, Any]:
    """Every table tab's status column and the cells the software marked (fill colour and
    note), by sheet row."""
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {}
    for ws in wb.worksheets:
        header = [c.value for c in ws[1]]
        if STATUS_TITLE not in header:
            continue
        col = header.index(STATUS_TITLE) + 1
        status = {r: ws.cell(r, col).value for r in range(2, ws.max_row + 1)
                  if ws.cell(r, col).value is not None}
        marks = {}
        for row in ws.iter_rows(min_row=2):
            for cell in row:
                rgb = str(cell.fill.fgColor.rgb or "") if cell.fill.fill_type == "solid" else ""
                note = cell.comment.text if cell.comment and cell.comment.author == NOTE_AUTHOR \
                    else None
                if cell.column != col and (note or rgb[-6:] in ("F4CCCC", "FFF2CC")):
                    marks[cell.coordinate] = (rgb[-6:], note)
        out[ws.title] = (status, marks)
    return out


@pytest.mark.parametrize("op", ["insert", "delete", "sort", "type"])
def test_local_flags_wait_for_the_next_cycle_and_land_on_the_right_rows(tmp_path, op):
    site = LocalSite(tmp_path / "site")
    path = site.sheets[UNIT]
    ws = site.open()
    try:
        sync_once(ws)
        set_cell(path, "Thông tin", 2, "Người lập biểu", "Lê Văn Tám")  # to be read next
        saved: dict[str, bytes] = {}

        def clerk() -> None:
            local_op(path, op)
            saved["bytes"] = path.read_bytes()

        result = sync_once(ws, progress=after_read_of(UNIT, clerk))
        # Nothing was written over what the clerk saved: the flags wait.
        assert result.flags_pending == [UNIT]
        assert path.read_bytes() == saved["bytes"]
        result = sync_once(ws)
        assert result.units_read == 1 and result.flags_written == 1
        rows = {r.key for r in ws.archive.current_rows(ws.period.code, unit=UNIT)
                if r.table == "tthc"}
    finally:
        ws.close()
    reference = LocalSite(tmp_path / "reference")
    set_cell(reference.sheets[UNIT], "Thông tin", 2, "Người lập biểu", "Lê Văn Tám")
    local_op(reference.sheets[UNIT], op)
    ref_ws = reference.open()
    try:
        sync_once(ref_ws)
        ref_rows = {r.key for r in ref_ws.archive.current_rows(ref_ws.period.code, unit=UNIT)
                    if r.table == "tthc"}
    finally:
        ref_ws.close()
    assert rows == ref_rows
    if op in ("insert", "type"):
        assert any("hộ tịch lưu động" in key for key in rows)  # typed during the sync
    got, want = local_flags(path), local_flags(reference.sheets[UNIT])
    assert got == want
    status, marks = got[TAB]
    assert any(str(text).startswith("✖") for text in status.values())


# -- the Google backend ---------------------------------------------------------------------


def google_op(site: GoogleSite, op: str) -> None:
    """The clerk's edit in Sheets: sort the TTHC rows (data columns only: the status column
    is protected, and deleting or inserting whole rows, which touches it, is refused to
    clerks) or type a new row at the end."""
    sid = site.sheets[UNIT]
    rows = dump_values(site.fake.spreadsheet(sid))[TAB]
    header = rows[0]
    status = header.index(STATUS_TITLE)
    data = [[v for i, v in enumerate(row) if i != status] for row in rows[1:] if row and row[0]]
    width = len(header) - 1  # the data columns come before the status column
    if op == "sort":
        data.sort(key=lambda row: str(row[0]), reverse=True)
        grid = [[("'" + v if isinstance(v, str) else v) for v in row[:width]] for row in data]
        site.fake.edit_cells(sid, TAB, "A2", grid)
    else:
        site.fake.edit_cells(sid, TAB, f"A{len(data) + 2}",
                             [["'" + NEW_ROW[0], *NEW_ROW[1:]]])


def google_flags(site: GoogleSite) -> dict[str, Any]:
    dump = site.fake.spreadsheet(site.sheets[UNIT])
    values = dump_values(dump)
    out: dict[str, Any] = {}
    for sheet in dump["sheets"]:
        rows = values.get(sheet["title"]) or []
        if not rows or STATUS_TITLE not in rows[0]:
            continue
        col = rows[0].index(STATUS_TITLE)
        status = {r: row[col] for r, row in enumerate(rows[1:], start=2)
                  if len(row) > col and row[col] not in (None, "")}
        notes = {a1: c["note"] for a1, c in sheet["cells"].items()
                 if c.get("note") and coordinate_from_string(a1)[1] > 1}  # not the header's
        out[sheet["title"]] = (status, notes)
    return out


def _flag_writes(site: GoogleSite, since: int) -> int:
    sid = site.sheets[UNIT]
    return sum(1 for r in site.fake.requests()[since:]
               if r["kind"] == "POST spreadsheets.batchUpdate" and sid in r["path"])


@pytest.mark.parametrize("op", ["sort", "type"])
def test_google_flags_wait_for_the_next_cycle_and_land_on_the_right_rows(tmp_path, op):
    site = GoogleSite(tmp_path / "site")
    ws = site.open()
    try:
        sync_once(ws)
        sync_once(ws)  # the echo of our own flag writes
        site.apply(SIGNER)  # to be read next
        mark = len(site.fake.requests())
        result = sync_once(ws, progress=after_read_of(UNIT, lambda: google_op(site, op)))
        assert result.flags_pending == [UNIT]
        assert _flag_writes(site, mark) == 0  # Drive's version moved: nothing written
        result = sync_once(ws)
        assert UNIT not in result.flags_pending and result.flags_written >= 1
        rows = {r.key for r in ws.archive.current_rows(ws.period.code, unit=UNIT)
                if r.table == "tthc"}
        got = google_flags(site)
    finally:
        ws.close()
        site.close()
    reference = GoogleSite(tmp_path / "reference")
    reference.apply(SIGNER)
    google_op(reference, op)
    ref_ws = reference.open()
    try:
        sync_once(ref_ws)
        ref_rows = {r.key for r in ref_ws.archive.current_rows(ref_ws.period.code, unit=UNIT)
                    if r.table == "tthc"}
        want = google_flags(reference)
    finally:
        ref_ws.close()
        reference.close()
    assert rows == ref_rows
    if op == "type":
        assert any("hộ tịch lưu động" in key for key in rows)
    assert got == want
