"""The Google backend's plumbing: settings, the transport, and the few raw calls every
operation is made of (batchUpdate, metadata read, Drive listing, file creation, sharing).

Every call goes through GoogleTransport (google_http.py): one limiter, one retry layer.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import gspread
from gspread.urls import DRIVE_FILES_API_V3_URL, SPREADSHEETS_API_V4_BASE_URL

from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.google.cells import SHEET_URL
from cchc_sync.sources.google.master import MASTER_REQUEST_BYTES
from cchc_sync.sources.google.transport import (
    GoogleApiError,
    GoogleTransport,
    GoogleUnavailable,
    RetryPolicy,
)
from cchc_sync.sources.google.unit_sheet import DEFAULT_DATA_ROWS

log = logging.getLogger("cchc_sync.sources.google.backend")

SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
LIST_FIELDS = ("nextPageToken,incompleteSearch,"
               "files(id,name,modifiedTime,version,lastModifyingUser(me,emailAddress,"
               "displayName))")
OWN_WRITE = "own:"
"""Prefix of a token our own flag write left: the version it expects the sheet to be at
when nothing but that write changed it (google_flag_write.own_token)."""


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
META_FIELDS = "sheets.properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount))"
SHEETS = SPREADSHEETS_API_V4_BASE_URL
DRIVE_FILES = DRIVE_FILES_API_V3_URL


FULL_LISTING_EVERY = 900.0
"""Seconds between full listings of a folder of more than 1,000 files."""
LISTING_OVERLAP = dt.timedelta(minutes=10)
"""How far before the full listing's newest modifiedTime the listings in between reach."""


@dataclass(slots=True)
class _FullListing:
    files: dict[str, dict[str, Any]]
    pages: int
    taken_at: float
    newest: str
    """The newest modifiedTime seen since it was taken (Google's clock, not ours): the
    listings in between ask for what was modified after it (less LISTING_OVERLAP) and move
    it on, so each asks only for what changed lately."""


def _rfc3339_minus(text: str, delta: dt.timedelta) -> str | None:
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (when - delta).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


class GoogleApi:
    """Settings, speed caches and raw calls shared by the backend's operations."""

    def __init__(
        self,
        client: gspread.Client,
        *,
        folder_id: str = "",
        coordinators: tuple[str, ...] | list[str] = (),
        reads_per_minute: int = 60,
        writes_per_minute: int = 60,
        templates: TemplateSet | None = None,
        service_account: str | None = None,
        notify: bool = True,
        data_rows: int = DEFAULT_DATA_ROWS,
        master_request_bytes: int = MASTER_REQUEST_BYTES,
        sheet_url: str = SHEET_URL,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        full_listing_every: float = FULL_LISTING_EVERY,
        own_writes_provable: bool = False,
    ) -> None:
        """`client`: a gspread client whose session is authorised (tests give one whose HTTP
        goes to the fake). `templates`: the template set, when known, lets create_master
        make every master tab at once. `notify`: Drive e-mails the people a sheet is shared
        with (Google requires it for addresses without a Google account). `data_rows`: rows
        of a multi-row table that get formats and validation. `sheet_url`: how a
        spreadsheet id becomes the URL people open ("{id}" is replaced). `retry`, `clock`,
        `sleep`, `rng`: the retry policy and what it waits with (tests inject fakes).
        `full_listing_every`: seconds between full Drive listings of a folder that takes
        more than one page (see `_listing`).
        `master_request_bytes`: JSON bytes one master batchUpdate may take; a larger master
        is written in parts (google_master.master_batches). `own_writes_provable`: no
        person edits as the account the software acts as (a service account of its own,
        not the coordinator's sign-in nor delegation), so Drive's `lastModifyingUser.me`
        can tell our own flag write from a person's edit (google_flag_write.own_token)."""
        self.client = client
        self.transport = GoogleTransport(
            client.http_client, reads_per_minute=reads_per_minute,
            writes_per_minute=writes_per_minute, retry=retry, clock=clock, sleep=sleep,
            rng=rng,
        )
        self.folder_id = folder_id
        self.coordinators = tuple(coordinators)
        self.templates = templates
        self.notify = notify
        self.data_rows = data_rows
        self.master_request_bytes = master_request_bytes
        self.sheet_url = sheet_url
        auth = getattr(client.http_client, "auth", None)
        self.service_account = service_account or getattr(auth, "service_account_email", None)
        self.own_writes_provable = own_writes_provable
        # Speed caches only: what a read tells a write travels in the read's ReadBasis
        # (basis.py), never here. Lost on a restart, each costs at most a request or a page
        # more and changes no result:
        # - `_versions`: the files (version, last modifier) of one listing made before the
        #   cycle's first flag write (scan() forgets it), shared by the cycle's flag writes;
        # - `_full`: a big folder's last full listing, laid under the listings in between;
        # - `_master_ids`: the master's tab ids when a person re-made a tab (else each
        #   write would be refused once and repeated after a metadata read).
        self._versions: dict[str, dict[str, Any]] | None = None
        self._clock = clock
        self._full_every = full_listing_every
        self._full: _FullListing | None = None
        self._master_ids: dict[str, dict[str, int]] = {}

    def _ref(self, spreadsheet_id: str) -> SheetRef:
        return SheetRef(ref=spreadsheet_id, url=self.sheet_url.replace("{id}", spreadsheet_id))

    def _call(self, method: str, url: str, *, what: str, params: Mapping[str, Any] | None = None,
              json: Any = None) -> dict[str, Any]:
        return self.transport.request(method, url, params=params, json=json, what=what)

    def _batch_update(self, spreadsheet_id: str, requests: list[dict[str, Any]]) -> dict:
        return self._call("POST", f"{SHEETS}/{spreadsheet_id}:batchUpdate",
                          json={"requests": requests}, what="spreadsheets.batchUpdate")

    def _metadata(self, spreadsheet_id: str, fields: str = META_FIELDS) -> list[dict[str, Any]]:
        """One entry per tab: {"properties": ..., and what `fields` asks} (one read)."""
        data = self._call("GET", f"{SHEETS}/{spreadsheet_id}", params={"fields": fields},
                          what="spreadsheets.get")
        return list(data.get("sheets", []))

    def _create_file(self, name: str) -> str:
        """A new spreadsheet in the folder (Drive files.create: no move afterwards)."""
        body: dict[str, Any] = {"name": name, "mimeType": SHEETS_MIME}
        if self.folder_id:
            body["parents"] = [self.folder_id]
        data = self._call("POST", DRIVE_FILES, json=body,
                          params={"supportsAllDrives": "true", "fields": "id"},
                          what="drive.files.create")
        return data["id"]

    def _share(self, file_id: str, emails: tuple[str, ...], role: str, message: str) -> None:
        for email in emails:
            params = {"sendNotificationEmail": "true" if self.notify else "false",
                      "supportsAllDrives": "true", "fields": "id"}
            if self.notify:
                params["emailMessage"] = message
            try:
                self._call("POST", f"{DRIVE_FILES}/{file_id}/permissions", params=params,
                           json={"type": "user", "role": role, "emailAddress": email},
                           what="drive.permissions.create")
            except GoogleApiError as exc:
                # The sheet is usable; sharing can be done by hand. Say so loudly.
                log.warning("could not share %s with %s (%s): %s", file_id, email, role, exc)

    def _delete_quietly(self, file_id: str) -> None:
        try:
            self._call("DELETE", f"{DRIVE_FILES}/{file_id}", params={"supportsAllDrives": "true"},
                       what="drive.files.delete")
        except (GoogleApiError, GoogleUnavailable) as exc:
            log.warning("half-made spreadsheet %s left in Drive: %s", file_id, exc)

    def _listing(self) -> tuple[dict[str, dict[str, Any]], bool]:
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
        }
        files: dict[str, dict[str, Any]] = {}
        incomplete = False
        pages = 0
        while True:
            data = self._call("GET", DRIVE_FILES, params=params, what="drive.files.list")
            pages += 1
            incomplete = incomplete or bool(data.get("incompleteSearch"))
            for f in data.get("files", []):
                files[f["id"]] = f
            token = data.get("nextPageToken")
            if not token:
                return files, incomplete, pages
            params = {**params, "pageToken": token}


def unreachable_reason(sid: str, exc: GoogleApiError) -> str:
    """Why a unit's spreadsheet cannot be used, in Vietnamese (one line for "Tiến độ" and
    `status`)."""
    permanent = permanent_reason(exc)
    if permanent:
        return permanent
    if exc.status == 404:
        return f"Bảng tính {sid} không còn: đã bị xoá hoặc chưa chia sẻ cho tài khoản dịch vụ"
    if exc.status == 403:
        return (f"Bảng tính {sid} chưa chia sẻ cho tài khoản dịch vụ (hoặc quyền đã bị thu "
                f"hồi): {exc.message}")
    return f"Google từ chối yêu cầu với bảng tính {sid}: {exc.status} {exc.message}"


def permanent_reason(exc: GoogleApiError) -> str | None:
    """The coordinator's one line for an error that concerns the whole account, not one
    sheet (no wait fixes it: it is never retried), with the exact fix; None otherwise."""
    if exc.reason in ("SERVICE_DISABLED", "accessNotConfigured"):
        api = "Google Drive API" if "drive" in (exc.activation_url or exc.message).lower() \
            else "Google Sheets API"
        where = exc.activation_url or "https://console.cloud.google.com/apis/library"
        return (f"{api} chưa được bật cho dự án của tài khoản dịch vụ: hãy bật tại {where} "
                "rồi đợi vài phút")
    if exc.reason == "storageQuotaExceeded":
        return ("Tài khoản dịch vụ không có dung lượng Drive riêng nên không tạo được tệp: hãy "
                "dùng một Drive dùng chung (shared drive) của Google Workspace làm thư mục, "
                "hoặc đăng nhập bằng tài khoản Google của người điều phối")
    return None
