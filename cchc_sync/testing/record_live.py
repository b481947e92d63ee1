"""Record our scenario against the real Google APIs, once, by an administrator with an
account: nothing in the test suite reaches Google, so this is how the fake's assumptions
are checked against the real thing.

    python -m cchc_sync.testing.record_live --credentials key.json --folder FOLDER_ID \\
        [-o recording.json]
    python -m cchc_sync.testing.record_live --user-token google-token.json -o recording.json

It takes a couple of minutes and about 25 requests. It plays what a clerk and the software
do: a new spreadsheet in vi_VN; "27.554", "96,16%", "15/6" typed (USER_ENTERED) into cells
formatted as a count, a percent and a count; the cells read back in every render option; a
developer-metadata anchor on the status column, then a sort and a column insertion around
it; one flag write (a note and a fill, answer with the grid); and the spreadsheet deleted.
The recording is saved in the vcrpy format of tests' recordings, sanitised: no
Authorization header, no token, the spreadsheet and folder ids renamed. What each answer
settles is in docs/fake-google.md ("Recording against the real thing");
tests/test_record_live.py replays a recording against the fake.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"
DRIVE = "https://www.googleapis.com/drive/v3/files"
SPREADSHEET_ALIAS = "recorded-spreadsheet-00000000000000000000000001"
FOLDER_ALIAS = "recorded-folder-0000000000000000000000000000001"
KEPT_HEADERS = {"content-type"}


class Recorder:
    """Sends requests through an authorised session and keeps each exchange."""

    def __init__(self, session: Any):
        self.session = session
        self.interactions: list[dict[str, Any]] = []

    def call(self, method: str, url: str, *, params: dict | None = None,
             body: Any = None) -> dict[str, Any]:
        response = self.session.request(method, url, params=params, json=body, timeout=60)
        self.interactions.append({
            "request": {"method": method, "uri": response.request.url,
                        "body": json.dumps(body) if body is not None else None,
                        "headers": {"Content-Type": ["application/json"]} if body else {}},
            "response": {"status": {"code": response.status_code, "message": response.reason},
                         "headers": {k: [v] for k, v in response.headers.items()
                                     if k.lower() in KEPT_HEADERS},
                         "body": {"string": response.text}},
        })
        if response.status_code >= 400:
            raise SystemExit(f"{method} {url}: {response.status_code} {response.text[:300]}")
        return response.json() if response.text.strip() else {}


def play(rec: Recorder, folder: str) -> None:
    """The scenario (see the module docstring)."""
    body: dict[str, Any] = {"name": "cchc-sync record_live",
                            "mimeType": "application/vnd.google-apps.spreadsheet"}
    if folder:
        body["parents"] = [folder]
    sid = rec.call("POST", DRIVE, params={"supportsAllDrives": "true"}, body=body)["id"]
    try:
        _scenario(rec, sid)
    finally:
        rec.call("DELETE", f"{DRIVE}/{sid}", params={"supportsAllDrives": "true"})


def _scenario(rec: Recorder, sid: str) -> None:
    sheet_id = rec.call("GET", f"{SHEETS}/{sid}", params={"fields": "sheets.properties"})[
        "sheets"][0]["properties"]["sheetId"]
    count = {"type": "NUMBER", "pattern": "#,##0"}
    percent = {"type": "PERCENT", "pattern": "0.00%"}

    def fmt(col: int, number_format: dict) -> dict:
        return {"repeatCell": {
            "range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 3,
                      "startColumnIndex": col, "endColumnIndex": col + 1},
            "cell": {"userEnteredFormat": {"numberFormat": number_format}},
            "fields": "userEnteredFormat.numberFormat"}}

    rec.call("POST", f"{SHEETS}/{sid}:batchUpdate", body={"requests": [
        {"updateSpreadsheetProperties": {"properties": {"locale": "vi_VN"}, "fields": "locale"}},
        fmt(1, count), fmt(2, percent), fmt(3, count),
        {"createDeveloperMetadata": {"developerMetadata": {
            "metadataId": 4242, "metadataKey": "cchc-status", "metadataValue": "E",
            "location": {"dimensionRange": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                            "startIndex": 4, "endIndex": 5}},
            "visibility": "DOCUMENT"}}},
    ]})
    rows = [["Lĩnh vực", "Tiếp nhận", "Tỷ lệ", "Số", "Kết quả kiểm tra"],
            ["Tư pháp", "27.554", "96,16%", "15/6", ""],
            ["Đất đai", "1.234", "5,5%", "02", ""]]
    rec.call("PUT", f"{SHEETS}/{sid}/values/Sheet1!A1:E3",
             params={"valueInputOption": "USER_ENTERED"}, body={"values": rows})
    for render in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
        for dates in ("SERIAL_NUMBER", "FORMATTED_STRING"):
            rec.call("GET", f"{SHEETS}/{sid}/values:batchGet",
                     params={"ranges": "Sheet1!A1:E3", "valueRenderOption": render,
                             "dateTimeRenderOption": dates})
    rec.call("GET", f"{SHEETS}/{sid}", params={
        "ranges": "Sheet1!B2:D2", "includeGridData": "true",
        "fields": "sheets.data.rowData.values(effectiveValue,formattedValue,"
                  "effectiveFormat.numberFormat)"})
    rec.call("POST", f"{SHEETS}/{sid}:batchUpdate", body={"requests": [
        {"sortRange": {"range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 3},
                       "sortSpecs": [{"dimensionIndex": 0, "sortOrder": "ASCENDING"}]}},
        {"insertDimension": {"range": {"sheetId": sheet_id, "dimension": "COLUMNS",
                                       "startIndex": 1, "endIndex": 2},
                             "inheritFromBefore": False}},
    ]})
    rec.call("GET", f"{SHEETS}/{sid}/developerMetadata/4242")
    rec.call("POST", f"{SHEETS}/{sid}:batchUpdate", body={
        "requests": [{"updateCells": {
            "range": {"sheetId": sheet_id, "startRowIndex": 1, "endRowIndex": 2,
                      "startColumnIndex": 2, "endColumnIndex": 3},
            "rows": [{"values": [{"note": "Số này có vẻ sai.",
                                  "userEnteredFormat": {"backgroundColor": {
                                      "red": 0.957, "green": 0.8, "blue": 0.8}}}]}],
            "fields": "note,userEnteredFormat.backgroundColor"}}],
        "includeSpreadsheetInResponse": True,
        "responseRanges": ["Sheet1!A1:F3"],
        "responseIncludeGridData": True,
    })
    rec.call("GET", f"{SHEETS}/{sid}/values:batchGet",
             params={"ranges": "Sheet1!A1:F3", "valueRenderOption": "UNFORMATTED_VALUE",
                     "dateTimeRenderOption": "FORMATTED_STRING"})


def sanitise(interactions: list[dict[str, Any]], ids: dict[str, str]) -> dict[str, Any]:
    """The recording without secrets, ids renamed (`ids`: real -> alias)."""
    text = json.dumps({"version": 1, "interactions": interactions}, ensure_ascii=False)
    for real, alias in ids.items():
        if real:
            text = text.replace(real, alias)
    data = json.loads(text)
    for item in data["interactions"]:
        item["request"]["headers"].pop("Authorization", None)
    return data


def session_for(args: argparse.Namespace) -> Any:
    from cchc_sync.sources.google.client import (
        DEFAULT_SCOPES,
        READONLY_DRIVE_SCOPES,
        EndpointAuthorizedSession,
    )
    from cchc_sync.sources.google.signin import load_user_credentials

    if args.user_token:
        creds = load_user_credentials(Path(args.user_token))
    else:
        from google.oauth2 import service_account

        # A folder a person made is visible with drive.readonly only (as the backend does).
        scopes = READONLY_DRIVE_SCOPES if args.folder else DEFAULT_SCOPES
        creds = service_account.Credentials.from_service_account_file(
            args.credentials, scopes=list(scopes))
    return EndpointAuthorizedSession(creds, endpoint=args.endpoint or None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cchc_sync.testing.record_live")
    who = parser.add_mutually_exclusive_group(required=True)
    who.add_argument("--credentials", help="service-account key (with a shared-drive folder)")
    who.add_argument("--user-token", help="the coordinator's sign-in (cchc-sync google login)")
    parser.add_argument("--folder", default="", help="Drive folder id to work in")
    parser.add_argument("--endpoint", default="", help="an emulator instead of Google")
    parser.add_argument("-o", "--output", default="record-live.json")
    args = parser.parse_args(argv)
    session = session_for(args)
    rec = Recorder(session)
    try:
        play(rec, args.folder)
    finally:
        session.close()
        created = next((json.loads(i["response"]["body"]["string"]).get("id")
                        for i in rec.interactions if i["request"]["method"] == "POST"
                        and i["request"]["uri"].split("?")[0].endswith("/files")), "")
        data = sanitise(rec.interactions, {created: SPREADSHEET_ALIAS,
                                           args.folder: FOLDER_ALIAS})
        Path(args.output).write_text(json.dumps(data, ensure_ascii=False, indent=1),
                                     encoding="utf-8")
        print(f"{len(rec.interactions)} requests recorded in {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
