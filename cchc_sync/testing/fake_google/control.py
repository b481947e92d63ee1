"""Test-side operations on the fake's state (not Google APIs, never counted in stats):
seeding files owned by other people, a person typing into cells, unsharing/deleting, and a
full dump of a spreadsheet for assertions.

``edit_cells`` simulates a PERSON: values are parsed as USER_ENTERED (in the spreadsheet's
locale and each cell's number format, as `sheets.set_cell` does), the edit bumps the
file's modifiedTime/version with that person as ``lastModifyingUser``, protected ranges the
person may not edit and strict data validation rules refuse the edit (``PermissionError`` /
``ValueError``), like the Sheets UI does.
"""

from __future__ import annotations

import copy
from typing import Any

from cchc_sync.testing.fake_google import a1, cellvalues, metadata, render
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import (
    FOLDER_MIME,
    SHEETS_MIME,
    Cell,
    DriveFile,
    Spreadsheet,
    Store,
    json_copy,
    rfc3339,
)
from cchc_sync.testing.fake_google.sheets import can_edit_cell, resolve, set_cell


def get_file(store: Store, file_id: str) -> DriveFile:
    file = store.files.get(file_id)
    if file is None:
        raise KeyError(f"no such file: {file_id}")
    return file


def create(store: Store, name: str, owner: str, mime_type: str = SHEETS_MIME,
           share_with: list[str] | None = None, role: str = "writer",
           parents: list[str] | None = None, tabs: list[dict[str, Any]] | None = None,
           app_created: bool = False) -> str:
    with store.lock:
        file = store.create_file(name, mime_type, owner, parents, app_created=app_created)
        for email in share_with or []:
            file.permissions.append(store.make_permission("user", role, email))
        if tabs and file.spreadsheet is not None:
            file.spreadsheet = store.new_spreadsheet_model(
                file.id, name, [{"properties": {
                    "title": t.get("title"),
                    "gridProperties": {"rowCount": t.get("rows", 1000),
                                       "columnCount": t.get("cols", 26)}}} for t in tabs])
        return file.id


def share(store: Store, file_id: str, email: str, role: str = "writer") -> None:
    with store.lock:
        file = get_file(store, file_id)
        file.unshared = False
        perm = store.make_permission("user", role, email)
        file.permissions = [p for p in file.permissions if p["id"] != perm["id"]] + [perm]
        file.version += 1


def unshare(store: Store, file_id: str) -> None:
    """The owner takes the file away from the service account(s): 403 on Sheets, 404 on Drive."""
    with store.lock:
        file = get_file(store, file_id)
        file.unshared = True
        file.permissions = [p for p in file.permissions
                            if p["role"] == "owner" or "gserviceaccount.com" not in
                            p.get("emailAddress", "")]
        file.version += 1


def delete(store: Store, file_id: str) -> None:
    from cchc_sync.testing.fake_google.drive import remove_tree

    with store.lock:
        get_file(store, file_id)
        remove_tree(store, file_id)


def _check_validation(rule: dict[str, Any] | None, raw: Any, locale: str | None = None,
                      number_format: dict[str, Any] | None = None) -> None:
    if not rule or not rule.get("strict"):
        return
    cond = rule.get("condition") or {}
    kind = cond.get("type")
    options = [v.get("userEnteredValue") for v in cond.get("values") or []]
    uev, _ = cellvalues.parse_user_entered(raw, locale=locale, number_format=number_format)
    if uev is None:
        return
    value = next(iter(uev.values()))
    number = value if isinstance(value, float) else None
    bounds: list[Any] = []
    for text in options:
        parsed, _ = cellvalues.parse_user_entered(text, locale=locale)
        bounds.append(parsed.get("numberValue") if parsed else None)
    checks = {
        "ONE_OF_LIST": lambda: str(raw) in options,
        "BOOLEAN": lambda: isinstance(value, bool),
        "NUMBER_BETWEEN": lambda: number is not None and bounds[0] <= number <= bounds[1],
        "NUMBER_NOT_BETWEEN": lambda: number is not None and not bounds[0] <= number <= bounds[1],
        "NUMBER_GREATER": lambda: number is not None and number > bounds[0],
        "NUMBER_GREATER_THAN_EQ": lambda: number is not None and number >= bounds[0],
        "NUMBER_LESS": lambda: number is not None and number < bounds[0],
        "NUMBER_LESS_THAN_EQ": lambda: number is not None and number <= bounds[0],
        "NUMBER_EQ": lambda: number is not None and number == bounds[0],
        "TEXT_CONTAINS": lambda: str(options[0]) in str(raw),
        "DATE_IS_VALID": lambda: number is not None,
    }
    check = checks.get(kind or "")
    try:
        valid = True if check is None else bool(check())
    except (IndexError, TypeError):
        valid = True
    if not valid:
        raise ValueError(f"Invalid: input {raw!r} violates the data validation rule "
                         f"{kind} on this cell")


def edit_cells(store: Store, file_id: str, tab: str, a1_range: str,
               values: list[list[Any]] | Any, user: str) -> None:
    if not isinstance(values, list):
        values = [[values]]
    elif values and not isinstance(values[0], list):
        values = [values]
    with store.lock:
        file = get_file(store, file_id)
        if file.spreadsheet is None:
            raise KeyError(f"not a spreadsheet: {file_id}")
        ss = file.spreadsheet.clone()
        text = f"{a1.quote_title(tab)}!{a1_range}" if tab else a1_range
        try:
            sheet, ref = resolve(ss, text)
        except ApiError as err:
            raise KeyError(err.message) from None
        for i, row in enumerate(values):
            for j, raw in enumerate(row):
                r, c = ref.r0 + i, ref.c0 + j
                if r >= sheet.rows or c >= sheet.cols:
                    raise IndexError(f"{a1.col_letters(c)}{r + 1} is outside the grid of "
                                     f"{sheet.title!r} ({sheet.rows}x{sheet.cols})")
                if raw is None:
                    continue
                if not can_edit_cell(ss, sheet, r, c, user, file.owner):
                    raise PermissionError(f"{user} may not edit protected cell "
                                          f"{a1.col_letters(c)}{r + 1} of {sheet.title!r}")
                cell = sheet.cells.get((r, c))
                locale = ss.props.get("locale")
                _check_validation(cell.dv if cell else None, raw, locale,
                                  cell.number_format() if cell else None)
                set_cell(sheet, r, c, raw, "USER_ENTERED", locale)
        ss.recalc()
        file.spreadsheet = ss
        store.bump(file, user)


def _rect_a1(title: str, rng: dict[str, Any], rows: int, cols: int) -> str:
    return a1.format_range(title, rng.get("startRowIndex", 0), rng.get("startColumnIndex", 0),
                           rng.get("endRowIndex", rows), rng.get("endColumnIndex", cols))


def _dumped(ss: Spreadsheet, cell: Cell, copies: dict[int, tuple[Any, Any]]) -> dict[str, Any]:
    """A cell's entry in a dump, a copy of its own (the caller may change what it gets):
    each distinct stored dict is copied once per dump (`copies`: id -> (the stored dict,
    kept alive so that its id stays its own; its copy)), so that cells sharing a format
    share its copy within the dump, never the fake's own."""
    entry = render.cell_data(ss, cell, effective=False)
    for key, value in entry.items():
        if isinstance(value, dict):
            found = copies.get(id(value))
            if found is None:
                found = copies[id(value)] = (value, json_copy(value))
            entry[key] = found[1]
    return entry


def dump(store: Store, file_id: str) -> dict[str, Any]:
    """Everything about one spreadsheet, for assertions."""
    with store.lock:
        file = get_file(store, file_id)
        out: dict[str, Any] = {
            "id": file.id, "name": file.name, "mimeType": file.mime_type,
            "owner": file.owner, "unshared": file.unshared, "trashed": file.trashed,
            "parents": list(file.parents), "createdTime": rfc3339(file.created_ms),
            "modifiedTime": rfc3339(file.modified_ms), "version": str(file.version),
            "lastModifyingUser": file.last_modifier,
            "permissions": copy.deepcopy(file.permissions),
        }
        ss = file.spreadsheet
        if ss is None or file.mime_type == FOLDER_MIME:
            return out
        out["title"] = ss.props.get("title")
        out["locale"] = ss.props.get("locale")
        out["timeZone"] = ss.props.get("timeZone")
        out["namedRanges"] = [
            {"namedRangeId": n["namedRangeId"], "name": n["name"],
             "range": _rect_a1((ss.sheet_by_id(n["range"].get("sheetId", 0)) or ss.sheets[0])
                               .title, n["range"], 0, 0)} for n in ss.named_ranges]
        sheets = []
        copies: dict[int, tuple[Any, Any]] = {}
        for sheet in ss.sheets:
            grid = sheet.props["gridProperties"]
            cells = {f"{a1.col_letters(c)}{r + 1}": _dumped(ss, cell, copies)
                     for (r, c), cell in sorted(sheet.cells.items())}
            sheets.append({
                "sheetId": sheet.sheet_id, "title": sheet.title, "index": sheet.props["index"],
                "rowCount": sheet.rows, "columnCount": sheet.cols,
                "frozenRowCount": grid.get("frozenRowCount", 0),
                "frozenColumnCount": grid.get("frozenColumnCount", 0),
                "hidden": bool(sheet.props.get("hidden")),
                "tabColorStyle": sheet.props.get("tabColorStyle"),
                "values": sheet.value_rows(0, 0, sheet.rows, sheet.cols),
                "cells": cells,
                "merges": [_rect_a1(sheet.title, m, sheet.rows, sheet.cols)
                           for m in sheet.merges],
                "protectedRanges": [
                    {"protectedRangeId": p["protectedRangeId"],
                     "range": _rect_a1(sheet.title, p.get("range") or {}, sheet.rows,
                                       sheet.cols),
                     "description": p.get("description"),
                     "warningOnly": bool(p.get("warningOnly")),
                     "editors": copy.deepcopy(p.get("editors") or {})}
                    for p in sheet.protected],
                "dataValidation": {k: v["dataValidation"] for k, v in cells.items()
                                   if "dataValidation" in v},
                "basicFilter": copy.deepcopy(sheet.basic_filter),
                "rowMetadata": {str(k): v for k, v in sorted(sheet.row_meta.items())},
                "columnMetadata": {str(k): v for k, v in sorted(sheet.col_meta.items())},
            })
        out["sheets"] = sheets
        out["developerMetadata"] = [metadata.public(e) for e in ss.developer_metadata]
        return out
