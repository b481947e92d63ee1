"""The fake refuses what Google refuses about a request's shape, with Google's messages, and
renders FORMATTED_VALUE in the spreadsheet's locale — through real gspread over HTTP.
(That every request the product sends passes is shown by every other Google test: the fake
is strict by default.)"""

from __future__ import annotations

import gspread
import pytest

from cchc_sync.sources.google.client import SPREADSHEETS_SCOPE, build_gspread_client
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import make_service_account_key


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with FakeGoogle() as fake:
        key = tmp_path_factory.mktemp("key") / "key.json"
        fake.register_key(make_service_account_key(key, fake.token_uri))
        client = build_gspread_client(key, fake.url)
        sid = fake.create_spreadsheet("Thử", tabs=[{"title": "Data", "rows": 10, "cols": 5}])
        yield fake, client, sid


DRIVE_SCOPE = "https://www.googleapis.com/auth/drive"


def test_a_permission_is_raised_by_create_but_never_lowered(site, tmp_path):
    """Drive's permissions.create gives a user a higher role, but asked for a lower one than
    they have it answers their permission unchanged (lowering takes permissions.update): a
    file's owner listed among its readers keeps owning it."""
    fake = site[0]
    key, account = tmp_path / "key.json", "chia-se@du-an.iam.gserviceaccount.com"
    fake.register_key(make_service_account_key(key, fake.token_uri, email=account))
    sid = fake.create_spreadsheet("Chia sẻ", share_with=account)
    # The full drive scope: the spreadsheet was made by a person, not by this app.
    client = build_gspread_client(key, fake.url, scopes=(SPREADSHEETS_SCOPE, DRIVE_SCOPE))
    owner = fake.store.files[sid].owner
    url = f"https://www.googleapis.com/drive/v3/files/{sid}/permissions"

    def create(email, role):
        return client.http_client.request(
            "post", url, params={"sendNotificationEmail": "false"},
            json={"type": "user", "role": role, "emailAddress": email}).json()

    def role_of(email):
        return next(p["role"] for p in fake.store.files[sid].permissions
                    if p.get("emailAddress") == email)

    assert create("ai.do@example.gov.vn", "reader")["role"] == "reader"
    assert create("ai.do@example.gov.vn", "writer")["role"] == "writer"
    assert create("ai.do@example.gov.vn", "reader")["role"] == "writer"
    assert role_of("ai.do@example.gov.vn") == "writer"
    assert create(owner, "reader")["role"] == "owner"
    assert role_of(owner) == "owner" and fake.store.files[sid].owner == owner


def _status_and_message(call):
    with pytest.raises(gspread.exceptions.APIError) as info:
        call()
    error = info.value.response.json()["error"]
    return error["code"], error["message"]


def test_an_unknown_query_parameter_is_refused_as_google_does(site):
    _, client, sid = site
    code, message = _status_and_message(lambda: client.http_client.request(
        "get", f"https://sheets.googleapis.com/v4/spreadsheets/{sid}/values:batchGet",
        params={"ranges": "Data!A1", "valueRendrOption": "FORMATTED_VALUE"}))
    assert code == 400
    assert message == ('Invalid JSON payload received. Unknown name "valueRendrOption": Cannot '
                       "bind query parameter. Field 'valueRendrOption' could not be found in "
                       "request message.")


def test_an_unknown_body_field_is_refused(site):
    _, client, sid = site
    code, message = _status_and_message(lambda: client.http_client.request(
        "post", f"https://sheets.googleapis.com/v4/spreadsheets/{sid}:batchUpdate",
        json={"requests": [], "includeSpreadsheet": True}))
    assert code == 400
    assert message == 'Invalid JSON payload received. Unknown name "includeSpreadsheet": ' \
                      "Cannot find field."


@pytest.mark.parametrize("url", [
    "https://sheets.googleapis.com/v4/spreadsheets/{sid}",
    "https://www.googleapis.com/drive/v3/files/{sid}",
])
def test_a_field_mask_naming_no_field_is_refused(site, url):
    _, client, sid = site
    code, message = _status_and_message(lambda: client.http_client.request(
        "get", url.format(sid=sid), params={"fields": "properties,colour"}))
    assert code == 400 and message == "Invalid field selection colour"


def test_formatted_values_are_in_the_spreadsheets_locale(site):
    fake, client, sid = site
    sheet = client.open_by_key(sid)
    sheet.batch_update({"requests": [{"updateSpreadsheetProperties": {
        "properties": {"locale": "vi_VN"}, "fields": "locale"}}]})
    fake.edit_cells(sid, "Data", "A1:C1", [["27.554", "96,16%", "1,5"]])
    shown = sheet.values_get("Data!A1:C1", params={"valueRenderOption": "FORMATTED_VALUE"})
    stored = sheet.values_get("Data!A1:C1", params={"valueRenderOption": "UNFORMATTED_VALUE"})
    assert shown["values"] == [["27.554", "96,16%", "1,5"]]
    assert stored["values"] == [[27554, 0.9616, 1.5]]
