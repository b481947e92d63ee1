"""The requests that turn a new, empty spreadsheet into a unit's sheet (one batchUpdate).

The words are the local backend's (sheet_text): the instructions, the header notes, the
"Kiểm tra" placeholder and the "_cchc" metadata, so both backends show a clerk the same
text; only the sentence on how edits reach the software differs (GOOGLE_SAVE_LINE: Sheets
saves by itself). Widths and number formats come from sheet_layout. Formats, validation
and protection are Sheets' own:

- number formats per column (PERCENT 0.00%, DATE dd/mm/yyyy, NUMBER #,##0, TEXT @) on the
  data rows (Sheets has no column styles, so `data_rows` rows get them: 500 by default, as
  far as the local backend's validation reaches);
- data validation, never strict (`strict: false`: our checks decide, an alias such as
  "mức 3" must stay typable): ONE_OF_LIST for choices and Có/Không, NUMBER_GREATER_THAN_EQ
  (or NUMBER_BETWEEN) for counts, DATE_IS_VALID for dates;
- protected ranges, editable by the service account only: every status column, "Kiểm tra"
  and "_cchc";
- fixed sheet ids (see cells.fixed_sheet_ids), so flags and reads need no metadata.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TableSpec, TemplateSet
from cchc_sync.sources import sheet_text
from cchc_sync.sources.base import CHECK_TAB, INSTRUCTIONS_TAB, META_TAB, STATUS_TITLE
from cchc_sync.sources.google.cells import (
    META_RANGE_ROWS,
    add_sheet,
    cell,
    column_width,
    fixed_sheet_ids,
    grid,
    serial,
    spreadsheet_settings,
    unit_tab_titles,
    update_cells,
)
from cchc_sync.sources.sheet_layout import (
    DATA_ROWS,
    EXPLANATION_WIDTH,
    HEADER_FILL,
    INSTRUCTIONS_WIDTH,
    OWNED_FILL,
    OWNED_HEADER_FILL,
    OWNED_TEXT,
    PLACEHOLDER_WIDTH,
    STATUS_WIDTH,
    column_number_kind,
    number_text,
    table_titles,
)
from cchc_sync.sources.sheet_layout import column_width as width_of

DEFAULT_DATA_ROWS = DATA_ROWS
"""Data rows of a multi-row table that get formats and validation (as xlsx_unit does)."""


@dataclass(slots=True)
class UnitSheets:
    """What the unit sheets are made of, shared by the parts that make and flag them: the
    templates (when the backend was not given them, those of the first sheet it makes)
    and how many data rows of a multi-row table get formats and validation."""

    templates: TemplateSet | None = None
    data_rows: int = DEFAULT_DATA_ROWS


MULTI_ROW_GRID = 1000
SINGLE_ROW_GRID = 20
SMALL_GRID = 50


def status_base() -> dict[str, Any]:
    """How an empty status cell looks: grey, italic."""
    return cell(italic=True, colour=OWNED_TEXT, fill=OWNED_FILL)


def unit_sheet_ids(templates: TemplateSet) -> dict[str, int]:
    """Tab title -> fixed sheet id of every tab of a unit's sheet."""
    return fixed_sheet_ids(unit_tab_titles(s.tab for s in templates.tables.values()))


def grid_rows(spec: TableSpec, data_rows: int) -> int:
    """Rows a table tab is made with."""
    return SINGLE_ROW_GRID if spec.single_row else max(MULTI_ROW_GRID, data_rows + 1)


def unit_sheet_requests(
    unit: Unit,
    period: Period,
    templates: TemplateSet,
    *,
    service_account: str | None,
    data_rows: int = DEFAULT_DATA_ROWS,
    created_at: dt.datetime,
    first_sheet_id: int = 0,
) -> list[dict[str, Any]]:
    """Requests that make the unit's sheet out of a new spreadsheet whose only tab has id
    `first_sheet_id` (deleted here)."""
    ids = unit_sheet_ids(templates)
    requests: list[dict[str, Any]] = [spreadsheet_settings()]
    lines = [_instruction_cell(kind, text) for kind, text in sheet_text.instruction_lines(
        unit, period, templates, save_line=sheet_text.GOOGLE_SAVE_LINE)]
    requests.append(add_sheet(ids[INSTRUCTIONS_TAB], INSTRUCTIONS_TAB, 0,
                               rows=max(len(lines) + 5, SMALL_GRID), cols=2))
    for index, spec in enumerate(templates.tables.values(), start=1):
        width = len(spec.columns) + 2
        requests.append(add_sheet(ids[spec.tab], spec.tab, index,
                                   rows=grid_rows(spec, data_rows), cols=width,
                                   frozen=1))
    tables = len(templates.tables)
    requests.append(add_sheet(ids[CHECK_TAB], CHECK_TAB, tables + 1, rows=SMALL_GRID, cols=7))
    requests.append(add_sheet(ids[META_TAB], META_TAB, tables + 2, rows=META_RANGE_ROWS,
                               cols=4, hidden=True))
    requests.append({"deleteSheet": {"sheetId": first_sheet_id}})

    requests.append(update_cells(ids[INSTRUCTIONS_TAB], 0, 0, [[c] for c in lines],
                                 "userEnteredValue,userEnteredFormat"))
    requests.append(column_width(ids[INSTRUCTIONS_TAB], 0, INSTRUCTIONS_WIDTH))
    for spec in templates.tables.values():
        requests += _table_requests(spec, ids[spec.tab], data_rows, service_account)
    title, hint = sheet_text.CHECK_PLACEHOLDER
    requests.append(update_cells(ids[CHECK_TAB], 0, 0, [
        [cell(title, bold=True, size=14)], [cell(hint)],
    ], "userEnteredValue,userEnteredFormat"))
    requests.append(column_width(ids[CHECK_TAB], 0, PLACEHOLDER_WIDTH))
    meta = sheet_text.meta_values(unit, period, templates, created_at)
    meta_rows = [[cell(key), cell(value)] for key, value in meta]
    requests.append(update_cells(ids[META_TAB], 0, 0, meta_rows, "userEnteredValue"))
    for title in (CHECK_TAB, META_TAB):
        requests.append(_protect(grid(ids[title]), f"cchc-sync: {title}", service_account))
    return requests


def _instruction_cell(kind: str, text: str) -> dict[str, Any]:
    title = kind == sheet_text.TITLE
    return cell(text, bold=title or kind == sheet_text.HEAD, size=14 if title else None,
                wrap=True)


def _protect(rng: dict[str, Any], description: str, service_account: str | None
             ) -> dict[str, Any]:
    editors = {"users": [service_account]} if service_account else {}
    return {"addProtectedRange": {"protectedRange": {
        "range": rng, "description": description, "warningOnly": False, "editors": editors,
    }}}


def _table_requests(spec: TableSpec, sheet_id: int, data_rows: int,
                    service_account: str | None) -> list[dict[str, Any]]:
    last = 2 if spec.single_row else data_rows + 1  # 1-based last formatted row
    header = []
    for title, note in zip(table_titles(spec), sheet_text.header_notes(spec), strict=True):
        if title == STATUS_TITLE:
            header.append(cell(title, bold=True, italic=True, colour=OWNED_TEXT,
                               fill=OWNED_HEADER_FILL, centre=True, wrap=True, note=note))
        else:
            header.append(cell(title, bold=True, fill=HEADER_FILL, centre=True, note=note))
    for c in header:
        c["userEnteredFormat"]["wrapStrategy"] = "WRAP"
    requests = [update_cells(sheet_id, 0, 0, [header], "userEnteredValue,userEnteredFormat,note")]
    for index, col in enumerate(spec.columns):
        number = column_number_kind(col)
        if number:
            requests.append({"repeatCell": {
                "range": grid(sheet_id, 1, last, index, index + 1),
                "cell": cell(number=number),
                "fields": "userEnteredFormat.numberFormat",
            }})
        rule = _validation(col)
        if rule:
            requests.append({"setDataValidation": {
                "range": grid(sheet_id, 1, last, index, index + 1), "rule": rule}})
        requests.append(column_width(sheet_id, index, width_of(col)))
    explanation, status = len(spec.columns), len(spec.columns) + 1
    requests.append(column_width(sheet_id, explanation, EXPLANATION_WIDTH))
    requests.append(column_width(sheet_id, status, STATUS_WIDTH))
    requests.append({"repeatCell": {
        "range": grid(sheet_id, 1, last, status, status + 1),
        "cell": status_base(),
        "fields": "userEnteredFormat",
    }})
    requests.append(_protect(grid(sheet_id, None, None, status, status + 1),
                             f"cchc-sync: {STATUS_TITLE} ({spec.tab})", service_account))
    return requests


def _validation(col: ColumnSpec) -> dict[str, Any] | None:
    """A non-strict rule with a Vietnamese input message (strict=false: our checks decide)."""
    if col.type is ColumnType.CHOICE:
        condition = {"type": "ONE_OF_LIST",
                     "values": [{"userEnteredValue": c.label} for c in col.choices]}
        message = sheet_text.CHOICE_PROMPT
    elif col.type is ColumnType.BOOL:
        condition = {"type": "ONE_OF_LIST",
                     "values": [{"userEnteredValue": "Có"}, {"userEnteredValue": "Không"}]}
        message = sheet_text.BOOL_PROMPT
    elif col.type is ColumnType.INT:
        low = 0 if col.minimum is None else col.minimum
        if col.maximum is not None:
            condition = {"type": "NUMBER_BETWEEN", "values": [
                {"userEnteredValue": number_text(low)},
                {"userEnteredValue": number_text(col.maximum)}]}
        else:
            condition = {"type": "NUMBER_GREATER_THAN_EQ",
                         "values": [{"userEnteredValue": number_text(low)}]}
        message = f"{sheet_text.describe_type(col)}. Để trống nếu không báo cáo."
    elif col.type is ColumnType.DATE:
        condition = {"type": "DATE_IS_VALID"}
        message = sheet_text.DATE_PROMPT
    else:
        return None
    return {"condition": condition, "inputMessage": message, "strict": False,
            "showCustomUi": col.type in (ColumnType.CHOICE, ColumnType.BOOL)}


def prefill_requests(templates: TemplateSet, prefill: dict[str, list[dict[str, Any]]]
                     ) -> list[dict[str, Any]]:
    """Carried-forward rows typed into a new sheet's table tabs from row 2, in template
    column order (values as a clerk sees them: choice labels, plain numbers, dates)."""
    ids = unit_sheet_ids(templates)
    out = []
    for table, rows in prefill.items():
        spec = templates.table(table)
        index = {c.key: i for i, c in enumerate(spec.columns)}
        grid_rows = []
        for row in rows:
            line: list[dict[str, Any]] = [{} for _ in spec.columns]
            for key, value in row.items():
                if key in index and value is not None:
                    line[index[key]] = _typed_value(value)
            grid_rows.append(line)
        if grid_rows:
            out.append(update_cells(ids[spec.tab], 1, 0, grid_rows, "userEnteredValue"))
    return out


def _typed_value(value: Any) -> dict[str, Any]:
    if isinstance(value, dt.date):
        return {"userEnteredValue": {"numberValue": serial(value)}}
    return {k: v for k, v in cell(value).items() if k == "userEnteredValue"}
