"""Developer metadata in the fake Sheets API, driven over real HTTP with the real google-auth
session gspread uses (``build_gspread_client``): create/update/delete in batchUpdate,
developerMetadata get/search, DataFilter matching, spreadsheets.get, metadata following its
row/column/sheet, and whole cells moving with sortRange / insert / delete / moveDimension."""

from __future__ import annotations

from typing import Any

import pytest

import tests.test_fake_google_gspread as end_to_end
from cchc_sync.sources.google.client import build_gspread_client
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key

fake, key_file, gc, drive = (end_to_end.fake, end_to_end.key_file, end_to_end.gc,
                             end_to_end.drive)  # shared fixtures

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
OTHER_PROJECT = "robot@other-project.iam.gserviceaccount.com"


def call(gc, method: str, path: str, **kwargs: Any):
    """A raw request through the client's authorised session (errors are not raised)."""
    return gc.http_client.session.request(method, f"{SHEETS}/{path}", **kwargs)


def batch(gc, sid: str, *requests: dict, params: dict | None = None, **options: Any):
    """spreadsheets.batchUpdate with ``requests`` and body ``options``."""
    return call(gc, "post", f"{sid}:batchUpdate", params=params,
                json={"requests": list(requests), **options})


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def error(response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == status
    return body["message"]


def row(sheet_id: int, index: int) -> dict:
    return {"dimensionRange": {"sheetId": sheet_id, "dimension": "ROWS", "startIndex": index,
                               "endIndex": index + 1}}


def col(sheet_id: int, index: int) -> dict:
    return {"dimensionRange": {"sheetId": sheet_id, "dimension": "COLUMNS",
                               "startIndex": index, "endIndex": index + 1}}


def create(key: str, location: dict, value: str | None = None, metadata_id: int | None = None,
           visibility: str = "DOCUMENT") -> dict:
    given: dict[str, Any] = {"metadataKey": key, "location": location, "visibility": visibility}
    if value is not None:
        given["metadataValue"] = value
    if metadata_id is not None:
        given["metadataId"] = metadata_id
    return {"createDeveloperMetadata": {"developerMetadata": given}}


def lookup(**fields: Any) -> dict:
    return {"developerMetadataLookup": fields}


def search(gc, sid: str, *filters: dict) -> list[dict]:
    body = ok(call(gc, "post", f"{sid}/developerMetadata:search",
                   json={"dataFilters": list(filters)}))
    return body.get("matchedDeveloperMetadata", [])


def found_ids(gc, sid: str, *filters: dict) -> list[int]:
    return [m["developerMetadata"]["metadataId"] for m in search(gc, sid, *filters)]


def where(gc, sid: str, metadata_id: int) -> dict:
    return ok(call(gc, "get", f"{sid}/developerMetadata/{metadata_id}"))["location"]


def missing(gc, sid: str, metadata_id: int) -> bool:
    response = call(gc, "get", f"{sid}/developerMetadata/{metadata_id}")
    return error(response, 404) == f"No developer metadata with ID {metadata_id}."


def test_create_answers_googles_shapes_and_get_reads_them(gc, fake, drive):
    sh = gc.create("Meta shapes", drive)
    replies = ok(batch(
        gc, sh.id,
        {"addSheet": {"properties": {"sheetId": 77, "title": "Other"}}},
        create("row", row(0, 6), "r7", 1001),
        create("col", {**col(77, 2), "locationType": "COLUMN"}, None, 1002, "PROJECT"),
        create("tab", {"sheetId": 0}, "t", 1003),
        create("doc", {"spreadsheet": True}, "d"),
    ))["replies"]
    made = [r["createDeveloperMetadata"]["developerMetadata"] for r in replies[1:]]
    assert made[0] == {
        "metadataId": 1001, "metadataKey": "row", "metadataValue": "r7",
        "location": {"locationType": "ROW", "dimensionRange": {
            "dimension": "ROWS", "startIndex": 6, "endIndex": 7}},  # sheetId 0 left out
        "visibility": "DOCUMENT"}
    assert made[1] == {
        "metadataId": 1002, "metadataKey": "col",  # an empty value is left out
        "location": {"locationType": "COLUMN", "dimensionRange": {
            "sheetId": 77, "dimension": "COLUMNS", "startIndex": 2, "endIndex": 3}},
        "visibility": "PROJECT"}
    assert made[2]["location"] == {"locationType": "SHEET", "sheetId": 0}
    assert made[3]["location"] == {"locationType": "SPREADSHEET", "spreadsheet": True}
    assigned = made[3]["metadataId"]
    assert isinstance(assigned, int) and assigned > 0 and assigned not in (1001, 1002, 1003)
    for entry in made:
        assert ok(call(gc, "get", f"{sh.id}/developerMetadata/{entry['metadataId']}")) == entry
    fields = ok(call(gc, "get", f"{sh.id}/developerMetadata/1001",
                     params={"fields": "metadataKey,location(locationType)"}))
    assert fields == {"metadataKey": "row", "location": {"locationType": "ROW"}}
    assert missing(gc, sh.id, 999)
    assert error(call(gc, "get", f"{sh.id}/developerMetadata/abc")).startswith(
        "Invalid value at 'metadata_id' (TYPE_INT32)")
    assert [m["metadataId"] for m in fake.spreadsheet(sh.id)["developerMetadata"]] == \
        [1001, 1002, 1003, assigned]


def test_assigned_ids_are_deterministic(tmp_path):
    ids = []
    for run in range(2):
        with FakeGoogle(seed=11) as server:
            key = tmp_path / f"sa{run}.json"
            make_service_account_key(key, server.token_uri)
            client = build_gspread_client(key, endpoint=server.url, scopes=end_to_end.SEES_FOLDER)
            sh = client.create("Same", server.create_shared_drive_folder(DEFAULT_EMAIL))
            replies = ok(batch(client, sh.id, create("a", {"sheetId": 0}),
                               create("b", row(0, 1))))["replies"]
            ids.append((sh.id, [r["createDeveloperMetadata"]["developerMetadata"]["metadataId"]
                                for r in replies]))
    assert ids[0] == ids[1]
    assert len(set(ids[0][1])) == 2


def test_a_used_metadata_id_fails_the_whole_batch(gc, fake, drive):
    sh = gc.create("Meta duplicate", drive)
    ok(batch(gc, sh.id, create("first", row(0, 0), "v", 42)))
    before = fake.spreadsheet(sh.id)
    response = batch(
        gc, sh.id,
        {"updateCells": {"start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                         "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                         "fields": "userEnteredValue"}},
        create("second", {"sheetId": 0}, "w", 42))
    assert error(response) == ("Invalid requests[1].createDeveloperMetadata: Developer metadata "
                               "with id 42 already exists.")
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert fake.spreadsheet(sh.id) == before  # nothing applied, version unchanged
    # the same id twice in one batch: the first create is rolled back too
    response = batch(gc, sh.id, create("a", {"sheetId": 0}, None, 7),
                     create("b", {"sheetId": 0}, None, 7))
    assert error(response) == ("Invalid requests[1].createDeveloperMetadata: Developer metadata "
                               "with id 7 already exists.")
    assert missing(gc, sh.id, 7)
    assert fake.spreadsheet(sh.id) == before


@pytest.mark.parametrize(("developer_metadata", "message"), [
    ({"location": {"sheetId": 0}, "visibility": "DOCUMENT"},
     "Developer metadata must always have a key specified."),
    ({"metadataKey": "k", "location": {"sheetId": 0}},
     "Developer metadata must always have a visibility specified."),
    ({"metadataKey": "k", "visibility": "DOCUMENT"},
     "Developer metadata must always have a location specified."),
    ({"metadataKey": "k", "visibility": "DOCUMENT", "location": {"sheetId": 5}},
     "No grid with id: 5"),
    ({"metadataKey": "k", "visibility": "DOCUMENT", "location": {"dimensionRange": {
        "sheetId": 0, "dimension": "ROWS", "startIndex": 1, "endIndex": 3}}},
     "The specified DimensionRange must represent a single row or column; it cannot be "
     "unbounded or span multiple rows or columns."),
    ({"metadataKey": "k", "visibility": "DOCUMENT", "location": row(0, 1000)},
     "Range (Sheet1!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"),
    ({"metadataKey": "k", "visibility": "DOCUMENT", "metadataId": -3,
      "location": {"sheetId": 0}},
     "metadataId must be positive."),
])
def test_invalid_creates_are_refused(gc, fake, developer_metadata, message, drive):
    sh = gc.create("Meta invalid", drive)
    response = batch(gc, sh.id, {"createDeveloperMetadata": {
        "developerMetadata": developer_metadata}})
    assert error(response) == f"Invalid requests[0].createDeveloperMetadata: {message}"
    assert fake.spreadsheet(sh.id)["developerMetadata"] == []


def test_two_locations_at_once_is_a_payload_error(gc, drive):
    sh = gc.create("Meta oneof", drive)
    response = batch(gc, sh.id, create("k", {"sheetId": 0, "spreadsheet": True}))
    assert error(response) == ("Invalid JSON payload received. Oneof field 'location' is "
                               "already set. Cannot set 'spreadsheet'")


@pytest.fixture()
def layout(gc, drive):
    """Row 3 (index 2), row 5, column B, the sheet, the spreadsheet; a second sheet's row."""
    sh = gc.create("Meta layout", drive)
    ok(batch(gc, sh.id,
             {"addSheet": {"properties": {"sheetId": 9, "title": "Two"}}},
             create("row", row(0, 2), "three", 1),
             create("row", row(0, 4), "five", 2),
             create("col", col(0, 1), "B", 3),
             create("tab", {"sheetId": 0}, "one", 4),
             create("doc", {"spreadsheet": True}, "all", 5),
             create("row", row(9, 2), "three", 6, "PROJECT")))
    return sh.id


def test_lookup_fields_must_all_match(gc, layout):
    sid = layout
    assert found_ids(gc, sid, lookup(metadataKey="row")) == [1, 2, 6]
    assert found_ids(gc, sid, lookup(metadataKey="row", metadataValue="three")) == [1, 6]
    assert found_ids(gc, sid, lookup(metadataKey="row", metadataValue="three",
                                     visibility="DOCUMENT")) == [1]
    assert found_ids(gc, sid, lookup(metadataId=3)) == [3]
    assert found_ids(gc, sid, lookup(metadataId=3, metadataKey="row")) == []
    assert found_ids(gc, sid, lookup(locationType="COLUMN")) == [3]
    assert found_ids(gc, sid, lookup(locationType="SPREADSHEET")) == [5]
    assert found_ids(gc, sid, lookup(locationType="ROW", metadataValue="five")) == [2]
    assert ok(call(gc, "post", f"{sid}/developerMetadata:search", json={"dataFilters": [
        lookup(metadataKey="nothing")]})) == {}
    # one entry matched by two filters lists both, in request order
    matched = search(gc, sid, lookup(metadataId=4), lookup(locationType="SHEET"),
                     lookup(metadataKey="doc"))
    assert matched == [
        {"developerMetadata": {"metadataId": 4, "metadataKey": "tab", "metadataValue": "one",
                               "location": {"locationType": "SHEET", "sheetId": 0},
                               "visibility": "DOCUMENT"},
         "dataFilters": [lookup(metadataId=4), lookup(locationType="SHEET")]},
        {"developerMetadata": {"metadataId": 5, "metadataKey": "doc", "metadataValue": "all",
                               "location": {"locationType": "SPREADSHEET",
                                            "spreadsheet": True},
                               "visibility": "DOCUMENT"},
         "dataFilters": [lookup(metadataKey="doc")]},
    ]


def test_location_matching_exact_and_intersecting(gc, layout):
    sid = layout
    at_row3 = row(0, 2)
    assert found_ids(gc, sid, lookup(metadataLocation=at_row3,
                                     locationMatchingStrategy="EXACT_LOCATION")) == [1]
    intersecting = [1, 3, 4]  # the row itself, column B, the sheet; not row 5 nor sheet 9
    assert found_ids(gc, sid, lookup(metadataLocation=at_row3,
                                     locationMatchingStrategy="INTERSECTING_LOCATION")) \
        == intersecting
    # unspecified: INTERSECTING_LOCATION, as the reference documents
    assert found_ids(gc, sid, lookup(metadataLocation=at_row3)) == intersecting
    assert found_ids(gc, sid, lookup(metadataLocation=at_row3, locationType="COLUMN")) == [3]
    assert found_ids(gc, sid, lookup(metadataLocation={"sheetId": 0})) == [1, 2, 3, 4]
    assert found_ids(gc, sid, lookup(metadataLocation={"sheetId": 0},
                                     locationMatchingStrategy="EXACT_LOCATION")) == [4]
    assert found_ids(gc, sid, lookup(metadataLocation={"spreadsheet": True})) == [5]
    assert found_ids(gc, sid, lookup(metadataLocation=col(0, 1), metadataValue="five")) == [2]


@pytest.mark.parametrize(("given", "message"), [
    ({"locationMatchingStrategy": "EXACT_LOCATION"},
     "A locationMatchingStrategy requires a metadataLocation."),
    ({"metadataLocation": {"sheetId": 0}, "locationMatchingStrategy": "EXACT_LOCATION",
      "locationType": "ROW"},
     "locationType must be left unspecified when locationMatchingStrategy is EXACT_LOCATION."),
    ({"metadataLocation": {"sheetId": 0}, "locationType": "SPREADSHEET"},
     "locationType cannot be SPREADSHEET with an intersecting or non-spreadsheet "
     "metadataLocation: spreadsheet metadata cannot intersect any other developer metadata "
     "location."),
])
def test_invalid_lookups_are_refused(gc, layout, given, message):
    response = call(gc, "post", f"{layout}/developerMetadata:search",
                    json={"dataFilters": [lookup(metadataKey="row"), lookup(**given)]})
    assert error(response) == f"Invalid dataFilters[1]: {message}"


def test_range_filters_match_what_intersects_the_range(gc, layout):
    sid = layout
    assert found_ids(gc, sid, {"a1Range": "Sheet1!A3:C4"}) == [1, 3, 4]
    assert found_ids(gc, sid, {"a1Range": "Sheet1!C3:C4"}) == [1, 4]  # column B is outside
    assert found_ids(gc, sid, {"gridRange": {"sheetId": 0, "startRowIndex": 4,
                                             "endRowIndex": 5}}) == [2, 3, 4]
    assert found_ids(gc, sid, {"a1Range": "Two!A1:Z10"}) == [6]
    assert error(call(gc, "post", f"{sid}/developerMetadata:search",
                      json={"dataFilters": [{"a1Range": "Nope!A1"}]})) \
        == "Unable to parse range: Nope!A1"


def test_update_changes_only_the_masked_fields(gc, layout):
    sid = layout
    replies = ok(batch(gc, sid, {"updateDeveloperMetadata": {
        "dataFilters": [lookup(metadataKey="row", visibility="DOCUMENT")],
        "developerMetadata": {"metadataValue": "moved", "metadataKey": "ignored"},
        "fields": "metadataValue"}}))["replies"]
    assert replies == [{"updateDeveloperMetadata": {"developerMetadata": [
        {"metadataId": 1, "metadataKey": "row", "metadataValue": "moved",
         "location": {"locationType": "ROW", "dimensionRange": {
             "dimension": "ROWS", "startIndex": 2, "endIndex": 3}},
         "visibility": "DOCUMENT"},
        {"metadataId": 2, "metadataKey": "row", "metadataValue": "moved",
         "location": {"locationType": "ROW", "dimensionRange": {
             "dimension": "ROWS", "startIndex": 4, "endIndex": 5}},
         "visibility": "DOCUMENT"}]}}]
    # the guide's example: a new key and a new location
    replies = ok(batch(gc, sid, {"updateDeveloperMetadata": {
        "dataFilters": [lookup(metadataId=3)],
        "developerMetadata": {"location": {"sheetId": 9}, "metadataKey": "ColUpdated"},
        "fields": "location,metadataKey"}}))["replies"]
    assert replies[0]["updateDeveloperMetadata"]["developerMetadata"] == [
        {"metadataId": 3, "metadataKey": "ColUpdated", "metadataValue": "B",
         "location": {"locationType": "SHEET", "sheetId": 9}, "visibility": "DOCUMENT"}]
    assert where(gc, sid, 3) == {"locationType": "SHEET", "sheetId": 9}
    nothing = ok(batch(gc, sid, {"updateDeveloperMetadata": {
        "dataFilters": [lookup(metadataKey="absent")], "developerMetadata": {"metadataValue": "x"},
        "fields": "metadataValue"}}))["replies"]
    assert nothing == [{"updateDeveloperMetadata": {}}]
    assert error(batch(gc, sid, {"updateDeveloperMetadata": {
        "dataFilters": [lookup(metadataId=4)], "developerMetadata": {"metadataId": 99},
        "fields": "metadataId"}})) == ("Invalid requests[0].updateDeveloperMetadata: "
                                       "metadataId cannot be updated.")
    assert error(batch(gc, sid, {"updateDeveloperMetadata": {
        "dataFilters": [lookup(metadataId=4)], "developerMetadata": {"metadataValue": "x"}}})) \
        == "Invalid requests[0].updateDeveloperMetadata: At least one field must be specified."


def test_delete_answers_what_it_deleted_and_nothing_is_no_error(gc, fake, layout):
    sid = layout
    replies = ok(batch(
        gc, sid,
        {"deleteDeveloperMetadata": {"dataFilter": lookup(metadataKey="row",
                                                          visibility="DOCUMENT")}},
        {"deleteDeveloperMetadata": {"dataFilter": lookup(metadataKey="absent")}},
        {"updateSpreadsheetProperties": {"properties": {"title": "Still applied"},
                                         "fields": "title"}},
    ))["replies"]
    deleted = replies[0]["deleteDeveloperMetadata"]["deletedDeveloperMetadata"]
    assert [(d["metadataId"], d["metadataValue"]) for d in deleted] == [(1, "three"), (2, "five")]
    assert deleted[0]["location"]["locationType"] == "ROW"
    assert replies[1] == {"deleteDeveloperMetadata": {}}
    assert missing(gc, sid, 1) and missing(gc, sid, 2)
    assert found_ids(gc, sid, lookup(metadataKey="row")) == [6]
    assert fake.spreadsheet(sid)["title"] == "Still applied"
    # a range filter deletes what intersects the range
    replies = ok(batch(gc, sid, {"deleteDeveloperMetadata": {
        "dataFilter": {"a1Range": "Sheet1!B1:B2"}}}))["replies"]
    assert [d["metadataId"] for d in
            replies[0]["deleteDeveloperMetadata"]["deletedDeveloperMetadata"]] == [3, 4]


def test_spreadsheets_get_shows_metadata_where_it_lives(gc, layout):
    sid = layout
    body = ok(call(gc, "get", sid))
    assert [m["metadataId"] for m in body["developerMetadata"]] == [5]
    assert [m["metadataId"] for m in body["sheets"][0]["developerMetadata"]] == [4]
    assert "developerMetadata" not in body["sheets"][1]  # only row metadata there
    body = ok(call(gc, "get", sid, params={"ranges": "Sheet1!A2:C5", "includeGridData": "true"}))
    data = body["sheets"][0]["data"][0]
    rows = [[m["metadataId"] for m in r.get("developerMetadata", [])] for r in data["rowMetadata"]]
    assert rows == [[], [1], [], [2]]
    assert data["rowMetadata"][1] == {"pixelSize": 21, "developerMetadata": [
        {"metadataId": 1, "metadataKey": "row", "metadataValue": "three",
         "location": {"locationType": "ROW", "dimensionRange": {
             "dimension": "ROWS", "startIndex": 2, "endIndex": 3}},
         "visibility": "DOCUMENT"}]}
    cols = [[m["metadataId"] for m in c.get("developerMetadata", [])]
            for c in data["columnMetadata"]]
    assert cols == [[], [3], []]
    masked = ok(call(gc, "get", sid, params={
        "fields": "developerMetadata(metadataKey),sheets(developerMetadata(metadataId))"}))
    assert masked == {"developerMetadata": [{"metadataKey": "doc"}],
                      "sheets": [{"developerMetadata": [{"metadataId": 4}]}, {}]}


def test_project_metadata_is_seen_only_by_its_project(gc, fake, layout, tmp_path):
    sid = layout
    key = tmp_path / "other.json"
    fake.register_key(make_service_account_key(key, fake.token_uri, email=OTHER_PROJECT))
    fake.share(sid, OTHER_PROJECT, "writer")
    other = build_gspread_client(key, endpoint=fake.url)
    assert where(gc, sid, 6)["dimensionRange"]["sheetId"] == 9  # its own project sees it
    assert missing(other, sid, 6)
    assert found_ids(other, sid, lookup(metadataKey="row")) == [1, 2]
    assert found_ids(other, sid, lookup(metadataKey="row", visibility="PROJECT")) == []
    grid = ok(call(other, "get", sid, params={"ranges": "Two!A3", "includeGridData": "true"}))
    assert "developerMetadata" not in grid["sheets"][0]["data"][0]["rowMetadata"][0]
    replies = ok(batch(other, sid, {"deleteDeveloperMetadata": {
        "dataFilter": lookup(metadataId=6)}}))["replies"]
    assert replies == [{"deleteDeveloperMetadata": {}}]
    assert found_ids(gc, sid, lookup(visibility="PROJECT")) == [6]  # still there for its owner
    # ids are spreadsheet-wide: the other project cannot reuse 6 either
    assert error(batch(other, sid, create("mine", {"sheetId": 0}, None, 6))).endswith(
        "Developer metadata with id 6 already exists.")


def _dimension(sheet_id: int, dim: str, start: int, end: int) -> dict:
    return {"sheetId": sheet_id, "dimension": dim, "startIndex": start, "endIndex": end}


def test_row_and_column_metadata_follows_structure_changes(gc, fake, drive):
    sh = gc.create("Meta moves", drive)
    sh.sheet1.update([[f"r{i}"] for i in range(1, 11)], "A1")
    ok(batch(gc, sh.id, create("r2", row(0, 1), None, 2), create("r5", row(0, 4), None, 5),
             create("r8", row(0, 7), None, 8), create("cC", col(0, 2), None, 30)))

    def rows() -> dict[int, int]:
        return {m["metadataId"]: m["location"]["dimensionRange"]["startIndex"]
                for m in fake.spreadsheet(sh.id)["developerMetadata"]
                if m["location"]["locationType"] == "ROW"}

    def value_at(index: int) -> str:
        return fake.spreadsheet(sh.id)["sheets"][0]["values"][index][0]

    ok(batch(gc, sh.id, {"insertDimension": {"range": _dimension(0, "ROWS", 3, 5)}}))
    assert rows() == {2: 1, 5: 6, 8: 9}
    assert value_at(6) == "r5" and value_at(9) == "r8"  # still on their rows
    ok(batch(gc, sh.id, {"deleteDimension": {"range": _dimension(0, "ROWS", 5, 7)}}))
    assert rows() == {2: 1, 8: 7}
    assert missing(gc, sh.id, 5)  # its row is gone, and so is the metadata
    ok(batch(gc, sh.id, {"moveDimension": {"source": _dimension(0, "ROWS", 7, 8),
                                           "destinationIndex": 0}}))
    assert rows() == {2: 2, 8: 0}
    assert value_at(0) == "r8" and value_at(2) == "r2"
    ok(batch(gc, sh.id, {"moveDimension": {"source": _dimension(0, "ROWS", 0, 1),
                                           "destinationIndex": 4}}))
    assert rows() == {2: 1, 8: 3}
    assert value_at(3) == "r8"
    ok(batch(gc, sh.id, {"appendDimension": {"sheetId": 0, "dimension": "ROWS", "length": 5}}))
    assert rows() == {2: 1, 8: 3}
    ok(batch(gc, sh.id, {"insertDimension": {"range": _dimension(0, "COLUMNS", 0, 2)}}))
    assert where(gc, sh.id, 30)["dimensionRange"]["startIndex"] == 4
    ok(batch(gc, sh.id, {"deleteDimension": {"range": _dimension(0, "COLUMNS", 4, 5)}}))
    assert missing(gc, sh.id, 30)
    # shrinking the grid cuts off rows, and their metadata
    ok(batch(gc, sh.id, {"updateSheetProperties": {
        "properties": {"sheetId": 0, "gridProperties": {"rowCount": 3, "columnCount": 24}},
        "fields": "gridProperties(rowCount,columnCount)"}}))
    assert rows() == {2: 1}


def test_sort_paste_and_value_edits_leave_metadata_on_its_row(gc, fake, drive):
    sh = gc.create("Meta stays", drive)
    sh.sheet1.update([["c"], ["a"], ["b"]], "A1")
    ok(batch(gc, sh.id, create("first", row(0, 0), None, 1), create("third", row(0, 2), None, 3)))
    ok(batch(gc, sh.id, {"sortRange": {
        "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 0,
                  "endColumnIndex": 1},
        "sortSpecs": [{"dimensionIndex": 0, "sortOrder": "ASCENDING"}]}}))
    assert fake.spreadsheet(sh.id)["sheets"][0]["values"] == [["a"], ["b"], ["c"]]
    assert where(gc, sh.id, 1)["dimensionRange"]["startIndex"] == 0
    assert where(gc, sh.id, 3)["dimensionRange"]["startIndex"] == 2
    ok(batch(gc, sh.id, {"cutPaste": {
        "source": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1, "startColumnIndex": 0,
                   "endColumnIndex": 1},
        "destination": {"sheetId": 0, "rowIndex": 5, "columnIndex": 0}}}))
    sh.sheet1.update([["typed"]], "A3")
    assert where(gc, sh.id, 1)["dimensionRange"]["startIndex"] == 0
    assert where(gc, sh.id, 3)["dimensionRange"]["startIndex"] == 2


def test_deleted_sheets_take_their_metadata_and_copies_get_none(gc, fake, layout):
    sid = layout
    dup = ok(batch(gc, sid, {"duplicateSheet": {"sourceSheetId": 0, "newSheetId": 55}}))
    assert dup["replies"][0]["duplicateSheet"]["properties"]["sheetId"] == 55
    copied = ok(call(gc, "post", f"{sid}/sheets/0:copyTo",
                     json={"destinationSpreadsheetId": sid}))["sheetId"]
    located = {m["metadataId"]: m["location"] for m in fake.spreadsheet(sid)["developerMetadata"]}
    assert all(loc.get("sheetId") not in (55, copied)
               and loc.get("dimensionRange", {}).get("sheetId") not in (55, copied)
               for loc in located.values())
    assert sorted(located) == [1, 2, 3, 4, 5, 6]
    ok(batch(gc, sid, {"deleteSheet": {"sheetId": 0}}))
    assert sorted(m["metadataId"] for m in fake.spreadsheet(sid)["developerMetadata"]) == [5, 6]
    ok(batch(gc, sid, {"deleteSheet": {"sheetId": 9}}))
    assert [m["metadataId"] for m in fake.spreadsheet(sid)["developerMetadata"]] == [5]


# --------------------------------------------------------------------------- whole cells move


def _cells(fake, sid: str) -> dict[str, dict]:
    return fake.spreadsheet(sid)["sheets"][0]["cells"]


RED = {"red": 1}
RULE = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "ok"}]},
        "strict": True}


def _decorate(gc, sid: str) -> None:
    """B1..B3 = 3, 1, 2; B1 (value 3) has a note, B2 (value 1) is red, B3 (value 2) has a
    validation rule; A column holds labels."""
    ok(batch(gc, sid, {"updateCells": {
        "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
        "rows": [
            {"values": [{"userEnteredValue": {"stringValue": "three"}},
                        {"userEnteredValue": {"numberValue": 3}, "note": "note of 3"}]},
            {"values": [{"userEnteredValue": {"stringValue": "one"}},
                        {"userEnteredValue": {"numberValue": 1},
                         "userEnteredFormat": {"backgroundColor": RED}}]},
            {"values": [{"userEnteredValue": {"stringValue": "two"}},
                        {"userEnteredValue": {"numberValue": 2}, "dataValidation": RULE}]},
        ],
        "fields": "userEnteredValue,note,userEnteredFormat.backgroundColor,dataValidation"}}))


def test_sort_range_moves_each_whole_cell_with_its_row(gc, fake, drive):
    sh = gc.create("Sort whole cells", drive)
    _decorate(gc, sh.id)
    ok(batch(gc, sh.id, {"sortRange": {
        "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 3, "startColumnIndex": 0,
                  "endColumnIndex": 2},
        "sortSpecs": [{"dimensionIndex": 1, "sortOrder": "DESCENDING"}]}}))
    cells = _cells(fake, sh.id)
    assert [cells[f"A{i}"]["userEnteredValue"]["stringValue"] for i in (1, 2, 3)] == \
        ["three", "two", "one"]
    assert cells["B1"]["note"] == "note of 3" and "note" not in cells["B2"]
    assert cells["B2"]["dataValidation"] == RULE and "dataValidation" not in cells["B1"]
    assert cells["B3"]["userEnteredFormat"]["backgroundColor"] == RED
    assert "userEnteredFormat" not in cells["B1"] and "userEnteredFormat" not in cells["B2"]


def test_dimension_changes_move_notes_formats_and_validation(gc, fake, drive):
    sh = gc.create("Dimensions whole cells", drive)
    _decorate(gc, sh.id)
    ok(batch(gc, sh.id, {"insertDimension": {"range": _dimension(0, "ROWS", 1, 2)}},
             {"insertDimension": {"range": _dimension(0, "COLUMNS", 0, 1)}}))
    cells = _cells(fake, sh.id)
    assert cells["C1"]["note"] == "note of 3"
    assert cells["C3"]["userEnteredFormat"]["backgroundColor"] == RED
    assert cells["C4"]["dataValidation"] == RULE
    ok(batch(gc, sh.id, {"deleteDimension": {"range": _dimension(0, "ROWS", 0, 1)}}))
    cells = _cells(fake, sh.id)
    assert "note" not in str(cells)  # the noted cell's row is gone
    assert cells["C2"]["userEnteredFormat"]["backgroundColor"] == RED
    assert cells["C3"]["dataValidation"] == RULE
    ok(batch(gc, sh.id, {"moveDimension": {"source": _dimension(0, "ROWS", 2, 3),
                                           "destinationIndex": 0}}))
    cells = _cells(fake, sh.id)
    assert cells["C1"]["dataValidation"] == RULE
    assert cells["C1"]["userEnteredValue"] == {"numberValue": 2}
    assert cells["C3"]["userEnteredFormat"]["backgroundColor"] == RED
