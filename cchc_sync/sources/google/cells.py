"""The vocabulary the Google backend's request builders are written in: CellData (colours
and number formats are sheet_layout's), GridRanges, new tabs and column widths, fixed sheet
ids, the software's state kept in the hidden "_cchc" tab.

Text always goes in as `userEnteredValue.stringValue`, which Sheets stores as text even when
it starts with "=", "+", "-" or "@": nothing the software writes can become a formula.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from cchc_sync.domain.clock import VIETNAM
from cchc_sync.normalise import fold
from cchc_sync.sources.base import CHECK_TAB, INSTRUCTIONS_TAB, META_TAB
from cchc_sync.sources.sheet_layout import NUMBER_PATTERNS

# A Sheets cell holds at most 50,000 characters.
MAX_CELL_TEXT = 50_000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

_FORMAT_TYPE = {"percent": "PERCENT", "points": "NUMBER", "date": "DATE",
                "datetime": "DATE_TIME", "int": "NUMBER", "float": "NUMBER", "text": "TEXT"}
NUMBER_FORMATS = {kind: {"type": _FORMAT_TYPE[kind], "pattern": pattern}
                  for kind, pattern in NUMBER_PATTERNS.items()}
"""Sheets numberFormat by sheet_layout.NUMBER_PATTERNS kind."""

SHEETS_EPOCH = dt.datetime(1899, 12, 30)
"""Day 0 of Sheets date serials."""

STATE_KEY = "cchc_state"
"""Key, in column A of "_cchc", of the row holding the software's flag state (JSON)."""
META_RANGE_ROWS = 30
"""Rows of "_cchc" read with every unit read (metadata and the flag state)."""

SHEET_URL = "https://docs.google.com/spreadsheets/d/{id}/edit"


def clean(text: object) -> str:
    """Text Sheets accepts: no control characters but tab and newline, not too long."""
    return _CONTROL.sub("", str(text))[:MAX_CELL_TEXT]


def rgb(hex_colour: str) -> dict[str, float]:
    red, green, blue = _channels(hex_colour)
    return {"red": red, "green": green, "blue": blue}


@functools.cache
def _channels(hex_colour: str) -> tuple[float, float, float]:
    """Parsed once per colour: a flag write colours up to a hundred status cells."""
    hex_colour = hex_colour.lstrip("#")[-6:]
    red, green, blue = (int(hex_colour[i:i + 2], 16) / 255 for i in (0, 2, 4))
    return red, green, blue


def text_value(text: object) -> dict[str, Any]:
    return {"stringValue": clean(text)}


def cell(
    value: Any = None,
    *,
    bold: bool = False,
    italic: bool = False,
    size: int | None = None,
    colour: str | None = None,
    fill: str | None = None,
    wrap: bool = False,
    centre: bool = False,
    number: str | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """A CellData: `value` None (empty), str (inert text), bool or number."""
    out: dict[str, Any] = {}
    if isinstance(value, str):
        out["userEnteredValue"] = text_value(value)
    elif isinstance(value, bool):
        out["userEnteredValue"] = {"boolValue": value}
    elif isinstance(value, int | float):
        out["userEnteredValue"] = {"numberValue": value}
    fmt: dict[str, Any] = {}
    text: dict[str, Any] = {}
    if bold:
        text["bold"] = True
    if italic:
        text["italic"] = True
    if size:
        text["fontSize"] = size
    if colour:
        text["foregroundColor"] = rgb(colour)
    if text:
        fmt["textFormat"] = text
    if fill:
        fmt["backgroundColor"] = rgb(fill)
    if wrap:
        fmt["wrapStrategy"] = "WRAP"
        fmt["verticalAlignment"] = "TOP"
    if centre:
        fmt["horizontalAlignment"] = "CENTER"
        fmt["verticalAlignment"] = "MIDDLE"
    if number:
        fmt["numberFormat"] = dict(NUMBER_FORMATS[number])
    if fmt:
        out["userEnteredFormat"] = fmt
    if note:
        out["note"] = clean(note)
    return out


def grid(sheet_id: int, r0: int | None = None, r1: int | None = None, c0: int | None = None,
         c1: int | None = None) -> dict[str, Any]:
    """A GridRange (0-based, end exclusive); a bound left None is unbounded."""
    out: dict[str, Any] = {"sheetId": sheet_id}
    for key, value in (("startRowIndex", r0), ("endRowIndex", r1), ("startColumnIndex", c0),
                       ("endColumnIndex", c1)):
        if value is not None:
            out[key] = value
    return out


def update_cells(sheet_id: int, row: int, col: int, rows: list[list[dict[str, Any]]],
                 fields: str) -> dict[str, Any]:
    """updateCells from (row, col), 0-based: only the cells the rows cover are written."""
    return {"updateCells": {
        "start": {"sheetId": sheet_id, "rowIndex": row, "columnIndex": col},
        "rows": [{"values": r} for r in rows],
        "fields": fields,
    }}


def column_width(sheet_id: int, col: int, chars: float) -> dict[str, Any]:
    """Set a column's width, given in characters as an Excel width (0-based `col`)."""
    return {"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": "COLUMNS", "startIndex": col,
                  "endIndex": col + 1},
        "properties": {"pixelSize": chars_to_pixels(chars)},
        "fields": "pixelSize",
    }}


def chars_to_pixels(width: float) -> int:
    """An Excel column width (characters) as Sheets pixels."""
    return int(round(width * 7 + 5))


def spreadsheet_settings() -> dict[str, Any]:
    """A new spreadsheet's locale and time zone: Vietnam's. In vi_VN, "27.554" typed by a
    clerk is read as 27554 and "07/6/2022" as 7 June, as clerks mean."""
    return {"updateSpreadsheetProperties": {
        "properties": {"locale": "vi_VN", "timeZone": VIETNAM.tzname(None)},
        "fields": "locale,timeZone",
    }}


def add_sheet(sheet_id: int, title: str, index: int, *, rows: int, cols: int, frozen: int = 0,
              hidden: bool = False) -> dict[str, Any]:
    """An addSheet with a fixed id, a grid size and optionally frozen rows, hidden."""
    grid_props: dict[str, Any] = {"rowCount": rows, "columnCount": cols}
    if frozen:
        grid_props["frozenRowCount"] = frozen
    props: dict[str, Any] = {"sheetId": sheet_id, "title": title, "index": index,
                             "gridProperties": grid_props}
    if hidden:
        props["hidden"] = True
    return {"addSheet": {"properties": props}}


def quote_title(title: str) -> str:
    """A tab title as an A1 range prefix: 'Giải quyết TTHC'."""
    return "'" + title.replace("'", "''") + "'"


def fixed_sheet_ids(titles: Iterable[str]) -> dict[str, int]:
    """A sheet id per tab title, derived from the title alone: the ids chosen when a sheet
    was made are known again later without reading its metadata."""
    out: dict[str, int] = {}
    used: set[int] = set()
    for title in titles:
        sheet_id = zlib.crc32(title.encode("utf-8")) & 0x3FFFFFFF or 1
        while sheet_id in used:
            sheet_id = (sheet_id + 1) & 0x3FFFFFFF or 1
        used.add(sheet_id)
        out[title] = sheet_id
    return out


def unit_tab_titles(table_tabs: Iterable[str]) -> list[str]:
    """Every tab of a unit's sheet, in order."""
    return [INSTRUCTIONS_TAB, *table_tabs, CHECK_TAB, META_TAB]


def find_title(titles: Iterable[str], wanted: str) -> str | None:
    """The title equal to `wanted`, else the one equal ignoring case, tones and spacing."""
    titles = list(titles)
    if wanted in titles:
        return wanted
    folded = fold(wanted)
    return next((t for t in titles if fold(t) == folded), None)


def serial(moment: dt.date | dt.datetime) -> float:
    """A Sheets date serial (days since 1899-12-30)."""
    if not isinstance(moment, dt.datetime):
        moment = dt.datetime(moment.year, moment.month, moment.day)
    return (moment.replace(tzinfo=None) - SHEETS_EPOCH).total_seconds() / 86400


@dataclass(kw_only=True)
class FlagState:
    """What the software wrote into a unit's sheet last time, kept as JSON in "_cchc" so
    the next write can remove exactly its own notes and colours (Sheets keeps no author on
    a note, so a person's notes cannot be told apart otherwise)."""

    marks: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    """Sheet id -> (row, column), 1-based, of cells that got a note and a colour."""
    status_rows: dict[int, int] = field(default_factory=dict)
    """Sheet id -> last row whose status cell was written."""
    ids: dict[str, int] = field(default_factory=dict)
    """Tab title -> sheet id, when a tab's id differs from the fixed one (a person deleted
    and re-made the tab)."""
    overflow: bool = False
    """Too many marks to record: the next write clears notes and colours of the whole data
    area of the template columns."""
    mark_rows: dict[int, dict[int, str]] = field(default_factory=dict)
    """Sheet id -> row -> short digest of that row's content when it was marked: a clerk's
    sort moves our notes and colours with the rows, and this finds them again
    (rows.follow_marks)."""
    anchored: list[int] = field(default_factory=list)
    """Sheet ids whose status column carries the software's developer-metadata anchor
    (rows.py): their flag writes are refused if that column moved."""

    def to_json(self) -> str:
        data = {
            "marks": {str(k): [list(rc) for rc in v] for k, v in self.marks.items() if v},
            "status_rows": {str(k): v for k, v in self.status_rows.items()},
            "ids": self.ids,
            "anchored": sorted(self.anchored),
            "rows": {str(k): {str(r): d for r, d in v.items()}
                     for k, v in self.mark_rows.items() if v},
        }
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if len(text) > MAX_CELL_TEXT - 100:
            data["marks"] = {}
            data["rows"] = {}
            data["overflow"] = True
            text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        return text

    @classmethod
    def from_json(cls, text: object) -> FlagState:
        try:
            data = json.loads(str(text))
            return cls(
                marks={int(k): [(int(r), int(c)) for r, c in v]
                       for k, v in (data.get("marks") or {}).items()},
                status_rows={int(k): int(v) for k, v in (data.get("status_rows") or {}).items()},
                ids={str(k): int(v) for k, v in (data.get("ids") or {}).items()},
                overflow=bool(data.get("overflow")),
                anchored=sorted(int(i) for i in data.get("anchored") or ()),
                mark_rows={int(k): {int(r): str(d) for r, d in v.items()}
                           for k, v in (data.get("rows") or {}).items()},
            )
        except (ValueError, TypeError, AttributeError):
            # Unreadable state: clear the whole data area once rather than leave stale marks.
            return cls(overflow=True)
