"""``spreadsheets.batchUpdate``: the dispatcher and the requests on sheets, the spreadsheet,
named ranges and protected ranges (cell and dimension requests live in batch_cells.py and
batch_dims.py).

Faithful: atomic (all requests run on a copy; any error leaves the spreadsheet untouched and
answers 400 ``Invalid requests[i].kind: ...``); one reply per request, ``{}`` where Google
gives an empty reply, ``addSheet``/``duplicateSheet``/``addNamedRange``/
``addProtectedRange``/``addDimensionGroup`` replies shaped as recorded; an unknown request
kind answers the JSON-payload 400; hiding or deleting the last visible sheet, duplicate
titles and unknown sheet ids are refused with Google's messages; index moves use "before the
move" indexes as documented; a new protected range lists the caller as editor; writes by a
caller who may not edit a protected range are refused.
Response options: ``includeSpreadsheetInResponse`` adds ``updatedSpreadsheet`` (the
spreadsheet after the edit), limited to the sheets and grid data of ``responseRanges`` when
given; grid data comes only with ``responseIncludeGridData: true``, unless the ``fields``
query parameter is set, which then decides alone (``updatedSpreadsheet.sheets.data`` in the
mask, or ``updatedSpreadsheet``/``*`` whole); ``fields`` masks the whole response
(``spreadsheetId``, ``replies``, ``updatedSpreadsheet``). Developer metadata requests live in
metadata.py.
Simplified: conditional formats, charts, banding, filter views, pivot tables and
find/replace are not implemented (unknown request -> 400).
"""

from __future__ import annotations

import copy
from typing import Any

from cchc_sync.testing.fake_google import (
    batch_cells,
    batch_dims,
    fieldmask,
    metadata,
    render,
    sheets,
)
from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import MAX_CELLS, Sheet, Spreadsheet, Store
from cchc_sync.testing.fake_google.sheets import PROTECTED, Edit, can_edit_cell, open_file


def _sheet(ss: Spreadsheet, sheet_id: Any, prefix: str) -> Sheet:
    sheet = ss.sheet_by_id(sheet_id or 0)
    if sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {sheet_id or 0}")
    return sheet


def _check_title(ss: Spreadsheet, title: str, prefix: str, skip: Sheet | None = None) -> None:
    for sheet in ss.sheets:
        if sheet is not skip and sheet.title.casefold() == title.casefold():
            raise ApiError(400, f'{prefix}A sheet with the name "{title}" already exists. '
                                "Please enter another name.")


def _move(ss: Spreadsheet, sheet: Sheet, index: int) -> None:
    old = ss.sheets.index(sheet)
    ss.sheets.remove(sheet)
    new = index if index <= old else index - 1
    ss.sheets.insert(max(0, min(new, len(ss.sheets))), sheet)
    for i, s in enumerate(ss.sheets):
        s.props["index"] = i


def _check_cells(ss: Spreadsheet, prefix: str) -> None:
    if ss.total_cells() > MAX_CELLS:
        raise ApiError(400, f"{prefix}This action would increase the number of cells in the "
                            f"workbook above the limit of {MAX_CELLS} cells.")


def _tidy_props(props: dict[str, Any]) -> None:
    grid = props.get("gridProperties") or {}
    for key in ("frozenRowCount", "frozenColumnCount"):
        if not grid.get(key):
            grid.pop(key, None)
    for key in ("hideGridlines",):
        if not grid.get(key):
            grid.pop(key, None)
    for key in ("hidden", "rightToLeft"):
        if not props.get(key):
            props.pop(key, None)
    if "tabColorStyle" in props and "tabColor" not in props:
        style = render.color_style(props["tabColorStyle"])
        props["tabColorStyle"] = style
        if "rgbColor" in style:
            props["tabColor"] = dict(style["rgbColor"])
        elif not style:
            props.pop("tabColorStyle")
    elif props.get("tabColor") is None:
        props.pop("tabColor", None)
    elif "tabColor" in props:
        props["tabColor"] = render.color(props["tabColor"])
        props["tabColorStyle"] = {"rgbColor": dict(props["tabColor"])}


def do_add_sheet(ss: Spreadsheet, req: dict[str, Any], prefix: str, *, store: Store,
                 **_: Any) -> dict:
    given = copy.deepcopy(req.get("properties") or {})
    sheet_id = given.get("sheetId")
    if sheet_id is not None and ss.sheet_by_id(sheet_id) is not None:
        raise ApiError(400, f"{prefix}Sheet with id {sheet_id} already exists.")
    if sheet_id is None:
        sheet_id = store.new_int_id()
        while ss.sheet_by_id(sheet_id) is not None:
            sheet_id = store.new_int_id()
    title = given.get("title")
    if not title:
        n = len(ss.sheets) + 1
        while ss.sheet_by_title(f"Sheet{n}"):
            n += 1
        title = f"Sheet{n}"
    _check_title(ss, title, prefix)
    grid = given.get("gridProperties") or {}
    props: dict[str, Any] = {
        "sheetId": sheet_id, "title": title, "index": len(ss.sheets),
        "sheetType": given.get("sheetType") or "GRID",
        "gridProperties": {"rowCount": grid.get("rowCount", 1000),
                           "columnCount": grid.get("columnCount", 26)},
    }
    for key in ("frozenRowCount", "frozenColumnCount", "hideGridlines"):
        if grid.get(key):
            props["gridProperties"][key] = grid[key]
    for key in ("hidden", "tabColor", "tabColorStyle", "rightToLeft"):
        if given.get(key):
            props[key] = given[key]
    _tidy_props(props)
    sheet = Sheet(props=props)
    ss.sheets.append(sheet)
    if given.get("index") is not None:
        _move(ss, sheet, int(given["index"]))
    _check_cells(ss, prefix)
    return {"addSheet": {"properties": copy.deepcopy(sheet.props)}}


def do_delete_sheet(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet = _sheet(ss, req.get("sheetId"), prefix)
    if len(ss.sheets) == 1 or all(s.props.get("hidden") for s in ss.sheets if s is not sheet):
        raise ApiError(400, f"{prefix}You can't remove all the sheets in a document.")
    ss.sheets.remove(sheet)
    ss.named_ranges = [n for n in ss.named_ranges if n["range"].get("sheetId", 0)
                       != sheet.sheet_id]
    metadata.drop_sheet(ss, sheet.sheet_id)
    for i, s in enumerate(ss.sheets):
        s.props["index"] = i
    return {}


def do_duplicate(ss: Spreadsheet, req: dict[str, Any], prefix: str, *, store: Store,
                 **_: Any) -> dict:
    source = _sheet(ss, req.get("sourceSheetId"), prefix)
    new = copy.deepcopy(source)
    new_id = req.get("newSheetId") or store.new_int_id()
    if ss.sheet_by_id(new_id) is not None:
        raise ApiError(400, f"{prefix}Sheet with id {new_id} already exists.")
    title = req.get("newSheetName") or f"Copy of {source.title}"
    _check_title(ss, title, prefix)
    new.props.update(sheetId=new_id, title=title)
    new.props.pop("hidden", None)
    for item in new.merges + [p["range"] for p in new.protected if p.get("range")]:
        item["sheetId"] = new_id
    for pr in new.protected:
        pr["protectedRangeId"] = store.new_int_id()
    if new.basic_filter:
        new.basic_filter["range"]["sheetId"] = new_id
    ss.sheets.append(new)
    index = req.get("insertSheetIndex")
    _move(ss, new, len(ss.sheets) if index is None else int(index))
    _check_cells(ss, prefix)
    return {"duplicateSheet": {"properties": copy.deepcopy(new.props)}}


def do_update_sheet(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    given = req.get("properties") or {}
    sheet = _sheet(ss, given.get("sheetId"), prefix)
    fields = req.get("fields")
    if not fields:
        raise ApiError(400, f"{prefix}At least one field must be specified.")
    tree = fieldmask.parse(fields)
    props = copy.deepcopy(sheet.props)
    old_index = props["index"]
    if tree is not None and ("tabColor" in tree) != ("tabColorStyle" in tree):
        props.pop("tabColor" if "tabColorStyle" in tree else "tabColorStyle", None)
    fieldmask.merge(props, given, tree)
    props["sheetId"] = sheet.sheet_id
    props.setdefault("sheetType", "GRID")
    grid = props.setdefault("gridProperties", {})
    grid.setdefault("rowCount", sheet.rows)
    grid.setdefault("columnCount", sheet.cols)
    if not props.get("title"):
        props["title"] = sheet.title
    _check_title(ss, props["title"], prefix, skip=sheet)
    if props.get("hidden") and all(s.props.get("hidden") for s in ss.sheets if s is not sheet):
        raise ApiError(400, f"{prefix}You can't hide all the sheets in a document.")
    if grid["rowCount"] < 1 or grid["columnCount"] < 1:
        raise ApiError(400, f"{prefix}Sheet must have at least one row and one column.")
    if grid.get("frozenRowCount", 0) >= grid["rowCount"] + 1 or \
            grid.get("frozenColumnCount", 0) >= grid["columnCount"] + 1:
        raise ApiError(400, f"{prefix}You can't freeze all visible rows on the sheet.")
    _tidy_props(props)
    new_index = props.get("index", old_index)
    props["index"] = old_index
    sheet.props = props
    sheet.cells = {k: v for k, v in sheet.cells.items()
                   if k[0] < grid["rowCount"] and k[1] < grid["columnCount"]}
    metadata.trim(ss, sheet)
    if new_index != old_index:
        _move(ss, sheet, int(new_index))
    _check_cells(ss, prefix)
    return {}


def do_update_spreadsheet(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    if not req.get("fields"):
        raise ApiError(400, f"{prefix}At least one field must be specified.")
    tree = fieldmask.parse(req["fields"])
    fieldmask.merge(ss.props, req.get("properties") or {}, tree)
    ss.props.setdefault("title", "Untitled spreadsheet")
    return {}


def _named(ss: Spreadsheet, range_id: Any, prefix: str) -> dict[str, Any]:
    found = next((n for n in ss.named_ranges if n["namedRangeId"] == str(range_id)), None)
    if found is None:
        raise ApiError(400, f"{prefix}No named range with id {range_id}.")
    return found


def do_add_named(ss: Spreadsheet, req: dict[str, Any], prefix: str, *, store: Store,
                 **_: Any) -> dict:
    given = req.get("namedRange") or {}
    name = given.get("name") or ""
    if not name or any(n["name"] == name for n in ss.named_ranges):
        raise ApiError(400, f"{prefix}Invalid or duplicate named range name: {name}")
    sheet, rect = batch_cells.grid_rect(ss, given.get("range"), prefix)
    entry = {
        "namedRangeId": str(given.get("namedRangeId") or store.new_int_id()),
        "name": name,
        "range": {"sheetId": sheet.sheet_id, "startRowIndex": rect[0], "endRowIndex": rect[2],
                  "startColumnIndex": rect[1], "endColumnIndex": rect[3]},
    }
    ss.named_ranges.append(entry)
    return {"addNamedRange": {"namedRange": render.named_range(entry)}}


def do_update_named(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    given = req.get("namedRange") or {}
    entry = _named(ss, given.get("namedRangeId"), prefix)
    tree = fieldmask.parse(req.get("fields") or "*")
    updated = copy.deepcopy(entry)
    fieldmask.merge(updated, given, tree)
    updated["namedRangeId"] = entry["namedRangeId"]
    if updated.get("range"):
        sheet, rect = batch_cells.grid_rect(ss, updated["range"], prefix)
        updated["range"] = {"sheetId": sheet.sheet_id, "startRowIndex": rect[0],
                            "endRowIndex": rect[2], "startColumnIndex": rect[1],
                            "endColumnIndex": rect[3]}
    entry.clear()
    entry.update(updated)
    return {}


def do_delete_named(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    ss.named_ranges.remove(_named(ss, req.get("namedRangeId"), prefix))
    return {}


def _protected(ss: Spreadsheet, range_id: Any, prefix: str) -> tuple[Sheet, dict[str, Any]]:
    for sheet in ss.sheets:
        for pr in sheet.protected:
            if str(pr["protectedRangeId"]) == str(range_id):
                return sheet, pr
    raise ApiError(400, f"{prefix}No protected range with id: {range_id}")


def do_add_protected(ss: Spreadsheet, req: dict[str, Any], prefix: str, *, store: Store,
                     caller: str = "", owner: str = "", **_: Any) -> dict:
    given = {k: v for k, v in (req.get("protectedRange") or {}).items() if v is not None}
    if given.get("namedRangeId"):
        named = _named(ss, given["namedRangeId"], prefix)
        given["range"] = copy.deepcopy(named["range"])
    sheet, rect = batch_cells.grid_rect(ss, given.get("range"), prefix)
    editors = copy.deepcopy(given.get("editors") or {})
    users = list(editors.get("users") or [])
    for who in (caller, owner):
        if who and who not in users:
            users.append(who)
    editors["users"] = users
    entry = {
        "protectedRangeId": given.get("protectedRangeId") or store.new_int_id(),
        "range": {"sheetId": sheet.sheet_id, "startRowIndex": rect[0], "endRowIndex": rect[2],
                  "startColumnIndex": rect[1], "endColumnIndex": rect[3]},
        "description": given.get("description"),
        "warningOnly": bool(given.get("warningOnly")),
        "editors": editors,
        "unprotectedRanges": given.get("unprotectedRanges") or [],
    }
    if given.get("namedRangeId"):
        entry["namedRangeId"] = given["namedRangeId"]
    sheet.protected.append(entry)
    return {"addProtectedRange": {
        "protectedRange": render.protected_range(entry, caller, owner, reply=True)}}


def do_update_protected(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    given = req.get("protectedRange") or {}
    sheet, entry = _protected(ss, given.get("protectedRangeId"), prefix)
    tree = fieldmask.parse(req.get("fields") or "*")
    updated = copy.deepcopy(entry)
    fieldmask.merge(updated, given, tree)
    updated["protectedRangeId"] = entry["protectedRangeId"]
    if updated.get("range") is not None:
        batch_cells.grid_rect(ss, updated["range"], prefix)
        updated["range"].setdefault("sheetId", sheet.sheet_id)
    entry.clear()
    entry.update(updated)
    return {}


def do_delete_protected(ss: Spreadsheet, req: dict[str, Any], prefix: str, **_: Any) -> dict:
    sheet, entry = _protected(ss, req.get("protectedRangeId"), prefix)
    sheet.protected.remove(entry)
    return {}


HANDLERS = {
    "addSheet": do_add_sheet,
    "deleteSheet": do_delete_sheet,
    "duplicateSheet": do_duplicate,
    "updateSheetProperties": do_update_sheet,
    "updateSpreadsheetProperties": do_update_spreadsheet,
    "addNamedRange": do_add_named,
    "updateNamedRange": do_update_named,
    "deleteNamedRange": do_delete_named,
    "addProtectedRange": do_add_protected,
    "updateProtectedRange": do_update_protected,
    "deleteProtectedRange": do_delete_protected,
    **batch_cells.HANDLERS,
    **batch_dims.HANDLERS,
    **metadata.HANDLERS,
}

# requests that change cells: the range whose protection must allow the caller
_CELL_RANGES = {
    "updateCells": "range", "repeatCell": "range", "setDataValidation": "range",
    "updateBorders": "range", "mergeCells": "range", "unmergeCells": "range",
    "sortRange": "range", "copyPaste": "destination", "cutPaste": "source",
}


def _check_protection(ss: Spreadsheet, kind: str, req: dict[str, Any], prefix: str,
                      caller: str, owner: str) -> None:
    key = _CELL_RANGES.get(kind)
    if key is None or caller == owner or not isinstance(req.get(key), dict):
        return
    sheet, (r0, c0, r1, c1) = batch_cells.grid_rect(ss, req[key], prefix)
    for pr in sheet.protected:
        rng = pr.get("range") or {}
        rr0, cc0 = rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0)
        rr1, cc1 = rng.get("endRowIndex", sheet.rows), rng.get("endColumnIndex", sheet.cols)
        r, c = max(r0, rr0), max(c0, cc0)
        if r < min(r1, rr1) and c < min(c1, cc1) and not can_edit_cell(ss, sheet, r, c, caller,
                                                                       owner):
            raise ApiError(400, PROTECTED)


# Requests that change nothing but the tabs their own sheetIds name (and the spreadsheet's
# small shared parts, always copied): a batchUpdate made only of these copies only those tabs.
# Structural changes (rows, columns, deleted tabs) and metadata lookups can reach other tabs.
_TAB_LOCAL = frozenset({
    "updateCells", "repeatCell", "addSheet", "updateSheetProperties", "copyPaste",
    "setBasicFilter", "clearBasicFilter", "updateDimensionProperties", "autoResizeDimensions",
    "mergeCells", "unmergeCells", "updateBorders", "setDataValidation",
})


def _sheets_touched(requests: list[Any]) -> set[int] | None:
    """The sheet ids a batchUpdate can change, or None when it may change any tab."""
    ids: set[int] = set()
    for req in requests:
        if not isinstance(req, dict) or len(req) != 1:
            return None
        kind, payload = next(iter(req.items()))
        if kind not in _TAB_LOCAL:
            return None
        found = _sheet_ids(payload)
        if not found:
            return None
        ids |= found
    return ids


def _sheet_ids(obj: Any) -> set[int]:
    if isinstance(obj, dict):
        out = {v for k, v in obj.items() if k == "sheetId" and isinstance(v, int)}
        for v in obj.values():
            if isinstance(v, dict | list):
                out |= _sheet_ids(v)
        return out
    if isinstance(obj, list):
        return set().union(*(_sheet_ids(v) for v in obj)) if obj else set()
    return set()


def batch_update(ctx: Ctx, spreadsheet_id: str) -> Response:
    file = open_file(ctx, spreadsheet_id, write=True)
    body = ctx.json()
    tree = sheets.parse_fields(ctx)
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise ApiError(400, "Must specify at least one request.")
    replies = []
    with Edit(ctx, file, only=_sheets_touched(requests)) as ss:
        for i, req in enumerate(requests):
            if not isinstance(req, dict) or len(req) != 1:
                raise ApiError(400, f"Invalid requests[{i}]: a request must set exactly one kind.")
            kind, payload = next(iter(req.items()))
            handler = HANDLERS.get(kind)
            if handler is None:
                raise ApiError(400, f"Invalid JSON payload received. Unknown name \"{kind}\" at "
                                    f"'requests[{i}]': Cannot find field.")
            prefix = f"Invalid requests[{i}].{kind}: "
            payload = payload if isinstance(payload, dict) else {}
            _check_protection(ss, kind, payload, prefix, ctx.caller, file.owner)
            try:
                replies.append(handler(ss, payload, prefix, store=ctx.store, caller=ctx.caller,
                                       owner=file.owner))
            except fieldmask.MaskError as err:
                raise ApiError(400, f"{prefix}{err}") from None
            except (TypeError, ValueError, KeyError, AttributeError) as err:
                raise ApiError(400, f"{prefix}{err}") from None
        ranges = _response_ranges(ss, body)
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        wants_data = bool(body.get("responseIncludeGridData"))
        if ctx.arg("fields") is not None:  # a mask decides, responseIncludeGridData is ignored
            sub = tree.get("updatedSpreadsheet", False) if tree is not None else None
            wants_data = sub is not False and sheets.mask_has_data(sub)
        assert file.spreadsheet is not None
        out["updatedSpreadsheet"] = sheets.view(file.spreadsheet, ctx.caller, file.owner,
                                                ranges, wants_data)
    return ok(fieldmask.apply(out, tree))


def _response_ranges(ss: Spreadsheet, body: dict[str, Any]) -> list[str]:
    """``responseRanges`` (checked before the edit is kept: a bad range fails the batch)."""
    ranges = body.get("responseRanges") or []
    if not isinstance(ranges, list):
        raise ApiError(400, "Invalid responseRanges: a list of A1 ranges is expected.")
    ranges = [str(r) for r in ranges]
    if body.get("includeSpreadsheetInResponse"):
        for text in ranges:
            sheets.clamp(*sheets.resolve(ss, text))
    return ranges
