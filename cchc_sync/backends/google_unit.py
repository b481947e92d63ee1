"""The requests that turn a new, empty spreadsheet into a unit's sheet (one batchUpdate).

The content is the local backend's: the workbook `build_unit_workbook` makes is built in
memory and its texts are carried over — the instructions, the header notes, the "Kiểm tra"
placeholder and the "_cchc" metadata — so both backends show a clerk the same words. Only
the sentence about closing the file in Excel is replaced (Google Sheets saves by itself).
Formats, validation and protection are Sheets' own:

- number formats per column (PERCENT 0.00%, DATE dd/mm/yyyy, NUMBER #,##0, TEXT @) on the
  data rows (Sheets has no column styles, so `data_rows` rows get them: 500 by default, as
  far as the local backend's validation reaches);
- data validation, never strict (`strict: false`: our checks decide, an alias such as
  "mức 3" must stay typable): ONE_OF_LIST for choices and Có/Không, NUMBER_GREATER_THAN_EQ
  (or NUMBER_BETWEEN) for counts, DATE_IS_VALID for dates;
- protected ranges, editable by the service account only: every status column, "Kiểm tra"
  and "_cchc";
- fixed sheet ids (see google_cells.fixed_sheet_ids), so flags and reads need no metadata.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from ..models import Period, Unit
from ..templates import ColumnSpec, ColumnType, TableSpec, TemplateSet
from .base import CHECK_TAB, EXPLANATION_TITLE, INSTRUCTIONS_TAB, META_TAB, STATUS_TITLE
from .google_cells import (
    HEADER_FILL,
    META_RANGE_ROWS,
    OWNED_FILL,
    OWNED_HEADER_FILL,
    OWNED_TEXT,
    cell,
    chars_to_pixels,
    column_width,
    fixed_sheet_ids,
    grid,
    serial,
    unit_tab_titles,
    update_cells,
)
from .xlsx_unit import build_unit_workbook, describe_type

DEFAULT_DATA_ROWS = 500
"""Data rows of a multi-row table that get formats and validation (as xlsx_unit does)."""
MULTI_ROW_GRID = 1000
SINGLE_ROW_GRID = 20
SMALL_GRID = 50

_GOOGLE_SAVE_LINE = (
    "• Google Trang tính tự lưu mọi thay đổi: kết quả kiểm tra được cập nhật ở lần kiểm tra "
    "sau (vài phút), không cần đóng bảng tính. Các ô do phần mềm ghi được khoá, chỉ phần "
    "mềm sửa được."
)
_LOCAL_ONLY_MARK = "đóng tệp"
_FORMATS = {
    ColumnType.PCT: "percent",
    ColumnType.DATE: "date",
    ColumnType.INT: "int",
    ColumnType.TEXT: "text",
    ColumnType.DOCNO: "text",
}
_WIDTH = {ColumnType.INT: 16, ColumnType.PCT: 14, ColumnType.DATE: 14, ColumnType.BOOL: 14,
          ColumnType.TEXT: 30, ColumnType.DOCNO: 20, ColumnType.CHOICE: 22}


def status_base() -> dict[str, Any]:
    """How an empty status cell looks: grey, italic."""
    return cell(italic=True, colour=OWNED_TEXT, fill=OWNED_FILL)


def table_titles(spec_columns: list[ColumnSpec]) -> list[str]:
    return [c.title for c in spec_columns] + [EXPLANATION_TITLE, STATUS_TITLE]


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
    texts = _local_texts(templates, period)

    def own(text: str) -> str:
        return text.replace(_CODE, unit.code).replace(_NAME, unit.name)

    ids = unit_sheet_ids(templates)
    requests: list[dict[str, Any]] = [{
        "updateSpreadsheetProperties": {
            # vi_VN: "27.554" is read as 27554 and "07/6/2022" as 7 June, as clerks mean.
            "properties": {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"},
            "fields": "locale,timeZone",
        }
    }]
    lines = [cell(own(text), bold=bold, size=size, wrap=True)
             for text, bold, size in texts.instructions]
    requests.append(_add_sheet(ids[INSTRUCTIONS_TAB], INSTRUCTIONS_TAB, 0,
                               rows=max(len(lines) + 5, SMALL_GRID), cols=2))
    for index, spec in enumerate(templates.tables.values(), start=1):
        width = len(spec.columns) + 2
        requests.append(_add_sheet(ids[spec.tab], spec.tab, index,
                                   rows=grid_rows(spec, data_rows), cols=width,
                                   frozen=1))
    tables = len(templates.tables)
    requests.append(_add_sheet(ids[CHECK_TAB], CHECK_TAB, tables + 1, rows=SMALL_GRID, cols=7))
    requests.append(_add_sheet(ids[META_TAB], META_TAB, tables + 2, rows=META_RANGE_ROWS,
                               cols=4, hidden=True))
    requests.append({"deleteSheet": {"sheetId": first_sheet_id}})

    requests.append(update_cells(ids[INSTRUCTIONS_TAB], 0, 0, [[c] for c in lines],
                                 "userEnteredValue,userEnteredFormat"))
    requests.append(column_width(ids[INSTRUCTIONS_TAB], 0, chars_to_pixels(110)))
    for spec in templates.tables.values():
        requests += _table_requests(texts.notes[spec.tab], spec, ids[spec.tab], data_rows,
                                    service_account)
    title, hint = texts.check
    requests.append(update_cells(ids[CHECK_TAB], 0, 0, [
        [cell(title, bold=True, size=14)], [cell(hint)],
    ], "userEnteredValue,userEnteredFormat"))
    requests.append(column_width(ids[CHECK_TAB], 0, chars_to_pixels(80)))
    meta = {"created_at": created_at.isoformat(timespec="seconds")}
    meta_rows = [[cell(key), cell(meta.get(key, own(value)))] for key, value in texts.meta]
    requests.append(update_cells(ids[META_TAB], 0, 0, meta_rows, "userEnteredValue"))
    for title in (CHECK_TAB, META_TAB):
        requests.append(_protect(grid(ids[title]), f"cchc-sync: {title}", service_account))
    return requests


def _add_sheet(sheet_id: int, title: str, index: int, *, rows: int, cols: int, frozen: int = 0,
               hidden: bool = False) -> dict[str, Any]:
    grid_props: dict[str, Any] = {"rowCount": rows, "columnCount": cols}
    if frozen:
        grid_props["frozenRowCount"] = frozen
    props: dict[str, Any] = {"sheetId": sheet_id, "title": title, "index": index,
                             "gridProperties": grid_props}
    if hidden:
        props["hidden"] = True
    return {"addSheet": {"properties": props}}


def _protect(rng: dict[str, Any], description: str, service_account: str | None
             ) -> dict[str, Any]:
    editors = {"users": [service_account]} if service_account else {}
    return {"addProtectedRange": {"protectedRange": {
        "range": rng, "description": description, "warningOnly": False, "editors": editors,
    }}}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Texts:
    """What a clerk reads, taken from the local backend's workbook (see module docstring)."""

    instructions: list[tuple[str, bool, int | None]]
    """(text, bold, font size when not the default) per line of "Hướng dẫn"."""
    notes: dict[str, list[str | None]]
    """Tab title -> header note per column."""
    check: tuple[str, str]
    """The "Kiểm tra" placeholder: title and line."""
    meta: list[tuple[str, str]]
    """Key/value rows of "_cchc"."""


# Stand-ins for the unit's code and name while the texts are shared by every unit
# (Unicode private-use characters: never in a real name, kept by clean()).
_CODE, _NAME = "\ue000", "\ue001"
_TEXTS: dict[tuple[int, Period], tuple[TemplateSet, _Texts]] = {}


def _local_texts(templates: TemplateSet, period: Period) -> _Texts:
    """The texts of the local workbook for this template set and period, built once (an
    openpyxl workbook costs ~10 ms; 200 units need it once, not 200 times)."""
    key = (id(templates), period)
    hit = _TEXTS.get(key)
    if hit is not None and hit[0] is templates:
        return hit[1]
    stand_in = Unit(code=_CODE, name=_NAME, level="")
    wb = build_unit_workbook(stand_in, period, templates, created_at=dt.datetime.now(dt.UTC))
    lines: list[tuple[str, bool, int | None]] = []
    replaced = False
    for (c,) in wb[INSTRUCTIONS_TAB].iter_rows(min_col=1, max_col=1):
        text = "" if c.value is None else str(c.value)
        if _LOCAL_ONLY_MARK in text:
            text, replaced = _GOOGLE_SAVE_LINE, True
        bold = bool(c.font and c.font.b)
        size = int(c.font.sz) if c.font and c.font.sz and c.font.sz != 11 else None
        lines.append((text, bold, size))
    if not replaced:
        lines.append((_GOOGLE_SAVE_LINE, False, None))
    notes = {}
    for spec in templates.tables.values():
        ws = wb[spec.tab]
        notes[spec.tab] = [
            c.comment.text if (c := ws.cell(row=1, column=i)).comment is not None else None
            for i in range(1, len(spec.columns) + 3)
        ]
    check = wb[CHECK_TAB]
    meta = [(str(k.value), "" if v.value is None else str(v.value))
            for k, v in wb[META_TAB].iter_rows(min_col=1, max_col=2) if k.value is not None]
    texts = _Texts(instructions=lines, notes=notes,
                   check=(str(check["A1"].value or ""), str(check["A2"].value or "")),
                   meta=meta)
    if len(_TEXTS) > 8:
        _TEXTS.clear()
    _TEXTS[key] = (templates, texts)
    return texts


def _table_requests(notes: list[str | None], spec, sheet_id: int, data_rows: int,
                    service_account: str | None) -> list[dict[str, Any]]:
    titles = table_titles(list(spec.columns))
    last = 2 if spec.single_row else data_rows + 1  # 1-based last formatted row
    header = []
    for index, title in enumerate(titles, start=1):
        note = notes[index - 1] if index <= len(notes) else None
        if title == STATUS_TITLE:
            header.append(cell(title, bold=True, italic=True, colour=OWNED_TEXT,
                               fill=OWNED_HEADER_FILL, centre=True, wrap=True, note=note))
        else:
            header.append(cell(title, bold=True, fill=HEADER_FILL, centre=True, note=note))
    for c in header:
        c["userEnteredFormat"]["wrapStrategy"] = "WRAP"
    requests = [update_cells(sheet_id, 0, 0, [header], "userEnteredValue,userEnteredFormat,note")]
    for index, col in enumerate(spec.columns):
        number = _FORMATS.get(col.type)
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
        requests.append(column_width(sheet_id, index,
                                     chars_to_pixels(col.width or _WIDTH.get(col.type, 18))))
    explanation, status = len(spec.columns), len(spec.columns) + 1
    requests.append(column_width(sheet_id, explanation, chars_to_pixels(32)))
    requests.append(column_width(sheet_id, status, chars_to_pixels(44)))
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
        message = "Chọn trong danh sách."
    elif col.type is ColumnType.BOOL:
        condition = {"type": "ONE_OF_LIST",
                     "values": [{"userEnteredValue": "Có"}, {"userEnteredValue": "Không"}]}
        message = "Chọn Có hoặc Không."
    elif col.type is ColumnType.INT:
        low = 0 if col.minimum is None else col.minimum
        if col.maximum is not None:
            condition = {"type": "NUMBER_BETWEEN", "values": [
                {"userEnteredValue": _num(low)}, {"userEnteredValue": _num(col.maximum)}]}
        else:
            condition = {"type": "NUMBER_GREATER_THAN_EQ",
                         "values": [{"userEnteredValue": _num(low)}]}
        message = f"{describe_type(col)}. Để trống nếu không báo cáo."
    elif col.type is ColumnType.DATE:
        condition = {"type": "DATE_IS_VALID"}
        message = "Ngày/tháng/năm, ví dụ 07/06/2022."
    else:
        return None
    return {"condition": condition, "inputMessage": message, "strict": False,
            "showCustomUi": col.type in (ColumnType.CHOICE, ColumnType.BOOL)}


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


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
