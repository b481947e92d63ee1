"""The Google demo's spreadsheets saved as .xlsx files, so there is something to open once
the local fake of Google has stopped.

Built with openpyxl from what the fake holds: each cell's value (text kept as text, even
when it starts with "=": a value is never turned into a formula), its number format, its
note and its background colour — the flags a clerk would see in Google Sheets.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils.cell import coordinate_from_string

from cchc_sync.app.pipeline import Workspace
from cchc_sync.sources.xlsx.common import ascii_slug, set_text
from cchc_sync.testing.fake_google import FakeGoogle

NOTE_AUTHOR = "cchc-sync"


def save_as_xlsx(fake: FakeGoogle, ws: Workspace, folder: Path) -> list[Path]:
    """Every unit spreadsheet of the period and the master as `folder/<name>.xlsx`."""
    period = ws.period.code
    ids = [sheet.ref for sheet in ws.archive.sheets(period).values()]
    master = ws.archive.master(period)
    if master is not None:
        ids.append(master["ref"])
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for file_id in ids:
        dump = fake.spreadsheet(file_id)
        path = folder / f"{ascii_slug(dump.get('name') or file_id) or file_id}.xlsx"
        workbook_from_dump(dump).save(path)
        saved.append(path)
    return saved


def workbook_from_dump(dump: dict[str, Any]) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in dump.get("sheets", []):
        tab = wb.create_sheet(sheet["title"][:31])
        if sheet.get("hidden"):
            tab.sheet_state = "hidden"
        for a1, data in sheet.get("cells", {}).items():
            col, row = coordinate_from_string(a1)
            cell = tab[f"{col}{row}"]
            _fill(cell, data)
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    return wb


def _fill(cell: Any, data: dict[str, Any]) -> None:
    value = data.get("effectiveValue") or {}
    if "stringValue" in value:
        set_text(cell, value["stringValue"])
    elif "numberValue" in value:
        cell.value = value["numberValue"]
    elif "boolValue" in value:
        cell.value = bool(value["boolValue"])
    elif "errorValue" in value:
        set_text(cell, data.get("formattedValue") or "#ERROR!")
    fmt = data.get("userEnteredFormat") or {}
    pattern = (fmt.get("numberFormat") or {}).get("pattern")
    if pattern and "numberValue" in value:
        cell.number_format = pattern
    colour = fmt.get("backgroundColor")
    if colour:
        rgb = "".join(f"{round(255 * float(colour.get(c, 0))):02X}"
                      for c in ("red", "green", "blue"))
        if rgb != "FFFFFF":
            cell.fill = PatternFill("solid", fgColor=rgb)
    if data.get("note"):
        cell.comment = Comment(data["note"], NOTE_AUTHOR)
