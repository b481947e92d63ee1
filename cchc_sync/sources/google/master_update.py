"""Writing only what changed in the master (issue 17: k units changed -> O(k) writes).

After each write the backend hands back the master's *shape*, which the archive keeps with
the master (masters.shape): per tab its sheet id, a digest of its layout (title, position,
width, header row, per-column number formats, hidden and wrapped columns), its column
widths, and its rows as *blocks* — consecutive rows with the same first cell (a unit's
rows in a table tab, its line in "Tiến độ", its findings of one severity in "Bất
thường", a figure in "Tổng hợp") — each a digest of its cells as sent and its height.

The next write compares the new book's shape with the recorded one. When every tab is
there with the same layout, one batchUpdate carries only the difference: for each run of
blocks that differs (difflib's opcodes over the block digests) the rows are inserted or
deleted at the end of the run so the grid has the new height there, the run's rows are
written (`updateCells`, values and formats together, so a cell that came from an inserted
row keeps nothing of its neighbour) and its column formats (numbers, wrapping) set again,
only over that run; widths that moved are set, and the filter is set again where the
height changed. Anything else (no shape recorded, a tab added, removed, renamed or
moved, a column's format or the header changed, or a difference too large for one request
within the budget) rewrites the master whole (master.master_batches, with its staging
swap when it is large).
`updateCells` in spreadsheets.batchUpdate is used rather than values.batchUpdate because
the row inserts and deletes must land in the same atomic request (a reader never sees rows
shifted but not yet rewritten), and because the master holds formulas (links) and per-cell
formats in mixed columns that values cannot carry.

An insert or delete is not idempotent, and the transport retries a write whose answer was
lost. So every master write also keeps one developer-metadata entry, the *marker*
(`cchc-master`, its id derived from the shape): a write of the difference creates the new
marker first — Google refuses an id already in use, failing the whole atomic request — and
deletes the old one. A difference applied once and sent again is refused that way (400) and
the backend rewrites the master whole; a whole rewrite (idempotent) deletes every marker
and creates its own. And when a write is not known to have landed, the publisher forgets
the shape, so the next write is whole.
"""

from __future__ import annotations

import hashlib
import json
from difflib import SequenceMatcher
from typing import Any

from cchc_sync.sources.google.cells import grid, update_cells
from cchc_sync.sources.google.master import CELL_FIELDS, MasterTab, column_formats

MARKER_KEY = "cchc-master"
"""Developer metadata key of the master's marker (one entry, on the spreadsheet)."""


def _digest(obj: Any) -> str:
    data = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return hashlib.blake2b(data.encode("utf-8"), digest_size=8).hexdigest()


def _spool_rows(tab: MasterTab) -> list[list[Any]]:
    """Make the tab's data rows once: each row's JSON into the tab's spool (the write takes
    them back from there, master_spool.py) and into its block's digest. Returns the blocks:
    [digest, rows] per run of rows with the same first cell. A block's digest is `_digest`
    of its rows' cells, fed a row at a time (only one row is held at once)."""
    spool = tab.spool
    spool.close()
    blocks: list[list[Any]] = []
    digest: Any = None
    key: str | None = None
    count = 0
    for cells in tab.made_row_texts(1, tab.height):
        # Rows group by their first cell, compared as JSON (as they always were).
        row_key = cells[0] if cells else ""
        raw = ("[" + ",".join(cells) + "]").encode("utf-8")  # sorted_json(values), UTF-8
        spool.add(raw)
        if digest is not None and row_key == key:
            digest.update(b",")
            count += 1
        else:
            if digest is not None:
                digest.update(b"]")
                blocks.append([digest.hexdigest(), count])
            digest, key, count = hashlib.blake2b(b"[", digest_size=8), row_key, 1
        digest.update(raw)
    if digest is not None:
        digest.update(b"]")
        blocks.append([digest.hexdigest(), count])
    spool.blocks = blocks
    spool.done = True
    return blocks


def master_shape(tabs: list[MasterTab]) -> dict[str, Any]:
    """What the master written from these tabs looks like, for the next write to compare.
    Leaves each tab's rows spooled for the write (`_spool_rows`)."""
    shaped = []
    for tab in tabs:
        blocks = tab.spool.blocks if tab.spool.done else _spool_rows(tab)
        shaped.append({
            "id": tab.sheet_id,
            "layout": _digest([tab.title, tab.index, tab.width, tab.header, tab.numbers,
                               tab.hidden, tab.wrapped, tab.sheet_id]),
            "widths": list(tab.widths),
            "blocks": [list(b) for b in blocks],
        })
    shape: dict[str, Any] = {"tabs": shaped}
    shape["marker"] = int(_digest(shaped)[:8], 16) & 0x7FFFFFFF or 1
    return shape


def marker_reset(shape: dict[str, Any]) -> list[dict[str, Any]]:
    """The end of a whole rewrite: every old marker deleted, the new one created."""
    return [{"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
                "metadataKey": MARKER_KEY}}}},
            _create_marker(shape)]


def _create_marker(shape: dict[str, Any]) -> dict[str, Any]:
    return {"createDeveloperMetadata": {"developerMetadata": {
        "metadataId": shape["marker"], "metadataKey": MARKER_KEY,
        "location": {"spreadsheet": True}, "visibility": "DOCUMENT"}}}


def update_requests(tabs: list[MasterTab], old: dict[str, Any] | None, new: dict[str, Any]
                    ) -> list[dict[str, Any]] | None:
    """The batchUpdate that turns the master of shape `old` into the one of `tabs` (shape
    `new`), or None when the master must be rewritten whole (module docstring)."""
    if not old or len(old.get("tabs", ())) != len(new["tabs"]) or "marker" not in old:
        return None
    if old == new:
        return []  # nothing to send (and the marker is already there)
    out: list[dict[str, Any]] = [
        _create_marker(new),
        {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {
            "metadataId": old["marker"]}}}},
    ]
    for tab, was, now in zip(tabs, old["tabs"], new["tabs"], strict=True):
        if was.get("layout") != now["layout"]:
            return None
        out += _tab_update(tab, was, now)
    return out


def _tab_update(tab: MasterTab, was: dict[str, Any], now: dict[str, Any]) -> list[dict[str, Any]]:
    sid = tab.sheet_id
    out: list[dict[str, Any]] = []
    # A tab with no rows has one blank row under its header (a grid keeps two rows): a
    # block no digest matches, so rows that come fill it and rows that go leave it.
    old_blocks, new_blocks = was["blocks"] or [["", 1]], now["blocks"] or [["", 1]]
    matcher = SequenceMatcher(None, [b[0] for b in old_blocks], [b[0] for b in new_blocks],
                              autojunk=False)
    row = 1  # in the new grid (the header is row 0); runs above are already in place
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        new_height = sum(b[1] for b in new_blocks[j1:j2])
        if tag == "equal":
            row += new_height
            continue
        old_height = sum(b[1] for b in old_blocks[i1:i2])
        if new_height > old_height:
            out.append({"insertDimension": {
                "range": _rows(sid, row + old_height, row + new_height),
                "inheritFromBefore": True}})
        elif new_height < old_height:
            out.append({"deleteDimension": {
                "range": _rows(sid, row + new_height, row + old_height)}})
        if new_height:
            # Only the run's rows are made (MasterTab.iter_rows); the blank row of a tab
            # with no rows is the one beyond the tab's height.
            values = [r["values"] for r in tab.iter_rows(row, row + new_height)]
            values += [[{}] * tab.width] * (new_height - len(values))
            out.append(update_cells(sid, row, 0, values, CELL_FIELDS))
            if now["blocks"]:
                out += column_formats(sid, tab.numbers, tab.wrapped, row, row + new_height)
        row += new_height
    for col, (before, after) in enumerate(zip(was["widths"], now["widths"], strict=False)):
        if before != after:
            out.append({"updateDimensionProperties": {
                "range": {"sheetId": sid, "dimension": "COLUMNS", "startIndex": col,
                          "endIndex": col + 1},
                "properties": {"pixelSize": after}, "fields": "pixelSize"}})
    if sum(b[1] for b in was["blocks"]) != sum(b[1] for b in now["blocks"]):
        out.append({"setBasicFilter": {"filter": {"range": grid(sid, 0, tab.height, 0,
                                                                tab.width)}}})
    return out


def _rows(sheet_id: int, start: int, end: int) -> dict[str, Any]:
    return {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": start, "endIndex": end}
