"""openpyxl's read-only load of a workbook, minus what reading cell values never uses.

`load_workbook(read_only=True)` parsed each tab's <dimension> at open time (one more pass
into every tab's XML, the tabs we never read included; the reader resets the dimensions
anyway), each tab's relationships, the document properties and the theme, and built the
whole stylesheet as openpyxl objects for every workbook — a quarter of a unit's read. The
stylesheet here is built once per distinct styles part: units' workbooks come from one
template, so their styles parts are few, and the parsed stylesheet is only read (cell
formats and number formats), never changed, by a read-only workbook.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.xml.constants import ARC_STYLE
from openpyxl.xml.functions import fromstring


def load_values_workbook(path: Path) -> Workbook:
    """What `load_workbook(path, read_only=True, data_only=True)` gives for reading values
    and their formats: the same tabs, cells, shared strings and cell formats. Not loaded:
    tab dimensions (rows are read to the last one stored), defined names, properties,
    theme. Close it (wb.close()) as a read-only workbook."""
    reader = _ValuesReader(path, read_only=True, data_only=True)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        _apply_styles(reader.archive.read(ARC_STYLE) if ARC_STYLE in reader.valid_files
                      else None, reader.wb)
        reader.read_worksheets()
    except BaseException:
        reader.archive.close()
        raise
    wb: Workbook = reader.wb
    return wb


class _NoDimensionSheet(ReadOnlyWorksheet):
    """A read-only tab that does not parse its <dimension> when opened."""

    def _get_size(self) -> None:
        return None


class _ValuesReader(ExcelReader):
    def read_worksheets(self) -> None:
        for sheet, rel in self.parser.find_sheets():
            if rel.target not in self.valid_files:
                continue
            if "chartsheet" in rel.Type:
                self.read_chartsheet(sheet, rel)
                continue
            ws = _NoDimensionSheet(self.wb, sheet.name, rel.target, self.shared_strings)
            ws.sheet_state = sheet.state
            self.wb._sheets.append(ws)


def _apply_styles(xml: bytes | None, wb: Workbook) -> None:
    """The cell formats of openpyxl's apply_stylesheet, from a stylesheet parsed once per
    distinct styles part."""
    if xml is None:
        return  # openpyxl's defaults stay, as apply_stylesheet leaves them
    sheet = _stylesheet(xml)
    if sheet.cell_styles:
        wb._cell_styles = sheet.cell_styles
        wb._number_formats = sheet.number_formats
        wb._date_formats = sheet.date_formats
        wb._timedelta_formats = sheet.timedelta_formats


@functools.lru_cache(maxsize=32)
def _stylesheet(xml: bytes) -> Any:
    return Stylesheet.from_tree(fromstring(xml))
