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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl.cell.read_only import EMPTY_CELL
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import Stylesheet
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.workbook import Workbook
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import ARC_STYLE, SHEET_MAIN_NS
from openpyxl.xml.functions import fromstring, iterparse


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
    """A read-only tab that does not parse its <dimension> when opened, and reads its rows
    with _RowsParser."""

    def _get_size(self) -> None:
        return None

    def _cells_by_row(self, min_col: int, min_row: int, max_col: int | None,
                      max_row: int | None, values_only: bool = False) -> Iterator[Any]:
        # ReadOnlyWorksheet._cells_by_row (openpyxl 3.1) with _RowsParser for its parser.
        filler = None if values_only else EMPTY_CELL
        max_col = max_col or self.max_column
        max_row = max_row or self.max_row
        empty_row: tuple[Any, ...] | list[Any] = []
        if max_col is not None:
            empty_row = (filler,) * (max_col + 1 - min_col)
        counter = min_row
        idx = 1
        with self._get_source() as src:
            parser = _RowsParser(src, self._shared_strings, data_only=self.parent.data_only,
                                 epoch=self.parent.epoch,
                                 date_formats=self.parent._date_formats,
                                 timedelta_formats=self.parent._timedelta_formats)
            for idx, row in parser.parse():
                if max_row is not None and idx > max_row:
                    break
                for _ in range(counter, idx):  # rows missing from the XML
                    counter += 1
                    yield empty_row
                if counter <= idx:
                    counter += 1
                    yield self._get_row(row, min_col, max_col, values_only)
        if max_row is not None and max_row < idx:
            for _ in range(counter, max_row + 1):
                yield empty_row


class _RowsParser(WorkSheetParser):
    """openpyxl's sheet parser for the rows only. Its parse also built openpyxl objects
    for every other part of the tab (data validations, conditional formats, views, page
    setup: a third of reading a unit's tab) that nothing reading values looks at; and it
    made an openpyxl Text object of each inline string only to take its text."""

    def parse(self) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        for _, element in iterparse(self.source):
            tag = element.tag
            if tag == _ROW:
                row = self.parse_row(element)
                element.clear()
                yield row
            elif tag in _TOP_LEVEL:
                element.clear()  # as openpyxl clears what it parsed: not kept in memory

    def parse_cell(self, element: Any) -> dict[str, Any]:
        if element.get("t") != "inlineStr" or not self.data_only or self.rich_text:
            return super().parse_cell(element)
        # WorkSheetParser.parse_cell's path for an inline string, its text as Text.content
        # gives it: the plain text, then each run's, phonetic runs left out.
        style_id = element.get("s", 0)
        if style_id:
            style_id = int(style_id)
        coordinate = element.get("r")
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        value, data_type = None, "inlineStr"
        child = element.find(_INLINE)
        if child is not None:
            data_type = "s"
            value = inline_text(child)
        return {"row": row, "column": column, "value": value, "data_type": data_type,
                "style_id": style_id}


def inline_text(element: Any) -> str:
    """The text of an inline string (<is>), as openpyxl's Text.from_tree(...).content."""
    parts = []
    plain = element.find(_T)
    if plain is not None and plain.text is not None:
        parts.append(plain.text)
    for run in element.findall(_RUN):
        text = run.find(_T)
        if text is not None and text.text is not None:
            parts.append(text.text)
    return "".join(parts)


_ROW = f"{{{SHEET_MAIN_NS}}}row"
_INLINE = f"{{{SHEET_MAIN_NS}}}is"
_T = f"{{{SHEET_MAIN_NS}}}t"
_RUN = f"{{{SHEET_MAIN_NS}}}r"
# A worksheet's children other than sheetData (ECMA-376 CT_Worksheet), cleared once parsed.
_TOP_LEVEL = frozenset(f"{{{SHEET_MAIN_NS}}}{name}" for name in (
    "sheetPr", "dimension", "sheetViews", "sheetFormatPr", "cols", "sheetCalcPr",
    "sheetProtection", "protectedRanges", "scenarios", "autoFilter", "sortState",
    "dataConsolidate", "customSheetViews", "mergeCells", "phoneticPr",
    "conditionalFormatting", "dataValidations", "hyperlinks", "printOptions",
    "pageMargins", "pageSetup", "headerFooter", "rowBreaks", "colBreaks",
    "customProperties", "cellWatches", "ignoredErrors", "smartTags", "drawing",
    "legacyDrawing", "legacyDrawingHF", "drawingHF", "picture", "oleObjects", "controls",
    "webPublishItems", "tableParts", "extLst"))


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
