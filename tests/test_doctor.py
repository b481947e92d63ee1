"""`cchc-sync doctor`: one test per fault it names, each made for real (a broken file, a
folder that is a file, a lock file of LibreOffice, the fake Google refusing as Google does),
and a clean setup that passes."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from cchc_sync.app.demo_data import DISTRICT, UNITS_CSV
from cchc_sync.app.doctor import Status, run_doctor
from cchc_sync.app.initialise import init_workspace
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from tests import cli_process

ROOT = Path(__file__).resolve().parent.parent


def _failed(checks):
    return {c.id: c for c in checks if c.status is Status.FAIL}


@pytest.fixture(scope="module")
def local_ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("doctor") / "d"
    root.mkdir()
    (root / "units-source.csv").write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(root, units_csv=root / "units-source.csv", period="2022S1",
                        name=DISTRICT)
    ws.close()
    return ws.config


def test_a_clean_local_setup_passes_and_exits_0(local_ws):
    checks = run_doctor(local_ws.path)
    assert not _failed(checks), _failed(checks)
    assert {c.id for c in checks} >= {"config", "units", "templates", "period", "archive",
                                      "local.folder", "local.workbooks"}
    proc = cli_process.run(["doctor", "--json",
                           "--config", str(local_ws.path)], cwd=ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert answer["ok"] is True and answer["checks"][0]["id"] == "config"


def test_a_config_that_is_not_toml_is_one_failure(tmp_path):
    bad = tmp_path / "cchc-sync.toml"
    bad.write_text("[workspace\nname = 'x'\n", encoding="utf-8")
    checks = run_doctor(bad)
    assert [(c.id, c.status) for c in checks] == [("config", Status.FAIL)]
    proc = cli_process.run(["doctor", "--config", str(bad)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Không đọc được tệp cấu hình" in proc.stdout


def _copy(config, tmp_path):
    """A copy of the workspace to break (the module's stays clean)."""
    import shutil

    dst = tmp_path / "ws"
    shutil.copytree(config.root, dst, symlinks=True)
    return dst / config.path.name


def test_a_broken_registry_and_a_broken_archive_are_named(local_ws, tmp_path):
    path = _copy(local_ws, tmp_path)
    root = path.parent
    units = root / "units.csv"
    units.write_text("ma,ten\n,Không có mã\n", encoding="utf-8")
    (root / "cchc-sync.sqlite").write_text("không phải cơ sở dữ liệu", encoding="utf-8")
    failed = _failed(run_doctor(path))
    assert set(failed) >= {"units", "archive"}
    assert "archive restore" in failed["archive"].fix


def test_a_missing_folder_and_a_missing_workbook_and_an_open_one(local_ws, tmp_path):
    path = _copy(local_ws, tmp_path)
    folder = path.parent / "don-vi" / "2022S1"
    books = sorted(folder.glob("*.xlsx"))
    books[0].unlink()
    (folder / f".~lock.{books[1].name}#").write_text(
        "Nguyễn Văn A,nva,may-tinh-vp,05.12.2026 09:00,file:///home/nva/.config/libreoffice/4;",
        encoding="utf-8")
    checks = run_doctor(path)
    failed = _failed(checks)
    assert "local.workbooks" in failed and books[0].name.split("-")[0] in failed[
        "local.workbooks"].message
    notes = [c for c in checks if c.status is Status.NOTE]
    assert notes and "Nguyễn Văn A" in notes[0].message
    import shutil

    shutil.rmtree(path.parent / "don-vi")
    (path.parent / "don-vi").write_text("not a folder", encoding="utf-8")
    assert "Không có thư mục" in _failed(run_doctor(path))["local.folder"].message


# -- Google ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake():
    with FakeGoogle() as server:
        yield server


def _google_config(tmp_path, fake, *, units=UNITS_CSV, interval=10, my_drive=False):
    """A service account's config; its folder is in a shared drive (where Google lets a
    service account create files) unless `my_drive`: then a person's folder shared with it."""
    key = tmp_path / "key.json"
    fake.register_key(make_service_account_key(key, fake.token_uri))
    folder = (fake.create_folder("Báo cáo CCHC", share_with=DEFAULT_EMAIL) if my_drive
              else fake.create_shared_drive_folder(DEFAULT_EMAIL))
    (tmp_path / "units.csv").write_text(units, encoding="utf-8")
    config = tmp_path / "cchc-sync.toml"
    config.write_text(
        "[workspace]\nname = 'Thử'\nperiod = '2022S1'\nunits = 'units.csv'\n"
        f"[backend]\nkind = 'google'\n[schedule]\ninterval_minutes = {interval}\n"
        f"[google]\ncredentials = '{key}'\nfolder = '{folder}'\nendpoint = '{fake.url}'\n",
        encoding="utf-8")
    return config, key, folder


def test_a_clean_google_setup_passes_and_leaves_nothing_behind(tmp_path, fake):
    config, _, folder = _google_config(tmp_path, fake)
    checks = run_doctor(config)
    assert not _failed(checks), _failed(checks)
    assert {c.id for c in checks} >= {"google.credentials", "google.token",
                                      "google.sheets-api", "google.drive-api",
                                      "google.folder", "google.create", "google.emails",
                                      "google.quota"}
    listed = [f for f in fake.store.files.values() if folder in f.parents and not f.trashed]
    assert listed == []  # the probe file was deleted


def test_a_key_readable_by_others_or_a_folder_as_key_is_named(tmp_path, fake):
    config, key, _ = _google_config(tmp_path, fake)
    os.chmod(key, 0o644)
    failed = _failed(run_doctor(config))
    assert "chmod 600" in failed["google.credentials"].fix
    key.unlink()
    key.mkdir()
    assert "là một thư mục" in _failed(run_doctor(config))["google.credentials"].message


def test_a_server_clock_off_by_hours_is_named(tmp_path, fake, monkeypatch):
    import google.auth._helpers as helpers

    config, _, _ = _google_config(tmp_path, fake)
    real = helpers.utcnow
    monkeypatch.setattr(helpers, "utcnow", lambda: real() + dt.timedelta(hours=3))
    failed = _failed(run_doctor(config))
    assert "đồng hồ" in failed["google.token"].message
    assert "timedatectl" in failed["google.token"].fix


@pytest.mark.parametrize("api, title", [("sheets", "Google Sheets API"),
                                        ("drive", "Google Drive API")])
def test_an_api_not_enabled_shows_its_activation_link(tmp_path, fake, api, title):
    config, _, _ = _google_config(tmp_path, fake)
    fake.disabled_apis = {api}
    try:
        failed = _failed(run_doctor(config))
    finally:
        fake.disabled_apis = set()
    check = failed[f"google.{api}-api"]
    assert title in check.message
    assert f"apis/api/{api}.googleapis.com/overview" in check.fix


def test_a_service_account_without_storage_is_told_to_use_a_shared_drive(tmp_path, fake):
    config, _, _ = _google_config(tmp_path, fake, my_drive=True)  # refused, as by Google
    failed = _failed(run_doctor(config))
    assert "Bộ nhớ dùng chung" in failed["google.create"].fix
    assert "storage quota" in failed["google.create"].detail


def test_a_folder_not_shared_and_bad_emails_and_a_short_interval(tmp_path, fake):
    units = UNITS_CSV.replace("vanphong@songmay.example.gov.vn", "vanphong@@songmay")
    config, _, folder = _google_config(tmp_path, fake, units=units, interval=0.1)
    failed = _failed(run_doctor(config))
    assert "vanphong@@songmay" in failed["google.emails"].message
    assert "interval_minutes" in failed["google.quota"].fix
    fake.unshare(folder)
    assert "chia sẻ thư mục" in _failed(run_doctor(config))["google.folder"].fix


def test_who_holds_a_workbook_open_is_read_from_excels_owner_file(tmp_path):
    from cchc_sync.app.doctor import lock_owner

    owner = tmp_path / "~$VP.xlsx"
    name = b"Tran Thi B"
    owner.write_bytes(bytes([len(name)]) + name + b" " * (53 - len(name)) + "Tran Thi B".encode(
        "utf-16-le"))
    assert lock_owner(owner) == "Tran Thi B"


def _user_config(tmp_path, fake, token):
    (tmp_path / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    config = tmp_path / "cchc-sync.toml"
    config.write_text(
        "[workspace]\nname = 'Thử'\nperiod = '2022S1'\nunits = 'units.csv'\n"
        "[backend]\nkind = 'google'\n"
        f"[google]\nauth = 'user'\ntoken = '{token}'\nendpoint = '{fake.url}'\n",
        encoding="utf-8")
    return config


def test_the_coordinators_sign_in_passes_and_a_revoked_one_is_named(tmp_path, fake):
    from tests.test_google_signin import login

    config = _user_config(tmp_path, fake, login(fake, tmp_path))
    checks = run_doctor(config)
    assert not _failed(checks), _failed(checks)
    assert "google.create" in {c.id for c in checks}
    fake.revoke_user_tokens()
    failed = _failed(run_doctor(config))
    assert "google login" in failed["google.token"].fix


def test_no_sign_in_yet_is_named_with_the_command(tmp_path, fake):
    config = _user_config(tmp_path, fake, tmp_path / "google-token.json")
    assert "google login" in _failed(run_doctor(config))["google.credentials"].fix


def test_delegation_not_granted_by_the_admin_is_named(tmp_path, fake):
    config, _, folder = _google_config(tmp_path, fake, my_drive=True)
    text = config.read_text(encoding="utf-8")
    config.write_text(text + "subject = 'phongnoivu@example.gov.vn'\n", encoding="utf-8")
    failed = _failed(run_doctor(config))
    assert "Uỷ quyền toàn miền" in failed["google.token"].fix
    fake.allow_delegation(DEFAULT_EMAIL)
    # Acting as the coordinator, the folder must be one the coordinator can write in.
    assert "google.folder" in _failed(run_doctor(config))
    fake.share(folder, "phongnoivu@example.gov.vn")
    assert not _failed(run_doctor(config))


def test_a_master_someone_may_edit_is_named(tmp_path, fake):
    from cchc_sync.app.initialise import init_workspace
    from cchc_sync.domain.config import GoogleSettings
    from cchc_sync.sources.google.backend import GoogleBackend

    lines = UNITS_CSV.strip().splitlines()
    (tmp_path / "src.csv").write_text("\n".join(lines[:3]) + "\n", encoding="utf-8")
    key = tmp_path / "key.json"
    fake.register_key(make_service_account_key(key, fake.token_uri))
    folder = fake.create_shared_drive_folder(DEFAULT_EMAIL)
    google = GoogleSettings(credentials=key, folder=folder, endpoint=fake.url,
                            coordinators=("phongnoivu@example.gov.vn",))
    ws = init_workspace(tmp_path / "ws", units_csv=tmp_path / "src.csv", period="2022S1",
                        backend="google", name=DISTRICT, google=google,
                        backend_factory=lambda c: GoogleBackend.from_config(c, data_rows=5))
    master = ws.archive.master("2022S1")["ref"]
    ws.close()
    checks = run_doctor(ws.config.path)
    assert not _failed(checks) and "google.master" in {c.id for c in checks}
    fake.share(master, "nguoila@example.gov.vn", role="writer")
    failed = _failed(run_doctor(ws.config.path))
    assert "nguoila@example.gov.vn" in failed["google.master"].message
