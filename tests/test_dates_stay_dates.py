"""Dates stay dates from validation on (issue 11): the archive keeps a date as ISO text in
the row's JSON (its stored format is unchanged), and `Workspace.current_rows` hands every
later stage (checks, master, report) a `datetime.date`; none of them parses ISO text.

On the memory backend: the test is about the stages after the read, not a backend.
"""

from __future__ import annotations

import datetime as dt

from cchc_sync.app.pipeline import sync_once
from cchc_sync.report.data import load_period
from cchc_sync.report.sections import directives
from tests.contract.districts import make

UNITS = """ma,ten,cap,cha,email
U000,Phòng Nội vụ,huyen,,noivu@example.gov.vn
U001,UBND xã Long Trị,xa,,longtri@example.gov.vn
"""
DIRECTIVES = "Văn bản chỉ đạo"
ISSUED = dt.date(2022, 3, 15)


def test_rows_carry_dates_from_the_archive_to_the_master_and_report(tmp_path):
    district = make("memory", tmp_path / "memory", units_csv=UNITS, fill=False)
    try:
        district.type_rows("U001", {DIRECTIVES: [{
            "Số, ký hiệu": "12/KH-UBND", "Ngày ban hành": ISSUED,
            "Loại văn bản": "Kế hoạch", "Trích yếu nội dung": "Kế hoạch CCHC năm 2022",
        }]})
        ws = district.ws
        sync_once(ws)

        # The stored form is ISO text, as before the change (older archives read the same).
        [stored] = [r for r in ws.archive.current_rows(ws.period.code) if r.table == "van_ban"]
        assert stored.values["ngay_ban_hanh"] == "2022-03-15"

        # Every stage after validation reads it as a date.
        [row] = [r for r in ws.current_rows() if r.table == "van_ban"]
        assert row.values["ngay_ban_hanh"] == ISSUED
        assert type(row.values["ngay_ban_hanh"]) is dt.date
        assert row.values["so_ky_hieu"] == "12/KH-UBND"  # other columns untouched

        # The master the cycle wrote shows it as a date cell (publish/master parses nothing).
        [title, *lines] = district.master()[DIRECTIVES]
        column = title.index("Ngày ban hành")
        assert [line[column] for line in lines] == [ISSUED]

        # The report's list of directives gets the date as a date.
        [directive] = directives(load_period(ws, ws.period.code))
        assert (directive.number, directive.date) == ("12/KH-UBND", ISSUED)
    finally:
        district.close()
