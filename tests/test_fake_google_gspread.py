"""End to end: the real gspread 6.2 + google-auth service-account flow against the fake, over
real HTTP (``build_gspread_client`` with a key from ``make_service_account_key`` whose
``token_uri`` is the fake's)."""

from __future__ import annotations

import os
import stat
import time

import gspread
import pytest
import requests
from google.auth.exceptions import RefreshError

from cchc_sync.sources.google.client import (
    DEFAULT_SCOPES,
    READONLY_DRIVE_SCOPES,
    build_gspread_client,
    rewrite_url,
)
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key

DRIVE_FILES = "https://www.googleapis.com/drive/v3/files"
SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
LIST_FIELDS = "nextPageToken,files(id,name,modifiedTime,version,lastModifyingUser(me,emailAddress))"


@pytest.fixture(scope="module")
def fake():
    with FakeGoogle() as server:
        yield server


@pytest.fixture(scope="module")
def key_file(fake, tmp_path_factory):
    path = tmp_path_factory.mktemp("keys") / "service-account.json"
    info = make_service_account_key(path, fake.token_uri)
    fake.register_key(info)  # the fake verifies the JWT signature from now on
    return path


SEES_FOLDER = READONLY_DRIVE_SCOPES
"""The scopes of a client that creates into a folder a person made (as the backend with a
configured folder): with drive.file alone the folder is invisible to it (404)."""


@pytest.fixture(scope="module")
def drive(fake):
    """Where the service account creates its spreadsheets: a folder of a shared drive whose
    Content manager it is. Google lets a service account create files nowhere else since
    2025 (403 storageQuotaExceeded), and neither does the fake."""
    return fake.create_shared_drive_folder(DEFAULT_EMAIL)


@pytest.fixture()
def gc(fake, key_file):
    fake.clear_faults()
    return build_gspread_client(key_file, endpoint=fake.url, scopes=SEES_FOLDER)


def drive_list(gc, **params):
    params = {"pageSize": 1000, "supportsAllDrives": True, "includeItemsFromAllDrives": True,
              "corpora": "allDrives", "fields": LIST_FIELDS, **params}
    return gc.http_client.request("get", DRIVE_FILES, params=params).json()


def test_key_file_is_real_shaped_and_private(key_file):
    import json

    info = json.loads(key_file.read_text())
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert {"type", "project_id", "private_key_id", "private_key", "client_email", "client_id",
            "auth_uri", "token_uri"} <= info.keys()
    assert info["type"] == "service_account"
    assert info["client_email"] == DEFAULT_EMAIL
    assert info["private_key"].startswith("-----BEGIN PRIVATE KEY-----")


def test_rewrite_url():
    assert rewrite_url("https://sheets.googleapis.com/v4/spreadsheets/x", "http://h:1") == \
        "http://h:1/v4/spreadsheets/x"
    assert rewrite_url("https://oauth2.googleapis.com/token", "http://h:1/") == "http://h:1/token"
    assert rewrite_url("https://www.googleapis.com/drive/v3/files", None) == \
        "https://www.googleapis.com/drive/v3/files"
    assert DEFAULT_SCOPES == ("https://www.googleapis.com/auth/spreadsheets",
                              "https://www.googleapis.com/auth/drive.file")


def test_values_raw_user_entered_and_render_options(gc, fake, drive):
    sh = gc.create("Values", drive)
    ws = sh.sheet1
    data = sh.add_worksheet("Data", rows=20, cols=6)
    assert [w.title for w in sh.worksheets()] == ["Sheet1", "Data"]
    data.update([["6/7/2022", "1,234", "96%", "TRUE", "'0042", "=SUM(B1:B2)"],
                 ["2022-06-07", "1234.5", "x", "false", "", "=NOPE(1)"]],
                "A1", value_input_option="USER_ENTERED")
    ws.update([["=1+1", "1234", 5, True]], "A1", value_input_option="RAW")

    raw = sh.values_batch_get(["Sheet1!A1:D1"], params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert raw["valueRanges"][0]["values"] == [["=1+1", "1234", 5, True]]

    got = sh.values_batch_get(
        ["Data!A1:F2", "Data!A10:B12", "'Data'"],
        params={"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER"},
    )["valueRanges"]
    assert got[0]["range"] == "Data!A1:F2"
    assert got[0]["values"] == [[44719, 1234, 0.96, True, "0042", 2468.5],
                                [44719, 1234.5, "x", False, "", "#NAME?"]]
    assert isinstance(got[0]["values"][0][0], int)  # JSON numbers, integral ones as ints
    assert "values" not in got[1] and got[1]["range"] == "Data!A10:B12"
    assert got[2]["range"] == "Data!A1:F20"

    formatted = data.get("A1:F2")
    assert formatted == [["6/7/2022", "1,234", "96%", "TRUE", "0042", "2468.5"],
                         ["2022-06-07", "1234.5", "x", "FALSE", "", "#NAME?"]]
    formulas = data.get("F1:F2", value_render_option="FORMULA")
    assert formulas == [["=SUM(B1:B2)"], ["=NOPE(1)"]]
    strings = sh.values_batch_get(["Data!A1:A2"], params={
        "valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "FORMATTED_STRING"})
    assert strings["valueRanges"][0]["values"] == [["6/7/2022"], ["2022-06-07"]]
    columns = sh.values_batch_get(["Data!A1:B2"], params={"majorDimension": "COLUMNS"})
    assert columns["valueRanges"][0]["values"] == [["6/7/2022", "2022-06-07"],
                                                   ["1,234", "1234.5"]]
    assert fake.errors == []


def test_notes_formats_and_grid_data(gc, fake, drive):
    sh = gc.create("Formats", drive)
    ws = sh.sheet1
    ws.update([["Unit", "Score"], ["North", 3]], "A1")
    sh.batch_update({"requests": [
        {"updateCells": {"range": {"sheetId": ws.id, "startRowIndex": 1, "endRowIndex": 2,
                                   "startColumnIndex": 1, "endColumnIndex": 2},
                         "rows": [{"values": [{"note": "check this"}]}], "fields": "note"}},
        {"repeatCell": {"range": {"sheetId": ws.id, "startRowIndex": 0, "endRowIndex": 1},
                        "cell": {"userEnteredFormat": {"backgroundColor": {"red": 1, "green": 0.8},
                                                       "textFormat": {"bold": True}}},
                        "fields": "userEnteredFormat(backgroundColor,textFormat)"}},
        {"updateSheetProperties": {"properties": {"sheetId": ws.id,
                                                  "gridProperties": {"frozenRowCount": 1}},
                                   "fields": "gridProperties.frozenRowCount"}},
    ]})
    assert ws.get_note("B2") == "check this"
    fields = ("sheets(properties,data.rowData.values(effectiveValue,userEnteredValue,"
              "formattedValue,note,userEnteredFormat,effectiveFormat))")
    meta = sh.fetch_sheet_metadata(params={"includeGridData": "true", "ranges": "Sheet1!A1:B2",
                                           "fields": fields})
    sheet = meta["sheets"][0]
    assert sheet["properties"]["gridProperties"]["frozenRowCount"] == 1
    rows = sheet["data"][0]["rowData"]
    header = rows[0]["values"][0]
    assert header["userEnteredFormat"]["backgroundColor"] == {"red": 1, "green": 0.8}
    assert header["userEnteredFormat"]["backgroundColorStyle"] == {"rgbColor": {"red": 1,
                                                                                "green": 0.8}}
    assert header["effectiveFormat"]["textFormat"]["bold"] is True
    assert header["formattedValue"] == "Unit"
    assert rows[1]["values"][1] == {"userEnteredValue": {"numberValue": 3},
                                    "effectiveValue": {"numberValue": 3}, "formattedValue": "3",
                                    "note": "check this",
                                    "effectiveFormat": rows[1]["values"][1]["effectiveFormat"]}
    dump = fake.spreadsheet(sh.id)
    assert dump["sheets"][0]["cells"]["B2"]["note"] == "check this"
    assert dump["sheets"][0]["frozenRowCount"] == 1


def test_batch_update_is_atomic(gc, fake, drive):
    sh = gc.create("Atomic", drive)
    sh.sheet1.update([["keep"]], "A1")
    before = fake.spreadsheet(sh.id)
    with pytest.raises(gspread.exceptions.APIError) as err:
        sh.batch_update({"requests": [
            {"addSheet": {"properties": {"title": "New"}}},
            {"deleteSheet": {"sheetId": 123456}},
        ]})
    assert err.value.code == 400
    assert err.value.error["message"] == "Invalid requests[1].deleteSheet: No grid with id: 123456"
    after = fake.spreadsheet(sh.id)
    assert after == before  # nothing applied, modifiedTime and version unchanged


def test_insert_and_delete_rows_move_everything(gc, fake, drive):
    sh = gc.create("Rows", drive)
    ws = sh.sheet1
    ws.update([["a"], ["b"], ["c"]], "A1")
    ws.update_note("A2", "note on b")
    ws.format("A3", {"backgroundColor": {"blue": 1}})
    ws.insert_rows([["new"]], row=1)
    dump = fake.spreadsheet(sh.id)["sheets"][0]
    assert dump["values"] == [["new"], ["a"], ["b"], ["c"]]
    assert dump["cells"]["A3"]["note"] == "note on b"
    assert dump["cells"]["A4"]["userEnteredFormat"]["backgroundColor"] == {"blue": 1}
    ws.delete_rows(1, 2)
    dump = fake.spreadsheet(sh.id)["sheets"][0]
    assert dump["values"] == [["b"], ["c"]]
    assert dump["cells"]["A1"]["note"] == "note on b"
    assert dump["rowCount"] == 999


def test_drive_listing_shows_every_edit(gc, fake, drive):
    folder = gc.http_client.request("post", DRIVE_FILES, params={"supportsAllDrives": True},
                                    json={"name": "Collection", "mimeType": FOLDER_MIME,
                                          "parents": [drive]}).json()
    sh = gc.create("Unit A", folder_id=folder["id"])
    gc.create("Elsewhere", drive)
    query = (f"'{folder['id']}' in parents and mimeType='{SHEETS_MIME}' and trashed=false")

    def entry():
        files = drive_list(gc, q=query)["files"]
        assert [f["name"] for f in files] == ["Unit A"]
        return files[0]

    first = entry()
    assert first["lastModifyingUser"] == {"me": True, "emailAddress": DEFAULT_EMAIL}
    assert isinstance(first["version"], str)
    stamps = [(first["modifiedTime"], int(first["version"]))]
    sh.sheet1.update([["x"]], "A1")
    stamps.append((entry()["modifiedTime"], int(entry()["version"])))
    sh.batch_update({"requests": [{"updateSheetProperties": {
        "properties": {"sheetId": 0, "title": "Data"}, "fields": "title"}}]})
    stamps.append((entry()["modifiedTime"], int(entry()["version"])))
    fake.reset_stats()
    fake.edit_cells(sh.id, "Data", "B2", [["12"]], user="clerk@example.com")
    assert fake.stats()["total"] == 0  # a person's edit is not API traffic
    last = entry()
    stamps.append((last["modifiedTime"], int(last["version"])))
    assert last["lastModifyingUser"] == {"me": False, "emailAddress": "clerk@example.com"}
    times = [t for t, _ in stamps]
    versions = [v for _, v in stamps]
    assert times == sorted(times) and len(set(times)) == len(times)
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    assert all(len(t) == 24 and t.endswith("Z") for t in times)  # 2024-01-01T00:00:00.000Z
    assert [f["name"] for f in gc.list_spreadsheet_files(folder_id=folder["id"])] == ["Unit A"]
    # paging: pageSize 1 gives a nextPageToken
    page = drive_list(gc, q=f"mimeType='{SHEETS_MIME}'", pageSize=1)
    assert len(page["files"]) == 1 and page["nextPageToken"]


def test_sharing_with_permissions(gc, drive):
    sh = gc.create("Shared", drive)
    sh.share("bob@example.com", perm_type="user", role="writer", notify=False)
    perms = sh.list_permissions()
    by_email = {p.get("emailAddress"): p for p in perms}
    assert by_email["bob@example.com"]["role"] == "writer"
    # In a shared drive the drive owns the file: nobody has the owner role (the service
    # account reaches it as a member of the drive).
    assert "owner" not in {p["role"] for p in perms}
    sh.remove_permissions("bob@example.com")
    assert "bob@example.com" not in {p.get("emailAddress") for p in sh.list_permissions()}


def test_not_found_and_forbidden_codes_come_from_the_body(gc, fake, drive):
    gone = gc.create("Gone", drive)
    private = gc.create("Private", drive)
    fake.delete(gone.id)
    fake.unshare(private.id)
    with pytest.raises(gspread.exceptions.APIError) as err:
        gc.http_client.fetch_sheet_metadata(gone.id)
    assert err.value.code == 404
    assert err.value.error == {"code": 404, "message": "Requested entity was not found.",
                               "status": "NOT_FOUND"}
    with pytest.raises(gspread.exceptions.APIError) as err:
        gc.http_client.values_get(private.id, "A1")
    assert err.value.code == 403
    assert err.value.error["message"] == "The caller does not have permission"
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key(gone.id)
    with pytest.raises(gspread.exceptions.APIError) as err:
        gc.http_client.request("get", f"{DRIVE_FILES}/{private.id}")
    assert err.value.code == 404 and err.value.error["errors"][0]["reason"] == "notFound"


def test_quota_fault_is_a_429_with_retry_after(gc, fake, drive):
    sh = gc.create("Quota", drive)
    fake.set_faults(status=429, rate=1.0, retry_after=1, seed=7)
    try:
        with pytest.raises(gspread.exceptions.APIError) as err:
            sh.values_batch_get(["A1"])
    finally:
        fake.clear_faults()
    assert err.value.code == 429
    assert err.value.response.headers["Retry-After"] == "1"
    assert err.value.error["status"] == "RESOURCE_EXHAUSTED"
    assert err.value.error["message"].startswith("Quota exceeded for quota metric 'Read requests'")
    fake.set_faults(status=503, count=1)
    with pytest.raises(gspread.exceptions.APIError) as err:
        sh.values_batch_get(["A1"])
    assert err.value.code == 503
    assert sh.values_batch_get(["A1"])["valueRanges"][0]["range"] == "Sheet1!A1"  # count spent


def test_stats_count_exactly_per_kind(fake, key_file, drive):
    fake.clear_faults()
    gc = build_gspread_client(key_file, endpoint=fake.url, scopes=SEES_FOLDER)  # no token yet
    sh_id = gc.create("Counted", drive).id  # token + drive create + spreadsheets.get
    sh = gc.open_by_key(sh_id)
    fake.set_faults(status=500, count=1, kinds=["GET values.batchGet"])
    with pytest.raises(gspread.exceptions.APIError):
        sh.values_batch_get(["A1:B2"])
    fake.reset_stats()
    sh.values_batch_get(["A1:B2", "B1"])
    sh.values_update("Sheet1!A1", params={"valueInputOption": "RAW"}, body={"values": [[1, 2]]})
    sh.batch_update({"requests": [{"updateSheetProperties": {
        "properties": {"sheetId": 0, "hidden": False}, "fields": "hidden"}}]})
    gc.list_spreadsheet_files()
    stats = fake.stats()
    assert stats["by_kind"] == {"GET values.batchGet": 1, "PUT values.update": 1,
                                "POST spreadsheets.batchUpdate": 1, "GET drive.files.list": 1}
    assert stats["total"] == 4
    assert stats["GET values.batchGet"] == 1  # per-kind counts also at top level
    fake.reset_stats()
    sh.sheet1  # noqa: B018 - gspread re-reads the metadata for every .sheet1
    sh.worksheets()
    assert fake.stats()["by_kind"] == {"GET spreadsheets.get": 2}


def test_faulted_requests_are_counted(fake, key_file, drive):
    fake.clear_faults()
    fake.reset_stats()
    gc = build_gspread_client(key_file, endpoint=fake.url, scopes=SEES_FOLDER)
    sh = gc.create("Faulted", drive)
    fake.set_faults(status=500, count=2)
    for _ in range(2):
        with pytest.raises(gspread.exceptions.APIError):
            sh.values_batch_get(["A1"])
    stats = fake.stats()
    assert stats["POST token"] == 1
    assert stats["GET values.batchGet"] == 2
    assert stats["by_status"]["500"] == 2


def test_token_expiry_is_refreshed_by_google_auth(gc, fake, drive):
    sh = gc.create("Refresh", drive)
    fake.reset_stats()
    fake.expire_tokens()
    assert sh.values_get("A1") == {"range": "Sheet1!A1", "majorDimension": "ROWS"}
    stats = fake.stats()
    assert stats["POST token"] == 1  # the 401 made google-auth fetch a new token
    assert stats["GET values.get"] == 2  # the 401 and the retried request
    assert stats["by_status"]["401"] == 1


def test_requests_without_a_token_get_googles_401(fake):
    got = requests.get(f"{fake.url}/v4/spreadsheets/whatever")
    assert got.status_code == 401
    body = got.json()["error"]
    assert body["code"] == 401 and body["status"] == "UNAUTHENTICATED"
    assert body["message"].startswith("Request is missing required authentication credential")
    assert "WWW-Authenticate" in got.headers


def test_connection_resets_and_latency(gc, fake, drive):
    sh = gc.create("Flaky", drive)
    fake.set_faults(reset_connection_rate=1.0)
    try:
        with pytest.raises(requests.exceptions.ConnectionError):
            sh.values_batch_get(["A1"])
    finally:
        fake.clear_faults()
    fake.set_faults(latency_ms=150)
    start = time.monotonic()
    sh.values_batch_get(["A1"])
    assert time.monotonic() - start >= 0.15
    fake.clear_faults()


def test_token_endpoint_failure(fake, key_file, drive):
    fake.set_faults(token_status=400)
    try:
        gc = build_gspread_client(key_file, endpoint=fake.url, scopes=SEES_FOLDER)
        with pytest.raises(RefreshError):
            gc.create("No token", drive)
    finally:
        fake.clear_faults()


def test_token_endpoint_500_is_retried_three_times_by_google_auth(fake, key_file, drive):
    fake.reset_stats()
    fake.set_faults(token_status=500)
    try:
        gc = build_gspread_client(key_file, endpoint=fake.url, scopes=SEES_FOLDER)
        with pytest.raises(RefreshError):
            gc.create("No token", drive)  # google-auth waits ~1 s and ~2 s between its attempts
    finally:
        fake.clear_faults()
    assert fake.stats()["by_kind"] == {"POST token": 3}


def test_drive_file_scope_sees_only_app_created_files(fake, key_file):
    fake.clear_faults()
    seeded = fake.create_spreadsheet("Made by a clerk", owner="clerk@example.com",
                                     share_with=DEFAULT_EMAIL, tabs=[{"title": "Data"}])
    narrow = build_gspread_client(key_file, endpoint=fake.url)
    assert narrow.open_by_key(seeded).worksheets()[0].title == "Data"  # Sheets API: fine
    assert seeded not in {f["id"] for f in narrow.list_spreadsheet_files()}
    wide = build_gspread_client(key_file, endpoint=fake.url, scopes=READONLY_DRIVE_SCOPES)
    assert seeded in {f["id"] for f in wide.list_spreadsheet_files()}


def test_person_edits_respect_protection_and_validation(gc, fake, drive):
    sh = gc.create("Protected", drive)
    ws = sh.sheet1
    ws.add_protected_range("A1:B1", editor_users_emails=[DEFAULT_EMAIL])
    sh.batch_update({"requests": [{"setDataValidation": {
        "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 2, "startColumnIndex": 0,
                  "endColumnIndex": 1},
        "rule": {"condition": {"type": "NUMBER_BETWEEN", "values": [
            {"userEnteredValue": "0"}, {"userEnteredValue": "100"}]}, "strict": True}}}]})
    sh.share("clerk@example.com", perm_type="user", role="writer", notify=False)
    with pytest.raises(PermissionError):
        fake.edit_cells(sh.id, "Sheet1", "A1", [["hack"]])
    with pytest.raises(ValueError):
        fake.edit_cells(sh.id, "Sheet1", "A2", [["250"]])
    fake.edit_cells(sh.id, "Sheet1", "A2", [["42"]])
    dump = fake.spreadsheet(sh.id)["sheets"][0]
    assert dump["values"] == [[], ["42"]]
    assert dump["protectedRanges"][0]["range"] == "Sheet1!A1:B1"
    assert dump["dataValidation"]["A2"]["condition"]["type"] == "NUMBER_BETWEEN"


def test_append_rows_finds_the_table(gc, drive):
    sh = gc.create("Append", drive)
    ws = sh.sheet1
    ws.update([["h1", "h2"], ["1", "2"]], "A1")
    ws.append_rows([["3", "4"], ["5", "6"]])
    assert ws.get_all_values()[-1] == ["5", "6"]
    resp = sh.values_append("Sheet1", {"valueInputOption": "RAW"}, {"values": [["7"]]})
    assert resp["tableRange"] == "Sheet1!A1:B4"
    assert resp["updates"]["updatedRange"] == "Sheet1!A5"


def test_control_endpoints_over_http(fake, gc, drive):
    sh = gc.create("Control", drive)
    base = f"{fake.url}/_fake"
    assert requests.post(f"{base}/faults", json={"status": 503, "rate": 1.0}).ok
    with pytest.raises(gspread.exceptions.APIError) as err:
        sh.values_batch_get(["A1"])
    assert err.value.code == 503
    assert requests.post(f"{base}/faults/clear").ok
    assert requests.post(f"{base}/edit/{sh.id}", json={"tab": "Sheet1", "a1": "C3",
                                                       "values": [["=2*21"]]}).ok
    dump = requests.get(f"{base}/spreadsheets/{sh.id}").json()
    assert dump["sheets"][0]["cells"]["C3"]["formattedValue"] == "42"
    stats = requests.get(f"{base}/stats").json()
    assert stats["total"] == sum(stats["by_kind"].values())
    assert requests.post(f"{base}/stats/reset").ok
    assert requests.get(f"{base}/stats").json()["total"] == 0
    assert requests.post(f"{base}/unshare/{sh.id}").ok
    with pytest.raises(PermissionError):
        gc.open_by_key(sh.id)
    assert requests.post(f"{base}/delete/{sh.id}").ok
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        gc.open_by_key(sh.id)
