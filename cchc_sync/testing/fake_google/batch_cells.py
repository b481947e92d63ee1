"""batchUpdate requests on cells: updateCells, repeatCell, setDataValidation, updateBorders,
mergeCells, unmergeCells, sortRange, copyPaste, cutPaste, setBasicFilter, clearBasicFilter.

Faithful: ``fields`` masks decide which parts of each CellData are written (a masked field
absent from the request is cleared); with ``range`` every cell of the range is written, with
``start`` only the cells the rows cover; ``stringValue "=1"`` stays text while
``formulaValue`` is evaluated; formats are stored as Google normalises them (colour pairs,
float32); merging keeps only the top-left value; sorting puts blanks last; copy/cut paste
honour the paste type (normal, values, format, formula, data validation) and transposing.
Simplified: merges that overlap existing ones are refused rather than reconciled; filter
criteria are stored but not used to hide rows.
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any

from cchc_sync.testing.fake_google import a1, fieldmask, render
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import Cell, Sheet, Spreadsheet

Rect = tuple[int, int, int, int]


def grid_rect(ss: Spreadsheet, rng: dict[str, Any] | None, prefix: str) -> tuple[Sheet, Rect]:
    rng = rng or {}
    sheet = ss.sheet_by_id(rng.get("sheetId", 0) or 0)
    if sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {rng.get('sheetId', 0)}")
    r0 = rng.get("startRowIndex") or 0
    c0 = rng.get("startColumnIndex") or 0
    r1 = rng.get("endRowIndex")
    c1 = rng.get("endColumnIndex")
    rect = (r0, c0, sheet.rows if r1 is None else r1, sheet.cols if c1 is None else c1)
    if rect[2] > sheet.rows or rect[3] > sheet.cols or r0 < 0 or c0 < 0:
        raise ApiError(400, f"{prefix}Range ({a1.format_range(sheet.title, *rect)}) exceeds "
                            f"grid limits. Max rows: {sheet.rows}, max columns: {sheet.cols}")
    return sheet, rect


def cell_dict(cell: Cell | None) -> dict[str, Any]:
    if cell is None:
        return {}
    out: dict[str, Any] = {}
    if cell.uev is not None:
        out["userEnteredValue"] = cell.uev
    if cell.fmt:
        out["userEnteredFormat"] = cell.fmt
    if cell.note:
        out["note"] = cell.note
    if cell.dv:
        out["dataValidation"] = cell.dv
    return out


def _stored_value(uev: Any) -> dict[str, Any] | None:
    uev = {k: v for k, v in uev.items() if v is not None} if isinstance(uev, dict) else None
    return uev or None


def _stored_note(note: Any) -> Any:
    return note or None


def _stored_rule(dv: Any) -> dict[str, Any] | None:
    return {k: v for k, v in dv.items() if v is not None} if dv else None


CELL_FIELDS = ("userEnteredValue", "userEnteredFormat", "note", "dataValidation")
"""The parts of a CellData the fake stores (the rest Google works out: effectiveValue,
formattedValue, effectiveFormat)."""
_STORED = (_stored_value, render.stored_format, _stored_note, _stored_rule)
"""How each of CELL_FIELDS is kept (store_cell)."""


def _put(sheet: Sheet, r: int, c: int, uev: dict[str, Any] | None, fmt: dict[str, Any] | None,
         note: str | None, dv: dict[str, Any] | None) -> None:
    """Set a cell's stored parts; a cell left with nothing is dropped (the grid is sparse).
    The effective value of a plain value is its user-entered value, the same dict: stored
    dicts are never changed in place."""
    if uev is None and not fmt and not note and not dv:
        sheet.cells.pop((r, c), None)
        return
    cell = sheet.cell(r, c)
    cell.uev = uev
    cell.ev = None if not uev or "formulaValue" in uev else uev
    cell.fmt, cell.note, cell.dv = fmt, note, dv


def store_cell(sheet: Sheet, r: int, c: int, data: dict[str, Any]) -> None:
    _put(sheet, r, c, *(keep(data.get(name)) for name, keep in zip(CELL_FIELDS, _STORED,
                                                                      strict=True)))


def _merged(name: str, current: Any, given: dict[str, Any], sub: fieldmask.Tree) -> Any:
    """One stored part of a cell after an update whose field mask has `sub` for it (None:
    the whole part), exactly what fieldmask.merge does to that part of the whole CellData."""
    source = given.get(name)
    if sub is None:
        return source
    child = copy.deepcopy(current) if isinstance(current, dict) else {}
    if name == "userEnteredFormat" and child and "backgroundColor" in sub \
            and "backgroundColorStyle" not in sub:
        # the style twin follows its colour when only the colour is masked
        child.pop("backgroundColorStyle", None)
    fieldmask.merge(child, source if isinstance(source, dict) else None, sub)
    return child


Memo = dict[tuple[int, int, int], tuple[Any, Any, Any]]
"""Per request: (field, id(stored part) or 0, id(given part)) -> (the two parts, kept alive
so that their ids stay theirs; the part to store). A repeatCell gives every cell of its
range the same parts, over cells that mostly share one stored format."""


def apply_cell(sheet: Sheet, r: int, c: int, given: dict[str, Any] | None,
               tree: fieldmask.Tree, memo: Memo | None = None) -> None:
    """Write `given` into a cell under a field mask (fieldmask.merge on the whole CellData),
    part by part: a part the mask leaves out stays the stored object; with a `memo`, a
    written part is worked out once per distinct (stored, given) pair of the request."""
    given = given or {}
    cell = sheet.cells.get((r, c))
    current = (None, None, None, None) if cell is None else (cell.uev, cell.fmt, cell.note,
                                                            cell.dv)
    parts: list[Any] = list(current)
    for i, name in enumerate(CELL_FIELDS):
        if tree is None or "*" in tree:
            sub: fieldmask.Tree = None
        elif name in tree:
            sub = tree[name]
        else:  # left alone by the mask
            continue
        if memo is None:
            parts[i] = _STORED[i](_merged(name, current[i], given, sub))
            continue
        source = given.get(name)
        key = (i, 0 if sub is None else id(current[i]), id(source))
        found = memo.get(key)
        if found is None or found[1] is not source or sub is not None \
                and found[0] is not current[i]:
            found = memo[key] = (current[i], source,
                                 _STORED[i](_merged(name, current[i], given, sub)))
        parts[i] = found[2]
    _put(sheet, r, c, *parts)


def _mask(req: dict[str, Any], prefix: str) -> fieldmask.Tree:
    fields = req.get("fields")
    if not fields:
        raise ApiError(400, f"{prefix}At least one field must be specified.")
    try:
        return fieldmask.parse(fields)
    except fieldmask.MaskError as err:
        raise ApiError(400, f"{prefix}{err}") from None


def do_update_cells(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    tree = _mask(req, prefix)
    rows = req.get("rows") or []
    if req.get("range") is not None:
        sheet, (r0, c0, r1, c1) = grid_rect(ss, req["range"], prefix)
        for i, r in enumerate(range(r0, r1)):
            values = (rows[i].get("values") or []) if i < len(rows) else []
            for j, c in enumerate(range(c0, c1)):
                apply_cell(sheet, r, c, values[j] if j < len(values) else {}, tree)
        return {}
    start = req.get("start") or {}
    target = ss.sheet_by_id(start.get("sheetId", 0) or 0)
    if target is None:
        raise ApiError(400, f"{prefix}No grid with id: {start.get('sheetId', 0)}")
    sheet = target
    r0, c0 = start.get("rowIndex", 0) or 0, start.get("columnIndex", 0) or 0
    height = len(rows)
    width = max((len(row.get("values") or []) for row in rows), default=0)
    grid_rect(ss, {"sheetId": sheet.sheet_id, "startRowIndex": r0, "endRowIndex": r0 + height,
                   "startColumnIndex": c0, "endColumnIndex": c0 + width}, prefix)
    for i, row in enumerate(rows):
        for j, value in enumerate(row.get("values") or []):
            apply_cell(sheet, r0 + i, c0 + j, value, tree)
    return {}


def do_repeat_cell(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    tree = _mask(req, prefix)
    sheet, (r0, c0, r1, c1) = grid_rect(ss, req.get("range"), prefix)
    given = req.get("cell") or {}
    memo: Memo = {}
    for r in range(r0, r1):
        for c in range(c0, c1):
            apply_cell(sheet, r, c, given, tree, memo)
    return {}


def do_set_validation(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, (r0, c0, r1, c1) = grid_rect(ss, req.get("range"), prefix)
    rule = req.get("rule")
    if rule is not None:  # one rule dict for the whole range: stored dicts never change
        rule = {k: v for k, v in rule.items() if v is not None}
    for r in range(r0, r1):
        for c in range(c0, c1):
            sheet.cell(r, c).dv = rule or None
            sheet.drop_if_empty(r, c)
    return {}


def do_update_borders(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, (r0, c0, r1, c1) = grid_rect(ss, req.get("range"), prefix)
    for r in range(r0, r1):
        for c in range(c0, c1):
            sides = {}
            if r == r0 and req.get("top"):
                sides["top"] = req["top"]
            if r == r1 - 1 and req.get("bottom"):
                sides["bottom"] = req["bottom"]
            if c == c0 and req.get("left"):
                sides["left"] = req["left"]
            if c == c1 - 1 and req.get("right"):
                sides["right"] = req["right"]
            if r < r1 - 1 and req.get("innerHorizontal"):
                sides["bottom"] = req["innerHorizontal"]
            if c < c1 - 1 and req.get("innerVertical"):
                sides["right"] = req["innerVertical"]
            if sides:
                cell = sheet.cell(r, c)
                fmt = copy.deepcopy(cell.fmt or {})
                fmt.setdefault("borders", {}).update(copy.deepcopy(sides))
                cell.fmt = render.stored_format(fmt)
    return {}


def _overlaps(a: dict[str, Any], b: Rect) -> bool:
    return not (a["endRowIndex"] <= b[0] or b[2] <= a["startRowIndex"]
                or a["endColumnIndex"] <= b[1] or b[3] <= a["startColumnIndex"])


def do_merge(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, (r0, c0, r1, c1) = grid_rect(ss, req.get("range"), prefix)
    kind = req.get("mergeType") or "MERGE_ALL"
    if kind == "MERGE_ALL":
        pieces = [(r0, c0, r1, c1)]
    elif kind == "MERGE_COLUMNS":
        pieces = [(r0, c, r1, c + 1) for c in range(c0, c1)]
    elif kind == "MERGE_ROWS":
        pieces = [(r, c0, r + 1, c1) for r in range(r0, r1)]
    else:
        raise ApiError(400, f"{prefix}Invalid mergeType {kind}")
    for piece in pieces:
        if (piece[2] - piece[0]) * (piece[3] - piece[1]) <= 1:
            continue
        for existing in list(sheet.merges):
            if _overlaps(existing, piece):
                inside = (piece[0] <= existing["startRowIndex"] and existing["endRowIndex"]
                          <= piece[2] and piece[1] <= existing["startColumnIndex"]
                          and existing["endColumnIndex"] <= piece[3])
                if not inside:
                    raise ApiError(400, f"{prefix}You can't merge cells that are partially "
                                        "merged.")
                sheet.merges.remove(existing)
        for r, c in list(sheet.cells):
            if piece[0] <= r < piece[2] and piece[1] <= c < piece[3] and (r, c) != piece[:2]:
                cell = sheet.cell(r, c)
                cell.uev = cell.ev = None
                sheet.drop_if_empty(r, c)
        sheet.merges.append({"sheetId": sheet.sheet_id, "startRowIndex": piece[0],
                             "endRowIndex": piece[2], "startColumnIndex": piece[1],
                             "endColumnIndex": piece[3]})
    return {}


def do_unmerge(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, rect = grid_rect(ss, req.get("range"), prefix)
    sheet.merges = [m for m in sheet.merges if not _overlaps(m, rect)]
    return {}


def _sort_key(cell: Cell | None) -> tuple:
    ev = cell.ev if cell else None
    if not ev:
        return (1, 0, 0)
    if "numberValue" in ev:
        return (0, 0, ev["numberValue"])
    if "stringValue" in ev:
        return (0, 1, ev["stringValue"].lower())
    if "boolValue" in ev:
        return (0, 2, ev["boolValue"])
    return (0, 3, 0)


def _sort_value(row: dict[int, Cell | None], col: int) -> tuple:
    return _sort_key(row.get(col))[1:]


def do_sort(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, (r0, c0, r1, c1) = grid_rect(ss, req.get("range"), prefix)
    rows = [{c: sheet.cells.get((r, c)) for c in range(c0, c1)} for r in range(r0, r1)]
    for spec in reversed(req.get("sortSpecs") or []):
        col = spec.get("dimensionIndex", 0)
        desc = spec.get("sortOrder") == "DESCENDING"
        filled = [row for row in rows if _sort_key(row.get(col))[0] == 0]
        blank = [row for row in rows if _sort_key(row.get(col))[0] == 1]
        filled.sort(key=partial(_sort_value, col=col), reverse=desc)
        rows = filled + blank
    for i, row in enumerate(rows):
        for c, cell in row.items():
            if cell is None:
                sheet.cells.pop((r0 + i, c), None)
            else:
                sheet.cells[(r0 + i, c)] = cell
    return {}


_PASTE_FIELDS = {
    "PASTE_NORMAL": ("userEnteredValue", "userEnteredFormat", "note", "dataValidation"),
    "PASTE_VALUES": ("userEnteredValue",),
    "PASTE_FORMAT": ("userEnteredFormat",),
    "PASTE_NO_BORDERS": ("userEnteredValue", "userEnteredFormat", "note", "dataValidation"),
    "PASTE_FORMULA": ("userEnteredValue",),
    "PASTE_DATA_VALIDATION": ("dataValidation",),
    "PASTE_CONDITIONAL_FORMATTING": (),
}


def _paste(sheet: Sheet, r: int, c: int, data: dict[str, Any], kind: str) -> None:
    fields = _PASTE_FIELDS.get(kind)
    if fields is None:
        raise ApiError(400, f"Invalid pasteType {kind}")
    current = copy.deepcopy(cell_dict(sheet.cells.get((r, c))))
    for name in fields:
        if name in data:
            current[name] = copy.deepcopy(data[name])
        else:
            current.pop(name, None)
    if kind == "PASTE_VALUES" and "userEnteredValue" in data:
        source = data.get("_effective")
        if source:
            current["userEnteredValue"] = copy.deepcopy(source)
    store_cell(sheet, r, c, current)


def _snapshot(sheet: Sheet, rect: Rect) -> list[list[dict[str, Any]]]:
    r0, c0, r1, c1 = rect
    out = []
    for r in range(r0, r1):
        row = []
        for c in range(c0, c1):
            cell = sheet.cells.get((r, c))
            data = copy.deepcopy(cell_dict(cell))
            if cell is not None and cell.ev is not None:
                data["_effective"] = copy.deepcopy(cell.ev)
            row.append(data)
        out.append(row)
    return out


def do_copy_paste(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    src_sheet, src = grid_rect(ss, req.get("source"), prefix)
    dst_sheet, dst = grid_rect(ss, req.get("destination"), prefix)
    data = _snapshot(src_sheet, src)
    if req.get("pasteOrientation") == "TRANSPOSE":
        data = [list(col) for col in zip(*data, strict=False)]
    h, w = len(data), len(data[0]) if data else 0
    rows = max(h, (dst[2] - dst[0]) // h * h) if h else 0
    cols = max(w, (dst[3] - dst[1]) // w * w) if w else 0
    kind = req.get("pasteType") or "PASTE_NORMAL"
    for i in range(rows):
        for j in range(cols):
            r, c = dst[0] + i, dst[1] + j
            if r < dst_sheet.rows and c < dst_sheet.cols:
                _paste(dst_sheet, r, c, data[i % h][j % w], kind)
    return {}


def do_cut_paste(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    src_sheet, src = grid_rect(ss, req.get("source"), prefix)
    dest = req.get("destination") or {}
    dst_sheet = ss.sheet_by_id(dest.get("sheetId", 0) or 0)
    if dst_sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {dest.get('sheetId', 0)}")
    data = _snapshot(src_sheet, src)
    for r in range(src[0], src[2]):
        for c in range(src[1], src[3]):
            src_sheet.cells.pop((r, c), None)
    r0, c0 = dest.get("rowIndex", 0) or 0, dest.get("columnIndex", 0) or 0
    kind = req.get("pasteType") or "PASTE_NORMAL"
    for i, row in enumerate(data):
        for j, item in enumerate(row):
            if r0 + i < dst_sheet.rows and c0 + j < dst_sheet.cols:
                _paste(dst_sheet, r0 + i, c0 + j, item, kind)
    return {}


def do_set_filter(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    flt = copy.deepcopy(req.get("filter") or {})
    sheet, rect = grid_rect(ss, flt.get("range"), prefix)
    flt["range"] = {"sheetId": sheet.sheet_id, "startRowIndex": rect[0], "endRowIndex": rect[2],
                    "startColumnIndex": rect[1], "endColumnIndex": rect[3]}
    sheet.basic_filter = {k: v for k, v in flt.items() if v is not None}
    return {}


def do_clear_filter(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet = ss.sheet_by_id(req.get("sheetId", 0) or 0)
    if sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {req.get('sheetId', 0)}")
    sheet.basic_filter = None
    return {}


HANDLERS = {
    "updateCells": do_update_cells,
    "repeatCell": do_repeat_cell,
    "setDataValidation": do_set_validation,
    "updateBorders": do_update_borders,
    "mergeCells": do_merge,
    "unmergeCells": do_unmerge,
    "sortRange": do_sort,
    "copyPaste": do_copy_paste,
    "cutPaste": do_cut_paste,
    "setBasicFilter": do_set_filter,
    "clearBasicFilter": do_clear_filter,
}
