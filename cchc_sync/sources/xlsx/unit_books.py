"""Many unit workbooks from one template set at about the cost of one.

`init` makes one workbook per unit from the same templates and period, and openpyxl
building and saving each (~150 ms of CPU) was most of `init`. Of a unit's .xlsx only
three parts depend on the unit: the instructions tab (its "Đơn vị: …" line), the hidden
"_cchc" tab (unit code, name, creation time) and docProps/core.xml (the file's times).
Everything else (the table tabs, their notes and validations, styles, the workbook part)
is a function of the templates and the period.

So the first unit's workbook is built and saved whole and kept as a *prototype*; each
further unit's file is the prototype's parts with those three re-rendered for the unit:
the instructions tab in a fresh workbook (it is the first tab written, so its cells get
the same style ids as in a whole build), "_cchc" by rewriting its key/value cells in the
prototype's own sheet (it also holds the templates' long choice lists), the core
properties of that fresh workbook. The result has the same parts, byte for byte, as a
whole build (tests/test_unit_books.py), and the prototype proves it of itself before it
is used: its own unit's parts, made this way, must equal the whole build's, else every
unit is built whole.

A unit whose code or name set_text would mark as text (a leading "=", "+", "-", "@": a
style of its own, which shifts every later style id) is built whole, as is a workbook
with carried-forward rows.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import zipfile
from dataclasses import dataclass

from openpyxl.workbook import Workbook
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.xml.functions import tostring

from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import INSTRUCTIONS_TAB, META_TAB
from cchc_sync.sources.sheet_text import meta_values
from cchc_sync.sources.xlsx.common import clean_text, set_text, workbook_bytes
from cchc_sync.sources.xlsx.unit_book import build_unit_workbook, write_instructions

log = logging.getLogger(__name__)

_CORE = "docProps/core.xml"
_TIMES = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")
_QUOTED = ("=", "+", "-", "@")


@dataclass(slots=True)
class _Prototype:
    templates: TemplateSet
    period: Period
    book: Workbook
    parts: list[tuple[zipfile.ZipInfo, bytes]]
    """The whole build's zip entries and parts, in their order."""
    instructions_part: str
    meta_part: str
    usable: bool = False


class UnitBooks:
    """Unit workbooks as .xlsx bytes, made from a prototype of the same templates and
    period when there is one (one per maker: the last template set and period used)."""

    def __init__(self) -> None:
        self._prototype: _Prototype | None = None
        self.whole = self.patched = 0
        """Counters: workbooks built whole, and made from the prototype."""

    def make(self, unit: Unit, period: Period, templates: TemplateSet,
             created_at: dt.datetime) -> bytes:
        """The unit's new workbook for the period, as build_unit_workbook saves it."""
        proto = self._prototype
        if not _plain(unit):
            return self._whole(unit, period, templates, created_at)
        if proto is not None and proto.templates is templates and proto.period == period:
            if proto.usable:
                self.patched += 1
                return _assemble(proto, unit, period, templates, created_at)
            return self._whole(unit, period, templates, created_at)
        book = build_unit_workbook(unit, period, templates, created_at=created_at)
        data = workbook_bytes(book)
        self.whole += 1
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            parts = [(info, zf.read(info)) for info in zf.infolist()]
        # Sheet parts are numbered by position (openpyxl names them so on save).
        names = [ws.title for ws in book.worksheets]
        proto = _Prototype(
            templates, period, book, parts,
            instructions_part=f"xl/worksheets/sheet{names.index(INSTRUCTIONS_TAB) + 1}.xml",
            meta_part=f"xl/worksheets/sheet{names.index(META_TAB) + 1}.xml")
        mine = _assemble(proto, unit, period, templates, created_at)
        proto.usable = _same_parts(mine, data)
        if not proto.usable:
            log.warning("unit workbooks: the prototype's parts differ from a whole build; "
                        "every workbook is built whole")
        self._prototype = proto
        return data

    def _whole(self, unit: Unit, period: Period, templates: TemplateSet,
               created_at: dt.datetime) -> bytes:
        self.whole += 1
        return workbook_bytes(build_unit_workbook(unit, period, templates,
                                                  created_at=created_at))


def _plain(unit: Unit) -> bool:
    """True when no text of the unit would be stored quote-prefixed (a style of its own)."""
    return not any(clean_text(text).startswith(_QUOTED) for text in (unit.code, unit.name))


def _assemble(proto: _Prototype, unit: Unit, period: Period, templates: TemplateSet,
              created_at: dt.datetime) -> bytes:
    fresh = Workbook()
    instructions = fresh.active
    instructions.title = INSTRUCTIONS_TAB
    write_instructions(instructions, unit, period, templates)
    instructions.sheet_view.tabSelected = True
    meta = proto.book[META_TAB]
    for row, (key, value) in enumerate(meta_values(unit, period, templates, created_at),
                                       start=1):
        set_text(meta.cell(row=row, column=1), key)
        set_text(meta.cell(row=row, column=2), value)
    own = {proto.instructions_part: _sheet_xml(instructions),
           proto.meta_part: _sheet_xml(meta),
           _CORE: tostring(fresh.properties.to_tree())}
    out = io.BytesIO()
    now = dt.datetime.now().timetuple()[:6]
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        for was, data in proto.parts:
            # As openpyxl writes an entry, timed now (a sheet's attributes are its temporary
            # file's).
            info = zipfile.ZipInfo(was.filename, date_time=now)
            info.compress_type, info.external_attr = zipfile.ZIP_DEFLATED, was.external_attr
            zf.writestr(info, own.get(was.filename, data))
    return out.getvalue()


def _sheet_xml(ws: Worksheet) -> bytes:
    # Writing a sheet leaves its columns' outline level behind (openpyxl writes it into
    # the next write's sheetFormatPr): as before its first write.
    ws.column_dimensions.max_outline = None
    writer = WorksheetWriter(ws, out=io.BytesIO())
    writer.write()
    return writer.read()


def _same_parts(a: bytes, b: bytes) -> bool:
    """Two .xlsx files hold the same parts (the file times in core.xml aside)."""
    with zipfile.ZipFile(io.BytesIO(a)) as za, zipfile.ZipFile(io.BytesIO(b)) as zb:
        if za.namelist() != zb.namelist():
            return False
        for name in za.namelist():
            x, y = za.read(name), zb.read(name)
            if name == _CORE:
                x, y = _TIMES.sub(b"", x), _TIMES.sub(b"", y)
            if x != y:
                return False
    return True
