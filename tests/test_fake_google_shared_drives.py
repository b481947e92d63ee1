"""The fake's shared drives behave as Google documents them, through real google-auth over
HTTP: drives.create/list/get, members and their roles (Content manager = fileOrganizer), a
file in a shared drive owned by the drive (so a service account may create there while it
may not in a My Drive folder), 404 for a shared-drive item asked about without
supportsAllDrives=true, and which corpora list what."""

from __future__ import annotations

import pytest

from cchc_sync.sources.google.client import build_gspread_client
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import make_service_account_key

DRIVE = "https://www.googleapis.com/drive/v3"
MANAGER = "quanly@cchc-test.iam.gserviceaccount.com"
WORKER = "dongbo@cchc-test.iam.gserviceaccount.com"
FOLDER = "application/vnd.google-apps.folder"
SHEET = "application/vnd.google-apps.spreadsheet"
ALL = {"supportsAllDrives": "true"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    keys = tmp_path_factory.mktemp("keys")
    with FakeGoogle() as fake:  # Google's rule since 2025, the fake's default
        assert not fake.service_account_storage
        sessions = {}
        for email in (MANAGER, WORKER):
            key = keys / f"{email.split('@')[0]}.json"
            fake.register_key(make_service_account_key(key, fake.token_uri, email=email))
            sessions[email] = build_gspread_client(key, fake.url).http_client.session
        yield fake, sessions[MANAGER], sessions[WORKER]


def _call(session, method, url, **kwargs):
    answer = session.request(method, url, **kwargs)
    return answer.status_code, answer.json() if answer.content else None


def test_a_shared_drive_its_members_and_a_file_owned_by_the_drive(site):
    fake, manager, worker = site
    code, made = _call(manager, "POST", f"{DRIVE}/drives", params={"requestId": "r-1"},
                       json={"name": "Cải cách hành chính"})
    assert code == 200 and made["kind"] == "drive#drive"
    drive = made["id"]
    # drives.create is idempotent per requestId; a missing requestId is Google's 400.
    assert _call(manager, "POST", f"{DRIVE}/drives", params={"requestId": "r-1"},
                 json={"name": "x"})[1]["id"] == drive
    assert _call(manager, "POST", f"{DRIVE}/drives", json={"name": "x"})[0] == 400

    # Not a member yet: the worker sees no drive and cannot create in it.
    assert _call(worker, "GET", f"{DRIVE}/drives")[1]["drives"] == []
    assert _call(worker, "GET", f"{DRIVE}/drives/{drive}")[0] == 404
    # Only a Manager adds members; the worker becomes Content manager.
    code, _ = _call(manager, "POST", f"{DRIVE}/files/{drive}/permissions", params=ALL,
                    json={"type": "user", "role": "fileOrganizer", "emailAddress": WORKER})
    assert code == 200
    assert [d["id"] for d in _call(worker, "GET", f"{DRIVE}/drives")[1]["drives"]] == [drive]
    code, error = _call(worker, "POST", f"{DRIVE}/files/{drive}/permissions", params=ALL,
                        json={"type": "user", "role": "reader", "emailAddress": "x@y.vn"})
    assert code == 403 and error["error"]["errors"][0]["reason"] == \
        "insufficientFilePermissions"

    # Into the drive: allowed (the drive's storage), the file has no owner, says its drive.
    code, folder = _call(worker, "POST", f"{DRIVE}/files", params={**ALL, "fields": "id"},
                         json={"name": "Báo cáo", "mimeType": FOLDER, "parents": [drive]})
    assert code == 200
    code, sheet = _call(worker, "POST", f"{DRIVE}/files",
                        params={**ALL, "fields": "id,driveId,owners"},
                        json={"name": "VP", "mimeType": SHEET, "parents": [folder["id"]]})
    assert code == 200 and sheet["driveId"] == drive and "owners" not in sheet
    # Without supportsAllDrives=true the same item is not found, as Google answers.
    assert _call(worker, "GET", f"{DRIVE}/files/{sheet['id']}")[0] == 404
    code, _ = _call(worker, "POST", f"{DRIVE}/files", params={"fields": "id"},
                    json={"name": "VP2", "mimeType": SHEET, "parents": [folder["id"]]})
    assert code == 404
    # A service account creating anywhere else: Google's 403, not a rate limit.
    code, error = _call(worker, "POST", f"{DRIVE}/files", params={**ALL, "fields": "id"},
                        json={"name": "riêng", "mimeType": SHEET})
    assert code == 403
    assert error["error"]["errors"][0]["reason"] == "storageQuotaExceeded"

    # Listings: shared-drive items only with includeItemsFromAllDrives (which needs
    # supportsAllDrives); corpora=user holds what the caller created; corpora=drive the
    # whole drive, and needs driveId.
    q = {"q": f"'{folder['id']}' in parents", "fields": "files(id)"}
    ids = [f["id"] for f in _call(worker, "GET", f"{DRIVE}/files", params={**ALL, **q})[1][
        "files"]]
    assert ids == []
    both = {**ALL, **q, "includeItemsFromAllDrives": "true"}
    assert [f["id"] for f in _call(worker, "GET", f"{DRIVE}/files", params=both)[1][
        "files"]] == [sheet["id"]]
    assert [f["id"] for f in _call(manager, "GET", f"{DRIVE}/files", params=both)[1][
        "files"]] == []  # the manager did not create it: not in its "user" corpus
    assert [f["id"] for f in _call(manager, "GET", f"{DRIVE}/files", params={
        **both, "corpora": "drive", "driveId": drive})[1]["files"]] == [sheet["id"]]
    assert _call(manager, "GET", f"{DRIVE}/files", params={**both, "corpora": "drive"})[
        0] == 400
    assert _call(manager, "GET", f"{DRIVE}/files", params={
        **q, "includeItemsFromAllDrives": "true"})[0] == 400
    assert fake.store.files[sheet["id"]].owner == ""

    # A Content manager may delete a file of the drive.
    assert _call(worker, "DELETE", f"{DRIVE}/files/{sheet['id']}", params=ALL)[0] == 204
