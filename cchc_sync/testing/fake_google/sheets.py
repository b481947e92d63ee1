"""Sheets v4: ``spreadsheets.get``, ``spreadsheets.create``, ``sheets.copyTo`` and the helpers
every Sheets endpoint shares (access checks, range resolution, atomic edits, cell writes).

Faithful: an unknown id answers 404 NOT_FOUND "Requested entity was not found."; a
spreadsheet the caller cannot see (never shared, or unshared by the control endpoint)
answers 403 PERMISSION_DENIED "The caller does not have permission"; a reader writing gets
the same 403; a range naming no existing sheet answers 400 "Unable to parse range: ...";
reading past the grid answers 400 "Range (...) exceeds grid limits. Max rows: R, max
columns: C"; every edit is all-or-nothing and bumps the Drive file's modifiedTime/version;
writing into a protected range the caller may not edit answers 400 "You are trying to edit a
protected cell or object...".
``includeGridData``/``ranges``/``fields`` on spreadsheets.get: grid data is returned when
includeGridData=true or when the field mask asks for ``sheets.data``; ``ranges`` limits the
sheets returned (one GridData per range, in request order).
Simplified: scopes are checked coarsely (spreadsheets/drive give everything; *.readonly give
reads; drive.file alone gives the files the app created).
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import Any

from cchc_sync.testing.fake_google import a1, cellvalues, fieldmask, render
from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.errors import NO_PERMISSION, NOT_FOUND, ApiError, invalid_value
from cchc_sync.testing.fake_google.model import SHEETS_MIME, DriveFile, Sheet, Spreadsheet

SHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
SHEETS_RO = "https://www.googleapis.com/auth/spreadsheets.readonly"
DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"
DRIVE_RO = "https://www.googleapis.com/auth/drive.readonly"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"

INSUFFICIENT_SCOPES = "Request had insufficient authentication scopes."
PROTECTED = (
    "You are trying to edit a protected cell or object. Please contact the spreadsheet owner "
    "to remove protection if you need to edit."
)


def scope_error() -> ApiError:
    return ApiError(403, INSUFFICIENT_SCOPES, details=[{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        "domain": "googleapis.com",
        "metadata": {"service": "sheets.googleapis.com"},
    }])


def open_file(ctx: Ctx, spreadsheet_id: str, write: bool = False) -> DriveFile:
    file = ctx.store.files.get(spreadsheet_id)
    if file is None or file.spreadsheet is None:
        raise ApiError(404, NOT_FOUND)
    scopes = ctx.scopes
    if not scopes & {SHEETS_SCOPE, DRIVE_SCOPE}:
        if write and not (DRIVE_FILE in scopes and file.app_created):
            raise scope_error()
        if not write and not scopes & {SHEETS_RO, DRIVE_RO, DRIVE_FILE}:
            raise scope_error()
        if scopes <= {DRIVE_FILE} and not file.app_created:
            raise ApiError(403, NO_PERMISSION)
    role = ctx.store.role_of(file, ctx.caller)
    if role is None:
        raise ApiError(403, NO_PERMISSION)
    if write and role in ("reader", "commenter"):
        raise ApiError(403, NO_PERMISSION)
    return file


def resolve(ss: Spreadsheet, text: str) -> tuple[Sheet, a1.Ref]:
    """A1 text -> (sheet, rectangle). Raises 400 "Unable to parse range"."""
    try:
        title, ref = a1.split_sheet(text)
    except a1.A1Error:
        raise ApiError(400, f"Unable to parse range: {text}") from None
    if title is None:
        sheet = ss.sheet_by_title(text.strip())
        if sheet is not None:
            return sheet, a1.Ref(0, 0, None, None)
        named = next((n for n in ss.named_ranges if n["name"] == text.strip()), None)
        if named is not None:
            sheet = ss.sheet_by_id(named["range"].get("sheetId", 0))
            if sheet is not None:
                rng = named["range"]
                return sheet, a1.Ref(rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0),
                                     rng.get("endRowIndex"), rng.get("endColumnIndex"))
        if ss.sheets and ref and a1.is_a1_ref(ref):
            return ss.sheets[0], a1.parse_ref(ref)
        raise ApiError(400, f"Unable to parse range: {text}")
    sheet = ss.sheet_by_title(title)
    if sheet is None:
        raise ApiError(400, f"Unable to parse range: {text}")
    if ref is None:
        return sheet, a1.Ref(0, 0, None, None)
    try:
        return sheet, a1.parse_ref(ref)
    except a1.A1Error:
        named = next((n for n in ss.named_ranges if n["name"] == ref.strip()), None)
        if named is None:
            raise ApiError(400, f"Unable to parse range: {text}") from None
        return resolve(ss, named["name"])


def grid_error(sheet: Sheet, rect: tuple[int, int, int, int], prefix: str = "") -> ApiError:
    return ApiError(400, f"{prefix}Range ({a1.format_range(sheet.title, *rect)}) exceeds grid "
                         f"limits. Max rows: {sheet.rows}, max columns: {sheet.cols}")


def clamp(sheet: Sheet, ref: a1.Ref, prefix: str = "") -> tuple[int, int, int, int]:
    rect = ref.clamp(sheet.rows, sheet.cols)
    r0, c0, r1, c1 = rect
    if r1 > sheet.rows or c1 > sheet.cols or r0 >= max(sheet.rows, 1) or c0 >= max(sheet.cols, 1):
        raise grid_error(sheet, rect, prefix)
    return rect


def can_edit_cell(ss: Spreadsheet, sheet: Sheet, r: int, c: int, who: str, owner: str) -> bool:
    if who == owner:
        return True
    for pr in sheet.protected:
        if pr.get("warningOnly"):
            continue
        rng = pr.get("range") or {}
        inside = (rng.get("startRowIndex", 0) <= r < rng.get("endRowIndex", sheet.rows)
                  and rng.get("startColumnIndex", 0) <= c < rng.get("endColumnIndex", sheet.cols))
        if inside and who not in ((pr.get("editors") or {}).get("users") or []):
            return False
    return True


def check_protection(ss: Spreadsheet, sheet: Sheet, cells: list[tuple[int, int]], who: str,
                     owner: str) -> None:
    if not sheet.protected or who == owner:
        return
    for r, c in cells:
        if not can_edit_cell(ss, sheet, r, c, who, owner):
            raise ApiError(400, PROTECTED)


def set_cell(sheet: Sheet, r: int, c: int, raw: Any, input_option: str,
             locale: str | None = None) -> bool:
    """Write one value as typed (USER_ENTERED, read in the spreadsheet's `locale` and the
    cell's number format) or RAW. ``None`` leaves the cell alone."""
    if raw is None:
        return False
    if isinstance(raw, dict | list):
        raise ApiError(400, f"Invalid values[{r}][{c}]: {type(raw).__name__}")
    cell = sheet.cell(r, c)
    if input_option == "RAW":
        uev, number_format = cellvalues.parse_raw(raw), None
    else:
        uev, number_format = cellvalues.parse_user_entered(
            raw, locale=locale, number_format=cell.number_format())
    cell.uev = uev
    # a plain value is its own effective value: one dict (stored dicts never change)
    cell.ev = None if uev is None or "formulaValue" in uev else uev
    if number_format and _takes_format(cell.number_format(), number_format):
        cell.fmt = {**(cell.fmt or {}), "numberFormat": number_format}
    sheet.drop_if_empty(r, c)
    return True


def _takes_format(current: dict[str, Any] | None, typed: dict[str, Any]) -> bool:
    """Whether what was typed sets the cell's number format: always in an unformatted
    cell; over a number format only when a date or time was typed into a cell not already
    showing one ("15/6" typed into a `#,##0` count cell is shown as a date)."""
    if not current:
        return True
    kinds = cellvalues.DATE_TYPES
    return typed.get("type") in kinds and current.get("type") not in kinds


class Edit:
    """Run a change on a copy of the spreadsheet; keep it only if nothing failed."""

    def __init__(self, ctx: Ctx, file: DriveFile, who: str | None = None,
                 only: set[int] | None = None):
        """only: the sheet ids the change can touch (None: any); the others are not copied."""
        self.ctx = ctx
        self.file = file
        self.who = who or ctx.caller
        assert file.spreadsheet is not None
        self.ss: Spreadsheet = file.spreadsheet.clone() if only is None \
            else file.spreadsheet.clone(only)

    def __enter__(self) -> Spreadsheet:
        return self.ss

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.ss.recalc()
            self.file.spreadsheet = self.ss
            self.file.name = self.ss.props.get("title", self.file.name)
            self.ctx.store.bump(self.file, self.who)


# --------------------------------------------------------------------------- endpoints


def get(ctx: Ctx, spreadsheet_id: str) -> Response:
    file = open_file(ctx, spreadsheet_id)
    ss = file.spreadsheet
    assert ss is not None
    tree = parse_fields(ctx)
    wants_data = ctx.flag("includeGridData")
    if ctx.arg("fields") is not None:
        wants_data = mask_has_data(tree)
    body = view(ss, ctx.caller, file.owner, ctx.args("ranges"), wants_data)
    return ok(fieldmask.apply(body, tree))


def parse_fields(ctx: Ctx) -> fieldmask.Tree:
    """The ``fields`` query parameter as a mask tree (400 when it does not parse)."""
    try:
        return fieldmask.parse(ctx.arg("fields"))
    except fieldmask.MaskError as err:
        raise ApiError(400, str(err)) from None


def view(ss: Spreadsheet, caller: str, owner: str, ranges: list[str],
         wants_data: bool) -> dict[str, Any]:
    """A Spreadsheet resource: only the sheets ``ranges`` name (all when none), with the
    grid data of those ranges (or of whole sheets) when ``wants_data``."""
    data: dict[int, list[tuple[int, int, int, int]]] | None = None
    only: set[int] | None = None
    if ranges:
        only = set()
        data = {}
        for text in ranges:
            sheet, ref = resolve(ss, text)
            only.add(sheet.sheet_id)
            data.setdefault(sheet.sheet_id, []).append(clamp(sheet, ref))
    elif wants_data:
        data = {s.sheet_id: [(0, 0, s.rows, s.cols)] for s in ss.sheets}
    if not wants_data:
        data = None
    return render.spreadsheet_json(ss, caller, owner, data, only)


def mask_has_data(tree: fieldmask.Tree) -> bool:
    """Does a Spreadsheet field mask ask for ``sheets.data``?"""
    if tree is None:
        return True
    sheets = tree.get("sheets", False)
    return sheets is None or (isinstance(sheets, dict) and "data" in sheets)


def create(ctx: Ctx) -> Response:
    if not ctx.scopes & {SHEETS_SCOPE, DRIVE_SCOPE, DRIVE_FILE}:
        raise scope_error()
    body = ctx.json()
    props = body.get("properties") or {}
    title = props.get("title") or "Untitled spreadsheet"
    store = ctx.store
    with store.lock:
        file = store.create_file(title, SHEETS_MIME, ctx.caller)
        file.spreadsheet = store.new_spreadsheet_model(file.id, title, body.get("sheets"))
        for key in ("locale", "timeZone", "autoRecalc"):
            if props.get(key):
                file.spreadsheet.props[key] = props[key]
        titles = [s.title for s in file.spreadsheet.sheets]
        if len(set(titles)) != len(titles):
            del store.files[file.id]
            raise ApiError(400, "Invalid spreadsheet: duplicate sheet titles.")
        out = render.spreadsheet_json(file.spreadsheet, ctx.caller, file.owner)
    return ok(out)


def copy_to(ctx: Ctx, spreadsheet_id: str, sheet_id: str) -> Response:
    body = ctx.json()
    source = open_file(ctx, spreadsheet_id)
    dest_id = body.get("destinationSpreadsheetId") or ""
    dest = open_file(ctx, dest_id, write=True)
    assert source.spreadsheet is not None
    try:
        sheet = source.spreadsheet.sheet_by_id(int(sheet_id))
    except ValueError:
        sheet = None
    if sheet is None:
        raise ApiError(404, NOT_FOUND)
    with Edit(ctx, dest) as ss:
        new = copy.deepcopy(sheet)
        new.protected = []
        new.props["sheetId"] = ctx.store.new_int_id()
        base = f"Copy of {sheet.title}"
        title, n = base, 2
        while ss.sheet_by_title(title):
            title, n = f"{base} {n}", n + 1
        new.props["title"] = title
        new.props["index"] = len(ss.sheets)
        ss.sheets.append(new)
        reply = copy.deepcopy(new.props)
    return ok(reply)


def check_values(values: Any, field: str) -> None:
    """``values`` must be a list of lists (Google checks this before the range)."""
    if not isinstance(values, list):
        raise invalid_value(field, values, "type.googleapis.com/google.protobuf.ListValue")
    for i, row in enumerate(values):
        if not isinstance(row, list):
            raise invalid_value(f"{field}[{i}]", row,
                                "type.googleapis.com/google.protobuf.ListValue")


def write_rows(ss: Spreadsheet, sheet: Sheet, ref: a1.Ref, values: Any, major: str | None,
               input_option: str, who: str, owner: str, field: str = "data.values",
               range_text: str = "") -> tuple[tuple[int, int, int, int], int]:
    """Write a values array at a range; returns (written rectangle, cells written)."""
    check_values(values, field)
    rows = values
    if major == "COLUMNS":
        width = max((len(col) for col in values), default=0)
        rows = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
    height = len(rows)
    width = max((len(row) for row in rows), default=0)
    r0, c0 = ref.r0, ref.c0
    if ref.r1 == r0 + 1 and ref.c1 == c0 + 1:  # a single cell anchors the values
        ref = a1.Ref(r0, c0, None, None)
    if ref.r1 is not None and r0 + height > ref.r1 and height:
        raise ApiError(400, f"Requested writing within range [{range_text}], but tried writing "
                            f"to row [{ref.r1 + 1}]")
    if ref.c1 is not None and c0 + width > ref.c1 and width:
        raise ApiError(400, f"Requested writing within range [{range_text}], but tried writing "
                            f"to column [{a1.col_letters(ref.c1)}]")
    rect = (r0, c0, r0 + max(height, 1), c0 + max(width, 1))
    if rect[2] > sheet.rows or rect[3] > sheet.cols:
        raise grid_error(sheet, rect)
    targets = [(r0 + i, c0 + j) for i, row in enumerate(rows) for j, v in enumerate(row)
               if v is not None]
    check_protection(ss, sheet, targets, who, owner)
    count = 0
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            if set_cell(sheet, r0 + i, c0 + j, value, input_option, ss.props.get("locale")):
                count += 1
    return rect, count
