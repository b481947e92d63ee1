"""Security: the key file's permissions, no secret in any log, and no unit sees another
unit's figures in what the software writes back to it."""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import json
import logging
import os
import re
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.base import CHECK_TAB, SourceError
from cchc_sync.sources.google.client import build_gspread_client, check_key_file
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from tests import cli_process
from tests.conftest import make_district

HAVE_GOOGLE_BACKEND = importlib.util.find_spec("cchc_sync.sources.google.backend") is not None
needs_google_backend = pytest.mark.skipif(
    not HAVE_GOOGLE_BACKEND, reason="cchc_sync.sources.google.backend not written yet"
)

# -- the key file ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666, 0o700 | 0o004])
def test_a_key_others_can_read_is_refused_with_the_chmod_to_run(tmp_path, mode):
    key = tmp_path / "khoá dịch vụ.json"
    make_service_account_key(key, "http://127.0.0.1:9/token")
    os.chmod(key, mode)
    with pytest.raises(SourceError) as exc:
        build_gspread_client(key, endpoint="http://127.0.0.1:9")
    message = str(exc.value)
    assert "\n" not in message
    assert message.endswith(f"chmod 600 '{key}'")  # quoted: the path has a space
    assert f"{mode & 0o777:04o}" in message


@pytest.mark.parametrize("mode", [0o600, 0o400])
def test_a_private_key_is_accepted(tmp_path, mode):
    key = tmp_path / "sa.json"
    make_service_account_key(key, "http://127.0.0.1:9/token")
    os.chmod(key, mode)
    assert check_key_file(key) == key
    client = build_gspread_client(key, endpoint="http://127.0.0.1:9")  # no request yet
    assert client is not None


def test_the_chmod_line_is_exact_for_a_plain_path(tmp_path):
    key = tmp_path / "sa.json"
    key.write_text("{}")
    os.chmod(key, 0o644)
    with pytest.raises(SourceError, match=re.escape(f"run: chmod 600 {key}") + "$"):
        check_key_file(key)
    with pytest.raises(SourceError, match="not found"):
        check_key_file(tmp_path / "missing.json")


def test_a_key_systemd_delivered_is_accepted_despite_its_acl_mask(tmp_path, monkeypatch):
    # systemd writes credentials 0400 and grants the service user read access with an ACL,
    # which shows as group bits (0440); the directory itself is the service's alone.
    creds = tmp_path / "credentials"
    creds.mkdir(mode=0o500)
    key = creds / "google-key"
    key.write_text("{}")
    os.chmod(key, 0o440)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert check_key_file(key) == key
    elsewhere = tmp_path / "sa.json"
    elsewhere.write_text("{}")
    os.chmod(elsewhere, 0o440)
    with pytest.raises(SourceError, match="chmod 600"):
        check_key_file(elsewhere)


def test_a_key_is_parsed_once_per_process_and_a_rotated_key_is_used_at_once(tmp_path):
    """Parsing the PEM was 3 % of the suite's CPU (every backend made parsed it again): the
    signer is kept per key content, so a key rotated in place is another content."""
    from cryptography.hazmat.primitives import serialization
    from google.auth.crypt import RSAVerifier

    from cchc_sync.sources.google.client import (
        DEFAULT_SCOPES,
        READONLY_DRIVE_SCOPES,
        read_service_account_key,
    )

    def public_pem(info):
        private = serialization.load_pem_private_key(info["private_key"].encode(), None)
        return private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)

    key = tmp_path / "sa.json"
    old = make_service_account_key(key, "http://127.0.0.1:9/token", fresh=True)
    first = read_service_account_key(key, DEFAULT_SCOPES)
    again = read_service_account_key(key, READONLY_DRIVE_SCOPES)
    assert again.signer is first.signer  # parsed once
    assert list(again.scopes) == list(READONLY_DRIVE_SCOPES)  # each its own scopes
    assert again.service_account_email == old["client_email"]
    new = make_service_account_key(key, "http://127.0.0.1:9/token", fresh=True)  # rotated
    rotated = read_service_account_key(key, DEFAULT_SCOPES)
    assert rotated.signer is not first.signer
    assert rotated.signer.key_id == new["private_key_id"] != old["private_key_id"]
    signature = rotated.signer.sign(b"jwt")
    assert RSAVerifier.from_string(public_pem(new)).verify(b"jwt", signature)
    assert not RSAVerifier.from_string(public_pem(old)).verify(b"jwt", signature)


@pytest.mark.parametrize("content", [
    "not json", "[]", "{}", '{"client_email": "a@b.c", "token_uri": "http://x"}',
    '{"client_email": "a@b.c", "token_uri": "http://x", "private_key": "-----BEGIN x"}',
    '{"client_email": "a@b.c", "token_uri": "http://x", "private_key": 7}',
])
def test_a_file_that_is_not_a_key_is_one_line(tmp_path, content):
    from cchc_sync.sources.google.client import DEFAULT_SCOPES, read_service_account_key

    key = tmp_path / "sa.json"
    key.write_text(content, encoding="utf-8")
    os.chmod(key, 0o600)
    with pytest.raises(SourceError, match="không phải tệp khoá tài khoản dịch vụ") as exc:
        read_service_account_key(key, DEFAULT_SCOPES)
    assert "\n" not in str(exc.value)


# -- no secret in the logs ------------------------------------------------------------------


def _secrets_in(text: str, info: dict) -> list[str]:
    """Every piece of key material or token found in `text`."""
    found = []
    body = [ln for ln in info["private_key"].splitlines() if ln and "PRIVATE KEY" not in ln]
    for line in body:
        if len(line) >= 16 and line in text:
            found.append(f"private key line {line[:8]}…")
    for marker in ("PRIVATE KEY", info["private_key_id"], "ya29.", "Bearer "):
        if marker in text:
            found.append(marker)
    # The JWT assertion google-auth signs with the key (header.payload.signature).
    if re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}", text):
        found.append("a JWT")
    return found


def test_debug_logs_of_a_full_local_cycle_hold_no_key_or_token(tmp_path):
    ws = make_district(tmp_path / "d")
    key = tmp_path / "d" / "sa.json"
    info = make_service_account_key(key, "http://127.0.0.1:9/token")
    config = ws.config.path
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r'credentials = ".*"', f'credentials = "{key}"', text),
                      encoding="utf-8")
    ws.close()
    out = cli_process.run(
        ["-v", "sync", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    logs = out.stdout + out.stderr
    assert "DEBUG" in logs or "INFO" in logs
    assert _secrets_in(logs, info) == []


def _current_half_year() -> str:
    """The half-year under way (windows start on the 15th, Decree 09/2019): still open, so
    nothing is locked under the real clock."""
    today = dt.date.today()
    if (today.month, today.day) >= (12, 15):
        return f"{today.year + 1}S1"
    return f"{today.year}S2" if (today.month, today.day) >= (6, 15) else f"{today.year}S1"


@pytest.fixture
def google_workspace(tmp_path):
    from cchc_sync.app.initialise import init_workspace
    from cchc_sync.domain.config import GoogleSettings
    from cchc_sync.sources.google.backend import GoogleBackend
    from cchc_sync.testing.fake_google import FakeGoogle

    units = tmp_path / "units.csv"
    units.write_text(
        "ma,ten,cap\nVP,Văn phòng HĐND và UBND huyện,huyen\nXA,UBND xã Hòa Thuận,xa\n",
        encoding="utf-8",
    )
    with FakeGoogle() as fake:
        key = tmp_path / "sa.json"
        info = make_service_account_key(key, fake.token_uri, DEFAULT_EMAIL)
        fake.register_key(info)
        folder = fake.create_shared_drive_folder(DEFAULT_EMAIL, "CCHC")
        google = GoogleSettings(credentials=key, folder=folder, endpoint=fake.url,
                                reads_per_minute=100_000, writes_per_minute=100_000)
        ws = init_workspace(tmp_path / "w", units_csv=units, period=_current_half_year(),
                            backend="google", name="huyện Sông Mây", google=google,
                            backend_factory=GoogleBackend.from_config)
        try:
            yield ws, fake, info
        finally:
            ws.close()


def _type_document(ws, fake, unit: str, number: str, date: str) -> None:
    from cchc_sync.app.demo_google import type_table

    ref = ws.archive.sheets(ws.period.code)[unit].ref
    type_table(fake, ref, ws.templates.table("van_ban"), [{
        "so_ky_hieu": number, "ngay_ban_hanh": date, "loai_van_ban": "Kế hoạch",
        "trich_yeu": f"Kế hoạch CCHC của {unit}",
    }])


@needs_google_backend
def test_debug_logs_of_a_full_google_cycle_hold_no_key_or_token(google_workspace):
    ws, fake, info = google_workspace
    _type_document(ws, fake, "VP", "175/KH-UBND", "2022-01-07")
    # Everything at DEBUG, libraries included (google-auth, urllib3, gspread).
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setLevel(logging.DEBUG)
    root = logging.getLogger()
    saved = {name: logging.getLogger(name).level
             for name in ("", "google", "urllib3", "gspread", "requests", "cchc_sync")}
    root.addHandler(handler)
    for name in saved:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        result = sync_once(ws)
        fake.expire_tokens()  # google-auth's refresh-on-401 path, logged too
        _type_document(ws, fake, "XA", "175/KH-UBND", "2022-01-10")
        sync_once(ws)
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    assert result.units_read == 2
    logs = buffer.getvalue()
    assert "cycle: read" in logs and "HTTP/1.1" in logs  # libraries did log at DEBUG
    assert _secrets_in(logs, info) == []
    # And what a person gets with `cchc-sync -v sync` (a separate process, same fake).
    _type_document(ws, fake, "VP", "176/KH-UBND", "2022-01-08")
    out = cli_process.run(
        ["-v", "sync", "--config", str(ws.config.path)],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert _secrets_in(out.stdout + out.stderr, info) == []


@needs_google_backend
def test_the_cli_refuses_a_readable_key_in_one_line_exit_1(google_workspace):
    ws, _fake, _info = google_workspace
    key = ws.config.google.credentials
    os.chmod(key, 0o644)
    result = CliRunner().invoke(cli, ["sync", "--config", str(ws.config.path)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cchc-sync: ")
    assert lines[0].endswith(f"chmod 600 {key}")
    assert "Traceback" not in result.output


# -- one unit never sees another unit's figures ---------------------------------------------

# In the sample district, VP and XA_HT cite document 175/KH-UBND with different dates.
VP_DATES = ("07/01/2022", "7/1/2022", "2022-01-07", "07/01", "ngày 07 tháng 01")
VP_SUBJECT = "Kế hoạch cải cách hành chính huyện Sông Mây năm 2022"


def _workbook_texts(path: Path) -> dict[str, str]:
    """All text the software shows in a workbook: the check tab, notes, status cells."""
    wb = openpyxl.load_workbook(path)
    check = "\n".join(
        str(c) for row in wb[CHECK_TAB].iter_rows(values_only=True) for c in row if c
    )
    notes, status = [], []
    for sheet in wb.worksheets:
        header = [c.value for c in sheet[1]]
        for row in sheet.iter_rows():
            for cell in row:
                if cell.comment is not None:
                    notes.append(cell.comment.text)
                if cell.row > 1 and header[cell.column - 1] == "Kết quả kiểm tra" and cell.value:
                    status.append(str(cell.value))
    return {"check": check, "notes": "\n".join(notes), "status": "\n".join(status)}


def test_the_cross_unit_document_error_names_the_other_unit_not_its_data(district):
    sync_once(district)
    period = district.period.code
    mine = [f for f in district.archive.open_findings(period, "XA_HT")
            if f.rule == "van_ban.so-hai-ngay"]
    assert len(mine) == 1
    finding = mine[0]
    vp_name = district.units_by_code["VP"].name
    assert vp_name in finding.message
    assert finding.value == "2022-01-10"  # its own date, not the other unit's
    for shown in (finding.message, json.dumps(finding.to_json(), ensure_ascii=False)):
        for leaked in (*VP_DATES, VP_SUBJECT):
            assert leaked not in shown
    # Nor anywhere the software writes into XA_HT's workbook.
    path = district.config.root / district.archive.sheets(period)["XA_HT"].ref
    texts = _workbook_texts(path)
    assert vp_name in texts["check"]
    for where, text in texts.items():
        for leaked in (*VP_DATES, VP_SUBJECT):
            assert leaked not in text, (where, leaked)
    # And the other way round: VP learns XA_HT's name, not its date.
    vp_text = _workbook_texts(district.config.root / district.archive.sheets(period)["VP"].ref)
    assert district.units_by_code["XA_HT"].name in vp_text["check"]
    for leaked in ("10/01/2022", "2022-01-10", "10/1/2022"):
        assert all(leaked not in text for text in vp_text.values()), leaked


def test_no_unit_workbook_shows_another_units_name_unless_a_cross_rule_names_it(district):
    """The only place a unit's workbook mentions another unit is a cross-unit finding."""
    sync_once(district)
    period = district.period.code
    names = {u.code: u.name for u in district.units}
    cross_named = {("XA_HT", "VP"), ("VP", "XA_HT")}
    for unit in district.units:
        path = district.config.root / district.archive.sheets(period)[unit.code].ref
        text = "\n".join(_workbook_texts(path).values())
        for other, name in names.items():
            if other == unit.code or name in unit.name:
                continue
            if (unit.code, other) in cross_named:
                assert name in text
            else:
                assert name not in text, (unit.code, other)
