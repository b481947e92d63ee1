"""Making a unit's spreadsheet and the master, and locking a sheet at the deadline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import (
    CHECK_TAB,
    META_TAB,
    Prefill,
    SheetRef,
    SourceError,
    UnitUnreachable,
)
from cchc_sync.sources.google.api import GoogleApi, log, permanent_reason, unreachable_reason
from cchc_sync.sources.google.master import FIXED_MASTER_TABS, master_create_requests
from cchc_sync.sources.google.transport import GoogleApiError, GoogleUnavailable
from cchc_sync.sources.google.unit_sheet import prefill_requests, unit_sheet_requests

LOCK_DESCRIPTION = "cchc-sync: kỳ báo cáo đã khoá"
"""Description of the protections that make a sheet read-only (found again to unlock)."""
_LOCK_FIELDS = "sheets(properties(sheetId,title),protectedRanges(protectedRangeId,description))"


class SheetMaker(GoogleApi):
    """create_unit_sheet, create_master and set_read_only of the Google backend."""

    def create_unit_sheet(self, unit: Unit, period: Period, templates: TemplateSet,
                          prefill: Prefill | None = None) -> SheetRef:
        """The unit's spreadsheet in the folder, made from the templates (carried-forward
        rows typed in), shared with the unit's e-mails as writers: a files.create, one
        batchUpdate and one permission per e-mail. A failure removes the half-made file."""
        self.templates = self.templates or templates
        what = f"bảng tính của đơn vị {unit.code}"
        try:
            file_id = self._create_file(f"CCHC {period.code} - {unit.name} ({unit.code})")
        except (GoogleApiError, GoogleUnavailable) as exc:
            raise SourceError(self._create_failure(what, exc)) from None
        requests = unit_sheet_requests(
            unit, period, templates, service_account=self.service_account,
            data_rows=self.data_rows, created_at=dt.datetime.now(dt.UTC))
        if prefill:
            requests += prefill_requests(templates, prefill)
        try:
            self._batch_update(file_id, requests)
        except (GoogleApiError, GoogleUnavailable) as exc:
            self._delete_quietly(file_id)
            raise SourceError(self._create_failure(what, exc)) from None
        self._share(file_id, unit.emails, "writer",
                    f"Bảng tính báo cáo cải cách hành chính kỳ {period.code} của {unit.name}. "
                    "Xem hướng dẫn ở trang đầu tiên.")
        return self._ref(file_id)

    def create_master(self, title: str, period: Period) -> SheetRef:
        """The master spreadsheet (every tab, when the templates are known), shared with
        the coordinators as readers."""
        tabs = list(FIXED_MASTER_TABS)
        if self.templates is not None:
            tabs += [spec.tab for spec in self.templates.tables.values()]
        try:
            file_id = self._create_file(title)
        except (GoogleApiError, GoogleUnavailable) as exc:
            raise SourceError(self._create_failure("bảng tổng hợp", exc)) from None
        try:
            self._batch_update(file_id, master_create_requests(title, period, tabs))
        except (GoogleApiError, GoogleUnavailable) as exc:
            self._delete_quietly(file_id)
            raise SourceError(self._create_failure("bảng tổng hợp", exc)) from None
        self._share(file_id, self.coordinators, "reader",
                    f"Bảng tổng hợp báo cáo cải cách hành chính kỳ {period.code}.")
        return self._ref(file_id)

    def _create_failure(self, what: str, exc: Exception) -> str:
        permanent = permanent_reason(exc) if isinstance(exc, GoogleApiError) else None
        if permanent:
            return f"Không tạo được {what}: {permanent}"
        if isinstance(exc, GoogleApiError) and exc.status == 404 and self.folder_id:
            return (f"Không tạo được {what}: không thấy thư mục Drive {self.folder_id!r}. Hãy "
                    "chia sẻ thư mục cho tài khoản dịch vụ với quyền Người chỉnh sửa (Editor)")
        if isinstance(exc, GoogleApiError) and exc.status == 403:
            return (f"Không tạo được {what}: Google từ chối ({exc.message}). Hãy kiểm tra quyền "
                    "của tài khoản dịch vụ trên thư mục và dung lượng Drive của nó")
        return f"Không tạo được {what}: {exc}"

    def is_read_only(self, sheet: SheetRef) -> bool:
        """Every tab but "Kiểm tra" and "_cchc" still carries our lock protection (one
        metadata read: asked only for a locked sheet whose Drive version moved)."""
        try:
            tabs = self._metadata(sheet.ref, _LOCK_FIELDS)
        except GoogleApiError as exc:
            raise UnitUnreachable(unreachable_reason(sheet.ref, exc)) from None
        except GoogleUnavailable as exc:
            raise UnitUnreachable(f"Google chưa trả lời: {exc}") from None
        return all(
            any(p.get("description") == LOCK_DESCRIPTION for p in tab.get("protectedRanges", []))
            for tab in tabs
            if tab.get("properties", {}).get("title") not in (CHECK_TAB, META_TAB))

    def set_read_only(self, sheet: SheetRef, read_only: bool) -> None:
        """Lock: every tab becomes a protected range only the service account edits (the
        clerks keep seeing the sheet). Unlock: those protections go. One metadata read and
        one batchUpdate; nothing is written when the sheet is already as asked."""
        sid = sheet.ref
        try:
            tabs = self._metadata(sid, _LOCK_FIELDS)
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
                self._batch_update(sid, requests)
        except GoogleApiError as exc:
            raise UnitUnreachable(unreachable_reason(sid, exc)) from None
        except GoogleUnavailable as exc:
            raise UnitUnreachable(f"Google chưa trả lời: {exc}") from None
        log.info("%s %s", "locked" if read_only else "unlocked", sid)
