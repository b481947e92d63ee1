"""The Drive folder: listing it (the scan, and the version check before flag writes),
creating a spreadsheet in it, sharing one, deleting a half-made one.

gspread has no fitting method for these (its `list_spreadsheet_files` asks no `version`,
no `modifiedTime >` filter, no `incompleteSearch`; `insert_permission` sends Drive v2's
`withLink` to v3): they are sent by hand through the transport (docs/google-backend.md).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL

from cchc_sync.sources.base import ScanEntry, ScanState, SheetRef, SourceError
from cchc_sync.sources.google.reasons import permanent_reason
from cchc_sync.sources.google.transport import GoogleApiError, GoogleTransport, GoogleUnavailable

log = logging.getLogger(__name__)

DRIVE_FILES = DRIVE_FILES_API_V3_URL
SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
LIST_FIELDS = ("nextPageToken,incompleteSearch,"
               "files(id,name,modifiedTime,version,lastModifyingUser(me,emailAddress,"
               "displayName))")
OWN_WRITE = "own:"
"""Prefix of a token our own flag write left: the version it expects the sheet to be at
when nothing but that write changed it (flag_write.own_token)."""
GONE_REASON = (
    "Bảng tính {id} không còn trong thư mục Drive: đã bị xoá hoặc chưa chia sẻ cho tài khoản "
    "dịch vụ (hoặc đã bị chuyển ra khỏi thư mục)"
)

FULL_LISTING_EVERY = 900.0
"""Seconds between full listings of a folder of more than 1,000 files."""
LISTING_OVERLAP = dt.timedelta(minutes=10)
"""How far before the full listing's newest modifiedTime the listings in between reach."""


def listed_as(file: Mapping[str, Any], token: str | None) -> bool:
    """Whether the listed file is at the version `token` says it was left at: the same
    version; or, for our own write's token, the version it expected with our own account
    as the last modifier (a person's edit after it makes them the last modifier, one
    before it makes the version go further)."""
    version = str(file.get("version", ""))
    if not version or not token:
        return False
    if token.startswith(OWN_WRITE):
        who = file.get("lastModifyingUser") or {}
        return version == token[len(OWN_WRITE):] and who.get("me") is True
    return version == token


@dataclass(slots=True)
class _FullListing:
    files: dict[str, dict[str, Any]]
    pages: int
    taken_at: float
    newest: str
    """The newest modifiedTime seen since it was taken (Google's clock, not ours): the
    listings in between ask for what was modified after it (less LISTING_OVERLAP) and move
    it on, so each asks only for what changed lately."""


class DriveFolder:
    """The folder the sheets live in (or, without a folder, every spreadsheet the account
    sees), through one transport.

    It keeps two speed caches whose loss changes no result: the files of one listing made
    before the cycle's first flag write (`listed_file`; `scan` forgets it), shared by the
    cycle's flag writes; and a big folder's last full listing, laid under the listings in
    between (`listing`). A restart costs one request or a full listing more."""

    def __init__(self, transport: GoogleTransport, *, folder_id: str = "",
                 notify: bool = True, clock: Callable[[], float] = time.monotonic,
                 full_listing_every: float = FULL_LISTING_EVERY) -> None:
        """`notify`: Drive e-mails the people a sheet is shared with (Google requires it
        for addresses without a Google account). `full_listing_every`: seconds between
        full listings of a folder that takes more than one page."""
        self.transport = transport
        self.folder_id = folder_id
        self.notify = notify
        self._clock = clock
        self._full_every = full_listing_every
        self._full: _FullListing | None = None
        self._versions: dict[str, dict[str, Any]] | None = None

    # -- the scan and the version check -----------------------------------------------------

    def scan(self, sheets: Mapping[str, tuple[SheetRef, str | None]]) -> dict[str, ScanEntry]:
        """One Drive listing for every sheet: changed when its `version` differs from the
        token last seen; unreachable when it is not in the folder any more."""
        self._versions = None  # a new cycle: the next flag write checks versions afresh
        try:
            files, incomplete = self.listing()
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

    def listed_file(self, sid: str) -> dict[str, Any] | None:
        """The sheet's Drive file now (version, last modifier), from one listing per cycle
        made just before the cycle's first flag write (`scan` forgets it; `wrote` drops the
        entry of a sheet our own write moved on)."""
        if self._versions is None or sid not in self._versions:
            files, _ = self.listing()
            self._versions = dict(files)
        return self._versions.get(sid)

    def wrote(self, sid: str) -> None:
        """Our own write moved the sheet on: its listed version is stale."""
        if self._versions is not None:
            self._versions.pop(sid, None)

    def listing(self) -> tuple[dict[str, dict[str, Any]], bool]:
        """The folder's spreadsheets now: id -> file, and whether Drive said the listing may
        be incomplete.

        A folder that fits one page (1,000 files) is listed whole every time. A bigger one
        (a province: 5,000 units) is listed whole every `full_listing_every` seconds; in
        between, only the files modified since the newest `modifiedTime` seen so far (less
        LISTING_OVERLAP, for Drive's lag) are asked for — one page while fewer than 1,000
        sheets changed — and laid over the full listing. A sheet deleted, unshared or moved
        out of the folder is then noticed at the next full listing, not at once."""
        full = self._full
        if full is not None and full.pages > 1 and \
                self._clock() - full.taken_at < self._full_every and full.newest:
            since = _rfc3339_minus(full.newest, LISTING_OVERLAP)
            if since is not None:
                changed, incomplete, _ = self._list_files(modified_after=since)
                full.files.update(changed)
                full.newest = max([full.newest, *(str(f.get("modifiedTime", ""))
                                                  for f in changed.values())])
                return dict(full.files), incomplete
        taken_at = self._clock()
        files, incomplete, pages = self._list_files()
        newest = max((str(f.get("modifiedTime", "")) for f in files.values()), default="")
        self._full = None if incomplete else _FullListing(
            files=files, pages=pages, taken_at=taken_at, newest=newest)
        return files, incomplete

    def _list_files(self, modified_after: str | None = None
                    ) -> tuple[dict[str, dict[str, Any]], bool, int]:
        """Every spreadsheet in the folder (or, without a folder, every one the account
        sees), or only those modified after `modified_after` (RFC 3339): id -> file;
        whether Drive said the listing may be incomplete; the pages it took."""
        query = f"mimeType = '{SHEETS_MIME}' and trashed = false"
        if modified_after:
            query += f" and modifiedTime > '{modified_after}'"
        if self.folder_id:
            folder = self.folder_id.replace("\\", "\\\\").replace("'", "\\'")
            query = f"'{folder}' in parents and {query}"
        params: dict[str, Any] = {
            "q": query, "fields": LIST_FIELDS, "pageSize": 1000,
            "supportsAllDrives": "true", "includeItemsFromAllDrives": "true",
            # A page of 1,000 files is about a third of the bytes without Google's indents.
            "prettyPrint": "false",
        }
        files: dict[str, dict[str, Any]] = {}
        incomplete = False
        pages = 0
        while True:
            data = self.transport.call("GET", DRIVE_FILES, params=params)
            pages += 1
            incomplete = incomplete or bool(data.get("incompleteSearch"))
            for f in data.get("files", []):
                files[f["id"]] = f
            token = data.get("nextPageToken")
            if not token:
                return files, incomplete, pages
            params = {**params, "pageToken": token}

    # -- files ------------------------------------------------------------------------------

    def create_file(self, name: str) -> str:
        """A new spreadsheet in the folder (Drive files.create: no move afterwards)."""
        body: dict[str, Any] = {"name": name, "mimeType": SHEETS_MIME}
        if self.folder_id:
            body["parents"] = [self.folder_id]
        data = self.transport.call("POST", DRIVE_FILES, json=body,
                                   params={"supportsAllDrives": "true", "fields": "id"})
        return str(data["id"])

    def share(self, file_id: str, emails: tuple[str, ...], role: str, message: str) -> None:
        """One permission per address; a refusal is logged (the sheet is usable, sharing
        can be done by hand)."""
        for email in emails:
            params = {"sendNotificationEmail": "true" if self.notify else "false",
                      "supportsAllDrives": "true", "fields": "id"}
            if self.notify:
                params["emailMessage"] = message
            try:
                self.transport.call(
                    "POST", f"{DRIVE_FILES}/{file_id}/permissions", params=params,
                    json={"type": "user", "role": role, "emailAddress": email})
            except GoogleApiError as exc:
                log.warning("could not share %s with %s (%s): %s", file_id, email, role, exc)

    def delete_quietly(self, file_id: str) -> None:
        """Remove a half-made spreadsheet; a failure is logged, not raised."""
        try:
            self.transport.call("DELETE", f"{DRIVE_FILES}/{file_id}",
                                params={"supportsAllDrives": "true"})
        except (GoogleApiError, GoogleUnavailable) as exc:
            log.warning("half-made spreadsheet %s left in Drive: %s", file_id, exc)


def _rfc3339(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def _rfc3339_minus(text: str, delta: dt.timedelta) -> str | None:
    when = _rfc3339(text)
    if when is None:
        return None
    return (when - delta).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
