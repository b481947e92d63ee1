"""Unit tests of the fake's building blocks and of API behaviour the recordings do not show."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_sync.testing.fake_google import FakeGoogle, a1, cellvalues, fieldmask, formula
from cchc_sync.testing.fake_google.drive_query import parse as parse_query
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import DriveFile

SA = "cchc-sync@test-project.iam.gserviceaccount.com"
PERSON = "phongnoivu@example.gov.vn"
"""Who the HTTP tests act as: a person signed in (user OAuth). `spreadsheets.create` has no
parent, so a service account's would land in its own My Drive, which Google refuses since
2025 (403 storageQuotaExceeded), as the fake does."""


@pytest.mark.parametrize(("text", "expected"), [
    ("A1", (0, 0, 1, 1)), ("b2:c3", (1, 1, 3, 3)), ("A:A", (0, 0, None, 1)),
    ("2:3", (1, 0, 3, None)), ("A2:2", (1, 0, 2, None)), ("B3:D", (2, 1, None, 4)),
    ("C3:A1", (0, 0, 3, 3)), ("$A$1:$B$2", (0, 0, 2, 2)),
])
def test_a1_parse(text, expected):
    ref = a1.parse_ref(text)
    assert (ref.r0, ref.c0, ref.r1, ref.c1) == expected


def test_a1_titles_and_format():
    assert a1.split_sheet("'It''s here'!A1:B2") == ("It's here", "A1:B2")
    assert a1.split_sheet("My sheet!A1") == ("My sheet", "A1")
    assert a1.split_sheet("Sheet1") == (None, "Sheet1")
    assert a1.quote_title("Sheet1") == "Sheet1"
    assert a1.quote_title("Data 2024") == "'Data 2024'"
    assert a1.quote_title("A1") == "'A1'"
    assert a1.format_range("Sheet1", 0, 0, 1000, 26) == "Sheet1!A1:Z1000"
    assert a1.format_range("Sheet1", 3, 3, 4, 4) == "Sheet1!D4"
    assert a1.col_letters(27) == "AB" and a1.col_index("AB") == 27
    with pytest.raises(a1.A1Error):
        a1.parse_ref("A0")


@pytest.mark.parametrize(("typed", "value", "shown"), [
    ("1234.5", 1234.5, "1234.5"), ("1,234", 1234, "1,234"), ("96%", 0.96, "96%"),
    ("$1,234.50", 1234.5, "$1,234.50"), ("6/7/2022", 44719, "6/7/2022"),
    ("2022-06-07", 44719, "2022-06-07"), ("1e3", 1000, "1.00E+03"), ("-7", -7, "-7"),
    ("14:30", 14.5 / 24, "14:30"), ("TRUE", True, "TRUE"), ("'0042", "0042", "0042"),
    ("hello", "hello", "hello"), ("1,23", "1,23", "1,23"),
])
def test_user_entered(typed, value, shown):
    uev, number_format = cellvalues.parse_user_entered(typed)
    assert next(iter(uev.values())) == value
    assert cellvalues.formatted_value(uev, number_format) == shown


THIS_YEAR = dt.date.today().year


@pytest.mark.parametrize(("typed", "value", "number_format"), [
    ("27.554", 27554, {"type": "NUMBER", "pattern": "#,##0"}),
    ("1.234.567", 1234567, {"type": "NUMBER", "pattern": "#,##0"}),
    ("27554", 27554, None),
    ("1,5", 1.5, None),
    ("1.234,5", 1234.5, {"type": "NUMBER", "pattern": "#,##0.00"}),
    ("-3", -3, None),
    ("96,16%", 0.9616, {"type": "PERCENT", "pattern": "0.00%"}),
    ("96%", 0.96, {"type": "PERCENT", "pattern": "0%"}),
    ("07/06/2022", 44719, {"type": "DATE", "pattern": "d/M/yyyy"}),
    ("7/6/22", 44719, {"type": "DATE", "pattern": "d/M/yy"}),
    ("2022-06-07", 44719, {"type": "DATE", "pattern": "yyyy-mm-dd"}),
    ("15/6", cellvalues.serial(dt.date(THIS_YEAR, 6, 15)), {"type": "DATE", "pattern": "d/M"}),
    ("07/06/2022 14:30", 44719 + 14.5 / 24, {"type": "DATE_TIME", "pattern": "d/M/yyyy H:mm"}),
    ("TRUE", True, None),
    # Not a number, not a date: text, as typed.
    ("15/16", "15/16", None),
    ("ngày 07 tháng 6 năm 2022", "ngày 07 tháng 6 năm 2022", None),
    ("1.5", "1.5", None),
    ("27.55", "27.55", None),
    ("0912 345 606", "0912 345 606", None),
    ("175/KH-UBND", "175/KH-UBND", None),
    ("'27.554", "27.554", None),
])
def test_user_entered_in_vi_vn(typed, value, number_format):
    uev, fmt = cellvalues.parse_user_entered(typed, locale="vi_VN")
    if isinstance(value, str):
        assert uev == {"stringValue": value}
    else:
        assert next(iter(uev.values())) == pytest.approx(value)
    assert fmt == number_format


def test_user_entered_locales_differ_only_where_they_should():
    def value(typed, locale):
        return next(iter(cellvalues.parse_user_entered(typed, locale=locale)[0].values()))

    assert value("27.554", "en_US") == 27.554 and value("27.554", "vi_VN") == 27554
    assert value("1,234", "en_US") == 1234 and value("1,234", "vi_VN") == 1.234
    assert value("6/7/2022", "en_US") == value("7/6/2022", "vi_VN") == 44719
    assert value("6/7/2022", "en_GB") == value("6/7/2022", "vi_VN")
    assert value("6/15", "en_US") == value("15/6", "vi_VN")
    assert value("15/6", "en_US") == "15/6"
    # A locale the fake does not know reads as en_US; so does no locale at all.
    assert value("27.554", "xx_XX") == value("27.554", None) == 27.554


@pytest.mark.parametrize("typed", ["27.554", "=1+1", "'0042", "07/06/2022", "TRUE", "96,16%"])
def test_text_formatted_cells_keep_what_is_typed(typed):
    for locale in ("en_US", "vi_VN"):
        for text_format in ({"type": "TEXT", "pattern": "@"}, {"type": "TEXT"}, {"pattern": "@"}):
            assert cellvalues.parse_user_entered(typed, locale=locale,
                                                 number_format=text_format) == \
                ({"stringValue": typed}, None)
    # Numbers sent as JSON numbers keep their type.
    assert cellvalues.parse_user_entered(5, number_format={"type": "TEXT"}) == \
        ({"numberValue": 5.0}, None)


def test_a_vi_vn_spreadsheet_reads_typing_in_its_locale(api):
    """Column C is plain text: what is typed there stays as typed."""
    fake = api.fake
    sid = api("POST", "/v4/spreadsheets", json={
        "properties": {"title": "Báo cáo", "locale": "vi_VN"},
        "sheets": [{"properties": {"title": "Data"}}]}).json()["spreadsheetId"]
    got = api("POST", f"/v4/spreadsheets/{sid}:batchUpdate", json={"requests": [{"repeatCell": {
        "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 2,
                  "endColumnIndex": 3},
        "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT", "pattern": "@"}}},
        "fields": "userEnteredFormat.numberFormat"}}]})
    assert got.status_code == 200
    # Through the API (USER_ENTERED) and as a person typing: the same reading.
    got = api("PUT", f"/v4/spreadsheets/{sid}/values/Data!A1:C1",
              params={"valueInputOption": "USER_ENTERED"},
              json={"values": [["27.554", "96,16%", "0912.345"]]})
    assert got.status_code == 200
    fake.edit_cells(sid, "Data", "A2", [["1,5", "07/06/2022", "15/16"]])
    fake.edit_cells(sid, "Data", "A3", [["15/16", "ngày 07 tháng 6 năm 2022", "07/06/2022"]])
    values = api("GET", f"/v4/spreadsheets/{sid}/values/Data!A1:C3",
                 params={"valueRenderOption": "UNFORMATTED_VALUE"}).json()["values"]
    assert values == [[27554, 0.9616, "0912.345"], [1.5, 44719, "15/16"],
                      ["15/16", "ngày 07 tháng 6 năm 2022", "07/06/2022"]]
    cells = fake.spreadsheet(sid)["sheets"][0]["cells"]
    assert cells["B1"]["userEnteredFormat"]["numberFormat"] == {"type": "PERCENT",
                                                                 "pattern": "0.00%"}
    # en_US (the default) is unchanged.
    sid = _new_sheet(api)["spreadsheetId"]
    api("PUT", f"/v4/spreadsheets/{sid}/values/Data!A1:B1",
        params={"valueInputOption": "USER_ENTERED"}, json={"values": [["27.554", "1,234"]]})
    values = api("GET", f"/v4/spreadsheets/{sid}/values/Data!A1:B1",
                 params={"valueRenderOption": "UNFORMATTED_VALUE"}).json()["values"]
    assert values == [[27.554, 1234]]


def test_raw_and_general_format():
    assert cellvalues.parse_raw("=1+1") == {"stringValue": "=1+1"}
    assert cellvalues.parse_raw("") is None
    assert cellvalues.parse_raw(3) == {"numberValue": 3.0}
    assert cellvalues.general(1 / 3) == "0.3333333333"
    assert cellvalues.general(1e20) == "1E+20"
    assert cellvalues.format_number(-1234.567, {"type": "NUMBER", "pattern": "#,##0.00"}) == \
        "-1,234.57"
    assert cellvalues.format_number(44719.5, {"type": "DATE_TIME",
                                              "pattern": "yyyy-mm-dd hh:mm"}) == "2022-06-07 12:00"


def test_formula_evaluation():
    def resolve(title, r0, c0, r1, c1):
        return [[1.0, 2.0], [3.0, None]][r0:r1 or 2]

    assert formula.evaluate("=SUM(A1:B2)*2", resolve) == {"numberValue": 12.0}
    assert formula.evaluate('="a"&"b"', resolve) == {"stringValue": "ab"}
    assert formula.evaluate("=1/0", resolve)["errorValue"]["type"] == "DIV_BY_ZERO"
    assert formula.evaluate("=FOO(1)", resolve)["errorValue"]["type"] == "NAME"
    assert formula.evaluate("=IF(A1>0, 10, 20)", resolve) == {"numberValue": 10.0}


def test_fieldmask():
    tree = fieldmask.parse("kind,files(id,lastModifyingUser(me,emailAddress)),a/b")
    body = {"kind": "k", "x": 1, "files": [{"id": "1", "name": "n",
                                            "lastModifyingUser": {"me": True, "kind": "u"}}],
            "a": {"b": 2, "c": 3}}
    assert fieldmask.apply(body, tree) == {"kind": "k", "files": [
        {"id": "1", "lastModifyingUser": {"me": True}}], "a": {"b": 2}}
    target = {"gridProperties": {"rowCount": 5, "columnCount": 3}, "title": "t"}
    fieldmask.merge(target, {"gridProperties": {"rowCount": 9}}, fieldmask.parse(
        "gridProperties.rowCount,gridProperties.frozenRowCount"))
    assert target == {"gridProperties": {"rowCount": 9, "columnCount": 3}, "title": "t"}


def test_drive_query():
    f = DriveFile(id="1", name="Unit A", mime_type="application/vnd.google-apps.spreadsheet",
                  owner=SA, parents=["folder"], created_ms=0, modified_ms=1_700_000_000_000)
    yes = [
        "mimeType='application/vnd.google-apps.spreadsheet' and 'folder' in parents",
        'parents in "folder" and trashed=false', "name = 'Unit A'", "name contains 'unit'",
        "not 'other' in parents and (name='x' or name='Unit A')",
        "modifiedTime > '2023-01-01T00:00:00'",
        f"'{SA}' in owners",
    ]
    for q in yes:
        assert parse_query(q)(f, SA), q
    assert not parse_query("trashed = true")(f, SA)
    with pytest.raises(ApiError):
        parse_query("fullText contains 'x'")


# ---------------------------------------------------------------- API behaviour over HTTP

@pytest.fixture(scope="module")
def api():
    with FakeGoogle(require_auth=False, default_account=PERSON) as fake:
        session = requests.Session()

        def call(method, path, **kw):
            return session.request(method, fake.url + path, **kw)

        call.fake = fake
        yield call


def _new_sheet(api, title="T"):
    return api("POST", "/v4/spreadsheets", json={"properties": {"title": title}, "sheets": [
        {"properties": {"title": "Data", "gridProperties": {"rowCount": 5, "columnCount": 3}}}]}
               ).json()


def test_grid_limits_and_range_errors(api):
    sid = _new_sheet(api)["spreadsheetId"]
    got = api("GET", f"/v4/spreadsheets/{sid}/values/Data!A1:D2")
    assert got.status_code == 400
    assert got.json()["error"]["message"] == ("Range (Data!A1:D2) exceeds grid limits. Max rows: "
                                              "5, max columns: 3")
    got = api("PUT", f"/v4/spreadsheets/{sid}/values/Data!A1:B1",
              params={"valueInputOption": "RAW"}, json={"values": [["a", "b", "c"]]})
    assert got.json()["error"]["message"] == ("Requested writing within range [Data!A1:B1], but "
                                              "tried writing to column [C]")
    got = api("PUT", f"/v4/spreadsheets/{sid}/values/Data!A1", json={"values": [["a"]]})
    assert got.json()["error"]["message"] == "'valueInputOption' is required but not specified"
    got = api("GET", f"/v4/spreadsheets/{sid}/values/Nope!A1")
    assert got.json()["error"]["message"] == "Unable to parse range: Nope!A1"


def test_append_insert_rows_and_grow(api):
    sid = _new_sheet(api)["spreadsheetId"]
    put = {"valueInputOption": "RAW"}
    api("PUT", f"/v4/spreadsheets/{sid}/values/Data!A1", params=put,
        json={"values": [["h"], ["1"], ["2"], ["3"], ["4"]]})
    got = api("POST", f"/v4/spreadsheets/{sid}/values/Data:append",
              params={**put, "insertDataOption": "INSERT_ROWS"}, json={"values": [["5"], ["6"]]})
    assert got.json()["updates"]["updatedRange"] == "Data!A6:A7"
    meta = api("GET", f"/v4/spreadsheets/{sid}").json()
    assert meta["sheets"][0]["properties"]["gridProperties"]["rowCount"] == 7


def test_drive_update_copy_trash(api):
    fake = api.fake
    folder = api("POST", "/drive/v3/files", json={
        "name": "F", "mimeType": "application/vnd.google-apps.folder"}).json()
    sid = _new_sheet(api, "Orig")["spreadsheetId"]
    got = api("PATCH", f"/drive/v3/files/{sid}", params={"addParents": folder["id"],
                                                         "fields": "id,name,parents,version"},
              json={"name": "Renamed"})
    assert got.json()["parents"][-1] == folder["id"] and got.json()["name"] == "Renamed"
    assert api("GET", f"/v4/spreadsheets/{sid}").json()["properties"]["title"] == "Renamed"
    bad = api("PATCH", f"/drive/v3/files/{sid}", json={"parents": ["x"]})
    assert bad.status_code == 403
    copy = api("POST", f"/drive/v3/files/{sid}/copy", json={}).json()
    assert copy["name"] == "Copy of Renamed"
    api("PATCH", f"/drive/v3/files/{copy['id']}", json={"trashed": True})
    listed = api("GET", "/drive/v3/files", params={"q": "trashed = false", "fields": "files(id)"})
    assert copy["id"] not in {f["id"] for f in listed.json()["files"]}
    assert api("DELETE", f"/drive/v3/files/{copy['id']}").status_code == 204
    assert fake.spreadsheet(sid)["name"] == "Renamed"
    assert api("GET", "/drive/v3/files", params={"pageSize": 1001}).status_code == 400


def test_readers_and_protected_ranges_refuse_api_writes(api):
    fake = api.fake
    put = {"valueInputOption": "RAW"}
    read_only = fake.create_spreadsheet("R", share_with=PERSON, role="reader")
    got = api("PUT", f"/v4/spreadsheets/{read_only}/values/A1", params=put,
              json={"values": [["x"]]})
    assert got.status_code == 403
    assert api("GET", f"/v4/spreadsheets/{read_only}/values/A1").status_code == 200
    clerks = fake.create_spreadsheet("C", share_with=PERSON)
    fake.edit_cells(clerks, "Sheet1", "A1", [["header"]])
    # the owner (a person) protects the header row against everyone else
    file = fake.store.files[clerks]
    file.spreadsheet.sheets[0].protected.append({
        "protectedRangeId": 1, "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
        "editors": {"users": ["clerk@example.com"]}})
    got = api("PUT", f"/v4/spreadsheets/{clerks}/values/A1", params=put,
              json={"values": [["overwrite"]]})
    assert got.status_code == 400
    assert got.json()["error"]["message"].startswith("You are trying to edit a protected cell")
    ok = api("PUT", f"/v4/spreadsheets/{clerks}/values/A2", params=put, json={"values": [["y"]]})
    assert ok.status_code == 200


def test_concurrent_writes_are_serialised(api):
    import threading

    fake = api.fake
    sid = _new_sheet(api, "Busy")["spreadsheetId"]
    start = int(fake.spreadsheet(sid)["version"])
    errors = []

    def writer(col: str) -> None:
        session = requests.Session()
        for row in range(1, 6):
            got = session.put(f"{fake.url}/v4/spreadsheets/{sid}/values/Data!{col}{row}",
                              params={"valueInputOption": "RAW"}, json={"values": [[row]]})
            if got.status_code != 200:
                errors.append(got.text)

    threads = [threading.Thread(target=writer, args=(c,)) for c in "ABC"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    dump = fake.spreadsheet(sid)
    assert int(dump["version"]) == start + 15
    assert dump["sheets"][0]["values"] == [[str(r)] * 3 for r in range(1, 6)]


def _json_dumps_reference(body, pretty=True):
    """What the fake wrote before jsonwire: json's indented encoder over the body with each
    whole float made an int (Google writes 5, not 5.0); compact for prettyPrint=false."""
    import json

    def whole(obj):
        if isinstance(obj, float) and obj.is_integer() and abs(obj) < 2**53:
            return int(obj)
        if isinstance(obj, dict):
            return {k: whole(v) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [whole(v) for v in obj]
        return obj

    if not pretty:
        return json.dumps(whole(body), ensure_ascii=False, separators=(",", ":")).encode()
    return json.dumps(whole(body), ensure_ascii=False, indent=2).encode("utf-8")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(json_values)
def test_answers_are_written_byte_for_byte_as_json_would(body):
    from cchc_sync.testing.fake_google.jsonwire import encode_json

    assert encode_json(body) == _json_dumps_reference(body)
    assert encode_json(body, pretty=False) == _json_dumps_reference(body, pretty=False)


def test_answer_bytes_edge_cases():
    from cchc_sync.testing.fake_google.jsonwire import encode_json

    for body in [{}, [], {"a": {}, "b": []}, -0.0, 2.0**53, 2.0**53 - 1, 1e300, 1.5e-9,
                 float("nan"), float("inf"), -float("inf"), 12345678901234567890,
                 "Hòa \u2028 \"q\" \\ \n\t\x00", {1: 2, 3.0: 3, 2.5: 4, False: 5, None: 6},
                 {"rows": [{"values": [{"numberValue": 27554.0}, {"stringValue": "ngày"}]}]}]:
        assert encode_json(body) == _json_dumps_reference(body), body
        assert encode_json(body, pretty=False) == _json_dumps_reference(body, False), body
    with pytest.raises(TypeError):
        encode_json({"a": object()})
