"""Sheets v4 ``spreadsheets.values.*``: get, batchGet, update, batchUpdate, clear, batchClear,
append.

Faithful (checked against the recordings): ranges are echoed normalised and clamped to the
grid (``'Sheet1'`` -> ``Sheet1!A1:Z1000``), an empty range has no ``values`` key, trailing
empty rows/cells are trimmed (inner gaps are ``""``), ``majorDimension`` is always echoed,
``updatedRange`` covers what was written (``A1:B2`` with one row written -> ``A1:B1``),
``updatedCells`` counts every non-null value including ``""``, values:batchUpdate totals count
distinct rows/columns per sheet, ``valueInputOption`` is required for writes, ``values`` that
is not a list of lists answers the recorded 400 "Invalid value at 'data.values'
(type.googleapis.com/google.protobuf.ListValue), ...", writing more rows/columns than the
range holds answers 400 "Requested writing within range [...]". Append finds the "table" the
way Sheets appears to: the block of non-empty cells connected to the last non-empty cell of
the range; values go below it starting at its first column; ``tableRange`` is given only when a
table was found; OVERWRITE grows the sheet by rows as needed, INSERT_ROWS inserts rows.
Dates, times and durations render in the spreadsheet's locale (``cellvalues.render``): with
``dateTimeRenderOption=FORMATTED_STRING`` (and UNFORMATTED_VALUE or FORMULA) they are the
strings their number format shows, every other number stays a number.
Simplified: ``responseValueRenderOption`` is honoured, but ``includeValuesInResponse`` data
is rendered from the stored model without recomputing number formats of formula results.
"""

from __future__ import annotations

from typing import Any

from cchc_sync.testing.fake_google import a1, render
from cchc_sync.testing.fake_google.batch_dims import insert_dimension
from cchc_sync.testing.fake_google.ctx import Ctx, Response, ok
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import Sheet, Spreadsheet
from cchc_sync.testing.fake_google.sheets import (
    Edit,
    check_values,
    clamp,
    open_file,
    resolve,
    write_rows,
)

Rect = tuple[int, int, int, int]
"""Rows and columns, 0-based, end exclusive (sheets.clamp)."""

RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")
INPUT_OPTIONS = ("RAW", "USER_ENTERED")


def _render_args(ctx: Ctx, prefix: str = "") -> tuple[str, str, str]:
    names = (("responseValueRenderOption", "responseDateTimeRenderOption") if prefix
             else ("valueRenderOption", "dateTimeRenderOption"))
    vr, dr = ctx.arg(names[0]), ctx.arg(names[1])
    major = ctx.arg("majorDimension") or "ROWS"
    vr = vr or "FORMATTED_VALUE"
    dr = dr or "SERIAL_NUMBER"
    if vr not in RENDER_OPTIONS:
        raise ApiError(400, f"Invalid value at 'value_render_option' "
                            f"(type.googleapis.com/google.apps.sheets.v4.ValueRenderOption), "
                            f"\"{vr}\"")
    if dr not in DATE_OPTIONS:
        raise ApiError(400, f"Invalid value at 'date_time_render_option' "
                            f"(type.googleapis.com/google.apps.sheets.v4.DateTimeRenderOption), "
                            f"\"{dr}\"")
    if major == "DIMENSION_UNSPECIFIED":
        major = "ROWS"
    if major not in ("ROWS", "COLUMNS"):
        raise ApiError(400, f"Invalid value at 'major_dimension' "
                            f"(type.googleapis.com/google.apps.sheets.v4.Dimension), \"{major}\"")
    return vr, dr, major


def _value_range(sheet: Sheet, rect: Rect, vr: str, dr: str, major: str,
                 locale: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"range": a1.format_range(sheet.title, *rect), "majorDimension": major}
    rows = render.value_rows_render(sheet, rect, vr, dr, major, locale)
    if rows:
        out["values"] = rows
    return out


def get(ctx: Ctx, spreadsheet_id: str, range_text: str) -> Response:
    file = open_file(ctx, spreadsheet_id)
    spreadsheet = file.spreadsheet
    assert spreadsheet is not None  # open_file answers 404 for a file that is not a sheet
    vr, dr, major = _render_args(ctx)
    sheet, ref = resolve(spreadsheet, range_text)
    return ok(_value_range(sheet, clamp(sheet, ref), vr, dr, major, _locale(spreadsheet)))


def batch_get(ctx: Ctx, spreadsheet_id: str) -> Response:
    file = open_file(ctx, spreadsheet_id)
    spreadsheet = file.spreadsheet
    assert spreadsheet is not None  # open_file answers 404 for a file that is not a sheet
    vr, dr, major = _render_args(ctx)
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    ranges = ctx.args("ranges")
    if ranges:
        value_ranges = []
        for text in ranges:
            sheet, ref = resolve(spreadsheet, text)
            value_ranges.append(_value_range(sheet, clamp(sheet, ref), vr, dr, major,
                                             _locale(spreadsheet)))
        out["valueRanges"] = value_ranges
    return ok(out)


def _locale(ss: Spreadsheet) -> str | None:
    """The spreadsheet's locale: dates, times and durations render in it."""
    return ss.props.get("locale")


def _input_option(value: Any) -> str:
    if not value:
        raise ApiError(400, "'valueInputOption' is required but not specified")
    if value not in INPUT_OPTIONS:
        raise ApiError(400, f"Invalid value at 'value_input_option' "
                            f"(type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "
                            f"\"{value}\"")
    return value


def _update_response(ctx: Ctx, spreadsheet_id: str, sheet: Sheet, rect: Rect, count: int, rows: int,
                     cols: int, include: bool, vr: str, dr: str,
                     locale: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id,
                           "updatedRange": a1.format_range(sheet.title, *rect)}
    if count or rows:
        out.update(updatedRows=rows, updatedColumns=cols, updatedCells=count)
    if include:
        out["updatedData"] = _value_range(sheet, rect, vr, dr, "ROWS", locale)
    return out


def _written(values: Any, major: str | None) -> tuple[set[int], set[int]]:
    """Row and column offsets holding at least one non-null value (what Google counts)."""
    if not isinstance(values, list):
        return set(), set()
    cells = {(i, j) for i, row in enumerate(values) if isinstance(row, list)
             for j, v in enumerate(row) if v is not None}
    rows, cols = {i for i, _ in cells}, {j for _, j in cells}
    return (cols, rows) if major == "COLUMNS" else (rows, cols)


def _shape(values: Any, major: str | None) -> tuple[int, int]:
    rows, cols = _written(values, major)
    return len(rows), len(cols)


def _extent(values: Any, major: str | None) -> tuple[int, int]:
    if not isinstance(values, list) or not values:
        return 0, 0
    lists = [r for r in values if isinstance(r, list)]
    height, width = len(lists), max((len(r) for r in lists), default=0)
    return (width, height) if major == "COLUMNS" else (height, width)


def update(ctx: Ctx, spreadsheet_id: str, range_text: str) -> Response:
    file = open_file(ctx, spreadsheet_id, write=True)
    option = _input_option(ctx.arg("valueInputOption"))
    body = ctx.json()
    vr, dr, _ = _render_args(ctx, "response")
    major = body.get("majorDimension") or "ROWS"
    check_values(body.get("values", []), "data.values")
    with Edit(ctx, file) as ss:
        sheet, ref = resolve(ss, range_text)
        clamp(sheet, ref)
        rect, count = write_rows(ss, sheet, ref, body.get("values", []), major, option,
                                 ctx.caller, file.owner, "data.values", range_text)
        rows, cols = _shape(body.get("values"), major)
        out = _update_response(ctx, spreadsheet_id, sheet, rect, count, rows, cols,
                               ctx.flag("includeValuesInResponse"), vr, dr, _locale(ss))
    return ok(out)


def batch_update(ctx: Ctx, spreadsheet_id: str) -> Response:
    file = open_file(ctx, spreadsheet_id, write=True)
    body = ctx.json()
    option = _input_option(body.get("valueInputOption"))
    include = bool(body.get("includeValuesInResponse"))
    vr = body.get("responseValueRenderOption") or "FORMATTED_VALUE"
    dr = body.get("responseDateTimeRenderOption") or "SERIAL_NUMBER"
    data = body.get("data") or []
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    if not data:
        return ok(out)
    responses = []
    touched_rows: set[tuple[int, int]] = set()
    touched_cols: set[tuple[int, int]] = set()
    sheets: set[int] = set()
    total = 0
    with Edit(ctx, file) as ss:
        for i, item in enumerate(data):
            check_values(item.get("values", []), f"data[{i}].values")
            text = item.get("range") or ""
            sheet, ref = resolve(ss, text)
            clamp(sheet, ref)
            major = item.get("majorDimension") or "ROWS"
            rect, count = write_rows(ss, sheet, ref, item.get("values", []), major, option,
                                     ctx.caller, file.owner, f"data[{i}].values", text)
            row_set, col_set = _written(item.get("values"), major)
            rows, cols = len(row_set), len(col_set)
            total += count
            sheets.add(sheet.sheet_id)
            touched_rows.update((sheet.sheet_id, rect[0] + r) for r in row_set)
            touched_cols.update((sheet.sheet_id, rect[1] + c) for c in col_set)
            responses.append(_update_response(ctx, spreadsheet_id, sheet, rect, count, rows,
                                              cols, include, vr, dr, _locale(ss)))
    out.update(totalUpdatedRows=len(touched_rows), totalUpdatedColumns=len(touched_cols),
               totalUpdatedCells=total, totalUpdatedSheets=len(sheets), responses=responses)
    return ok(out)


def _clear(ss: Spreadsheet, text: str, who: str, owner: str) -> str:
    from cchc_sync.testing.fake_google.sheets import check_protection

    sheet, ref = resolve(ss, text)
    rect = clamp(sheet, ref)
    r0, c0, r1, c1 = rect
    hits = [(r, c) for (r, c), cell in sheet.cells.items()
            if r0 <= r < r1 and c0 <= c < c1 and cell.uev is not None]
    check_protection(ss, sheet, hits, who, owner)
    for r, c in hits:
        cell = sheet.cell(r, c)
        cell.uev = cell.ev = None
        sheet.drop_if_empty(r, c)
    return a1.format_range(sheet.title, *rect)


def clear(ctx: Ctx, spreadsheet_id: str, range_text: str) -> Response:
    file = open_file(ctx, spreadsheet_id, write=True)
    with Edit(ctx, file) as ss:
        cleared = _clear(ss, range_text, ctx.caller, file.owner)
    return ok({"spreadsheetId": spreadsheet_id, "clearedRange": cleared})


def batch_clear(ctx: Ctx, spreadsheet_id: str) -> Response:
    file = open_file(ctx, spreadsheet_id, write=True)
    body = ctx.json()
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    ranges = body.get("ranges") or []
    if ranges:
        with Edit(ctx, file) as ss:
            out["clearedRanges"] = [_clear(ss, t, ctx.caller, file.owner) for t in ranges]
    return ok(out)


def _find_table(sheet: Sheet, rect: Rect) -> tuple[int, int, int, int] | None:
    r0, c0, r1, c1 = rect
    filled = {(r, c) for (r, c), cell in sheet.cells.items()
              if r0 <= r < r1 and c0 <= c < c1 and cell.uev is not None}
    if not filled:
        return None
    start = max(filled)
    seen, todo = {start}, [start]
    while todo:
        r, c = todo.pop()
        for nxt in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if nxt in filled and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    rows = [r for r, _ in seen]
    cols = [c for _, c in seen]
    return min(rows), min(cols), max(rows) + 1, max(cols) + 1


def append(ctx: Ctx, spreadsheet_id: str, range_text: str) -> Response:
    file = open_file(ctx, spreadsheet_id, write=True)
    option = _input_option(ctx.arg("valueInputOption"))
    insert = (ctx.arg("insertDataOption") or "OVERWRITE") == "INSERT_ROWS"
    body = ctx.json()
    vr, dr, _ = _render_args(ctx, "response")
    major = body.get("majorDimension") or "ROWS"
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    with Edit(ctx, file) as ss:
        sheet, ref = resolve(ss, range_text)
        rect = clamp(sheet, ref)
        table = _find_table(sheet, rect)
        if table is None:
            row, col = rect[0], rect[1]
        else:
            out["tableRange"] = a1.format_range(sheet.title, *table)
            row, col = table[2], table[1]
        check_values(body.get("values", []), "data.values")
        height, _ = _extent(body.get("values"), major)
        rows_written, width = _shape(body.get("values"), major)
        if insert and height:
            insert_dimension(ss, sheet, "ROWS", row, row + height, False)
        elif row + height > sheet.rows:
            sheet.props["gridProperties"]["rowCount"] = row + height
        target = a1.Ref(row, col, None, None)
        written, count = write_rows(ss, sheet, target, body.get("values", []), major, option,
                                    ctx.caller, file.owner, "data.values", range_text)
        include = ctx.flag("includeValuesInResponse")
        out["updates"] = _update_response(ctx, spreadsheet_id, sheet, written, count,
                                          rows_written, width, include, vr, dr, _locale(ss))
    return ok(out)
