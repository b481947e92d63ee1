"""`MasterWriter`, one part of GoogleBackend: the master made to show a MasterBook, writing
only what changed since the last write when it can (master_update.py), else every tab
(master.py: one batchUpdate, or parts and a swap)."""

from __future__ import annotations

import json
import logging
from typing import Any

from gspread.urls import SPREADSHEETS_API_V4_BASE_URL

from cchc_sync.sources.base import MasterBook, SheetRef
from cchc_sync.sources.google.cells import fixed_sheet_ids
from cchc_sync.sources.google.master import (
    MASTER_REQUEST_BYTES,
    MasterTab,
    json_size,
    master_batches,
    master_tab_titles,
    master_tabs,
)
from cchc_sync.sources.google.master_spool import encode_body
from cchc_sync.sources.google.master_update import marker_reset, master_shape, update_requests
from cchc_sync.sources.google.reasons import unreachable_reason
from cchc_sync.sources.google.transport import (
    GoogleApiError,
    GoogleTransport,
    GoogleUnavailable,
    sheet_tabs,
)

log = logging.getLogger(__name__)

JSON_TYPE = "application/json; charset=UTF-8"

META_FIELDS = "sheets.properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount))"


class MasterWriter:
    """Writes masters through one transport.

    Keeps one speed cache whose loss changes no result: a master's tab ids when a person
    re-made a tab (else each write would be refused once and repeated after a metadata
    read; a restart costs exactly that once)."""

    def __init__(self, transport: GoogleTransport, *,
                 request_bytes: int = MASTER_REQUEST_BYTES) -> None:
        """`request_bytes`: JSON bytes one master batchUpdate may take; a larger master is
        written in parts (master.master_batches)."""
        self.transport = transport
        self.request_bytes = request_bytes
        self._tab_ids: dict[str, dict[str, int]] = {}

    def write_master(self, sheet: SheetRef, book: MasterBook) -> bool:
        """Every master tab rewritten (update_master with no shape)."""
        return self.update_master(sheet, book, None) is not None

    def update_master(self, sheet: SheetRef, book: MasterBook, shape: str | None
                      ) -> str | None:
        """The master made to show the book: only what changed since the master of `shape`
        when its tabs are laid out alike (master_update.py), else every tab rewritten:
        one atomic batchUpdate when it fits `request_bytes`, else the rows in parts
        into hidden tabs and one batchUpdate swapping them in (master.master_batches).
        Returns the new shape; None (logged) when it cannot be written now, the old master
        left whole; the next cycle writes it all again."""
        sid = sheet.ref
        titles = master_tab_titles(list(book.tabs))
        ids = self._tab_ids.get(sid) or fixed_sheet_ids(titles)
        tabs = master_tabs(book, ids)
        try:
            # The shape spools every row; the write below takes them back from there.
            new = master_shape(tabs)
            try:
                if self._write_changes(sid, tabs, shape, new):
                    return json.dumps(new, separators=(",", ":"))
                for requests in master_batches(book, ids, budget=self.request_bytes,
                                               tail=marker_reset(new), tabs=tabs):
                    self._send(sid, requests)
            except GoogleApiError as exc:
                if exc.status != 400:
                    raise
                log.info("master %s: tabs differ from the book (%s); reading its tabs", sid,
                         exc.message)
                # The marker goes with the tabs' rewrite (the same batchUpdates).
                new = self._write_after_metadata(sid, book, titles)
        except GoogleApiError as exc:
            log.error("master %s not written: %s", sid, unreachable_reason(sid, exc))
            return None
        except GoogleUnavailable as exc:
            log.warning("master %s not written this cycle: %s", sid, exc)
            return None
        finally:
            for tab in tabs:
                tab.spool.close()
        return json.dumps(new, separators=(",", ":"))

    def _send(self, sid: str, requests: list[dict[str, Any]]) -> None:
        """One batchUpdate of a whole rewrite: its spooled rows go into the body as the
        JSON they are (master_spool.encode_body), not decoded and encoded again."""
        self.transport.request("post", f"{SPREADSHEETS_API_V4_BASE_URL}/{sid}:batchUpdate",
                               data=encode_body(requests), headers={"Content-Type": JSON_TYPE})

    def _write_changes(self, sid: str, tabs: list[MasterTab], shape: str | None,
                       new: dict[str, Any]) -> bool:
        """Write only the difference from the master of `shape` in one batchUpdate; False
        when the master is to be rewritten whole instead (master_update.py). A 400
        (the marker already there: this very difference applied before its answer was
        lost; or a tab a person deleted) is raised for the whole rewrite to follow."""
        try:
            old = json.loads(shape) if shape else None
        except ValueError:
            old = None
        requests = update_requests(tabs, old, new)
        if requests is None or json_size({"requests": requests}) > self.request_bytes:
            return False
        if requests:
            self.transport.batch_update(sid, {"requests": requests})
        return True

    def _write_after_metadata(self, sid: str, book: MasterBook, titles: list[str]
                              ) -> dict[str, Any]:
        """Every tab rewritten after one metadata read: the tabs a person deleted made
        again (ids clear of every id in use), the ones the book no longer has deleted.
        Returns the shape written."""
        props = [s.get("properties", {}) for s in sheet_tabs(self.transport, sid, META_FIELDS)]
        existing = {p.get("title", ""): int(p.get("sheetId", 0)) for p in props}
        used = set(existing.values())
        fixed = fixed_sheet_ids(titles)
        ids: dict[str, int] = {}
        adds: list[dict[str, Any]] = []
        for title in titles:
            if title in existing:
                ids[title] = existing[title]
                continue
            new_id = fixed[title]
            while new_id in used:
                new_id += 1
            used.add(new_id)
            ids[title] = new_id
            adds.append({"addSheet": {"properties": {"sheetId": new_id, "title": title}}})
        # Tabs the book no longer has go, after the new ones exist (a sheet keeps one tab);
        # staging tabs a write in parts left behind go first (master_batches).
        stale = {t: i for t, i in existing.items() if t not in ids}
        tabs = master_tabs(book, ids)
        try:
            shape = master_shape(tabs)
            for requests in master_batches(book, ids, budget=self.request_bytes,
                                           first=adds, stale=stale, taken=used,
                                           tail=marker_reset(shape), tabs=tabs):
                self._send(sid, requests)
        finally:
            for tab in tabs:
                tab.spool.close()
        self._tab_ids[sid] = ids
        return shape
