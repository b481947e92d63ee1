"""batchUpdate requests on rows and columns: insertDimension, deleteDimension,
moveDimension, appendDimension, updateDimensionProperties, autoResizeDimensions,
add/deleteDimensionGroup.

Faithful: inserting, deleting or moving rows/columns moves whole cells (value, note, format,
data validation), dimension properties (pixel size, hidden) and developer metadata with
them, and moves/grows/shrinks merges, protected ranges, named ranges, the basic filter and
groups the way Sheets does; a deleted row/column takes its metadata with it; deleting every
row or column is refused; new rows inherit the format of the row after them (or before,
with inheritFromBefore); appendDimension only grows the grid; moveDimension's
destinationIndex counts before the move, as documented.
Simplified: formulas are not rewritten when rows move (Sheets adjusts their references); a
range that moveDimension would split (merges, protected/named ranges, filter, groups) stays
where it is.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from typing import Any

from cchc_sync.testing.fake_google import metadata, render
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import Sheet, Spreadsheet

_KEYS = {
    "ROWS": ("startRowIndex", "endRowIndex"),
    "COLUMNS": ("startColumnIndex", "endColumnIndex"),
}


Interval = Callable[[int | None, int | None], tuple[int | None, int | None]]
Index = Callable[[int], int | None]


def _shift(s: int | None, e: int | None, start: int, n: int, insert: bool,
           ) -> tuple[int | None, int | None]:
    """Move an interval [s, e) for n rows inserted at start (or deleted from start)."""
    if insert:
        if s is not None and s >= start:
            s += n
        if e is not None and e > start:
            e += n
        return s, e
    end = start + n

    def move(x: int | None) -> int | None:
        if x is None or x <= start:
            return x
        return start if x <= end else x - n

    return move(s), move(e)


def _shifter(start: int, n: int, insert: bool) -> tuple[Interval, Index]:
    """Interval and index maps for n rows/columns inserted at (or deleted from) start."""
    def index(i: int) -> int | None:
        if i < start:
            return i
        if insert:
            return i + n
        return None if i < start + n else i - n

    return (lambda s, e: _shift(s, e, start, n, insert)), index


def _mover(start: int, end: int, dest: int, limit: int) -> tuple[Interval, Index]:
    """Interval and index maps for moveDimension: [start, end) goes before ``dest`` (an
    index before the move). An interval the move would split keeps its place."""
    n = end - start

    def index(i: int) -> int:
        if start <= i < end:
            return i - start + (dest if dest < start else dest - n)
        if dest <= i < start:
            return i + n
        if end <= i < dest:
            return i - n
        return i

    def interval(s: int | None, e: int | None) -> tuple[int | None, int | None]:
        lo, hi = 0 if s is None else s, limit if e is None else e
        cuts = sorted({lo, hi, *(x for x in (start, end, dest) if lo < x < hi)})
        spans = sorted((index(a), index(b - 1) + 1) for a, b in pairwise(cuts) if b > a)
        if not spans or any(y[0] != x[1] for x, y in pairwise(spans)):
            return s, e
        return (None if s is None else spans[0][0]), (None if e is None else spans[-1][1])

    return interval, index


def _shift_grid_range(rng: dict[str, Any], sheet_id: int, dim: str, interval: Interval) -> bool:
    """Shift a GridRange in place; False when a deletion swallowed it entirely."""
    if rng.get("sheetId", 0) != sheet_id:
        return True
    k0, k1 = _KEYS[dim]
    s, e = interval(rng.get(k0), rng.get(k1))
    if s is not None:
        rng[k0] = s
    if e is not None:
        rng[k1] = e
    return not (s is not None and e is not None and e <= s)


def _shift_all(ss: Spreadsheet, sheet: Sheet, dim: str, maps: tuple[Interval, Index]) -> None:
    """Move everything that sits on rows (or columns) of a sheet with them."""
    interval, index = maps
    sid = sheet.sheet_id
    sheet.merges = [m for m in sheet.merges
                    if _shift_grid_range(m, sid, dim, interval)]
    sheet.protected = [p for p in sheet.protected
                       if p.get("range") is None
                       or _shift_grid_range(p["range"], sid, dim, interval)]
    ss.named_ranges = [nr for nr in ss.named_ranges
                       if _shift_grid_range(nr["range"], sid, dim, interval)]
    if sheet.basic_filter is not None and not _shift_grid_range(
            sheet.basic_filter["range"], sid, dim, interval):
        sheet.basic_filter = None
    groups = sheet.row_groups if dim == "ROWS" else sheet.col_groups
    kept = []
    for group in groups:
        rng = group["range"]
        s, e = interval(rng["startIndex"], rng["endIndex"])
        if s is not None and e is not None and e > s:
            rng["startIndex"], rng["endIndex"] = s, e
            kept.append(group)
    groups[:] = kept
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    moved = {new: value for old, value in meta.items() if (new := index(old)) is not None}
    meta.clear()
    meta.update(moved)
    cells = {}
    axis = 0 if dim == "ROWS" else 1
    for key, cell in sheet.cells.items():
        new = index(key[axis])
        if new is not None:
            cells[(new, key[1]) if axis == 0 else (key[0], new)] = cell
    sheet.cells = cells
    metadata.remap(ss, sid, dim, index)


def insert_dimension(ss: Spreadsheet, sheet: Sheet, dim: str, start: int, end: int,
                     inherit_before: bool) -> None:
    n = end - start
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    if n <= 0 or start < 0 or start > limit:
        raise ApiError(400, "range.startIndex/endIndex out of bounds")
    grid = sheet.props["gridProperties"]
    grid["rowCount" if dim == "ROWS" else "columnCount"] += n
    _shift_all(ss, sheet, dim, _shifter(start, n, True))
    axis = 0 if dim == "ROWS" else 1
    source = start - 1 if inherit_before else start + n
    if source >= 0:
        for key, cell in list(sheet.cells.items()):
            if key[axis] == source and cell.fmt:
                for k in range(start, end):
                    new = (k, key[1]) if axis == 0 else (key[0], k)
                    sheet.cell(*new).fmt = dict(cell.fmt)


def delete_dimension(ss: Spreadsheet, sheet: Sheet, dim: str, start: int, end: int,
                     prefix: str) -> None:
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    end = min(end, limit)
    n = end - start
    if n <= 0 or start < 0:
        raise ApiError(400, f"{prefix}Invalid dimension range.")
    if n >= limit:
        what = "rows" if dim == "ROWS" else "columns"
        raise ApiError(400, f"{prefix}You can't delete all the {what} on the sheet.")
    grid = sheet.props["gridProperties"]
    grid["rowCount" if dim == "ROWS" else "columnCount"] -= n
    for key in ("frozenRowCount",) if dim == "ROWS" else ("frozenColumnCount",):
        if grid.get(key, 0) > grid["rowCount" if dim == "ROWS" else "columnCount"]:
            grid[key] = grid["rowCount" if dim == "ROWS" else "columnCount"]
    _shift_all(ss, sheet, dim, _shifter(start, n, False))


def dimension_range(ss: Spreadsheet, rng: dict[str, Any], prefix: str,
                    ) -> tuple[Sheet, str, int, int]:
    sheet = ss.sheet_by_id(rng.get("sheetId", 0))
    if sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {rng.get('sheetId', 0)}")
    dim = rng.get("dimension")
    if dim not in _KEYS:
        raise ApiError(400, f"{prefix}range.dimension must be ROWS or COLUMNS.")
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    start = rng.get("startIndex", 0) or 0
    end = rng.get("endIndex", limit)
    end = limit if end is None else end
    return sheet, dim, start, end


def do_insert(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, dim, start, end = dimension_range(ss, req.get("range") or {}, prefix)
    insert_dimension(ss, sheet, dim, start, end, bool(req.get("inheritFromBefore")))
    return {}


def do_delete(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, dim, start, end = dimension_range(ss, req.get("range") or {}, prefix)
    delete_dimension(ss, sheet, dim, start, end, prefix)
    return {}


def do_move(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, dim, start, end = dimension_range(ss, req.get("source") or {}, prefix)
    limit = sheet.rows if dim == "ROWS" else sheet.cols
    dest = req.get("destinationIndex")
    if end > limit or start < 0 or end <= start:
        raise ApiError(400, f"{prefix}Invalid source range.")
    if dest is None or not 0 <= int(dest) <= limit:
        raise ApiError(400, f"{prefix}destinationIndex must be between 0 and {limit}.")
    dest = int(dest)
    if not start <= dest <= end:  # a move into the source itself changes nothing
        _shift_all(ss, sheet, dim, _mover(start, end, dest, limit))
    return {}


def do_append(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet = ss.sheet_by_id(req.get("sheetId", 0))
    if sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {req.get('sheetId', 0)}")
    length = int(req.get("length") or 0)
    if length <= 0:
        raise ApiError(400, f"{prefix}length must be greater than 0")
    key = "rowCount" if req.get("dimension") == "ROWS" else "columnCount"
    sheet.props["gridProperties"][key] += length
    return {}


def do_update_props(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    from cchc_sync.testing.fake_google import fieldmask

    sheet, dim, start, end = dimension_range(ss, req.get("range") or {}, prefix)
    tree = fieldmask.parse(req.get("fields") or "*")
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    for index in range(start, end):
        entry = dict(meta.get(index, {}))
        fieldmask.merge(entry, req.get("properties") or {}, tree)
        entry = {k: v for k, v in entry.items() if v not in (False, None)}
        if entry:
            meta[index] = entry
        else:
            meta.pop(index, None)
    return {}


def do_auto_resize(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, dim, start, end = dimension_range(ss, req.get("dimensions") or {}, prefix)
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    for index in range(start, end):
        size = render.ROW_PX if dim == "ROWS" else render.column_width(sheet, index)
        meta[index] = {**meta.get(index, {}), "pixelSize": size}
    return {}


def do_add_group(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, dim, start, end = dimension_range(ss, req.get("range") or {}, prefix)
    groups = sheet.row_groups if dim == "ROWS" else sheet.col_groups
    depth = 1 + max((g["depth"] for g in groups if g["range"]["startIndex"] <= start
                     and end <= g["range"]["endIndex"]), default=0)
    groups.append({"range": {"sheetId": sheet.sheet_id, "dimension": dim, "startIndex": start,
                             "endIndex": end}, "depth": depth})
    groups.sort(key=lambda g: (g["depth"], g["range"]["startIndex"]))
    grid = sheet.props["gridProperties"]
    grid["rowGroupControlAfter" if dim == "ROWS" else "columnGroupControlAfter"] = True
    return {"addDimensionGroup": {"dimensionGroups": [
        {"range": render.dim_range(g["range"]), "depth": g["depth"]} for g in groups]}}


def do_delete_group(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, dim, start, end = dimension_range(ss, req.get("range") or {}, prefix)
    groups = sheet.row_groups if dim == "ROWS" else sheet.col_groups
    match = [g for g in groups if g["range"]["startIndex"] == start
             and g["range"]["endIndex"] == end]
    if not match:
        raise ApiError(400, f"{prefix}No dimension group found at the given range.")
    deepest = max(match, key=lambda g: g["depth"])
    groups.remove(deepest)
    return {"deleteDimensionGroup": {"dimensionGroups": [
        {"range": render.dim_range(g["range"]), "depth": g["depth"]} for g in groups]}
        if groups else {}}


HANDLERS = {
    "insertDimension": do_insert,
    "deleteDimension": do_delete,
    "moveDimension": do_move,
    "appendDimension": do_append,
    "updateDimensionProperties": do_update_props,
    "autoResizeDimensions": do_auto_resize,
    "addDimensionGroup": do_add_group,
    "deleteDimensionGroup": do_delete_group,
}
