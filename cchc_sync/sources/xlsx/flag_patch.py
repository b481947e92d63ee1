"""Writing a unit's flags by patching only the parts of the .xlsx that change (issue 17).

A full openpyxl load and save of a unit's workbook costs about a second (every formatted
cell of every tab becomes a Python object and back); the flags touch a few hundred cells.
This module edits the package instead: the sheet XML of each table tab (status cells,
owned fills), that tab's notes (the comments part and its VML drawing), the styles part
(a cell style per new combination) and the "Kiểm tra" tab, which is built by the same code
as the full path (flags._write_check_tab on a scratch workbook) and spliced in with its
styles carried over. Every other part is copied as it is, so formulas keep their cached
results without the formula_cache round trip.

What the patch does not handle raises PatchUnsupported and the caller takes the full
openpyxl path: a tab without a comments part that needs a note, a cell without its "r"
coordinate, a formula in a cell the software overwrites (the calculation chain would name
it), no "Kiểm tra" tab (it would need a new part in the workbook's lists).
"""

from __future__ import annotations

import bisect
import functools
import io
import threading
import zipfile
from typing import Any

from lxml import etree
from openpyxl.styles import Alignment, Border, Font, PatternFill
from openpyxl.utils import quote_sheetname
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string, get_column_letter
from openpyxl.utils.indexed_list import IndexedList
from openpyxl.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from cchc_sync.domain.records import Severity
from cchc_sync.normalise import fold
from cchc_sync.sources.base import CHECK_TAB, STATUS_TITLE, FlagPlan, TabFlags
from cchc_sync.sources.xlsx.common import (
    NO_FILL,
    OWNED_FILL,
    OWNED_FONT,
    clean_text,
)
from cchc_sync.sources.xlsx.flag_notes import Notes, PatchUnsupported, q
from cchc_sync.sources.xlsx.flags import MARK_FILL, OWNED_RGB, STATUS_STYLES, write_check_tab
from cchc_sync.sources.xlsx.formula_cache import sheet_parts
from cchc_sync.sources.xlsx.zip_copy import replace_parts

_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_FORMULA_START = ("=", "+", "-", "@")


def patch_flags(data: bytes, plan: FlagPlan) -> bytes:
    """`data` (an .xlsx) with the plan's flags written, as flags.apply_flag_plan would."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = set(src.namelist())
    out: dict[str, bytes] = {}
    styles = StyleBook(src.read("xl/styles.xml"))
    strings = _shared_strings(src, names)
    parts = sheet_parts(src)
    titles: dict[tuple[str, str], tuple[str, int]] = {}
    real_titles: dict[str, str] = {}
    for table, flags in plan.tabs.items():
        title = _find_title(parts, flags.tab)
        sheet = None
        if title is not None:
            real_titles[table] = title
            sheet = Sheet(src.read(parts[title]), strings)
        for key, index in flags.layout.columns.items():
            text = sheet.text(flags.layout.header_row, index) if sheet else ""
            titles[(table, key)] = (text.strip() or key, index)
        if sheet is None or title is None:
            continue
        notes = Notes.of(src, names, parts[title])
        _flag_tab(sheet, flags, styles, notes)
        out[parts[title]] = sheet.to_bytes()
        if notes.changed:
            out.update(notes.to_parts())
    check_title = _find_title(parts, CHECK_TAB)
    if check_title is None:
        raise PatchUnsupported("no check tab")
    order = list(parts)
    old_check = etree.fromstring(src.read(parts[check_title]))
    check_xml, names_xml = _check_tab(plan, titles, real_titles, check_title, old_check,
                                      styles)
    out[parts[check_title]] = check_xml
    out["xl/workbook.xml"] = _with_defined_names(src.read("xl/workbook.xml"),
                                                 order.index(check_title), names_xml)
    out["xl/styles.xml"] = styles.to_bytes()
    return replace_parts(data, src, out)


def _find_title(parts: dict[str, str], title: str) -> str | None:
    if title in parts:
        return title
    wanted = fold(title)
    return next((t for t in parts if fold(t) == wanted), None)


def _shared_strings(src: zipfile.ZipFile, names: set[str]) -> list[str]:
    if "xl/sharedStrings.xml" not in names:
        return []
    root = etree.fromstring(src.read("xl/sharedStrings.xml"))
    # Phonetic runs (rPh) are not part of the text.
    return ["".join(t.text or "" for t in si.iter(q("t")) if t.getparent().tag != q("rPh"))
            for si in root.iter(q("si"))]


# -- styles ---------------------------------------------------------------------------------


class StyleBook:
    """The styles part: cell formats (xf) derived from a cell's own with another font or
    fill, added once each and found again by their serialised form."""

    def __init__(self, xml: bytes) -> None:
        self.root = etree.fromstring(xml)
        self.lists = {tag: self._list(tag) for tag in ("fonts", "fills", "borders", "cellXfs")}
        self.index = {tag: {_key(e): i for i, e in enumerate(self.lists[tag])}
                      for tag in self.lists}
        self.memo: dict[tuple, tuple[int, tuple]] = {}
        self.fills_seen: dict[int, str | None] = {}  # formats are only added, never changed

    def _list(self, tag: str) -> etree._Element:
        found = self.root.find(q(tag))
        if found is None:
            raise PatchUnsupported(f"styles without {tag}")
        return found

    def _add(self, tag: str, element: etree._Element) -> int:
        key = _key(element)
        if key not in self.index[tag]:
            self.lists[tag].append(element)
            self.index[tag][key] = len(self.lists[tag]) - 1
            self.lists[tag].set("count", str(len(self.lists[tag])))
        return self.index[tag][key]

    def xf(self, base: int, *, font: Font | None = None, fill: PatternFill | None = None,
           border: Border | None = None, alignment: Alignment | None = None,
           quote_prefix: bool = False, number_format: int | None = None) -> int:
        """The index of cell format `base` with these parts replaced."""
        # The same few combinations come back for hundreds of cells: remembered by the
        # identity of the style objects (module constants, or the scratch workbook's,
        # alive for the whole patch).
        memo = (base, id(font), id(fill), id(border), id(alignment), quote_prefix,
                number_format)
        if memo not in self.memo:
            index = self._xf(base, font, fill, border, alignment, quote_prefix, number_format)
            # The objects are kept with the entry, so their ids are not reused meanwhile.
            self.memo[memo] = (index, (font, fill, border, alignment))
        return self.memo[memo][0]

    def _xf(self, base: int, font: Font | None, fill: PatternFill | None, border: Border | None,
            alignment: Alignment | None, quote_prefix: bool, number_format: int | None) -> int:
        xfs = self.lists["cellXfs"]
        xf = etree.fromstring(etree.tostring(xfs[base])) if base < len(xfs) else etree.Element(
            q("xf"), numFmtId="0", fontId="0", fillId="0", borderId="0", xfId="0")
        for name, value, tag in (("fontId", font, "fonts"), ("fillId", fill, "fills"),
                                 ("borderId", border, "borders")):
            if value is not None:
                xf.set(name, str(self._add(tag, _element(value))))
                xf.set("apply" + name[:-2].capitalize(), "1")
        if alignment is not None:
            for old in xf.findall(q("alignment")):
                xf.remove(old)
            xf.insert(0, _element(alignment))
            xf.set("applyAlignment", "1")
        if quote_prefix:
            xf.set("quotePrefix", "1")
        if number_format is not None:
            xf.set("numFmtId", str(number_format))
            xf.set("applyNumberFormat", "1")
        return self._add("cellXfs", xf)

    def fill_rgb(self, index: int) -> str | None:
        """The solid fill colour (RRGGBB, upper case) of cell format `index`, if any."""
        if index not in self.fills_seen:
            self.fills_seen[index] = self._fill_rgb(index)
        return self.fills_seen[index]

    def _fill_rgb(self, index: int) -> str | None:
        xfs = self.lists["cellXfs"]
        if index >= len(xfs):
            return None
        fill_id = int(xfs[index].get("fillId", "0"))
        fills = self.lists["fills"]
        if fill_id >= len(fills):
            return None
        pattern = fills[fill_id].find(q("patternFill"))
        if pattern is None or pattern.get("patternType") != "solid":
            return None
        colour = pattern.find(q("fgColor"))
        rgb = colour.get("rgb") if colour is not None else None
        return rgb[-6:].upper() if rgb else None

    def to_bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                              standalone=True)


def _element(style: Any) -> etree._Element:
    """An openpyxl style object as an lxml element in the main namespace."""
    return etree.fromstring(_element_xml(style))


@functools.lru_cache(maxsize=256)
def _element_xml(style: Any) -> bytes:
    # openpyxl's style objects compare and hash by value; the same few are serialised
    # for every unit's styles part.
    element = etree.fromstring(tostring(style.to_tree()))
    for e in element.iter():
        if isinstance(e.tag, str) and not e.tag.startswith("{"):
            e.tag = q(e.tag)
    return bytes(etree.tostring(element))


def _key(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n")


# -- a table tab ----------------------------------------------------------------------------


class Sheet:
    """A worksheet part, with its cells found by (row, column)."""

    def __init__(self, xml: bytes, strings: list[str]) -> None:
        self.root = etree.fromstring(xml)
        self.strings = strings
        self.data = self.root.find(q("sheetData"))
        if self.data is None:
            raise PatchUnsupported("no sheetData")
        self.rows: dict[int, etree._Element] = {}
        self.cells: dict[tuple[int, int], etree._Element] = {}
        # Sorted row numbers and each row's sorted columns: where a new cell goes, found by
        # bisection (a tab of 50,000 rows gets 50,000 status cells).
        self.row_numbers: list[int] = []
        self.columns: dict[int, list[int]] = {}
        for row in self.data.iterchildren(q("row")):
            r = row.get("r")
            if r is None:
                raise PatchUnsupported("a row without its number")
            number = int(r)
            self.rows[number] = row
            self.row_numbers.append(number)
            columns = self.columns.setdefault(number, [])
            for c in row.iterchildren(q("c")):
                ref = c.get("r")
                if ref is None:
                    raise PatchUnsupported("a cell without its coordinate")
                row_number, col = _row_col(ref)
                if row_number != number:
                    raise PatchUnsupported("a cell outside its row")
                self.cells[(number, col)] = c
                columns.append(col)
            if columns != sorted(columns):
                raise PatchUnsupported("cells out of order")
        if self.row_numbers != sorted(self.row_numbers):
            raise PatchUnsupported("rows out of order")

    def text(self, row: int, col: int) -> str:
        c = self.cells.get((row, col))
        if c is None:
            return ""
        kind = c.get("t")
        if kind == "inlineStr":
            return "".join(t.text or "" for t in c.iter(q("t")))
        v = c.find(q("v"))
        if v is None or v.text is None:
            return ""
        if kind == "s":
            return self.strings[int(v.text)]
        return v.text

    def style(self, c: etree._Element) -> int:
        return int(c.get("s", "0"))

    def cell(self, row: int, col: int) -> etree._Element:
        """The cell, made (in order, in its row, made in order too) when missing."""
        found = self.cells.get((row, col))
        if found is not None:
            return found
        line = self.rows.get(row)
        if line is None:
            line = etree.Element(q("row"), r=str(row))
            at = bisect.bisect_left(self.row_numbers, row)
            if at:
                self.rows[self.row_numbers[at - 1]].addnext(line)
            else:
                self.data.insert(0, line)
            self.rows[row] = line
            self.row_numbers.insert(at, row)
            self.columns[row] = []
        line.attrib.pop("spans", None)  # a hint about the row's cells; no longer true
        c = etree.Element(q("c"), r=f"{get_column_letter(col)}{row}")
        columns = self.columns[row]
        at = bisect.bisect_left(columns, col)
        if at:
            self.cells[(row, columns[at - 1])].addnext(c)
        else:
            line.insert(0, c)
        columns.insert(at, col)
        self.cells[(row, col)] = c
        return c

    def to_bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8",
                              standalone=True)


@functools.lru_cache(maxsize=1 << 16)
def _row_col(ref: str) -> tuple[int, int]:
    """(row, column) of a cell reference: the same few thousand references come back in
    every unit's tabs, and parsing them was a fifth of reading a tab's cells."""
    letters, row = coordinate_from_string(ref)
    return row, column_index_from_string(letters)


def _set_text(c: etree._Element, text: str) -> bool:
    """The cell holds `text` as an inline string; True when it needs quotePrefix."""
    _clear_value(c)
    c.set("t", "inlineStr")
    t = etree.SubElement(etree.SubElement(c, q("is")), q("t"))
    t.text = text
    t.set(_XML_SPACE, "preserve")
    return text.startswith(_FORMULA_START)


def _clear_value(c: etree._Element) -> None:
    if c.find(q("f")) is not None:
        raise PatchUnsupported("a formula where the software writes")
    for child in list(c):
        c.remove(child)
    c.attrib.pop("t", None)


def _flag_tab(sheet: Sheet, flags: TabFlags, styles: StyleBook, notes: Notes) -> None:
    """flags._flag_tab on the sheet XML."""
    header_row = flags.layout.header_row
    status_col = _status_column(sheet, flags)
    notes.drop_ours()
    for (row, col), c in list(sheet.cells.items()):
        if row <= header_row:
            continue
        if col == status_col:
            _clear_value(c)
            c.set("s", str(styles.xf(sheet.style(c), font=OWNED_FONT, fill=OWNED_FILL)))
        elif styles.fill_rgb(sheet.style(c)) in OWNED_RGB:
            c.set("s", str(styles.xf(sheet.style(c), fill=NO_FILL)))
    if status_col is None:
        return
    for row, text in flags.row_status.items():
        if row <= header_row:
            continue
        c = sheet.cell(row, status_col)
        quote = _set_text(c, clean_text(text))
        font, fill = STATUS_STYLES[flags.row_severity.get(row)]
        c.set("s", str(styles.xf(sheet.style(c), font=font, fill=fill, quote_prefix=quote)))
    for (row, col), mark in flags.cell_marks.items():
        if row < 1 or col < 1:
            continue
        c = sheet.cell(row, col)
        notes.add(c.get("r"), mark.note)
        if row > header_row and col != status_col:
            fill = MARK_FILL[Severity(mark.severity)]
            c.set("s", str(styles.xf(sheet.style(c), fill=fill)))


def _status_column(sheet: Sheet, flags: TabFlags) -> int | None:
    header_row = flags.layout.header_row
    wanted = fold(STATUS_TITLE)
    guess = flags.layout.status_col
    if guess is not None and fold(sheet.text(header_row, guess)) == wanted:
        return guess
    for row, col in sorted(sheet.cells):
        if row == header_row and fold(sheet.text(row, col)) == wanted:
            return col
    return None


# -- the "Kiểm tra" tab ---------------------------------------------------------------------


def _check_tab(plan: FlagPlan, titles: dict[tuple[str, str], tuple[str, int]],
               real_titles: dict[str, str], check_title: str,
               old: etree._Element, styles: StyleBook) -> tuple[bytes, list]:
    """The check tab's new XML (its styles added to `styles`) and its defined names."""
    with _SCRATCH_LOCK:
        scratch = _scratch(tuple(dict.fromkeys(real_titles.values())))
        scratch.shared_strings = IndexedList()  # this tab's strings only
        ws = scratch.create_sheet(check_title)
        try:
            return _fill_check_tab(scratch, ws, plan, titles, check_title, old, styles)
        finally:
            scratch.remove(ws)


_SCRATCH_LOCK = threading.Lock()


@functools.lru_cache(maxsize=8)
def _scratch(titles: tuple[str, ...]) -> Workbook:
    """A workbook of empty tabs with these titles, where the check tab is written (its links
    find their tabs there). Made once per set of titles and reused, the check tab removed
    after each use: a new workbook and its tabs cost more than the check tab itself. Only
    styles are left behind, a handful of combinations, found again by index."""
    scratch = Workbook()
    scratch.remove(scratch.active)
    for title in titles:
        scratch.create_sheet(title)
    return scratch


def _fill_check_tab(scratch: Workbook, ws: Worksheet, plan: FlagPlan,
                    titles: dict[tuple[str, str], tuple[str, int]], check_title: str,
                    old: etree._Element, styles: StyleBook) -> tuple[bytes, list]:
    view = old.find(f"{q('sheetViews')}/{q('sheetView')}")
    if view is not None and view.get("tabSelected") is not None:
        ws.sheet_view.tabSelected = view.get("tabSelected") in ("1", "true")
    write_check_tab(scratch, plan, titles, ws)
    writer = WorksheetWriter(ws, io.BytesIO())
    writer.write()
    root = etree.fromstring(writer.read())
    shared = list(scratch.shared_strings)
    remap: dict[int, int] = {}
    for c in root.iter(q("c")):
        if c.get("t") == "s":
            text = shared[int(c.find(q("v")).text)]
            c.remove(c.find(q("v")))
            _set_text(c, text)
        s = c.get("s")
        if s is not None:
            old_index = int(s)
            if old_index not in remap:
                remap[old_index] = _carry_style(scratch, old_index, styles)
            c.set("s", str(remap[old_index]))
    names = []
    quoted = quote_sheetname(check_title)
    if ws.auto_filter and ws.auto_filter.ref:
        names.append(("_xlnm._FilterDatabase", f"{quoted}!{ws.auto_filter}", True))
    if ws.print_titles:
        names.append(("_xlnm.Print_Titles", ws.print_titles, False))
    xml = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return xml, names


def _carry_style(scratch: Workbook, index: int, styles: StyleBook) -> int:
    array = scratch._cell_styles[index]
    if array.numFmtId >= 164:  # a custom number format: not carried over
        raise PatchUnsupported("a custom number format in the check tab")
    # Index 0 is the default: a cell made in the workbook itself would take the
    # workbook's own default font, fill and border, not openpyxl's.
    return styles.xf(
        0,
        font=scratch._fonts[array.fontId] if array.fontId else None,
        fill=scratch._fills[array.fillId] if array.fillId else None,
        border=scratch._borders[array.borderId] if array.borderId else None,
        alignment=scratch._alignments[array.alignmentId] if array.alignmentId else None,
        quote_prefix=bool(array.quotePrefix),
        number_format=array.numFmtId,
    )


def _with_defined_names(xml: bytes, sheet_index: int, names: list) -> bytes:
    """workbook.xml with the check tab's own defined names replaced by `names`."""
    root = etree.fromstring(xml)
    holder = root.find(q("definedNames"))
    if holder is not None:
        for name in list(holder):
            if name.get("localSheetId") == str(sheet_index):
                holder.remove(name)
    if names:
        if holder is None:
            holder = etree.Element(q("definedNames"))
            anchor = root.find(q("sheets"))
            anchor.addnext(holder)
        for name, value, hidden in names:
            element = etree.SubElement(holder, q("definedName"), name=name,
                                       localSheetId=str(sheet_index))
            if hidden:
                element.set("hidden", "1")
            element.text = value
    if holder is not None and len(holder) == 0:
        root.remove(holder)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
