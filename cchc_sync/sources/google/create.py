"""Making a unit's spreadsheet and the master, and locking a sheet at the deadline
(`SheetMaker`, one part of GoogleBackend)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import (
    CHECK_TAB,
    META_TAB,
    Prefill,
    SheetRef,
    SourceError,
)
from cchc_sync.sources.google.cells import SHEET_URL
from cchc_sync.sources.google.drive import DriveFolder
from cchc_sync.sources.google.master import FIXED_MASTER_TABS, master_create_requests
from cchc_sync.sources.google.reasons import permanent_reason, unit_errors
from cchc_sync.sources.google.transport import (
    GoogleApiError,
    GoogleTransport,
    GoogleUnavailable,
    sheet_tabs,
)
from cchc_sync.sources.google.unit_sheet import UnitSheets, prefill_requests, unit_sheet_requests

log = logging.getLogger(__name__)

LOCK_DESCRIPTION = "cchc-sync: kỳ báo cáo đã khoá"
"""Description of the protections that make a sheet read-only (found again to unlock)."""
_LOCK_FIELDS = "sheets(properties(sheetId,title),protectedRanges(protectedRangeId,description))"


class SheetMaker:
    """create_unit_sheet, create_master, is_read_only and set_read_only of the Google
    backend: Drive files made in the folder, their tabs in one batchUpdate."""

    def __init__(self, transport: GoogleTransport, drive: DriveFolder, sheets: UnitSheets, *,
                 coordinators: tuple[str, ...] = (), service_account: str | None = None,
                 sheet_url: str = SHEET_URL) -> None:
        """`coordinators`: who the master is shared with (readers). `service_account`: the
        only editor of the protected ranges. `sheet_url`: how a spreadsheet id becomes the
        URL people open ("{id}" is replaced)."""
        self.transport = transport
        self.drive = drive
        self.sheets = sheets
        self.coordinators = coordinators
        self.service_account = service_account
        self.sheet_url = sheet_url

    def ref(self, spreadsheet_id: str) -> SheetRef:
        """Where the spreadsheet is: its id and the URL people open."""
        return SheetRef(ref=spreadsheet_id, url=self.sheet_url.replace("{id}", spreadsheet_id))

    def create_unit_sheet(self, unit: Unit, period: Period, templates: TemplateSet,
                          prefill: Prefill | None = None) -> SheetRef:
        """The unit's spreadsheet in the folder, made from the templates (carried-forward
        rows typed in), shared with the unit's e-mails as writers: a files.create, one
        batchUpdate and one permission per e-mail. A failure removes the half-made file."""
        self.sheets.templates = self.sheets.templates or templates
        what = f"bảng tính của đơn vị {unit.code}"
        try:
            file_id = self.drive.create_file(f"CCHC {period.code} - {unit.name} ({unit.code})")
        except (GoogleApiError, GoogleUnavailable) as exc:
            raise SourceError(self._create_failure(what, exc)) from None
        requests = unit_sheet_requests(
            unit, period, templates, service_account=self.service_account,
            data_rows=self.sheets.data_rows, created_at=dt.datetime.now(dt.UTC))
        if prefill:
            requests += prefill_requests(templates, prefill)
        try:
            self.transport.batch_update(file_id, {"requests": requests})
        except (GoogleApiError, GoogleUnavailable) as exc:
            self.drive.delete_quietly(file_id)
            raise SourceError(self._create_failure(what, exc)) from None
        self.drive.share(file_id, unit.emails, "writer",
                    f"Bảng tính báo cáo cải cách hành chính kỳ {period.code} của {unit.name}. "
                    "Xem hướng dẫn ở trang đầu tiên.")
        return self.ref(file_id)

    def create_master(self, title: str, period: Period) -> SheetRef:
        """The master spreadsheet (every tab, when the templates are known), shared with
        the coordinators as readers."""
        tabs = list(FIXED_MASTER_TABS)
        if self.sheets.templates is not None:
            tabs += [spec.tab for spec in self.sheets.templates.tables.values()]
        try:
            file_id = self.drive.create_file(title)
        except (GoogleApiError, GoogleUnavailable) as exc:
            raise SourceError(self._create_failure("bảng tổng hợp", exc)) from None
        try:
            self.transport.batch_update(
                file_id, {"requests": master_create_requests(title, period, tabs)})
        except (GoogleApiError, GoogleUnavailable) as exc:
            self.drive.delete_quietly(file_id)
            raise SourceError(self._create_failure("bảng tổng hợp", exc)) from None
        self.drive.share(file_id, self.coordinators, "reader",
                    f"Bảng tổng hợp báo cáo cải cách hành chính kỳ {period.code}.")
        return self.ref(file_id)

    def _create_failure(self, what: str, exc: Exception) -> str:
        permanent = permanent_reason(exc) if isinstance(exc, GoogleApiError) else None
        if permanent:
            return f"Không tạo được {what}: {permanent}"
        folder = self.drive.folder_id
        if isinstance(exc, GoogleApiError) and exc.status == 404 and folder:
            return (f"Không tạo được {what}: không thấy thư mục Drive {folder!r}. Hãy "
                    "chia sẻ thư mục cho tài khoản dịch vụ với quyền Người chỉnh sửa (Editor)")
        if isinstance(exc, GoogleApiError) and exc.status == 403:
            return (f"Không tạo được {what}: Google từ chối ({exc.message}). Hãy kiểm tra quyền "
                    "của tài khoản dịch vụ trên thư mục và dung lượng Drive của nó")
        return f"Không tạo được {what}: {exc}"

    def is_read_only(self, sheet: SheetRef) -> bool:
        """Every tab but "Kiểm tra" and "_cchc" still carries our lock protection (one
        metadata read: asked only for a locked sheet whose Drive version moved)."""
        with unit_errors(sheet.ref):
            tabs = sheet_tabs(self.transport, sheet.ref, _LOCK_FIELDS)
        return all(
            any(p.get("description") == LOCK_DESCRIPTION for p in tab.get("protectedRanges", []))
            for tab in tabs
            if tab.get("properties", {}).get("title") not in (CHECK_TAB, META_TAB))

    def set_read_only(self, sheet: SheetRef, read_only: bool) -> None:
        """Lock: every tab becomes a protected range only the service account edits (the
        clerks keep seeing the sheet). Unlock: those protections go. One metadata read and
        one batchUpdate; nothing is written when the sheet is already as asked."""
        sid = sheet.ref
        with unit_errors(sid):
            tabs = sheet_tabs(self.transport, sid, _LOCK_FIELDS)
            requests: list[dict[str, Any]] = []
            for tab in tabs:
                props = tab.get("properties", {})
                ours = [p for p in tab.get("protectedRanges", [])
                        if p.get("description") == LOCK_DESCRIPTION]
                if read_only and not ours and props.get("title") not in (CHECK_TAB, META_TAB):
                    requests.append({"addProtectedRange": {"protectedRange": {
                        "range": {"sheetId": props.get("sheetId", 0)},
                        "description": LOCK_DESCRIPTION, "warningOnly": False,
                        "editors": {"users": [self.service_account]}
                        if self.service_account else {},
                    }}})
                elif not read_only:
                    requests += [{"deleteProtectedRange": {
                        "protectedRangeId": p["protectedRangeId"]}} for p in ours]
            if requests:
                self.transport.batch_update(sid, {"requests": requests})
        log.info("%s %s", "locked" if read_only else "unlocked", sid)
