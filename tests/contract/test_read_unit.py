"""read_unit: every template table of a unit's sheet, columns found by title, rows at the
sheet rows a clerk sees — the same on every backend."""

from __future__ import annotations

import pytest

from cchc_sync.sources.base import CHECK_TAB, UnitUnreachable
from tests.contract.conftest import TTHC, read


def test_typed_rows_come_back_at_their_sheet_rows(district):
    table = read(district).tables["tthc"]
    assert table.tab_found
    # Row 4 was left blank: skipped, and the rows below it keep their numbers.
    assert [r.sheet_row for r in table.rows] == [2, 3, 5]
    values = [(r.cells["linh_vuc"].value, r.cells["tu_ky_truoc"].value,
               r.cells["tong_tiep_nhan"].value) for r in table.rows]
    assert values == [("Chứng thực", 1, 6), ("Hộ tịch", 2, 9), ("Đất đai", None, 4)]
    assert [r.explanation for r in table.rows] == [None, "Có thêm hồ sơ từ xã bên", None]
    assert read(district).tables["bien_che"].rows == ()


def test_columns_are_found_by_title_and_the_owned_ones_apart(district):
    spec = district.ws.templates.table("tthc")
    layout = read(district).tables["tthc"].layout
    assert layout.columns == {c.key: i for i, c in enumerate(spec.columns, start=1)}
    assert layout.explanation_col == len(spec.columns) + 1
    assert layout.status_col == len(spec.columns) + 2
    assert layout.header_row == 1 and layout.unknown_titles == ()


def test_a_deleted_tab_is_reported_not_taken_for_empty(district):
    district.delete_tab("U001", "Biên chế")
    found = read(district)
    assert found.tables["bien_che"].tab_found is False
    assert [r.sheet_row for r in found.tables["tthc"].rows] == [2, 3, 5]


def test_a_deleted_check_tab_is_noticed(district):
    district.delete_tab("U001", CHECK_TAB)
    found = read(district)
    if district.kind == "google":
        # Google's read asks only for the template tabs and "_cchc"; the missing "Kiểm tra"
        # is made again by the next flag write (test_write_flags).
        assert found.owned_intact
    else:
        assert found.owned_intact is False
    assert read(district, "U000").owned_intact


def test_an_unreachable_sheet_raises_unit_unreachable_with_a_reason(district):
    district.take_away("U001")
    with pytest.raises(UnitUnreachable) as raised:
        read(district)
    assert str(raised.value)
    district.give_back("U001")
    assert [r.sheet_row for r in read(district).tables["tthc"].rows] == [2, 3, 5]


def test_the_template_version_and_identity_recorded_in_the_sheet(district):
    found = read(district)
    assert found.template_version == district.ws.templates.version
    assert found.marks["unit"] == "U001" and found.marks["period"] == district.ws.period.code
    district.type_value("U001", TTHC, 2, "Lĩnh vực", "Hộ tịch")
    assert read(district).tables["tthc"].rows[0].cells["linh_vuc"].value == "Hộ tịch"
