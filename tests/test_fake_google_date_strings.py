"""dateTimeRenderOption=FORMATTED_STRING in the fake, as Sheets v4 documents it: date, time,
date-time and duration cells come as strings in their number format (the cell's pattern, or
the spreadsheet locale's default), every other number stays an unformatted number; grid
data's formattedValue shows the same string. The Google backend's read relies on it
(google_read.shown_date)."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from cchc_sync.testing.fake_google import FakeGoogle, cellvalues
from tests.test_fake_google_units import PERSON

THIS_YEAR = dt.date.today().year
SERIAL_15_JUNE = (dt.date(THIS_YEAR, 6, 15) - dt.date(1899, 12, 30)).days


@pytest.mark.parametrize(("value", "number_format", "locale", "shown"), [
    (46188, {"type": "DATE", "pattern": "dd/mm/yyyy"}, "vi_VN", "15/06/2026"),
    (46188, {"type": "DATE", "pattern": "d/M"}, "vi_VN", "15/6"),
    (46188.5, {"type": "DATE_TIME", "pattern": "dd/mm/yyyy hh:mm"}, "vi_VN", "15/06/2026 12:00"),
    (46188, {"type": "DATE"}, "vi_VN", "15/06/2026"),
    (46188, {"type": "DATE"}, "en_US", "6/15/2026"),
    (8.5 / 24, {"type": "TIME"}, "vi_VN", "08:30:00"),
    (1.5, {"type": "DURATION", "pattern": "[h]:mm:ss"}, "vi_VN", "36:00:00"),
    (1.5, {"type": "DURATION"}, "en_US", "36:00:00"),
    (100 / 1440, {"type": "DURATION", "pattern": "[mm]:ss"}, "vi_VN", "100:00"),
])
def test_dates_render_in_their_format_and_locale(value, number_format, locale, shown):
    assert cellvalues.render({"numberValue": value}, {"numberValue": value}, number_format,
                             "UNFORMATTED_VALUE", "FORMATTED_STRING", locale) == shown
    assert cellvalues.formatted_value({"numberValue": value}, number_format, locale) == shown


@pytest.mark.parametrize("number_format", [
    None, {"type": "NUMBER", "pattern": "#,##0"}, {"type": "PERCENT", "pattern": "0.00%"},
    {"type": "TEXT", "pattern": "@"},
])
def test_other_numbers_stay_numbers(number_format):
    assert cellvalues.render({"numberValue": 0.9616}, {"numberValue": 0.9616}, number_format,
                             "UNFORMATTED_VALUE", "FORMATTED_STRING", "vi_VN") == 0.9616


def test_a_vi_vn_sheet_answers_dates_as_strings_and_grid_data_agrees():
    """Column A is a date column (`dd/mm/yyyy`), B a count (`#,##0`), C a percent."""
    with FakeGoogle(require_auth=False, default_account=PERSON) as fake, \
            requests.Session() as http:
        check_date_strings(fake, lambda method, path, **kw: http.request(
            method, fake.url + path, **kw))


def check_date_strings(fake, api):
    sid = api("POST", "/v4/spreadsheets", json={
        "properties": {"title": "Báo cáo", "locale": "vi_VN"},
        "sheets": [{"properties": {"title": "Data"}}]}).json()["spreadsheetId"]
    formats = [("DATE", "dd/mm/yyyy"), ("NUMBER", "#,##0"), ("PERCENT", "0.00%")]
    got = api("POST", f"/v4/spreadsheets/{sid}:batchUpdate", json={"requests": [
        {"repeatCell": {
            "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 5,
                      "startColumnIndex": i, "endColumnIndex": i + 1},
            "cell": {"userEnteredFormat": {"numberFormat": {"type": kind, "pattern": pattern}}},
            "fields": "userEnteredFormat.numberFormat"}}
        for i, (kind, pattern) in enumerate(formats)]})
    assert got.status_code == 200
    fake.edit_cells(sid, "Data", "A1", [
        ["07/06/2022", "27.554", "96,16%"],
        ["15/6", "15/6", "8:30"],
        ["15/6/2025 8:30", "15/6/2025", "'15/06/2026"],
    ])
    params = {"ranges": ["Data"], "valueRenderOption": "UNFORMATTED_VALUE",
              "dateTimeRenderOption": "FORMATTED_STRING"}
    values = api("GET", f"/v4/spreadsheets/{sid}/values:batchGet",
                 params=params).json()["valueRanges"][0]["values"]
    assert values == [
        ["07/06/2022", 27554, 0.9616],
        [f"15/06/{THIS_YEAR}", "15/6", "8:30"],  # a date typed into a count takes "d/M"
        ["15/06/2025", "15/6/2025", "15/06/2026"],  # the last one is text
    ]
    serials = api("GET", f"/v4/spreadsheets/{sid}/values:batchGet",
                  params={**params, "dateTimeRenderOption": "SERIAL_NUMBER"}
                  ).json()["valueRanges"][0]["values"]
    assert serials[1][:2] == [SERIAL_15_JUNE, SERIAL_15_JUNE]
    grid = api("GET", f"/v4/spreadsheets/{sid}", params={
        "ranges": ["Data"],
        "fields": "sheets(data(rowData(values(effectiveValue,formattedValue,"
                  "effectiveFormat.numberFormat.type))))"}).json()
    rows = grid["sheets"][0]["data"][0]["rowData"][:len(values)]  # formatted rows follow
    dates = 0
    for row, answer in zip(rows, values, strict=True):
        for cell, value in zip(row["values"], answer, strict=True):
            kind = cell["effectiveFormat"]["numberFormat"]["type"]
            if isinstance(value, str) and "numberValue" in cell["effectiveValue"]:
                assert kind in ("DATE", "TIME", "DATE_TIME") and cell["formattedValue"] == value
                dates += 1
    assert dates == 6
