"""Google mode (issue 16): a spreadsheet whose hidden "_cchc" marks name another unit, period
or template set is "not readable" for the unit it is registered for, with a Vietnamese
reason naming what it is; nothing is written into it and the unit's archived rows stay.

Real gspread/google-auth over HTTP to the fake; the marks are changed as a person with edit
rights on "_cchc" (or a copy of another unit's spreadsheet) would leave them.
"""

from __future__ import annotations

import pytest

from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.base import META_TAB
from cchc_sync.testing.keys import DEFAULT_EMAIL
from tests.contract.districts import PERIOD, GoogleDistrict, dump_values


@pytest.fixture
def district(tmp_path):
    district = GoogleDistrict(tmp_path / "d")
    sync_once(district.ws)
    district.clock.tick()
    sync_once(district.ws)  # the echoes of our own flag writes
    yield district
    district.close()


def _set_mark(district: GoogleDistrict, unit: str, key: str, value: str) -> None:
    sid = district.sheet_id(unit)
    rows = dump_values(district.fake.spreadsheet(sid))[META_TAB]
    row = next(i for i, r in enumerate(rows, start=1) if r and r[0] == key)
    # "_cchc" is protected: only its owner (the account that made it) can change it, as
    # when a copy of another unit's spreadsheet is put in this unit's place.
    district.fake.edit_cells(sid, META_TAB, f"B{row}", [[f"'{value}"]], user=DEFAULT_EMAIL)


def _rows(district: GoogleDistrict, unit: str):
    return {(r.table, r.key): r.values for r in district.ws.archive.current_rows(PERIOD)
            if r.unit == unit}


@pytest.mark.parametrize(("key", "value", "named"), [
    ("unit", "VP", "Văn phòng HĐND và UBND huyện (VP)"),
    ("period", "2021S2", "kỳ 2021S2"),
    ("template_name", "Biểu mẫu khác", "“Biểu mẫu khác”"),
])
def test_a_sheet_marked_for_another_unit_period_or_template_set_is_refused(
        district, key, value, named):
    unit = "TNMT"
    rows_before = _rows(district, unit)
    assert rows_before
    _set_mark(district, unit, key, value)
    # The clerk also types a figure: it must not be archived, nor flagged.
    district.type_value(unit, "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận", 4321)
    sid = district.sheet_id(unit)
    mark = len(district.fake.requests())
    district.clock.tick()
    result = sync_once(district.ws)
    assert unit in result.units_unreachable
    state = district.ws.archive.sheets(PERIOD)[unit]
    assert not state.reachable
    assert state.reason.startswith("Tệp này") and named in state.reason, state.reason
    assert _rows(district, unit) == rows_before  # archived rows kept, the new figure not
    writes = [r for r in district.fake.requests()[mark:]
              if sid in r["path"] and r["method"] != "GET"]
    assert writes == []  # nothing written into it
    # Refused again next cycle (its token is not kept), still without a write.
    district.clock.tick()
    result = sync_once(district.ws)
    assert unit in result.units_unreachable
    assert not [r for r in district.fake.requests()[mark:]
                if sid in r["path"] and r["method"] != "GET"]
