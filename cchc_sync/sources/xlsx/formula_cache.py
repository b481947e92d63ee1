"""Keeping the cached results of a clerk's formulas across an openpyxl round trip.

openpyxl loads a workbook either with formulas or with their cached results, never both,
and writes formulas with an empty result. After the software wrote flags, a reader of
cached values (ours, pandas, a viewer that does not recalculate) would see every formula
cell blank until a person saved the file again in Excel. So before writing, the cached
results are read once (streaming) and put back into the saved file's sheet XML.
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import zipfile
from pathlib import Path

from lxml import etree
from openpyxl import load_workbook
from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook import Workbook

from cchc_sync.sources.xlsx.zip_copy import replace_parts

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA"}

Caches = dict[str, dict[str, object]]
"""Sheet title -> cell coordinate -> cached result."""


def formula_cells(wb: Workbook) -> dict[str, set[str]]:
    """Coordinates of formula cells, by sheet title, in a workbook loaded with formulas."""
    out: dict[str, set[str]] = {}
    for ws in wb.worksheets:
        coords = {c.coordinate for c in ws._cells.values() if c.data_type == "f"}
        if coords:
            out[ws.title] = coords
    return out


def read_caches(path: Path, wanted: dict[str, set[str]]) -> Caches:
    """The cached results of the `wanted` cells of the file at `path` (one streaming pass
    over the sheets holding formulas)."""
    if not wanted:
        return {}
    wb = load_workbook(path, read_only=True, data_only=True)
    try:
        out: Caches = {}
        for title, coords in wanted.items():
            if title not in wb.sheetnames:
                continue
            ws = wb[title]
            ws.reset_dimensions()
            spots = [coordinate_to_tuple(c) for c in coords]
            last_row = max(r for r, _ in spots)
            last_col = max(c for _, c in spots)
            found: dict[str, object] = {}
            for row in ws.iter_rows(max_row=last_row, max_col=last_col):
                for cell in row:
                    coord = getattr(cell, "coordinate", None)
                    if coord in coords and cell.value is not None:
                        found[coord] = cell.value
            out[title] = found
        return out
    finally:
        wb.close()


def restore_caches(data: bytes, caches: Caches, epoch: dt.datetime) -> bytes:
    """`data` (an .xlsx written by openpyxl) with the cached results put back."""
    if not any(caches.values()):
        return data
    src = zipfile.ZipFile(io.BytesIO(data))
    parts = sheet_parts(src)
    patched: dict[str, bytes] = {}
    for title, values in caches.items():
        part = parts.get(title)
        if part and values:
            patched[part] = _patch_sheet(src.read(part), values, epoch)
    return replace_parts(data, src, patched)


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet title -> zip member of its XML, from the workbook part and its relationships."""
    book = etree.fromstring(zf.read("xl/workbook.xml"))
    rels = etree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels.iter(f"{{{_PKG_REL}}}Relationship")}
    out: dict[str, str] = {}
    for sheet in book.iter(f"{{{_MAIN}}}sheet"):
        target = targets.get(sheet.get(f"{{{_REL}}}id"))
        if not target:
            continue
        if target.startswith("/"):
            member = target.lstrip("/")
        else:
            member = posixpath.normpath(posixpath.join("xl", target))
        out[sheet.get("name")] = member
    return out


def _patch_sheet(xml: bytes, values: dict[str, object], epoch: dt.datetime) -> bytes:
    root = etree.fromstring(xml)
    for c in root.iter(f"{{{_MAIN}}}c"):
        coord = c.get("r")
        if coord not in values or c.find(f"{{{_MAIN}}}f") is None:
            continue
        kind, text = _encode(values[coord], epoch)
        v = c.find(f"{{{_MAIN}}}v")
        if v is None:
            v = etree.SubElement(c, f"{{{_MAIN}}}v")
        v.text = text
        if kind:
            c.set("t", kind)
        elif "t" in c.attrib:
            del c.attrib["t"]
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _encode(value: object, epoch: dt.datetime) -> tuple[str | None, str]:
    """(cell type attribute, text of <v>) for a cached result."""
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, int | float):
        return None, repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return None, repr(float(to_excel(value, epoch)))
    if isinstance(value, dt.timedelta):
        return None, repr(value.total_seconds() / 86400)
    text = str(value)
    return ("e" if text in _ERRORS else "str"), text
