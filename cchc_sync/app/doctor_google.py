"""The doctor's Google checks: key, token (clock), APIs enabled, folder, a file can be made
there (storage quota), e-mails, the master shared read-only, quota against the schedule.

Raw requests through the same authorised session the backend uses (`sources/google/
client.py`), read by Google's error shapes: `error.details[].reason` ("SERVICE_DISABLED",
with `metadata.activationUrl`), `error.errors[].reason` ("storageQuotaExceeded"), the token
endpoint's `invalid_grant` ("Invalid JWT: Token must be a short-lived token ..." when the
server's clock is off).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from google.auth.exceptions import RefreshError, TransportError

from cchc_sync.app.doctor import Check, bad_emails, cycle_minutes, fail, key_file_problem, ok
from cchc_sync.domain.config import Config
from cchc_sync.domain.records import Unit
from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.client import (
    DEFAULT_SCOPES,
    READONLY_DRIVE_SCOPES,
    EndpointAuthorizedSession,
    credentials_from_info,
)
from cchc_sync.sources.google.signin import load_user_credentials
from cchc_sync.store.archive import Archive

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE = "https://www.googleapis.com/drive/v3/files"
SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
PROBE_NAME = "cchc-sync doctor (tệp thử, sẽ tự xoá)"


def google_checks(config: Config, units: list[Unit]) -> list[Check]:
    g = config.google
    if g.auth == "user":
        try:
            creds = load_user_credentials(g.token_file)
        except SourceError as exc:
            return [fail("google.credentials", "Chưa có đăng nhập Google dùng được.",
                         "Chạy: cchc-sync google login --client-secrets client_secret.json "
                         f"--config {config.path}", str(exc))]
        who = "tài khoản Google của cán bộ tổng hợp"
        checks = [ok("google.credentials", f"Có đăng nhập Google ({g.token_file}).")]
    else:
        problem = key_file_problem(g.credentials)
        if problem:
            return [problem]
        assert g.credentials is not None
        info = json.loads(g.credentials.read_text(encoding="utf-8"))
        who = str(info.get("client_email", ""))
        checks = [ok("google.credentials", f"Tệp khoá {g.credentials} hợp lệ (tài khoản {who}).")]
        scopes = READONLY_DRIVE_SCOPES if g.folder else DEFAULT_SCOPES
        try:
            creds = credentials_from_info(info, scopes)
        except (ValueError, KeyError) as exc:
            return [*checks, fail("google.credentials", "Tệp khoá thiếu thông tin cần thiết.",
                                  "Tải lại khoá JSON từ Google Cloud Console.", str(exc))]
        if g.subject:
            creds = creds.with_subject(g.subject)
            who = g.subject
    session = EndpointAuthorizedSession(creds, endpoint=g.endpoint or None)
    try:
        token = _token_check(creds, session)
        checks.append(token)
        if token.status != "ok":
            return checks
        checks.extend(_api_checks(session))
        if checks[-1].status != "ok":
            return checks
        if g.folder or g.auth != "user":
            checks.extend(_folder_checks(session, g.folder, who))
        else:  # the coordinator's own Drive: the app's files live at its top level
            checks.append(_create_probe(session, ""))
        checks.append(_email_check(units))
        master = _master_check(session, config, who)
        if master is not None:
            checks.append(master)
        checks.append(_quota_check(config, len(units)))
    finally:
        session.close()
    return checks


def _token_check(creds: Any, session: EndpointAuthorizedSession) -> Check:
    try:
        creds.refresh(session._auth_request)
    except RefreshError as exc:
        text = str(exc)
        if "short-lived" in text or "iat and exp" in text:
            now = dt.datetime.now(dt.UTC).strftime("%H:%M:%S UTC")
            return fail("google.token",
                        f"Google từ chối khoá vì đồng hồ máy chủ bị lệch (máy chủ đang là {now}).",
                        "Bật đồng bộ giờ: timedatectl set-ntp true (rồi chạy lại doctor).", text)
        if "expired or revoked" in text:
            return fail("google.token", "Đăng nhập Google đã hết hiệu lực hoặc bị thu hồi.",
                        "Chạy lại: cchc-sync google login --client-secrets client_secret.json",
                        text)
        if "unauthorized_client" in text:
            return fail("google.token", "Tài khoản dịch vụ chưa được uỷ quyền toàn miền để "
                        "hành động thay người dùng trong subject.",
                        "Trong Admin console > Bảo mật > Kiểm soát API > Uỷ quyền toàn miền, "
                        "thêm client id của tài khoản dịch vụ với hai phạm vi spreadsheets và "
                        "drive.file.", text)
        return fail("google.token", "Google không cấp quyền truy cập cho khoá này (khoá đã bị xoá "
                    "hoặc vô hiệu hoá).",
                    "Tạo khoá JSON mới cho tài khoản dịch vụ và thay tệp khoá.", text)
    except TransportError as exc:
        return fail("google.token", "Không kết nối được tới máy chủ xác thực của Google.",
                    "Kiểm tra kết nối mạng, tường lửa hoặc proxy của máy chủ tới "
                    "oauth2.googleapis.com.", str(exc))
    return ok("google.token", "Lấy được mã truy cập Google.")


def _api_checks(session: EndpointAuthorizedSession) -> list[Check]:
    """Sheets and Drive answer (404 for a probe id is fine: the API is on)."""
    out = []
    for id_, name, url in (
        ("google.sheets-api", "Google Sheets API",
         f"{SHEETS}/cchc-doctor-probe?fields=spreadsheetId"),
        ("google.drive-api", "Google Drive API", f"{DRIVE}/cchc-doctor-probe?fields=id"),
    ):
        answer = _get(session, url)
        disabled = _reason(answer, "SERVICE_DISABLED")
        if disabled is not None:
            link = (disabled.get("metadata") or {}).get("activationUrl") or (
                "https://console.cloud.google.com/apis/library")
            out.append(fail(id_, f"{name} chưa được bật cho dự án Google Cloud của khoá này.",
                            f"Mở {link} và bấm Enable (Bật), đợi vài phút rồi chạy lại doctor.",
                            _message(answer)))
            return out
        if answer.status_code in (200, 404):
            out.append(ok(id_, f"{name} đã được bật."))
        else:
            out.append(fail(id_, f"{name} trả lời lỗi {answer.status_code}.",
                            "Chạy lại doctor sau ít phút; nếu vẫn lỗi, xem chi tiết.",
                            _message(answer)))
            return out
    return out


def _folder_checks(session: EndpointAuthorizedSession, folder: str, who: str) -> list[Check]:
    if not folder:
        return [fail("google.folder", "Chưa khai báo thư mục Google Drive.",
                     "Thêm [google] folder = \"<mã thư mục>\" (phần cuối địa chỉ "
                     "drive.google.com/drive/folders/<mã>) vào tệp cấu hình.")]
    answer = _get(session, f"{DRIVE}/{folder}?supportsAllDrives=true"
                  "&fields=id,name,mimeType,driveId,capabilities")
    if answer.status_code == 404:
        return [fail("google.folder", f"Không thấy thư mục {folder}.",
                     f"Kiểm tra mã thư mục và chia sẻ thư mục cho {who} với quyền Người chỉnh "
                     "sửa (Editor).", _message(answer))]
    if answer.status_code != 200:
        return [fail("google.folder", f"Không mở được thư mục {folder} (lỗi {answer.status_code}).",
                     "Chạy lại doctor sau ít phút; nếu vẫn lỗi, xem chi tiết.", _message(answer))]
    meta = answer.json()
    caps = meta.get("capabilities") or {}
    if not caps.get("canAddChildren", caps.get("canEdit", False)):
        return [fail("google.folder", f"Thư mục “{meta.get('name', folder)}” chỉ được xem.",
                     f"Chia sẻ thư mục cho {who} với quyền Người chỉnh sửa (Editor), hoặc "
                     "Quản lý nội dung (Content manager) trong Bộ nhớ dùng chung.")]
    checks = [ok("google.folder", f"Thư mục “{meta.get('name', folder)}” ghi được.")]
    checks.append(_create_probe(session, folder))
    return checks


def _create_probe(session: EndpointAuthorizedSession, folder: str) -> Check:
    """Make a file in the folder and delete it: the only sure test of storage quota."""
    body: dict[str, Any] = {"name": PROBE_NAME, "mimeType": SHEETS_MIME}
    if folder:
        body["parents"] = [folder]
    answer = session.post(f"{DRIVE}?supportsAllDrives=true&fields=id", json=body)
    if _reason(answer, "storageQuotaExceeded") is not None:
        return fail("google.create",
                    "Tài khoản dịch vụ không được tạo tệp ở đây: từ 2025 tài khoản dịch vụ không "
                    "có dung lượng lưu trữ trong Drive cá nhân.",
                    "Dùng thư mục trong Bộ nhớ dùng chung (shared drive, Google Workspace) với "
                    "tài khoản dịch vụ là Quản lý nội dung, hoặc để cchc-sync làm việc bằng "
                    "tài khoản Google của cán bộ tổng hợp.",
                    _message(answer))
    if answer.status_code != 200:
        return fail("google.create", f"Không tạo được tệp thử trong thư mục (lỗi "
                    f"{answer.status_code}).", "Xem chi tiết lỗi; kiểm tra quyền thư mục.",
                    _message(answer))
    file_id = answer.json().get("id", "")
    session.delete(f"{DRIVE}/{file_id}?supportsAllDrives=true")
    return ok("google.create", "Tạo được bảng tính trong thư mục (tệp thử đã xoá).")


def _master_check(session: EndpointAuthorizedSession, config: Config, who: str) -> Check | None:
    """The master is shared read-only: nobody but the account itself may change it (a
    coordinator who edits the master edits a copy the next cycle overwrites)."""
    if not config.archive_file.exists():
        return None
    archive = Archive(config.archive_file)
    try:
        row = archive.master(config.period)
    finally:
        archive.close()
    if row is None:
        return None
    answer = _get(session, f"{DRIVE}/{row['ref']}/permissions?supportsAllDrives=true"
                  "&fields=permissions(id,type,role,emailAddress)")
    if answer.status_code != 200:
        return fail("google.master", "Không xem được quyền chia sẻ của bảng tổng hợp.",
                    "Kiểm tra bảng tổng hợp còn trong thư mục và chưa bị xoá.", _message(answer))
    writers = [p.get("emailAddress") or p.get("type", "")
               for p in answer.json().get("permissions", [])
               if p.get("role") in ("writer", "fileOrganizer", "organizer")
               and (p.get("emailAddress") or "").lower() != who.lower()]
    if writers:
        return fail("google.master", f"Bảng tổng hợp đang cho {', '.join(writers)} quyền sửa.",
                    "Trong Google Drive, mở Chia sẻ của bảng tổng hợp và đổi các địa chỉ này "
                    "sang Người xem (Viewer): phần mềm ghi đè bảng tổng hợp ở mỗi lượt.")
    return ok("google.master", "Bảng tổng hợp chỉ được chia sẻ quyền xem.")


def _email_check(units: list[Unit]) -> Check:
    bad = bad_emails(units)
    if bad:
        return fail("google.emails", f"{len(bad)} địa chỉ e-mail trong danh sách đơn vị không "
                    f"hợp lệ: {'; '.join(bad[:5])}{' …' if len(bad) > 5 else ''}.",
                    "Sửa cột email của danh sách đơn vị (nhiều địa chỉ cách nhau bằng dấu ;).")
    missing = [u.code for u in units if not u.emails]
    if missing:
        return fail("google.emails", f"Đơn vị chưa có e-mail: {', '.join(missing)}.",
                    "Điền e-mail người nhập số liệu của các đơn vị này vào cột email.")
    return ok("google.emails", "E-mail của các đơn vị hợp lệ.")


def _quota_check(config: Config, units: int) -> Check:
    g = config.google
    need = cycle_minutes(units, g.reads_per_minute)
    if need > config.interval_minutes:
        return fail("google.quota",
                    f"Một lượt mà cả {units} đơn vị cùng sửa cần khoảng {need:.0f} phút hạn mức "
                    f"đọc ({g.reads_per_minute} lượt/phút), lâu hơn chu kỳ "
                    f"{config.interval_minutes:g} phút.",
                    f"Đặt [schedule] interval_minutes = {need:.0f} trở lên, hoặc xin Google "
                    "tăng hạn mức rồi tăng [google] reads_per_minute.")
    return ok("google.quota", f"Hạn mức đủ: một lượt cả {units} đơn vị cùng sửa cần khoảng "
              f"{need:.0f} phút, chu kỳ {config.interval_minutes:g} phút.")


def _get(session: EndpointAuthorizedSession, url: str) -> Any:
    return session.get(url, timeout=30)


def _error(answer: Any) -> dict[str, Any]:
    try:
        body = answer.json()
    except ValueError:
        return {}
    return body.get("error") or {} if isinstance(body, dict) else {}


def _reason(answer: Any, reason: str) -> dict[str, Any] | None:
    """The detail or error entry of Google's error body with this reason, if any."""
    if answer.status_code < 400:
        return None
    error = _error(answer)
    for entry in [*(error.get("details") or []), *(error.get("errors") or [])]:
        if isinstance(entry, dict) and entry.get("reason") == reason:
            return entry
    return None


def _message(answer: Any) -> str:
    error = _error(answer)
    return f"{answer.status_code} {error.get('status', '')} {error.get('message', '')}".strip()
