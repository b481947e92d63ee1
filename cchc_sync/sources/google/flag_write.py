"""`GoogleBackend.write_flags`: one checked batchUpdate per unit, and what follows when a
person edited the sheet between our read and our write (rows.py).

Order of defences, cheapest first:

1. once per cycle, one Drive listing before the first flag write: a sheet whose version
   moved since its read gets no flags now (they wait for the next read);
2. in the write itself, the status-column anchors' compare-and-swap: a column moved in
   the seconds since that listing makes Google refuse the whole write;
3. in the write's response, the rows as the write found them: rows that moved (sorted,
   inserted, deleted) get their flags moved by one more write, at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from cchc_sync.sources.base import (
    CHECK_TAB,
    META_TAB,
    FlagPlan,
    OwnWrite,
    ReadBasis,
    SheetRef,
    UnitUnreachable,
)
from cchc_sync.sources.google.basis import flag_basis
from cchc_sync.sources.google.cells import (
    META_RANGE_ROWS,
    STATE_KEY,
    FlagState,
    find_title,
    fixed_sheet_ids,
    quote_title,
    unit_tab_titles,
)
from cchc_sync.sources.google.drive import GONE_REASON, OWN_WRITE, DriveFolder, listed_as
from cchc_sync.sources.google.flag_body import body_json
from cchc_sync.sources.google.flag_requests import SheetInfo, flag_requests
from cchc_sync.sources.google.read import read_meta
from cchc_sync.sources.google.reasons import unit_errors
from cchc_sync.sources.google.rows import (
    ANCHOR_FIELDS,
    MAX_MOVES,
    RESPONSE_FIELDS,
    TabPrint,
    anchor_requests,
    anchored,
    anchors_moved,
    follow_marks,
    is_still,
    mark_digests,
    moved_plan,
    prints_after,
    response_ranges,
    row_moves,
    unflagged_plan,
    unmoved,
)
from cchc_sync.sources.google.transport import GoogleApiError, GoogleTransport
from cchc_sync.sources.google.unit_sheet import UnitSheets, grid_rows, unit_sheet_ids

log = logging.getLogger(__name__)

SHEETS = SPREADSHEETS_API_V4_BASE_URL

def own_token(listed: Mapping[str, Any], basis: ReadBasis, state: FlagState
              ) -> OwnWrite | str:
    """What our flag write leaves, when it was one batchUpdate on a sheet listed at the
    version its read saw (nobody had edited since the read) and found every row read where
    it was: the version that write makes (Drive's `version` goes up by one per change,
    every change counted), to be believed only with our own account as the last modifier
    (drive.listed_as). A person's edit after our write makes them the last modifier; one
    between the listing and our write makes the version go further than one. Either way
    the sheet is read again, as before. The basis to keep is the read's with the flag state
    this write left in "_cchc"."""
    try:
        token = f"{OWN_WRITE}{int(str(listed.get('version'))) + 1}"
    except ValueError:
        return ""  # not Drive's numbering: read it again
    return OwnWrite(token, basis.with_detail(state=state.to_json()))


class ColumnsMoved(Exception):
    """A status column is not where the read saw it: nothing was written."""


class FlagWriter:
    """The flag write of the Google backend: the plan in one checked batchUpdate per unit,
    after the cycle's one Drive listing says nobody edited since the read."""

    def __init__(self, transport: GoogleTransport, drive: DriveFolder, sheets: UnitSheets, *,
                 own_writes_provable: bool = False) -> None:
        """`own_writes_provable`: no person edits as the account the software acts as (a
        service account of its own, not the coordinator's sign-in nor delegation), so
        Drive's `lastModifyingUser.me` can tell our own flag write from a person's edit
        (`own_token`)."""
        self.transport = transport
        self.drive = drive
        self.sheets = sheets
        self.own_writes_provable = own_writes_provable

    def write_flags(self, sheet: SheetRef, plan: FlagPlan, expect_token: str | None,
                    basis: ReadBasis | None = None) -> str | None:
        """The plan in one checked batchUpdate. Returns None (nothing written) when the
        sheet changed since `expect_token` or a status column moved; else "" (the version
        after our own write is not known without one more request: the next cycle re-reads
        the sheet once and finds its content unchanged, and brings a new basis).
        `basis`: the read's (google_basis.py); without one, the flag state is read from
        "_cchc" first (one more request) and moved rows are not followed."""
        sid = sheet.ref
        known = flag_basis(basis, sid)
        prints = known.prints if known is not None else {}
        with unit_errors(sid, "Google chưa trả lời khi ghi kết quả kiểm tra vào {sid}: {exc}"):
            listed = None
            if expect_token is not None:
                listed = self.drive.listed_file(sid)
                if listed is None:
                    raise UnitUnreachable(GONE_REASON.format(id=sid))
                if not listed_as(listed, expect_token):
                    log.info("%s changed since it was read (version %s, read %s); flags not "
                             "written", sid, listed.get("version"), expect_token)
                    return None
            previous = known.state if known is not None else self._read_state(sid)
            ids = self._unit_ids(plan, previous)
            previous = follow_marks(previous, plan, ids, prints)
            # A tab the read did not find gets no marks (as in the local backend): its id
            # may now hold something else.
            for flags_key, flags in plan.tabs.items():
                if known is not None and flags_key in known.missing:
                    ids.pop(flags.tab, None)
            titles = self._column_titles(plan, known.headers if known is not None else {})
            made = {}
            templates = self.sheets.templates
            if templates is not None:
                made = {ids[s.tab]: grid_rows(s, self.sheets.data_rows)
                        for s in templates.tables.values() if s.tab in ids}
            try:
                try:
                    state, answer = self._checked_write(
                        sid, plan, previous, ids, titles, prints, grid_rows=made)
                except GoogleApiError as exc:
                    if exc.status != 400:
                        raise
                    log.info("%s: flag write refused (%s); reading its tabs and trying again",
                             sid, exc.message)
                    state, answer, ids = self._write_flags_after_metadata(
                        sid, plan, previous, titles, prints)
            except ColumnsMoved as exc:
                log.info("%s: %s; flags wait for the next read", sid, exc)
                return None
            followed = self._follow_rows(sid, plan, state, answer, ids, titles, made, prints)
        self.drive.wrote(sid)
        if listed is not None and basis is not None and known is not None and \
                followed is state and self.own_writes_provable:
            return own_token(listed, basis, state)
        return ""

    # -- the checked write ------------------------------------------------------------------

    def _checked_write(self, sid: str, plan: FlagPlan, previous: FlagState,
                       ids: Mapping[str, int], titles: Mapping[tuple[str, str], str],
                       basis: Mapping[str, TabPrint], *,
                       grid_rows: Mapping[int, int] | None = None,
                       info: Mapping[int, SheetInfo] | None = None,
                       extra: list[dict[str, Any]] | None = None,
                       ) -> tuple[FlagState, dict[str, Any]]:
        """One batchUpdate: the anchors' compare-and-swap, then the flags; the answer holds
        the rows of every tab whose read was printed, as the write left them. `basis`: the
        rows the plan's row numbers refer to (the read's prints, or the rows a previous
        write of this call found)."""

        def finish(state: FlagState) -> None:
            state.anchored = sorted(set(previous.anchored) | set(anchored(plan, ids)))
            state.mark_rows = mark_digests(state.marks, plan, ids, basis)

        requests, state = flag_requests(plan, ids=ids, previous=previous, titles=titles,
                                        grid_rows=grid_rows, info=info, finish=finish)
        limits = grid_rows or {}
        if info is not None:
            limits = {k: v.rows for k, v in info.items()}
        ranges = response_ranges(plan, basis, ids, limits)
        body: dict[str, Any] = {
            "requests": [*(extra or []), *anchor_requests(plan, ids, previous), *requests]}
        # prettyPrint=false: the answer holds the tabs' cells, about three times the bytes
        # with Google's indents.
        params = {"prettyPrint": "false"}
        if ranges:
            body.update(includeSpreadsheetInResponse=True, responseRanges=ranges,
                        responseIncludeGridData=True)
            params["fields"] = RESPONSE_FIELDS
        # By hand, not gspread's batch_update: the answer's `fields` mask is a query
        # parameter, which that method does not take.
        answer = self.transport.call("POST", f"{SHEETS}/{sid}:batchUpdate",
                                     body=body_json(body), params=params)
        return state, answer

    def _follow_rows(self, sid: str, plan: FlagPlan, state: FlagState, answer: dict[str, Any],
                     ids: Mapping[str, int], titles: Mapping[tuple[str, str], str],
                     made: Mapping[int, int], prints: Mapping[str, TabPrint]) -> FlagState:
        """After a write: if rows moved since the read (`prints`), move the flags with them
        (or, when they keep moving or cannot be followed, take them off). Returns the state
        left."""
        before = dict(prints)
        if not before or self.sheets.templates is None or unmoved(answer, plan, ids, before):
            return state
        specs = self.sheets.templates.tables
        for attempt in range(MAX_MOVES + 1):
            after = prints_after(answer, plan, ids, specs)
            moves = {key: row_moves(tab, after.get(key)) for key, tab in before.items()
                     if key in plan.tabs}
            if all(is_still(m, before[k]) for k, m in moves.items()):
                return state
            log.info("%s: rows moved between the read and the flag write; moving the flags "
                     "(attempt %d)", sid, attempt + 1)
            if attempt == MAX_MOVES or any(m is None for m in moves.values()):
                break
            plan = moved_plan(plan, {k: m for k, m in moves.items() if m is not None})
            before = {k: v for k, v in after.items() if v is not None}
            state, answer = self._checked_write(sid, plan, state, ids, titles, before,
                                                grid_rows=made)
        # Cannot follow: take every flag off the tabs' rows (the notes and colours of the
        # template columns' data area are cleared wholesale, statuses blanked); the
        # findings stay listed in "Kiểm tra"; the next read puts the flags back.
        log.warning("%s: rows keep moving or columns changed during the flag write; flags "
                    "taken off until the next read", sid)
        cleared = FlagState(marks=state.marks, status_rows=state.status_rows, ids=state.ids,
                            overflow=True, anchored=state.anchored)
        state, _ = self._checked_write(sid, unflagged_plan(plan), cleared, ids, titles, {},
                                       grid_rows=made)
        return state

    # -- helpers ----------------------------------------------------------------------------

    def _read_state(self, sid: str) -> FlagState:
        """The flag state in "_cchc" (one read; only for a write without a basis: an
        archive kept before bases were)."""
        data = self.transport.values_get(sid, f"{quote_title(META_TAB)}!A1:B{META_RANGE_ROWS}",
                                         params={"valueRenderOption": "UNFORMATTED_VALUE"})
        meta = read_meta(data.get("values"))
        return FlagState.from_json(meta[STATE_KEY]) if STATE_KEY in meta else FlagState()

    def _unit_ids(self, plan: FlagPlan, state: FlagState) -> dict[str, int]:
        if self.sheets.templates is not None:
            ids = unit_sheet_ids(self.sheets.templates)
        else:
            tabs = [t.tab for t in plan.tabs.values()]
            ids = fixed_sheet_ids(unit_tab_titles(tabs))
        ids.update(state.ids)
        return ids

    def _column_titles(self, plan: FlagPlan, headers: Mapping[tuple[str, str], str]
                       ) -> dict[tuple[str, str], str]:
        """(table key, column key) -> title: the template's, overridden by the headers the
        read saw (the basis)."""
        titles: dict[tuple[str, str], str] = {}
        if self.sheets.templates is not None:
            for spec in self.sheets.templates.tables.values():
                for col in spec.columns:
                    titles[(spec.key, col.key)] = col.title
        titles.update(headers)
        return titles

    def _write_flags_after_metadata(self, sid: str, plan: FlagPlan, previous: FlagState,
                                    titles: Mapping[tuple[str, str], str],
                                    prints: Mapping[str, TabPrint],
                                    ) -> tuple[FlagState, dict[str, Any], dict[str, int]]:
        """The write again after one metadata read: tab ids and sizes as they are now, and
        where the status-column anchors are (ColumnsMoved when one moved since the read)."""
        data = self.transport.fetch_sheet_metadata(sid, params={
            "fields": "sheets.properties(sheetId,title,index,hidden,gridProperties("
                      f"rowCount,columnCount)),{ANCHOR_FIELDS}",
            "includeGridData": "true"})
        sheets = list(data.get("sheets", []))
        props = [s.get("properties", {}) for s in sheets]
        by_title = {p.get("title", ""): p for p in props}
        info = {
            int(p.get("sheetId", 0)): SheetInfo(
                sheet_id=int(p.get("sheetId", 0)),
                rows=int(p.get("gridProperties", {}).get("rowCount", 0)),
                cols=int(p.get("gridProperties", {}).get("columnCount", 0)))
            for p in props
        }
        defaults = self._unit_ids(plan, FlagState())
        ids: dict[str, int] = {}
        extra: list[dict[str, Any]] = []
        wanted = [t.tab for t in plan.tabs.values()] + [CHECK_TAB, META_TAB]
        for tab in wanted:
            found = find_title(by_title, tab)
            if found is not None:
                ids[tab] = int(by_title[found].get("sheetId", 0))
            elif tab in (CHECK_TAB, META_TAB):
                # The software's own tab is gone: make it again with its fixed id.
                new_id = defaults[tab]
                while new_id in info:
                    new_id += 1
                extra.append({"addSheet": {"properties": {
                    "sheetId": new_id, "title": tab, "hidden": tab == META_TAB,
                    "gridProperties": {"rowCount": 50, "columnCount": 7}}}})
                info[new_id] = SheetInfo(sheet_id=new_id, rows=50, cols=7)
                ids[tab] = new_id
        moved = anchors_moved(sheets, plan, ids)
        if moved:
            raise ColumnsMoved(f"the status column of {', '.join(moved)} moved since the read")
        previous = FlagState(marks=previous.marks, status_rows=previous.status_rows,
                             overflow=previous.overflow, anchored=previous.anchored,
                             ids={t: i for t, i in ids.items() if defaults.get(t) != i})
        state, answer = self._checked_write(sid, plan, previous, ids, titles, prints, info=info,
                                            extra=extra)
        return state, answer, ids
