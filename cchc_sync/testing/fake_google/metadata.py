"""Sheets v4 developer metadata: the batchUpdate requests ``createDeveloperMetadata``,
``updateDeveloperMetadata`` and ``deleteDeveloperMetadata``, the endpoints
``GET spreadsheets/{id}/developerMetadata/{metadataId}`` and
``POST spreadsheets/{id}/developerMetadata:search``, DataFilter matching, and the hooks that
keep metadata on its row, column or sheet when the grid changes.

Faithful (Sheets v4 reference and the "Read, write, and search metadata" guide): an entry is
``{metadataId, metadataKey, metadataValue, location, visibility}``; ``location`` is one of
``spreadsheet: true``, ``sheetId`` or a ``dimensionRange`` of exactly one row or column, and
answers carry the read-only ``locationType`` (SPREADSHEET, SHEET, ROW, COLUMN); a
``dimensionRange`` on sheet 0 leaves ``sheetId`` out (proto3 default), ``location.sheetId`` 0
stays (a oneof member); an empty ``metadataValue`` is left out. ``metadataKey``,
``visibility`` and ``location`` are required; ``metadataId`` must be positive and unique in the
spreadsheet (a used id fails the request, and so the whole atomic batchUpdate); an absent id
is drawn at random, deterministically from the spreadsheet id and a per-spreadsheet counter.
A ``developerMetadataLookup`` matches entries that satisfy every field it gives;
``locationMatchingStrategy`` defaults to INTERSECTING_LOCATION, as documented, and needs a
``metadataLocation``; ``locationType`` must be left out with EXACT_LOCATION and may not be
SPREADSHEET with INTERSECTING_LOCATION or a non-spreadsheet ``metadataLocation``. PROJECT
metadata is seen only by callers of the project that made it (the project is read from the
service account's email, ``name@PROJECT.iam.gserviceaccount.com``); DOCUMENT metadata by
everyone. A ``deleteDeveloperMetadata`` that matches nothing deletes nothing and is no error.
GET of an unknown id answers 404 "No developer metadata with ID N.".
Row and column metadata moves with insertDimension, deleteDimension and moveDimension and is
deleted with its row, column or sheet (and when the grid shrinks past it).
Assumptions (not verified against Google, see docs/fake-google.md): metadata does not move
with sortRange, cut/paste or value edits (it is a property of the row or column, like its
height); duplicateSheet and sheets.copyTo do not copy it (Drive files.copy copies the whole
document, metadata included); "intersecting" is geometric: a sheet intersects its rows and
columns, a row intersects its sheet and every column of that sheet, the spreadsheet location
intersects nothing but itself; an a1Range/gridRange filter matches the row and column metadata
inside the range and the metadata of the range's sheet. The error messages for invalid
requests are the fake's own wording except where quoted above.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from cchc_sync.testing.fake_google import a1, fieldmask
from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.errors import ApiError, invalid_value
from cchc_sync.testing.fake_google.model import Sheet, Spreadsheet

VISIBILITIES = ("DOCUMENT", "PROJECT")
LOCATION_TYPES = ("SPREADSHEET", "SHEET", "ROW", "COLUMN")
EXACT, INTERSECTING = "EXACT_LOCATION", "INTERSECTING_LOCATION"
_DIM_TYPE = {"ROWS": "ROW", "COLUMNS": "COLUMN"}
_SA_SUFFIX = ".iam.gserviceaccount.com"

Key = tuple  # ("SPREADSHEET",) | ("SHEET", sheetId) | ("ROWS"|"COLUMNS", sheetId, index)


def project_of(caller: str) -> str:
    """The Google Cloud project a caller acts for (a person stands for themself)."""
    domain = caller.partition("@")[2].lower()
    return domain[: -len(_SA_SUFFIX)] if domain.endswith(_SA_SUFFIX) else caller.lower()


def _unset(value: Any) -> bool:
    """proto3: absent, empty and the *_UNSPECIFIED enum value all mean 'not given'."""
    return value in (None, "", 0, False) or (isinstance(value, str)
                                             and value.endswith("_UNSPECIFIED"))


def _oneof(obj: dict[str, Any], names: tuple[str, ...], oneof: str) -> str | None:
    found = [name for name in obj if name in names and obj[name] is not None]
    if len(found) > 1:
        raise ApiError(400, f"Invalid JSON payload received. Oneof field '{oneof}' is already "
                            f"set. Cannot set '{found[1]}'")
    return found[0] if found else None


# --------------------------------------------------------------------------- locations


def key_of(loc: dict[str, Any]) -> Key:
    if loc.get("spreadsheet"):
        return ("SPREADSHEET",)
    rng = loc.get("dimensionRange")
    if rng is not None:
        return (rng["dimension"], rng["sheetId"], rng["startIndex"])
    return ("SHEET", loc["sheetId"])


def location_type(loc: dict[str, Any]) -> str:
    key = key_of(loc)
    return _DIM_TYPE.get(key[0], key[0])


def parse_location(ss: Spreadsheet, loc: Any, prefix: str) -> dict[str, Any]:
    """A DeveloperMetadataLocation as given -> the stored form (``locationType`` ignored)."""
    loc = {k: v for k, v in (loc or {}).items() if k != "locationType"} \
        if isinstance(loc, dict) else {}
    kind = _oneof(loc, ("spreadsheet", "sheetId", "dimensionRange"), "location")
    if kind is None or (kind == "spreadsheet" and not loc["spreadsheet"]):
        raise ApiError(400, f"{prefix}Developer metadata must always have a location "
                            "specified.")
    if kind == "spreadsheet":
        return {"spreadsheet": True}
    if kind == "sheetId":
        return {"sheetId": _sheet(ss, loc["sheetId"], prefix).sheet_id}
    rng = loc["dimensionRange"] if isinstance(loc["dimensionRange"], dict) else {}
    sheet = _sheet(ss, rng.get("sheetId"), prefix)
    dim = rng.get("dimension")
    if dim not in _DIM_TYPE:
        raise ApiError(400, f"{prefix}dimensionRange.dimension must be ROWS or COLUMNS.")
    start, end = rng.get("startIndex"), rng.get("endIndex")
    if start is None or end is None or int(end) - int(start) != 1 or int(start) < 0:
        raise ApiError(400, f"{prefix}The specified DimensionRange must represent a single row "
                            "or column; it cannot be unbounded or span multiple rows or "
                            "columns.")
    start = int(start)
    if start >= (sheet.rows if dim == "ROWS" else sheet.cols):
        rect = (start, 0, start + 1, 1) if dim == "ROWS" else (0, start, 1, start + 1)
        raise ApiError(400, f"{prefix}Range ({a1.format_range(sheet.title, *rect)}) exceeds "
                            f"grid limits. Max rows: {sheet.rows}, max columns: {sheet.cols}")
    return {"dimensionRange": {"sheetId": sheet.sheet_id, "dimension": dim,
                               "startIndex": start, "endIndex": start + 1}}


def _sheet(ss: Spreadsheet, sheet_id: Any, prefix: str) -> Sheet:
    sheet = ss.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise ApiError(400, f"{prefix}No grid with id: {sheet_id or 0}")
    return sheet


def _intersects(a: Key, b: Key) -> bool:
    if a == b:
        return True
    if "SPREADSHEET" in (a[0], b[0]) or a[1] != b[1]:
        return False
    return "SHEET" in (a[0], b[0]) or a[0] != b[0]  # a row crosses every column


def public(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry as Google answers it (field order as in the reference)."""
    out: dict[str, Any] = {"metadataId": entry["metadataId"],
                           "metadataKey": entry["metadataKey"]}
    if entry.get("metadataValue"):
        out["metadataValue"] = entry["metadataValue"]
    loc = entry["location"]
    where: dict[str, Any] = {"locationType": location_type(loc)}
    if loc.get("spreadsheet"):
        where["spreadsheet"] = True
    elif "sheetId" in loc:
        where["sheetId"] = loc["sheetId"]
    else:
        rng = {k: v for k, v in loc["dimensionRange"].items() if k != "sheetId" or v}
        where["dimensionRange"] = rng
    out["location"] = where
    out["visibility"] = entry["visibility"]
    return out


def visible(entry: dict[str, Any], project: str) -> bool:
    return entry["visibility"] == "DOCUMENT" or entry.get("project") == project


def by_location(ss: Spreadsheet, project: str) -> dict[Key, list[dict[str, Any]]]:
    """Visible entries grouped by location, as ``spreadsheets.get`` shows them."""
    out: dict[Key, list[dict[str, Any]]] = {}
    for entry in ss.developer_metadata:
        if visible(entry, project):
            out.setdefault(key_of(entry["location"]), []).append(public(entry))
    return out


# --------------------------------------------------------------------------- data filters


def _check_lookup(ss: Spreadsheet, lookup: dict[str, Any], prefix: str,
                  ) -> tuple[Key | None, str]:
    strategy: Any = lookup.get("locationMatchingStrategy")
    where = lookup.get("metadataLocation")
    kind = lookup.get("locationType")
    if not _unset(strategy) and strategy not in (EXACT, INTERSECTING):
        raise ApiError(400, f"{prefix}Invalid locationMatchingStrategy: {strategy}")
    if not _unset(kind) and kind not in LOCATION_TYPES:
        raise ApiError(400, f"{prefix}Invalid locationType: {kind}")
    if where is None:
        if not _unset(strategy):
            raise ApiError(400, f"{prefix}A locationMatchingStrategy requires a "
                                "metadataLocation.")
        return None, INTERSECTING
    key = key_of(parse_location(ss, where, prefix))
    strategy = INTERSECTING if _unset(strategy) else strategy
    if strategy == EXACT and not _unset(kind):
        raise ApiError(400, f"{prefix}locationType must be left unspecified when "
                            "locationMatchingStrategy is EXACT_LOCATION.")
    if kind == "SPREADSHEET" and (lookup.get("locationMatchingStrategy") == INTERSECTING
                                  or key[0] != "SPREADSHEET"):
        raise ApiError(400, f"{prefix}locationType cannot be SPREADSHEET with an intersecting "
                            "or non-spreadsheet metadataLocation: spreadsheet metadata cannot "
                            "intersect any other developer metadata location.")
    return key, strategy


def _lookup_matches(entry: dict[str, Any], lookup: dict[str, Any], where: Key | None,
                    strategy: str) -> bool:
    if not _unset(lookup.get("metadataId")) and int(lookup["metadataId"]) != entry["metadataId"]:
        return False
    for name in ("metadataKey", "metadataValue", "visibility"):
        if not _unset(lookup.get(name)) and lookup[name] != entry.get(name, ""):
            return False
    kind = lookup.get("locationType")
    if not _unset(kind) and kind != location_type(entry["location"]):
        return False
    if where is None:
        return True
    key = key_of(entry["location"])
    return key == where if strategy == EXACT else _intersects(key, where)


def _region(ss: Spreadsheet, data_filter: dict[str, Any], kind: str,
            prefix: str) -> tuple[int, int, int, int, int]:
    """(sheetId, r0, c0, r1, c1) of an a1Range or gridRange filter."""
    if kind == "a1Range":
        # sheets -> render -> metadata: imported when first needed
        from cchc_sync.testing.fake_google import sheets

        sheet, ref = sheets.resolve(ss, str(data_filter["a1Range"]))
        return (sheet.sheet_id, *sheets.clamp(sheet, ref))
    rng = data_filter["gridRange"] if isinstance(data_filter["gridRange"], dict) else {}
    sheet = _sheet(ss, rng.get("sheetId"), prefix)

    def bound(name: str, default: int) -> int:
        value = rng.get(name)
        return default if value is None else int(value)

    return (sheet.sheet_id, bound("startRowIndex", 0), bound("startColumnIndex", 0),
            bound("endRowIndex", sheet.rows), bound("endColumnIndex", sheet.cols))


def _in_region(key: Key, region: tuple[int, int, int, int, int]) -> bool:
    sheet_id, r0, c0, r1, c1 = region
    if key[0] == "SPREADSHEET" or key[1] != sheet_id:
        return False
    if key[0] == "ROWS":
        return r0 <= key[2] < r1 and c0 < c1
    if key[0] == "COLUMNS":
        return c0 <= key[2] < c1 and r0 < r1
    return True


def select(ss: Spreadsheet, data_filter: Any, project: str,
           prefix: str) -> list[dict[str, Any]]:
    """The visible entries one DataFilter matches, in spreadsheet order."""
    data_filter = data_filter if isinstance(data_filter, dict) else {}
    kind = _oneof(data_filter, ("developerMetadataLookup", "a1Range", "gridRange"), "filter")
    if kind is None:
        raise ApiError(400, f"{prefix}A data filter must set developerMetadataLookup, a1Range "
                            "or gridRange.")
    entries = [e for e in ss.developer_metadata if visible(e, project)]
    if kind != "developerMetadataLookup":
        region = _region(ss, data_filter, kind, prefix)
        return [e for e in entries if _in_region(key_of(e["location"]), region)]
    lookup = data_filter[kind] if isinstance(data_filter[kind], dict) else {}
    where, strategy = _check_lookup(ss, lookup, prefix)
    return [e for e in entries if _lookup_matches(e, lookup, where, strategy)]


# --------------------------------------------------------------------------- requests


def _new_id(ss: Spreadsheet) -> int:
    used = {e["metadataId"] for e in ss.developer_metadata}
    while True:
        ss.metadata_seq += 1
        candidate = random.Random(f"{ss.id}/{ss.metadata_seq}").randint(1, 2**31 - 1)
        if candidate not in used:
            return candidate


def _fill(ss: Spreadsheet, entry: dict[str, Any], given: dict[str, Any], prefix: str,
          project: str) -> None:
    """Check and store key, value, visibility and location from ``given`` into ``entry``."""
    if _unset(given.get("metadataKey")):
        raise ApiError(400, f"{prefix}Developer metadata must always have a key specified.")
    visibility = given.get("visibility")
    if _unset(visibility):
        raise ApiError(400, f"{prefix}Developer metadata must always have a visibility "
                            "specified.")
    if visibility not in VISIBILITIES:
        raise ApiError(400, f"{prefix}Invalid visibility: {visibility}")
    entry["location"] = parse_location(ss, given.get("location"), prefix)
    entry["metadataKey"] = str(given["metadataKey"])
    entry["metadataValue"] = str(given.get("metadataValue") or "")
    if visibility == "PROJECT" and entry.get("visibility") != "PROJECT":
        entry["project"] = project
    elif visibility == "DOCUMENT":
        entry.pop("project", None)
    entry["visibility"] = visibility


def do_create(ss: Spreadsheet, req: dict[str, Any], prefix: str, caller: str = "",
              **_: Any) -> dict:
    raw_given = req.get("developerMetadata")
    given: dict[str, Any] = raw_given if isinstance(raw_given, dict) else {}
    entry: dict[str, Any] = {}
    _fill(ss, entry, given, prefix, project_of(caller))
    metadata_id: Any = given.get("metadataId")
    if _unset(metadata_id):
        metadata_id = _new_id(ss)
    metadata_id = int(metadata_id)
    if metadata_id <= 0:
        raise ApiError(400, f"{prefix}metadataId must be positive.")
    if any(e["metadataId"] == metadata_id for e in ss.developer_metadata):
        raise ApiError(400, f"{prefix}Developer metadata with id {metadata_id} already exists.")
    entry = {"metadataId": metadata_id, **entry}
    ss.developer_metadata.append(entry)
    return {"createDeveloperMetadata": {"developerMetadata": public(entry)}}


def _select_all(ss: Spreadsheet, filters: list[Any], project: str,
                prefix: str) -> list[dict[str, Any]]:
    hit = {id(e) for f in filters for e in select(ss, f, project, prefix)}
    return [e for e in ss.developer_metadata if id(e) in hit]


def do_update(ss: Spreadsheet, req: dict[str, Any], prefix: str, caller: str = "",
              **_: Any) -> dict:
    filters = req.get("dataFilters")
    if not isinstance(filters, list) or not filters:
        raise ApiError(400, f"{prefix}At least one data filter must be specified.")
    if not req.get("fields"):
        raise ApiError(400, f"{prefix}At least one field must be specified.")
    tree = fieldmask.parse(req["fields"])
    raw_given = req.get("developerMetadata")
    given: dict[str, Any] = raw_given if isinstance(raw_given, dict) else {}
    project = project_of(caller)
    updated = []
    for entry in _select_all(ss, filters, project, prefix):
        current = public(entry)
        fieldmask.merge(current, given, tree)
        new_id: Any = current.get("metadataId")
        if not _unset(new_id) and int(new_id) != entry["metadataId"]:
            raise ApiError(400, f"{prefix}metadataId cannot be updated.")
        _fill(ss, entry, current, prefix, project)
        updated.append(public(entry))
    return {"updateDeveloperMetadata": {"developerMetadata": updated} if updated else {}}


def do_delete(ss: Spreadsheet, req: dict[str, Any], prefix: str, caller: str = "",
              **_: Any) -> dict:
    if not isinstance(req.get("dataFilter"), dict):
        raise ApiError(400, f"{prefix}A data filter must be specified.")
    gone = _select_all(ss, [req["dataFilter"]], project_of(caller), prefix)
    ss.developer_metadata = [e for e in ss.developer_metadata if not any(e is g for g in gone)]
    return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": [public(e) for e in gone]}
            if gone else {}}


HANDLERS = {
    "createDeveloperMetadata": do_create,
    "updateDeveloperMetadata": do_update,
    "deleteDeveloperMetadata": do_delete,
}


# --------------------------------------------------------------------------- structure hooks


def remap(ss: Spreadsheet, sheet_id: int, dim: str, index: Callable[[int], int | None]) -> None:
    """Move row (dim ROWS) or column metadata of a sheet: ``index`` maps an old index to the
    new one, or to None when the row/column was deleted (its metadata goes with it)."""
    kept = []
    for entry in ss.developer_metadata:
        rng = entry["location"].get("dimensionRange")
        if rng is not None and rng["sheetId"] == sheet_id and rng["dimension"] == dim:
            new = index(rng["startIndex"])
            if new is None:
                continue
            rng["startIndex"], rng["endIndex"] = new, new + 1
        kept.append(entry)
    ss.developer_metadata = kept


def drop_sheet(ss: Spreadsheet, sheet_id: int) -> None:
    """A deleted sheet takes its sheet, row and column metadata with it."""
    ss.developer_metadata = [e for e in ss.developer_metadata
                             if len(key := key_of(e["location"])) == 1 or key[1] != sheet_id]


def trim(ss: Spreadsheet, sheet: Sheet) -> None:
    """Rows/columns cut off by a smaller grid take their metadata with them."""
    remap(ss, sheet.sheet_id, "ROWS", lambda i: i if i < sheet.rows else None)
    remap(ss, sheet.sheet_id, "COLUMNS", lambda i: i if i < sheet.cols else None)


# --------------------------------------------------------------------------- endpoints


def get(ctx: Ctx, spreadsheet_id: str, metadata_id: str) -> Response:
    from cchc_sync.testing.fake_google.sheets import open_file

    file = open_file(ctx, spreadsheet_id)
    assert file.spreadsheet is not None
    try:
        wanted = int(metadata_id)
    except ValueError:
        raise invalid_value("metadata_id", metadata_id, "TYPE_INT32") from None
    project = project_of(ctx.caller)
    entry = next((e for e in file.spreadsheet.developer_metadata
                  if e["metadataId"] == wanted and visible(e, project)), None)
    if entry is None:
        raise ApiError(404, f"No developer metadata with ID {wanted}.")
    return ok(fieldmask.apply(public(entry), _fields(ctx)))


def search(ctx: Ctx, spreadsheet_id: str) -> Response:
    from cchc_sync.testing.fake_google.sheets import open_file

    file = open_file(ctx, spreadsheet_id)
    ss = file.spreadsheet
    assert ss is not None
    filters = ctx.json().get("dataFilters") or []
    if not isinstance(filters, list):
        raise invalid_value("data_filters", filters, "type.googleapis.com/google.protobuf."
                                                     "ListValue")
    tree = _fields(ctx)
    project = project_of(ctx.caller)
    hits: dict[int, list[Any]] = {}
    for i, data_filter in enumerate(filters):
        prefix = f"Invalid dataFilters[{i}]: "
        try:
            found = select(ss, data_filter, project, prefix)
        except (TypeError, ValueError, KeyError) as err:
            raise ApiError(400, f"{prefix}{err}") from None
        for entry in found:
            hits.setdefault(id(entry), []).append(copy.deepcopy(data_filter))
    matched = [{"developerMetadata": public(e), "dataFilters": hits[id(e)]}
               for e in ss.developer_metadata if id(e) in hits]
    return ok(fieldmask.apply({"matchedDeveloperMetadata": matched} if matched else {}, tree))


def _fields(ctx: Ctx) -> fieldmask.Tree:
    try:
        return fieldmask.parse(ctx.arg("fields"))
    except fieldmask.MaskError as err:
        raise ApiError(400, str(err)) from None
