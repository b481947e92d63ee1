"""`UnitReader`, one part of GoogleBackend: a unit's spreadsheet read in one request (the
turning of the answer into RawTables is read.py's), and the basis its flag write will need
(basis.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cchc_sync.domain.records import UnitRead
from cchc_sync.domain.templates import TableSpec, TemplateSet
from cchc_sync.sources.base import META_TAB, SheetRef
from cchc_sync.sources.google.basis import google_basis
from cchc_sync.sources.google.cells import META_RANGE_ROWS, STATE_KEY, find_title, quote_title
from cchc_sync.sources.google.read import (
    ALL_VALUES_FIELDS,
    VALUES_PARAMS,
    grid_values,
    read_meta,
    read_table,
)
from cchc_sync.sources.google.reasons import unit_errors
from cchc_sync.sources.google.transport import GoogleApiError, GoogleTransport, sheet_tabs

Rows = list[list[Any]]


class UnitReader:
    """Reads unit spreadsheets through one transport; keeps nothing between reads."""

    def __init__(self, transport: GoogleTransport) -> None:
        self.transport = transport

    def read_unit(self, unit: str, sheet: SheetRef, templates: TemplateSet) -> UnitRead:
        """Every template tab and "_cchc" in one values.batchGet (stored values; a cell shown
        as a date comes as what it shows: read.py); when a tab is missing or renamed (the
        batchGet names a tab that is not there: 400), every tab's grid data instead.
        The UnitRead's basis holds what the flag write needs from this read (basis.py).
        Raises UnitUnreachable when the sheet is gone, unshared or Google does not answer."""
        sid = sheet.ref
        specs = list(templates.tables.values())
        with unit_errors(sid, "Google chưa trả lời khi đọc bảng tính {sid}: {exc}; sẽ thử lại "
                              "ở lần kiểm tra sau"):
            try:
                ranges = self.value_ranges(sid, specs)
            except GoogleApiError as exc:
                if exc.status != 400:
                    raise
                ranges = self.all_values(sid, specs)
        tables = {spec.key: read_table(spec, ranges.get(spec.key)) for spec in specs}
        meta = read_meta(ranges.get(META_TAB))
        return UnitRead(unit=unit, tables=tables, template_version=meta.get("template_version"),
                        marks=meta, basis=google_basis(sid, tables, ranges, meta.get(STATE_KEY)))

    def value_ranges(self, sid: str, specs: Sequence[TableSpec]) -> dict[str, Rows | None]:
        """table key (or META_TAB) -> rows; None for a tab that does not exist. One
        values.batchGet: stored values, and a date, time or duration as the string its
        number format shows (a count Sheets turned into a date comes as "15/6", not as the
        serial 46,188: read.shown_date). A named tab that is not there: 400."""
        wanted: list[str] = [s.key for s in specs]
        ranges = [quote_title(s.tab) for s in specs]
        wanted.append(META_TAB)
        ranges.append(f"{quote_title(META_TAB)}!A1:B{META_RANGE_ROWS}")
        # prettyPrint=false: Google indents its JSON otherwise (about 4 times the bytes).
        # "ranges" first, as gspread fills it in place: the query reads as it always did.
        data = self.transport.values_batch_get(
            sid, ranges, params={"ranges": ranges, **VALUES_PARAMS, "prettyPrint": "false"})
        out: dict[str, Rows | None] = {s.key: None for s in specs}
        out[META_TAB] = None
        for key, vr in zip(wanted, data.get("valueRanges", []), strict=False):
            out[key] = vr.get("values", [])
        return out

    def all_values(self, sid: str, specs: Sequence[TableSpec]) -> dict[str, Rows | None]:
        """Every tab's stored values in one spreadsheets.get (grid data: values, what a date
        shows, format types; the rows values.batchGet would give), found by title ignoring
        case and tone placement."""
        data = sheet_tabs(self.transport, sid, ALL_VALUES_FIELDS)
        by_title = {s.get("properties", {}).get("title", ""): s for s in data}
        titles = {s.key: find_title(by_title, s.tab) for s in specs}
        out: dict[str, Rows | None] = {}
        for key, title in [*titles.items(), (META_TAB, find_title(by_title, META_TAB))]:
            out[key] = None if title is None else grid_values(by_title[title])
        return out
