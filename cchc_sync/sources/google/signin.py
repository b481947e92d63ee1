"""Who the software acts as on Google, in the three ways an office can set up:

- ``auth = "user"``: the coordinator's own account. Since 2025 a service account cannot own
  files outside a shared drive, and most offices have free accounts without shared drives;
  so the coordinator signs in once (``cchc-sync google login``: Google's installed-app flow
  with a loopback redirect and PKCE, google-auth-oauthlib) and the software acts as that
  person with the narrow ``drive.file`` scope (only files the app made; a non-sensitive
  scope, so the office's own OAuth client needs no verification by Google). What is kept is
  the refresh token with its client id and secret ("authorized_user" JSON), mode 0600,
  beside the archive or delivered by systemd (LoadCredential=google-token). google-auth
  refreshes the access token by itself; a revoked or expired sign-in is one Vietnamese line.
- ``auth = "service_account"`` with a key file: a shared drive (Workspace), the account a
  Content manager there.
- the same with ``subject = "person@…"``: Workspace domain-wide delegation, acting as that
  person.

A headless server has no browser: ``cchc-sync google authorize`` runs the flow on a laptop
and prints one line to paste into ``cchc-sync google login --headless`` on the server (the
pattern of ``rclone authorize``).
"""

from __future__ import annotations

import base64
import json
import os
import shlex
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from google.oauth2 import credentials as user_credentials
from google_auth_oauthlib.flow import InstalledAppFlow

from cchc_sync.domain.config import GoogleSettings
from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.client import check_key_file, read_service_account_key

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
DRIVE_FILE_SCOPE = "https://www.googleapis.com/auth/drive.file"
USER_SCOPES: tuple[str, ...] = (SPREADSHEETS_SCOPE, DRIVE_FILE_SCOPE)
"""The coordinator's sign-in asks for these only: Sheets, and Drive files this app made."""

SIGN_IN_AGAIN = (
    "Đăng nhập Google của cán bộ tổng hợp đã hết hiệu lực hoặc bị thu hồi: hãy chạy "
    "`cchc-sync google login` để đăng nhập lại (các đơn vị vẫn nhập số liệu bình thường)."
)


def build_credentials(settings: GoogleSettings, scopes: Sequence[str]) -> Any:
    """google-auth credentials for the configured way of acting on Google."""
    if settings.auth == "user":
        return load_user_credentials(settings.token_file)
    if not settings.credentials:
        raise SourceError("chưa khai báo [google] credentials (tệp khoá tài khoản dịch vụ)")
    creds = read_service_account_key(settings.credentials, scopes)
    return creds.with_subject(settings.subject) if settings.subject else creds


def load_user_credentials(token_file: Path | None) -> Any:
    """The stored sign-in; SourceError (one line) when there is none or it is unsafe."""
    if token_file is None or not token_file.exists():
        raise SourceError(
            "chưa đăng nhập Google: hãy chạy `cchc-sync google login --config …` "
            f"(sẽ lưu vào {token_file})"
        )
    if token_file.is_dir():
        raise SourceError(f"{token_file} là một thư mục, không phải tệp đăng nhập Google")
    check_key_file(token_file)
    try:
        text = token_file.read_text(encoding="utf-8")
    except OSError as exc:
        raise SourceError(
            f"không đọc được tệp đăng nhập Google {token_file} ({exc.strerror or exc}): hãy "
            "cho tài khoản chạy cchc-sync quyền đọc tệp này"
        ) from None
    try:
        return _credentials(json.loads(text))
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(
            f"tệp đăng nhập Google {token_file} hỏng ({exc}): hãy chạy `cchc-sync google "
            "login` để đăng nhập lại"
        ) from None


def save_user_credentials(creds: Any, token_file: Path) -> None:
    """Keep the refresh token (never the short-lived access token) with mode 0600."""
    info = {
        "type": "authorized_user",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
        "token_uri": creds.token_uri,
        "scopes": list(creds.scopes or USER_SCOPES),
    }
    if not info["refresh_token"]:
        raise SourceError("Google không trả về refresh token: hãy đăng nhập lại")
    token_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = token_file.with_name(f".{token_file.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh)
    os.replace(tmp, token_file)


def run_browser_flow(client_secrets: Path, *, open_browser: bool = True,
                     announce: Callable[[str], object] = print) -> Any:
    """The installed-app flow: a loopback server on a free port, Google's consent page in
    the browser (or its address printed for the person to open), then the code exchanged
    for tokens (PKCE)."""
    try:
        flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets),
                                                         scopes=list(USER_SCOPES))
    except (OSError, ValueError) as exc:
        raise SourceError(
            f"{client_secrets} không phải tệp OAuth client (client_secret….json, loại "
            f"Desktop app) tải từ Google Cloud Console: {exc}"
        ) from None
    message = ("Mở địa chỉ sau trong trình duyệt, đăng nhập bằng tài khoản Google của cán bộ "
               "tổng hợp và bấm Cho phép (Allow):\n{url}")
    announce("Đang chờ đăng nhập Google …")
    return flow.run_local_server(
        host="localhost", port=0, open_browser=open_browser,
        authorization_prompt_message=message,
        success_message="Đã đăng nhập. Có thể đóng cửa sổ này và quay lại cchc-sync.",
    )


def encode_for_paste(creds: Any) -> str:
    """One line to carry a sign-in from a laptop to a headless server."""
    info = {"client_id": creds.client_id, "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token, "token_uri": creds.token_uri,
            "scopes": list(creds.scopes or USER_SCOPES)}
    return "cchc1:" + base64.urlsafe_b64encode(json.dumps(info).encode()).decode()


def decode_pasted(line: str) -> Any:
    line = line.strip()
    if not line.startswith("cchc1:"):
        raise SourceError("dòng dán vào không phải kết quả của `cchc-sync google authorize`")
    try:
        return _credentials(json.loads(base64.urlsafe_b64decode(line[6:].encode())))
    except (ValueError, KeyError, TypeError) as exc:
        raise SourceError(f"dòng dán vào bị hỏng hoặc thiếu ({exc}): hãy dán lại cả dòng") \
            from None


def _credentials(info: dict[str, Any]) -> Any:
    """Credentials from a kept sign-in, keeping its token endpoint (google-auth's
    from_authorized_user_info would always put Google's own)."""
    return user_credentials.Credentials(
        token=None,
        refresh_token=info["refresh_token"],
        token_uri=info.get("token_uri") or "https://oauth2.googleapis.com/token",
        client_id=info["client_id"],
        client_secret=info["client_secret"],
        scopes=list(info.get("scopes") or USER_SCOPES),
    )


def laptop_instructions(client_secrets: str) -> str:
    return (
        "Máy chủ này không có trình duyệt. Trên một máy tính có trình duyệt đã cài cchc-sync, "
        "chép tệp OAuth client sang và chạy:\n\n"
        f"    cchc-sync google authorize --client-secrets {shlex.quote(client_secrets)}\n\n"
        "rồi dán dòng bắt đầu bằng cchc1: mà lệnh đó in ra vào đây và bấm Enter:"
    )
