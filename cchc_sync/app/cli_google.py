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

from cchc_sync.domain.config import DEFAULT_TOKEN_NAME, ConfigError, config_path, load_config
from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.signin import (
    decode_pasted,
    encode_for_paste,
    laptop_instructions,
    run_browser_flow,
    save_user_credentials,
)

CLIENT_SECRETS_HELP = ("The office's OAuth client (Google Cloud Console > APIs & Services > "
                       "Credentials > Create OAuth client ID > Desktop app > Download JSON).")


@click.group("google")
def google_group() -> None:
    """Sign in to Google as the coordinator (auth = "user")."""


@google_group.command("login")
@click.option("--config", "config_file", default=None, help="cchc-sync.toml (its token path).")
@click.option("--client-secrets", type=click.Path(path_type=Path), required=True,
              help=CLIENT_SECRETS_HELP)
@click.option("--token", "token_file", type=click.Path(path_type=Path), default=None,
              help="Where to keep the sign-in (default: the config's, else ./google-token.json).")
@click.option("--no-browser", is_flag=True, help="Print the address instead of opening it.")
@click.option("--headless", is_flag=True,
              help="No browser here: paste the line `cchc-sync google authorize` printed.")
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


@google_group.command("authorize")
@click.option("--client-secrets", type=click.Path(path_type=Path), required=True,
              help=CLIENT_SECRETS_HELP)
@click.option("--no-browser", is_flag=True, help="Print the address instead of opening it.")
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
