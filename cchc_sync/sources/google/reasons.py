"""The coordinator's one Vietnamese line for an error Google gave: about one sheet
(`unreachable_reason`) or about the whole account, with the exact fix
(`permanent_reason`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from cchc_sync.sources.base import UnitUnreachable
from cchc_sync.sources.google.transport import GoogleApiError, GoogleUnavailable


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


@contextmanager
def unit_errors(sid: str, waiting: str = "Google chưa trả lời: {exc}") -> Iterator[None]:
    """Google's errors about one unit's sheet as UnitUnreachable with the coordinator's
    line: a refusal by `unreachable_reason`, no answer after the retries by `waiting`
    ("{exc}" is the transport's clause, "{sid}" the sheet)."""
    try:
        yield
    except GoogleApiError as exc:
        raise UnitUnreachable(unreachable_reason(sid, exc)) from None
    except GoogleUnavailable as exc:
        raise UnitUnreachable(waiting.format(exc=exc, sid=sid)) from None
