"""`cchc-sync google login | authorize`: the coordinator's own Google sign-in (auth = "user").

Thin: parse, call sources/google/signin.py, say the result in Vietnamese, exit.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

import click
from google.auth.exceptions import RefreshError, TransportError
from google.auth.transport.requests import Request

from cchc_sync.app.cli_help import group
from cchc_sync.domain.config import DEFAULT_TOKEN_NAME, ConfigError, config_path, load_config
from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.signin import (
    decode_pasted,
    encode_for_paste,
    laptop_instructions,
    run_browser_flow,
    save_user_credentials,
)

CLIENT_SECRETS_HELP = ("Tệp OAuth client của cơ quan (Google Cloud Console > APIs & Services > "
                       "Credentials > Create OAuth client ID > Desktop app > Download JSON).")

NO_BROWSER_HELP = "In địa chỉ ra thay vì tự mở trình duyệt."


@group("google", help='Đăng nhập Google bằng tài khoản của cán bộ tổng hợp (auth = "user").')
def google_group() -> None:
    """Sign in to Google as the coordinator (auth = "user")."""


@google_group.command("login", help="Đăng nhập một lần; thông tin đăng nhập được giữ lại (quyền "
                                "0600) cho tiến trình chạy nền.")
@click.option("--config", "config_file", default=None,
              help="Tệp cchc-sync.toml (nơi nó ghi tệp đăng nhập).")
@click.option("--client-secrets", type=click.Path(path_type=Path), required=True,
              help=CLIENT_SECRETS_HELP)
@click.option("--token", "token_file", type=click.Path(path_type=Path), default=None,
              help="Nơi giữ thông tin đăng nhập (mặc định: theo tệp cấu hình, không có thì "
                   "./google-token.json).")
@click.option("--no-browser", is_flag=True, help=NO_BROWSER_HELP)
@click.option("--headless", is_flag=True,
              help="Máy này không có trình duyệt: dán dòng mà `cchc-sync google authorize` "
                   "đã in ra.")
def login(config_file: str | None, client_secrets: Path, token_file: Path | None,
          no_browser: bool, headless: bool) -> None:
    """Sign in once; the refresh token is kept (mode 0600) for the daemon."""
    target = token_file or _configured_token(config_file)
    try:
        if headless:
            click.echo(laptop_instructions(str(client_secrets)))
            creds = decode_pasted(sys.stdin.readline())
            creds.refresh(Request())  # proves the pasted sign-in works before keeping it
        else:
            creds = run_browser_flow(client_secrets, open_browser=not no_browser,
                                     announce=click.echo)
        save_user_credentials(creds, target)
    except SourceError as exc:
        _fail(str(exc))
    except (RefreshError, TransportError) as exc:
        _fail(f"Google không chấp nhận đăng nhập này: {exc}")
    except OSError as exc:
        _fail(f"không ghi được {target}: {exc.strerror}")
    click.echo(f"Đã đăng nhập Google. Thông tin đăng nhập lưu tại {target} (chỉ tài khoản "
               "chạy cchc-sync đọc được). Dịch vụ sẽ dùng nó từ lượt đồng bộ sau.")


@google_group.command("authorize", help="Trên máy có trình duyệt: đăng nhập rồi in một dòng "
                                    "để dán vào `google login --headless`.")
@click.option("--client-secrets", type=click.Path(path_type=Path), required=True,
              help=CLIENT_SECRETS_HELP)
@click.option("--no-browser", is_flag=True, help=NO_BROWSER_HELP)
def authorize(client_secrets: Path, no_browser: bool) -> None:
    """On a laptop with a browser: sign in and print one line for `google login --headless`."""
    try:
        # Everything but the line to paste goes to stderr, so stdout is just that line.
        with contextlib.redirect_stdout(sys.stderr):
            creds = run_browser_flow(client_secrets, open_browser=not no_browser,
                                     announce=lambda text: click.echo(text, err=True))
    except SourceError as exc:
        _fail(str(exc))
    click.echo("Dán dòng dưới đây vào máy chủ (lệnh cchc-sync google login --headless):",
               err=True)
    click.echo(encode_for_paste(creds))


def _configured_token(config_file: str | None) -> Path:
    path = config_path(config_file)
    if path.exists():
        try:
            token = load_config(path).google.token_file
        except ConfigError as exc:
            _fail(str(exc), code=2)
        if token is not None:
            return token
    return Path(os.getcwd()) / DEFAULT_TOKEN_NAME


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"Lỗi: {message}", err=True)
    sys.exit(code)
