"""Spreadsheet model -> the JSON of ``spreadsheets.get`` (metadata and grid data).

Faithful: keys as recorded (``spreadsheetId``, ``properties`` with ``defaultFormat`` and
``spreadsheetTheme``, ``sheets[].properties`` with ``gridProperties``, ``merges``,
``protectedRanges``, ``basicFilter``, ``rowGroups``/``columnGroups``, ``namedRanges``,
``spreadsheetUrl``), and ``developerMetadata`` (the spreadsheet's, each sheet's, each
row's and column's in ``rowMetadata``/``columnMetadata``) as the reference places it; a
GridRange leaves out ``sheetId`` when it is 0 (proto3 default); colours are stored as
float32 and zero components dropped (``{"red": 1, "blue": 0.49803922}``);
``backgroundColor`` and ``backgroundColorStyle`` (and the text colour pair) mirror each
other; grid data trims trailing empty rows and cells and leaves ``rowData`` out
when the range holds nothing; ``ranges=`` limits the sheets returned to the ones named.
Simplified: ``effectiveFormat`` is the default format overlaid with the user format (no
conditional formatting); auto-resized column widths are an estimate from the text length.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import struct
from typing import Any

from cchc_sync.testing.fake_google import cellvalues, metadata
from cchc_sync.testing.fake_google.model import Cell, Sheet, Spreadsheet

ROW_PX = 21
COL_PX = 100


@functools.lru_cache(maxsize=4096)
def f32(x: float) -> float:
    y = struct.unpack("f", struct.pack("f", float(x)))[0]
    for digits in range(1, 10):
        s = float(f"{y:.{digits}g}")
        if struct.unpack("f", struct.pack("f", s))[0] == y:
            return s
    return y


def color(value: dict[str, Any] | None) -> dict[str, Any]:
    """Google keeps colour channels as 8-bit values, shown as float32 (0.5 -> 0.49803922)."""
    out = {}
    for key in ("red", "green", "blue", "alpha"):
        v = (value or {}).get(key)
        if v:
            level = max(0, min(255, math.ceil(float(v) * 255 - 0.5)))
            if level:
                out[key] = f32(level / 255)
    return out


def color_style(value: dict[str, Any] | None) -> dict[str, Any]:
    if not value:
        return {}
    if value.get("themeColor"):
        return {"themeColor": value["themeColor"]}
    if value.get("rgbColor") is None:
        return {}
    return {"rgbColor": color(value.get("rgbColor"))}


_FORMATS: dict[str, dict[str, Any]] = {}
"""Every distinct stored format once: a template formats hundreds of rows of every column
alike, and a dict per cell made the fake hold gigabytes at 5,000 units. Stored formats are
never changed in place (a write stores a new one: store_cell), so cells can share them."""


def shared_format(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """The one stored copy of a format equal to `fmt` (None stays None)."""
    if fmt is None:
        return None
    return _FORMATS.setdefault(json.dumps(fmt, sort_keys=True), fmt)


_UNSEEN: Any = object()
_BY_GIVEN: dict[str, dict[str, Any] | None] = {}
"""A format as a request sent it (its repr: equal only for equal JSON) -> the stored one."""


def stored_format(fmt: Any) -> dict[str, Any] | None:
    """A userEnteredFormat as the fake keeps it: normalised like Google (normalize_format)
    and shared (shared_format), worked out once per distinct format sent."""
    if not fmt:
        return None
    key = repr(fmt)
    found = _BY_GIVEN.get(key, _UNSEEN)
    if found is _UNSEEN:  # (two fakes in one process share the table: no check-then-read)
        if len(_BY_GIVEN) > 100_000:  # a bound: dropping entries only costs recomputing
            _BY_GIVEN.clear()
        found = _BY_GIVEN[key] = shared_format(normalize_format(fmt))
    return found


def normalize_format(fmt: dict[str, Any] | None) -> dict[str, Any] | None:
    """Store a userEnteredFormat as Google does (colour pairs mirrored, float32 colours)."""
    if not fmt:
        return None
    fmt = copy.deepcopy(fmt)
    _mirror(fmt, "backgroundColor", "backgroundColorStyle")
    text = fmt.get("textFormat")
    if isinstance(text, dict):
        _mirror(text, "foregroundColor", "foregroundColorStyle")
        if not text:
            fmt.pop("textFormat")
    borders = fmt.get("borders")
    if isinstance(borders, dict):
        for side in borders.values():
            if isinstance(side, dict):
                _mirror(side, "color", "colorStyle")
    return {k: v for k, v in fmt.items() if v is not None and v != {}} or None


def _mirror(obj: dict[str, Any], plain: str, style: str) -> None:
    if obj.get(plain) is not None:
        obj[plain] = color(obj[plain])
        if obj.get(style) is None:
            obj[style] = {"rgbColor": dict(obj[plain])}
    if obj.get(style) is not None:
        obj[style] = color_style(obj[style])
        if obj.get(plain) is None and "rgbColor" in obj[style]:
            obj[plain] = dict(obj[style]["rgbColor"])
    for key in (plain, style):
        if key in obj and obj[key] is None:
            obj.pop(key)


def grid_range(rng: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in rng.items() if v is not None}
    if out.get("sheetId") == 0:
        out.pop("sheetId")
    return out


def dim_range(rng: dict[str, Any]) -> dict[str, Any]:
    return grid_range(rng)


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _alignment(ev: dict[str, Any] | None) -> str | None:
    """The horizontal alignment Sheets shows a value with when the cell sets none."""
    if not ev:
        return None
    if "numberValue" in ev:
        return "RIGHT"
    if "boolValue" in ev or "errorValue" in ev:
        return "CENTER"
    return "LEFT"


def effective_format(ss: Spreadsheet, cell: Cell) -> dict[str, Any]:
    fmt = copy.deepcopy(ss.props.get("defaultFormat") or {})
    align = _alignment(cell.ev)
    if align is not None:
        fmt["horizontalAlignment"] = align
    fmt["hyperlinkDisplayType"] = "PLAIN_TEXT"
    return _deep_merge(fmt, cell.fmt or {})


class EffectiveFormats:
    """effective_format for the cells of one answer, each distinct (alignment, stored
    format) worked out once: a template gives hundreds of cells the same format. The
    dicts handed out are shared between cells of the answer, which is serialised before
    anything can change (server._serve), and never stored."""

    def __init__(self, ss: Spreadsheet):
        self.ss = ss
        # (alignment, id(format)) -> (the format, kept alive so its id stays its own; result)
        self.known: dict[tuple[str | None, int], tuple[Any, dict[str, Any]]] = {}

    def of(self, cell: Cell) -> dict[str, Any]:
        key = (_alignment(cell.ev), id(cell.fmt))
        found = self.known.get(key)
        if found is None or found[0] is not cell.fmt:
            found = self.known[key] = (cell.fmt, effective_format(self.ss, cell))
        return found[1]


def cell_data(ss: Spreadsheet, cell: Cell | None,
              formats: EffectiveFormats | None = None, effective: bool = True
              ) -> dict[str, Any]:
    """A CellData as Google answers it. It shares the stored value, format and rule dicts
    (never changed in place: an edit stores new ones): an HTTP answer is copied as JSON
    before the store's lock is released (server._serve), control.dump copies its own."""
    if cell is None or cell.is_empty():
        return {}
    out: dict[str, Any] = {}
    if cell.uev is not None:
        out["userEnteredValue"] = cell.uev
    if cell.ev is not None:
        out["effectiveValue"] = cell.ev
        text = cellvalues.formatted_value(cell.ev, cell.number_format(),
                                          ss.props.get("locale"))
        if text is not None:
            out["formattedValue"] = text
    if cell.fmt:
        out["userEnteredFormat"] = cell.fmt
    if effective and (cell.uev is not None or cell.fmt):
        out["effectiveFormat"] = (formats or EffectiveFormats(ss)).of(cell)
    if cell.note:
        out["note"] = cell.note
    if cell.dv:
        out["dataValidation"] = cell.dv
    return out


def column_width(sheet: Sheet, col: int) -> int:
    widest = 0
    for (_, c), cell in sheet.cells.items():
        if c == col and cell.ev is not None:
            widest = max(widest, len(cell.formatted() or ""))
    return max(COL_PX, 7 * widest + 10) if widest else COL_PX


def grid_data(ss: Spreadsheet, sheet: Sheet, r0: int, c0: int, r1: int, c1: int,
              meta: dict[metadata.Key, list[dict[str, Any]]] | None = None,
              formats: EffectiveFormats | None = None) -> dict:
    formats = formats or EffectiveFormats(ss)
    out: dict[str, Any] = {}
    if r0:
        out["startRow"] = r0
    if c0:
        out["startColumn"] = c0
    rows: dict[int, int] = {}
    for (r, c), cell in sheet.cells.items():
        if r0 <= r < r1 and c0 <= c < c1 and not cell.is_empty():
            rows[r] = max(rows.get(r, -1), c)
    if rows:
        row_data: list[dict[str, Any]] = []
        for r in range(r0, max(rows) + 1):
            if r not in rows:
                row_data.append({})
                continue
            row_data.append({"values": [
                cell_data(ss, sheet.cells.get((r, c)), formats) for c in range(c0, rows[r] + 1)
            ]})
        out["rowData"] = row_data
    meta = meta or {}
    sid = sheet.sheet_id
    out["rowMetadata"] = [
        _dimension(ROW_PX, sheet.row_meta.get(r), meta.get(("ROWS", sid, r)))
        for r in range(r0, r1)
    ]
    out["columnMetadata"] = [
        _dimension(COL_PX, sheet.col_meta.get(c), meta.get(("COLUMNS", sid, c)))
        for c in range(c0, c1)
    ]
    return out


def _dimension(size: int, props: dict[str, Any] | None,
               developer: list[dict[str, Any]] | None) -> dict[str, Any]:
    """DimensionProperties: pixelSize, the stored properties, then developerMetadata."""
    out = {"pixelSize": size, **(props or {})}
    if developer:
        out["developerMetadata"] = developer
    return out


def protected_range(pr: dict[str, Any], caller: str, owner: str,
                    reply: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {"protectedRangeId": pr["protectedRangeId"]}
    if pr.get("range") is not None:
        out["range"] = grid_range(pr["range"])
    if pr.get("namedRangeId"):
        out["namedRangeId"] = pr["namedRangeId"]
    if pr.get("description"):
        out["description"] = pr["description"]
    if pr.get("warningOnly"):
        out["warningOnly"] = True
    users = list((pr.get("editors") or {}).get("users") or [])
    groups = list((pr.get("editors") or {}).get("groups") or [])
    can_edit = bool(pr.get("warningOnly")) or caller == owner or caller in users
    out["requestingUserCanEdit"] = can_edit
    if pr.get("unprotectedRanges"):
        out["unprotectedRanges"] = [grid_range(r) for r in pr["unprotectedRanges"]]
    editors: dict[str, Any] = {}
    if not reply:
        if users:
            editors["users"] = users
        if groups:
            editors["groups"] = groups
        if pr.get("editors", {}).get("domainUsersCanEdit"):
            editors["domainUsersCanEdit"] = True
    out["editors"] = editors
    return out


def sheet_json(ss: Spreadsheet, sheet: Sheet, caller: str, owner: str,
               data: list[tuple[int, int, int, int]] | None,
               meta: dict[metadata.Key, list[dict[str, Any]]] | None = None,
               formats: EffectiveFormats | None = None) -> dict[str, Any]:
    """A Sheet resource; like cell_data it shares stored dicts (see there)."""
    meta = meta or {}
    out: dict[str, Any] = {"properties": sheet.props}
    if data is not None:
        formats = formats or EffectiveFormats(ss)
        out["data"] = [grid_data(ss, sheet, *rect, meta=meta, formats=formats)
                       for rect in data]
    if sheet.merges:
        out["merges"] = [grid_range(m) for m in sheet.merges]
    if sheet.protected:
        out["protectedRanges"] = [protected_range(p, caller, owner) for p in sheet.protected]
    if sheet.basic_filter is not None:
        bf = {**sheet.basic_filter, "range": grid_range(sheet.basic_filter["range"])}
        out["basicFilter"] = bf
    if meta.get(("SHEET", sheet.sheet_id)):
        out["developerMetadata"] = meta[("SHEET", sheet.sheet_id)]
    if sheet.row_groups:
        out["rowGroups"] = [_group(g) for g in sheet.row_groups]
    if sheet.col_groups:
        out["columnGroups"] = [_group(g) for g in sheet.col_groups]
    return out


def _group(group: dict[str, Any]) -> dict[str, Any]:
    return {**group, "range": dim_range(group["range"])}


def named_range(nr: dict[str, Any]) -> dict[str, Any]:
    return {"namedRangeId": nr["namedRangeId"], "name": nr["name"],
            "range": grid_range(nr["range"])}


def spreadsheet_json(ss: Spreadsheet, caller: str, owner: str,
                     data: dict[int, list[tuple[int, int, int, int]]] | None = None,
                     only_sheets: set[int] | None = None) -> dict[str, Any]:
    """``data`` maps sheetId -> rectangles of grid data to include (None: metadata only)."""
    meta = metadata.by_location(ss, metadata.project_of(caller))
    formats = EffectiveFormats(ss)
    sheets = []
    for sheet in ss.sheets:
        if only_sheets is not None and sheet.sheet_id not in only_sheets:
            continue
        rects = None if data is None else data.get(sheet.sheet_id, [])
        sheets.append(sheet_json(ss, sheet, caller, owner, rects, meta, formats))
    out: dict[str, Any] = {
        "spreadsheetId": ss.id,
        "properties": ss.props,
        "sheets": sheets,
    }
    if ss.named_ranges:
        out["namedRanges"] = [named_range(nr) for nr in ss.named_ranges]
    out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{ss.id}/edit"
    if meta.get(("SPREADSHEET",)):
        out["developerMetadata"] = meta[("SPREADSHEET",)]
    return out


def value_rows_render(sheet: Sheet, rect: tuple[int, int, int, int], render: str,
                      date_render: str, major: str = "ROWS", locale: str | None = None
                      ) -> list[list[Any]]:
    """A range's values as values.get gives them, rendered in the spreadsheet `locale`."""
    r0, c0, r1, c1 = rect
    by_row: dict[int, dict[int, Any]] = {}
    for (r, c), cell in sheet.cells.items():
        if r0 <= r < r1 and c0 <= c < c1 and cell.uev is not None:
            by_row.setdefault(r, {})[c] = cellvalues.render(
                cell.uev, cell.ev, cell.number_format(), render, date_render, locale)
    rows: list[list[Any]] = []
    for r in range(r0, max(by_row, default=r0 - 1) + 1):
        found = by_row.get(r)
        rows.append(_trimmed([found.get(c, "") for c in range(c0, max(found) + 1)])
                    if found else [])
    while rows and not rows[-1]:
        rows.pop()
    if major != "COLUMNS" or not rows:
        return rows
    width = max(len(r) for r in rows)
    return [_trimmed([r[c] if c < len(r) else "" for r in rows]) for c in range(width)]


def _trimmed(values: list[Any]) -> list[Any]:
    """Without its trailing empty cells (Google leaves them out)."""
    while values and values[-1] == "":
        values.pop()
    return values


__all__ = ["cellvalues", "spreadsheet_json", "normalize_format", "grid_range"]
