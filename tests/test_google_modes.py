"""Each way an office acts on Google goes init → sync → flags → master against the fake,
through the CLI in real processes: the coordinator's own sign-in (a free account; the README
path, the browser step scripted), a service account acting as the coordinator by
domain-wide delegation, and a service account in a shared drive with Google's rule that a
service account owns nothing outside one (the fake's default, as Google's since 2025)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cchc_sync.app.demo_data import DISTRICT, UNITS_CSV
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from tests import cli_process
from tests.test_google_signin import login

ROOT = Path(__file__).resolve().parent.parent
COORDINATOR = "phongnoivu@songmay.example.gov.vn"
CODES = ("VP", "TP", "XA_LT")


@pytest.fixture(scope="module")
def fake():
    with FakeGoogle() as server:
        server.oauth_user = COORDINATOR
        yield server


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OAUTHLIB_INSECURE_TRANSPORT": "1"}
    return cli_process.run([*args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)


def _units(tmp_path: Path) -> Path:
    lines = UNITS_CSV.strip().splitlines()
    keep = [lines[0], *(ln for ln in lines[1:] if ln.split(",")[0] in CODES)]
    path = tmp_path / "units.csv"
    path.write_text("\n".join(keep) + "\n", encoding="utf-8")
    return path


def _texts(fake: FakeGoogle, file_id: str, tab: str) -> list[str]:
    dump = fake.spreadsheet(file_id)
    sheet = next(s for s in dump["sheets"] if s["title"] == tab)
    out = []
    for cell in sheet["cells"].values():
        for value in (cell.get("effectiveValue") or {}).values():
            out.append(str(value))
    return out


def _ids(fake: FakeGoogle, root: Path) -> dict[str, Any]:
    from cchc_sync.store.archive import Archive

    archive = Archive(root / "cchc-sync.sqlite")
    try:
        period = archive.db.execute("SELECT period FROM sheets LIMIT 1").fetchone()[0]
        sheets = {code: s.ref for code, s in archive.sheets(period).items()}
        return {"sheets": sheets, "master": archive.master(period)["ref"]}
    finally:
        archive.close()


def _init_sync_and_check(fake, root: Path, *init_args: str, owner: str) -> dict[str, Any]:
    done = _cli("init", str(root), "--units", str(_units(root.parent)), "--period", "2026S2",
                "--name", DISTRICT, "--backend", "google", "--endpoint", fake.url,
                "--coordinator", "chuyenvien@songmay.example.gov.vn", *init_args)
    assert done.returncode == 0, done.stderr
    ids = _ids(fake, root)
    vp = ids["sheets"]["VP"]
    # The files belong to the person the software acts as, and each unit's sheet is shared
    # with that unit's e-mail.
    assert fake.store.files[vp].owner == owner
    assert fake.store.files[ids["master"]].owner == owner
    shared = {p.get("emailAddress") for p in fake.store.files[vp].permissions}
    assert "vanphong@songmay.example.gov.vn" in shared
    # A clerk types a count with two numbers in one cell; the cycle flags it in the sheet.
    fake.edit_cells(vp, "Giải quyết TTHC", "A2:E2", [["Tư pháp", 1, 2, 3, "15/16"]],
                    user="vanphong@songmay.example.gov.vn")
    synced = _cli("sync", "--config", str(root / "cchc-sync.toml"))
    assert synced.returncode == 0, synced.stderr
    check = " ".join(_texts(fake, vp, "Kiểm tra"))
    assert "Tổng số hồ sơ tiếp nhận" in check or "15/16" in check
    summary = _texts(fake, ids["master"], "Tổng hợp")
    assert summary  # the master was written
    status = _cli("status", "--json", "--config", str(root / "cchc-sync.toml"))
    assert status.returncode == 0 and '"reachable": true' in status.stdout
    return ids


def test_a_free_account_office_goes_from_sign_in_to_flags_and_master(fake, tmp_path):
    token = login(fake, tmp_path)  # `cchc-sync google login`, the browser step scripted
    _init_sync_and_check(fake, tmp_path / "cchc", "--auth", "user", "--token", str(token),
                         owner=COORDINATOR)


def test_a_coordinator_who_lists_their_own_address_among_the_readers_keeps_the_master(
        fake, tmp_path):
    """The signed-in coordinator's own e-mail among `--coordinator` (a reader of the master):
    Drive never lowers the owner to reader through permissions.create, so the master stays
    theirs and writable, and an idle cycle is still one request."""
    token = login(fake, tmp_path)
    root = tmp_path / "cchc"
    ids = _init_sync_and_check(fake, root, "--auth", "user", "--token", str(token),
                               "--coordinator", COORDINATOR, owner=COORDINATOR)
    roles = {p.get("emailAddress"): p["role"]
             for p in fake.store.files[ids["master"]].permissions}
    assert roles[COORDINATOR] == "owner"
    assert roles["chuyenvien@songmay.example.gov.vn"] == "reader"
    config = str(root / "cchc-sync.toml")
    assert _cli("sync", "--config", config).returncode == 0  # re-reads our own flag writes
    fake.reset_stats()
    idle = _cli("sync", "--config", config)
    assert idle.returncode == 0, idle.stderr
    assert _api_requests(fake) == {"GET drive.files.list": 1}


def test_init_before_signing_in_says_what_to_run(fake, tmp_path):
    done = _cli("init", str(tmp_path / "cchc"), "--units", str(_units(tmp_path)),
                "--period", "2026S2", "--backend", "google", "--auth", "user",
                "--endpoint", fake.url)
    assert done.returncode == 2
    assert "cchc-sync google login" in done.stderr
    assert not (tmp_path / "cchc").exists()


def test_a_delegated_service_account_acts_as_the_coordinator(fake, tmp_path):
    key = tmp_path / "key.json"
    fake.register_key(make_service_account_key(key, fake.token_uri))
    fake.allow_delegation(DEFAULT_EMAIL)
    _init_sync_and_check(fake, tmp_path / "cchc", "--credentials", str(key),
                         "--subject", COORDINATOR, owner=COORDINATOR)


def _api_requests(fake: FakeGoogle) -> dict[str, int]:
    """Sheets and Drive requests since the last reset (the token endpoint left out)."""
    return {k: v for k, v in fake.stats()["by_kind"].items()
            if "drive." in k or "spreadsheets" in k or "values" in k}


def test_a_service_account_in_a_shared_drive_creates_there_and_owns_nothing(fake, tmp_path):
    key = tmp_path / "key.json"
    fake.register_key(make_service_account_key(key, fake.token_uri))
    # Google since 2025 (the fake's default): a service account has no Drive storage of its
    # own.
    assert not fake.service_account_storage
    drive = fake.create_shared_drive("Cải cách hành chính", organizer=COORDINATOR,
                                     members={DEFAULT_EMAIL: "fileOrganizer"})
    folder = fake.create_folder_in(drive, "Báo cáo CCHC", creator=COORDINATOR)
    ids = _init_sync_and_check(fake, tmp_path / "cchc", "--credentials", str(key),
                               "--folder", folder, owner="")
    for file_id in [*ids["sheets"].values(), ids["master"]]:
        assert fake.store.files[file_id].drive_id == drive  # the drive's, no one's
    config = str(tmp_path / "cchc" / "cchc-sync.toml")
    assert _cli("sync", "--config", config).returncode == 0  # our own flag writes echo
    fake.reset_stats()
    idle = _cli("sync", "--config", config)
    assert idle.returncode == 0, idle.stderr
    assert _api_requests(fake) == {"GET drive.files.list": 1}  # idle cycle: 1 request

    # The same account in a folder of someone's My Drive: Google's 403, said in one
    # line, not retried as if it were a rate limit.
    mine = fake.create_folder("Thư mục riêng", owner=COORDINATOR, share_with=DEFAULT_EMAIL)
    fake.reset_stats()
    refused = _cli("init", str(tmp_path / "mine"), "--units", str(_units(tmp_path)),
                   "--period", "2026S2", "--backend", "google", "--endpoint", fake.url,
                   "--credentials", str(key), "--folder", mine)
    assert refused.returncode != 0 and "Traceback" not in refused.stderr
    assert "shared drive" in refused.stderr.lower() or "bộ nhớ" in refused.stderr, \
        refused.stderr
    assert _api_requests(fake).get("POST drive.files.create") == 1
    assert not (tmp_path / "mine").exists()
