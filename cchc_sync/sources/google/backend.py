"""The Google backend: unit spreadsheets and the master in Google Sheets, on gspread's
authorised HTTP session (service account), within Google's per-user quota.

Requests per operation (Sheets + Drive; OAuth token requests aside):

- create_unit_sheet: Drive files.create (in the folder) + 1 batchUpdate (tabs, headers,
  notes, formats, validation, protection, metadata) + 1 permission per unit e-mail;
- create_master: files.create + 1 batchUpdate + 1 permission per coordinator;
- scan: 1 Drive files.list for every sheet at once (a page per 1,000 files); token = Drive
  `version`, which goes up with every edit, whoever makes it;
- read_unit: 1 values.batchGet of every template tab and "_cchc" (stored values; dates,
  times and durations as the strings they show, read back as dates in count, percent and
  date columns); when a tab is missing or renamed, it is refused and 1 spreadsheets.get of
  every tab's grid data follows;
- write_flags: 1 batchUpdate (+ 1 files.list per cycle to check no one edited since the
  read, shared by every flag write of the cycle);
- update_master: 1 atomic batchUpdate of what changed since the last write (its rows, or
  every tab when the layout changed; google_master_update).

Tab ids are fixed at creation (google_cells.fixed_sheet_ids), so writes need no metadata;
a 400 caused by a tab a person deleted or re-made costs one metadata read and one retry.
See docs/google-backend.md for the budget, retries, limiter, scopes and known limits.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from cchc_sync.domain.config import ConfigError
from cchc_sync.domain.records import UnitRead
from cchc_sync.domain.templates import TemplateSet, load_template_set
from cchc_sync.sources.base import (
    META_TAB,
    MasterBook,
    ScanEntry,
    ScanState,
    SheetRef,
    SourceError,
    UnitUnreachable,
)
from cchc_sync.sources.google.api import (
    SHEETS,
    listed_as,
    log,
    permanent_reason,
    unreachable_reason,
)
from cchc_sync.sources.google.basis import google_basis
from cchc_sync.sources.google.cells import (
    META_RANGE_ROWS,
    SHEET_URL,
    STATE_KEY,
    find_title,
    fixed_sheet_ids,
    quote_title,
)
from cchc_sync.sources.google.client import (
    DEFAULT_SCOPES,
    READONLY_DRIVE_SCOPES,
    build_gspread_client,
)
from cchc_sync.sources.google.create import SheetMaker
from cchc_sync.sources.google.flag_write import GONE_REASON, FlagWriter
from cchc_sync.sources.google.master import json_size, master_batches, master_tabs
from cchc_sync.sources.google.master import master_tab_titles as _master_titles
from cchc_sync.sources.google.master_update import marker_reset, master_shape, update_requests
from cchc_sync.sources.google.read import (
    ALL_VALUES_FIELDS,
    VALUES_PARAMS,
    grid_values,
    read_meta,
    read_table,
)
from cchc_sync.sources.google.signin import build_credentials
from cchc_sync.sources.google.transport import GoogleApiError, GoogleUnavailable


class GoogleBackend(SheetMaker, FlagWriter):
    """Unit sheets and the master as Google spreadsheets in one Drive folder."""

    kind = "google"

    @classmethod
    def from_config(cls, config, **overrides: Any) -> GoogleBackend:
        """The backend of a workspace's [google] settings (credentials, folder, endpoint,
        coordinators, quota). `overrides`: constructor arguments to change (tests, demo)."""
        g = config.google
        if g.auth == "service_account" and not g.credentials:
            raise ConfigError(f"{config.path}: [google] credentials (the key file) is missing")
        # A folder a person made and shared with the service account is invisible with
        # drive.file alone: drive.readonly lets Drive see it (and list what is inside). The
        # coordinator's own sign-in keeps drive.file: the folder is one the app made.
        scopes = READONLY_DRIVE_SCOPES if g.folder and g.auth != "user" else DEFAULT_SCOPES
        client = build_gspread_client(
            None, g.endpoint or None, scopes=scopes, credentials=build_credentials(g, scopes)
        )
        endpoint = g.endpoint.rstrip("/")
        settings: dict[str, Any] = {
            "folder_id": g.folder,
            "coordinators": g.coordinators,
            "reads_per_minute": g.reads_per_minute,
            "writes_per_minute": g.writes_per_minute,
            "templates": load_template_set(config.templates_dir),
            # An emulator sends no mail; Google needs the e-mail for addresses without a
            # Google account.
            "notify": not endpoint,
            "sheet_url": f"{endpoint}/_fake/spreadsheets/{{id}}" if endpoint else SHEET_URL,
        }
        # Our own account edits nothing by hand only when it is a service account acting as
        # itself: the coordinator's sign-in or delegation acts as a person who may type.
        settings["own_writes_provable"] = g.auth == "service_account" and not g.subject
        settings.update(overrides)
        return cls(client, **settings)

    # -- scanning and reading ---------------------------------------------------------------

    def scan(self, sheets: Mapping[str, tuple[SheetRef, str | None]]) -> dict[str, ScanEntry]:
        """One Drive listing for every sheet: changed when its `version` differs from the
        token last seen; unreachable when it is not in the folder any more."""
        self._versions = None  # a new cycle: the next flag write checks versions afresh
        try:
            files, incomplete = self._listing()
        except GoogleUnavailable as exc:
            raise SourceError(f"Google Drive không trả lời: {exc}") from None
        except GoogleApiError as exc:
            permanent = permanent_reason(exc)
            if permanent:
                raise SourceError(permanent) from None
            if exc.status == 404 and self.folder_id:
                raise SourceError(
                    f"Không thấy thư mục Drive {self.folder_id!r}: đã bị xoá hoặc chưa chia sẻ "
                    "cho tài khoản dịch vụ") from None
            raise SourceError(f"Không liệt kê được các bảng tính trên Drive: {exc}") from None
        out: dict[str, ScanEntry] = {}
        for unit, (sheet, last_token) in sheets.items():
            f = files.get(sheet.ref)
            if f is None:
                if incomplete:  # Drive gave up early: read it and let the read tell
                    out[unit] = ScanEntry(state=ScanState.CHANGED)
                else:
                    out[unit] = ScanEntry(state=ScanState.UNREACHABLE,
                                          reason=GONE_REASON.format(id=sheet.ref))
                continue
            token = str(f.get("version", ""))
            state = ScanState.UNCHANGED if listed_as(f, last_token) else ScanState.CHANGED
            who = f.get("lastModifyingUser") or {}
            out[unit] = ScanEntry(state=state, token=token or None,
                                  modified_at=_rfc3339(f.get("modifiedTime")),
                                  modified_by=who.get("emailAddress") or who.get("displayName"))
        return out

    def read_unit(self, unit: str, sheet: SheetRef, templates: TemplateSet) -> UnitRead:
        """Every template tab and "_cchc" in one values.batchGet (stored values; a cell shown
        as a date comes as what it shows: google_read); when a tab is missing or renamed
        (the batchGet names a tab that is not there: 400), every tab's grid data instead.
        The UnitRead's basis holds what the flag write needs from this read (basis.py).
        Raises UnitUnreachable when the sheet is gone, unshared or Google does not answer."""
        sid = sheet.ref
        specs = list(templates.tables.values())
        try:
            try:
                ranges = self._value_ranges(sid, specs)
            except GoogleApiError as exc:
                if exc.status != 400:
                    raise
                ranges = self._all_values(sid, specs)
        except GoogleApiError as exc:
            raise UnitUnreachable(unreachable_reason(sid, exc)) from None
        except GoogleUnavailable as exc:
            raise UnitUnreachable(f"Google chưa trả lời khi đọc bảng tính {sid}: {exc}; sẽ thử "
                                  "lại ở lần kiểm tra sau") from None
        tables = {spec.key: read_table(spec, ranges.get(spec.key)) for spec in specs}
        meta = read_meta(ranges.get(META_TAB))
        return UnitRead(unit=unit, tables=tables, template_version=meta.get("template_version"),
                        marks=meta, basis=google_basis(sid, tables, ranges, meta.get(STATE_KEY)))

    def _all_values(self, sid: str, specs) -> dict[str, list[list[Any]] | None]:
        """Every tab's stored values in one spreadsheets.get (grid data: values, what a date
        shows, format types; the rows values.batchGet would give), found by title ignoring
        case and tone placement: (rows, titles)."""
        data = self._metadata(sid, ALL_VALUES_FIELDS)
        by_title = {s.get("properties", {}).get("title", ""): s for s in data}
        titles = {s.key: find_title(by_title, s.tab) for s in specs}
        out: dict[str, list[list[Any]] | None] = {}
        for key, title in [*titles.items(), (META_TAB, find_title(by_title, META_TAB))]:
            out[key] = None if title is None else grid_values(by_title[title])
        return out

    def _value_ranges(self, sid: str, specs) -> dict[str, list[list[Any]] | None]:
        """table key (or META_TAB) -> rows; None for a tab that does not exist. One
        values.batchGet: stored values, and a date, time or duration as the string its
        number format shows (a count Sheets turned into a date comes as "15/6", not as the
        serial 46,188: google_read.shown_date). A named tab that is not there: 400."""
        wanted: list[tuple[str, str]] = [(s.key, s.tab) for s in specs]
        ranges = [quote_title(t) for _, t in wanted]
        wanted.append((META_TAB, META_TAB))
        ranges.append(f"{quote_title(META_TAB)}!A1:B{META_RANGE_ROWS}")
        # prettyPrint=false: Google indents its JSON otherwise (about 4 times the bytes).
        data = self._call("GET", f"{SHEETS}/{sid}/values:batchGet",
                          params={"ranges": ranges, **VALUES_PARAMS, "prettyPrint": "false"},
                          what="values.batchGet")
        out: dict[str, list[list[Any]] | None] = {s.key: None for s in specs}
        out[META_TAB] = None
        for (key, _), vr in zip(wanted, data.get("valueRanges", []), strict=False):
            out[key] = vr.get("values", [])
        return out

    # -- writing ----------------------------------------------------------------------------

    def write_master(self, sheet: SheetRef, book: MasterBook) -> bool:
        """Every master tab rewritten (update_master with no shape)."""
        return self.update_master(sheet, book, None) is not None

    def update_master(self, sheet: SheetRef, book: MasterBook, shape: str | None
                      ) -> str | None:
        """The master made to show the book: only what changed since the master of `shape`
        when its tabs are laid out alike (google_master_update), else every tab rewritten:
        one atomic batchUpdate when it fits `master_request_bytes`, else the rows in parts
        into hidden tabs and one batchUpdate swapping them in (google_master.master_batches).
        Returns the new shape; None (logged) when it cannot be written now, the old master
        left whole; the next cycle writes it all again."""
        sid = sheet.ref
        titles = _master_titles(list(book.tabs))
        ids = self._master_ids.get(sid) or fixed_sheet_ids(titles)
        tabs = master_tabs(book, ids)
        new = master_shape(tabs)
        try:
            try:
                if self._write_master_changes(sid, tabs, shape, new):
                    return json.dumps(new, separators=(",", ":"))
                for requests in master_batches(book, ids, budget=self.master_request_bytes,
                                               tail=marker_reset(new), tabs=tabs):
                    self._batch_update(sid, requests)
            except GoogleApiError as exc:
                if exc.status != 400:
                    raise
                log.info("master %s: tabs differ from the book (%s); reading its tabs", sid,
                         exc.message)
                ids = self._write_master_after_metadata(sid, book, titles)
                new = master_shape(master_tabs(book, ids))
                # The marker went with the tabs' rewrite (the same batchUpdates).
        except GoogleApiError as exc:
            log.error("master %s not written: %s", sid, unreachable_reason(sid, exc))
            return None
        except GoogleUnavailable as exc:
            log.warning("master %s not written this cycle: %s", sid, exc)
            return None
        return json.dumps(new, separators=(",", ":"))

    def _write_master_changes(self, sid: str, tabs, shape: str | None,
                              new: dict[str, Any]) -> bool:
        """Write only the difference from the master of `shape` in one batchUpdate; False
        when the master is to be rewritten whole instead (google_master_update). A 400
        (the marker already there: this very difference applied before its answer was
        lost; or a tab a person deleted) is raised for the whole rewrite to follow."""
        try:
            old = json.loads(shape) if shape else None
        except ValueError:
            old = None
        requests = update_requests(tabs, old, new)
        if requests is None or json_size({"requests": requests}) > self.master_request_bytes:
            return False
        if requests:
            self._batch_update(sid, requests)
        return True

    def _write_master_after_metadata(self, sid: str, book: MasterBook, titles: list[str]
                                     ) -> dict[str, int]:
        props = [s.get("properties", {}) for s in self._metadata(sid)]
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
        for requests in master_batches(book, ids, budget=self.master_request_bytes,
                                       first=adds, stale=stale, taken=used,
                                       tail=marker_reset(master_shape(tabs)), tabs=tabs):
            self._batch_update(sid, requests)
        self._master_ids[sid] = ids
        return ids


def _rfc3339(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
