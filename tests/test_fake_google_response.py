"""batchUpdate response options in the fake Sheets API (includeSpreadsheetInResponse,
responseRanges, responseIncludeGridData, the ``fields`` query parameter), over real HTTP with
the authorised session gspread uses."""

from __future__ import annotations

import pytest

import tests.test_fake_google_metadata as metadata_tests
from tests.test_fake_google_metadata import batch, ok

fake, key_file, gc, drive = (metadata_tests.fake, metadata_tests.key_file, metadata_tests.gc,
                             metadata_tests.drive)  # fixtures

RENAME = {"updateSheetProperties": {"properties": {"sheetId": 0, "title": "Main"},
                                    "fields": "title"}}


@pytest.fixture()
def sid(gc, drive):
    """Sheet1 (id 0) with A1:B3 filled, and a second sheet "Side" with A1."""
    sh = gc.create("Response options", drive)
    sh.sheet1.update([["a", 1], ["b", 2], ["c", 3]], "A1")
    sh.add_worksheet("Side", rows=10, cols=5).update([["side"]], "A1")
    return sh.id


def test_without_include_there_is_no_spreadsheet(gc, sid):
    body = ok(batch(gc, sid, RENAME, responseIncludeGridData=True, responseRanges=["Main!A1"]))
    assert body == {"spreadsheetId": sid, "replies": [{}]}


def test_included_spreadsheet_is_the_edited_one_without_grid_data(gc, sid):
    body = ok(batch(gc, sid, RENAME, includeSpreadsheetInResponse=True))
    updated = body["updatedSpreadsheet"]
    assert updated["spreadsheetId"] == sid
    assert [s["properties"]["title"] for s in updated["sheets"]] == ["Main", "Side"]
    assert all("data" not in s for s in updated["sheets"])
    assert body["replies"] == [{}]


def test_grid_data_only_when_asked(gc, sid):
    body = ok(batch(gc, sid, RENAME, includeSpreadsheetInResponse=True,
                    responseIncludeGridData=True))
    main, side = body["updatedSpreadsheet"]["sheets"]
    rows = main["data"][0]["rowData"]
    assert [[c["effectiveValue"] for c in r["values"]] for r in rows] == [
        [{"stringValue": "a"}, {"numberValue": 1}], [{"stringValue": "b"}, {"numberValue": 2}],
        [{"stringValue": "c"}, {"numberValue": 3}]]
    assert len(main["data"][0]["rowMetadata"]) == 1000
    assert side["data"][0]["rowData"][0]["values"][0]["formattedValue"] == "side"


def test_response_ranges_limit_sheets_and_grid_data(gc, sid):
    body = ok(batch(gc, sid, RENAME, includeSpreadsheetInResponse=True,
                    responseIncludeGridData=True, responseRanges=["Main!B2:B3"]))
    sheets = body["updatedSpreadsheet"]["sheets"]
    assert [s["properties"]["title"] for s in sheets] == ["Main"]
    data = sheets[0]["data"]
    assert len(data) == 1
    assert data[0]["startRow"] == 1 and data[0]["startColumn"] == 1
    assert [r["values"][0]["formattedValue"] for r in data[0]["rowData"]] == ["2", "3"]
    assert len(data[0]["rowMetadata"]) == 2 and len(data[0]["columnMetadata"]) == 1
    # without responseIncludeGridData: the same sheets, no data
    body = ok(batch(gc, sid, RENAME, includeSpreadsheetInResponse=True,
                    responseRanges=["Side!A1", "Main!A1"]))
    sheets = body["updatedSpreadsheet"]["sheets"]
    assert [s["properties"]["title"] for s in sheets] == ["Main", "Side"]
    assert all("data" not in s for s in sheets)


def test_fields_mask_asks_for_grid_data_and_masks_the_whole_response(gc, sid):
    fields = ("updatedSpreadsheet(sheets(properties(sheetId,title),data(startRow,startColumn,"
              "rowData(values(effectiveValue)))))")
    body = ok(batch(gc, sid, RENAME, params={"fields": fields}, includeSpreadsheetInResponse=True,
                    responseRanges=["Main!A2:B2"]))
    assert body == {"updatedSpreadsheet": {"sheets": [{
        "properties": {"sheetId": 0, "title": "Main"},
        "data": [{"startRow": 1, "rowData": [{"values": [
            {"effectiveValue": {"stringValue": "b"}}, {"effectiveValue": {"numberValue": 2}}]}]}],
    }]}}
    # a mask without sheets.data: no grid data, even with responseIncludeGridData
    body = ok(batch(gc, sid, RENAME, params={"fields": "replies,updatedSpreadsheet(sheets)"},
                    includeSpreadsheetInResponse=True, responseIncludeGridData=True))
    assert body["replies"] == [{}] and "spreadsheetId" not in body
    assert "data" in body["updatedSpreadsheet"]["sheets"][0]  # sheets whole includes data
    body = ok(batch(gc, sid, RENAME,
                    params={"fields": "updatedSpreadsheet(sheets(properties(title)))"},
                    includeSpreadsheetInResponse=True, responseIncludeGridData=True))
    assert body == {"updatedSpreadsheet": {"sheets": [{"properties": {"title": "Main"}},
                                                      {"properties": {"title": "Side"}}]}}
    body = ok(batch(gc, sid, RENAME, params={"fields": "spreadsheetId"},
                    includeSpreadsheetInResponse=True))
    assert body == {"spreadsheetId": sid}


def test_bad_options_fail_the_batch_before_anything_is_kept(gc, fake, sid):
    before = fake.spreadsheet(sid)
    response = batch(gc, sid, RENAME, includeSpreadsheetInResponse=True,
                     responseRanges=["Nowhere!A1"])
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Unable to parse range: Nowhere!A1"
    response = batch(gc, sid, RENAME, params={"fields": "replies("})
    assert response.status_code == 400
    assert fake.spreadsheet(sid) == before  # the rename was not kept


def test_pretty_print_false_answers_without_whitespace(gc, sid):
    """Google indents its JSON unless the request says prettyPrint=false (the read and the
    flag write ask for it: about a third of the bytes)."""
    indented = batch(gc, sid, RENAME, includeSpreadsheetInResponse=True,
                     responseIncludeGridData=True)
    compact = batch(gc, sid, RENAME, includeSpreadsheetInResponse=True,
                    responseIncludeGridData=True, params={"prettyPrint": "false"})
    assert ok(compact) == ok(indented)
    assert b"\n" in indented.content and b": " in indented.content
    assert b"\n" not in compact.content and b'"sheetId":0' in compact.content
    assert len(compact.content) < len(indented.content) / 2
