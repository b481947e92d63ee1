"""The coordinator's own Google sign-in (auth = "user"), as an office with a free account
does it: `cchc-sync google login` in a real process, the browser step scripted (the consent
page of the fake approves and redirects to the loopback server of google-auth-oauthlib),
the headless paste of `google authorize`, and a revoked sign-in as one Vietnamese line."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
import requests

from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.signin import USER_SCOPES, load_user_credentials
from cchc_sync.testing.fake_google import FakeGoogle
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def fake():
    with FakeGoogle() as server:
        server.oauth_user = "phongnoivu@songmay.example.gov.vn"
        yield server


def _cli(*args, stdin=None):
    # The fake serves plain http on loopback; oauthlib refuses a non-https authorization
    # address unless told this is a local test (its documented switch).
    env = {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"}
    return cli_process.Popen([*args], cwd=ROOT, env=env,
                            stdin=subprocess.PIPE if stdin is not None else None,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def browser_signs_in(proc, stream="stdout") -> None:
    """What the person does: open the printed address and press Allow (the fake's consent
    page approves at once and redirects to the loopback address the command listens on)."""
    out = getattr(proc, stream)
    for line in out:
        if line.startswith("http"):
            answer = requests.get(line.strip(), timeout=30)
            assert answer.status_code == 200, answer.text
            assert "Đã đăng nhập" in answer.text
            return
    raise AssertionError(f"no address printed; stderr: {proc.stderr.read()}")


def login(fake, tmp_path) -> Path:
    secrets = fake.client_secrets(tmp_path / "client_secret.json")
    token = tmp_path / "state" / "google-token.json"
    proc = _cli("google", "login", "--client-secrets", str(secrets), "--token", str(token),
                "--no-browser")
    browser_signs_in(proc)
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Đã đăng nhập Google" in rest
    info = json.loads(token.read_text(encoding="utf-8"))
    for secret in (info["refresh_token"], info["client_secret"], "ya29."):
        assert secret not in rest + err  # never printed
    return token


def test_login_keeps_only_the_refresh_token_readable_by_the_service_alone(fake, tmp_path):
    token = login(fake, tmp_path)
    assert stat.S_IMODE(os.stat(token).st_mode) == 0o600
    info = json.loads(token.read_text(encoding="utf-8"))
    assert info["type"] == "authorized_user" and info["refresh_token"].startswith("1//")
    assert "token" not in info and "access_token" not in info  # never the access token
    assert sorted(info["scopes"]) == sorted(USER_SCOPES)  # drive.file, not all of Drive
    # What the fake granted: the coordinator, with exactly these scopes.
    grants = list(fake.store.oauth.refresh.values())
    assert grants[-1]["user"] == "phongnoivu@songmay.example.gov.vn"
    assert sorted(grants[-1]["scopes"]) == sorted(USER_SCOPES)


def test_a_headless_server_takes_the_line_printed_on_a_laptop(fake, tmp_path):
    secrets = fake.client_secrets(tmp_path / "client_secret.json")
    laptop = _cli("google", "authorize", "--client-secrets", str(secrets), "--no-browser")
    browser_signs_in(laptop, stream="stderr")
    line, _ = laptop.communicate(timeout=60)
    assert laptop.returncode == 0 and line.startswith("cchc1:")
    token = tmp_path / "server" / "google-token.json"
    server = _cli("google", "login", "--headless", "--client-secrets", "client_secret.json",
                  "--token", str(token), stdin=True)
    out, err = server.communicate(line, timeout=60)
    assert server.returncode == 0, err
    assert "cchc-sync google authorize" in out  # told what to run on the laptop
    assert json.loads(token.read_text())["refresh_token"]


def test_a_garbled_paste_is_one_line_and_keeps_nothing(fake, tmp_path):
    token = tmp_path / "google-token.json"
    server = _cli("google", "login", "--headless", "--client-secrets", "x.json",
                  "--token", str(token), stdin=True)
    _, err = server.communicate("cchc1:không-phải-base64\n", timeout=60)
    assert server.returncode == 1
    assert err.startswith("Lỗi:") and "Traceback" not in err
    assert not token.exists()


def test_a_revoked_sign_in_is_one_line_asking_to_sign_in_again(fake, tmp_path):
    from cchc_sync.sources.google.client import build_gspread_client
    from cchc_sync.sources.google.transport import GoogleTransport

    token = login(fake, tmp_path)
    client = build_gspread_client(None, fake.url, credentials=load_user_credentials(token))
    transport = GoogleTransport(client.http_client, sleep=lambda s: None)
    assert "files" in transport.call("GET", "https://www.googleapis.com/drive/v3/files")
    fake.revoke_user_tokens()  # the coordinator removed the app's access in their account
    fake.expire_tokens()
    with pytest.raises(SourceError, match="google login"):
        transport.call("GET", "https://www.googleapis.com/drive/v3/files")


def test_no_sign_in_yet_says_what_to_run(tmp_path):
    with pytest.raises(SourceError, match="cchc-sync google login"):
        load_user_credentials(tmp_path / "google-token.json")
