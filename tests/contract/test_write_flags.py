"""write_flags: the plan goes into the cells the software owns and nowhere else; a sheet
edited since it was read gets nothing — the same on every backend."""

from __future__ import annotations

import pytest

from cchc_sync.domain.records import ReadBasis, Severity
from cchc_sync.sources.base import (
    CHECK_TAB,
    ERROR_FILL,
    WARNING_FILL,
    OwnWrite,
    ScanState,
    UnitUnreachable,
)
from tests.contract.conftest import COUNT, TTHC, finding, plan_for, read
from tests.contract.districts import status_cells, typed_values


def flag(district, row: int, title: str = COUNT) -> tuple[str | None, str]:
    return district.cell_flag("U001", TTHC, row, title)


def token_now(district) -> str | None:
    ref = district.ref("U001")
    return district.ws.backend.scan({"U001": (ref, None)})["U001"].token


def write(district, plan, expect_token=None, basis=None):
    """write_flags with the basis of the read the plan came from (see `planned`)."""
    return district.ws.backend.write_flags(district.ref("U001"), plan, expect_token,
                                           basis if basis is not None else plan_basis[id(plan)])


plan_basis: dict[int, ReadBasis | None] = {}


def planned(district, found, findings):
    """The plan of these findings for `found`, remembered with the read's basis."""
    plan = plan_for(district, found, findings)
    plan_basis[id(plan)] = found.basis
    return plan


def test_status_notes_colours_and_the_check_tab(district):
    before = typed_values(district, "U001")
    found = read(district)
    plan = planned(district, found, [finding(Severity.ERROR, 2),
                                      finding(Severity.WARNING, 3, "tu_ky_truoc", "Tăng nhiều")])
    assert write(district, plan, token_now(district)) is not None
    note, fill = flag(district, 2)
    assert fill == ERROR_FILL and "Tổng số không khớp" in note
    note, fill = flag(district, 3, "Từ kỳ trước chuyển qua")
    assert fill == WARNING_FILL and "Tăng nhiều" in note
    assert flag(district, 5) == (None, "")
    statuses = status_cells(district, "U001", TTHC)
    assert statuses[0].startswith("✖ 1 lỗi") and statuses[1].startswith("⚠")
    assert statuses[3] == "✔ Hợp lệ"
    check = [str(v) for row in district.tabs("U001")[CHECK_TAB] for v in row if v]
    assert check[0].startswith("Kết quả kiểm tra lúc")
    assert "Tổng số không khớp" in check and "Tăng nhiều" in check
    assert typed_values(district, "U001") == before


def test_a_clean_plan_clears_the_marks_but_not_a_persons_note(district):
    district.add_note("U001", TTHC, 3, 2, "Số của chị Lan")  # a cell never flagged
    district.add_note("U001", TTHC, 3, 5, "Theo sổ theo dõi")  # a cell flagged below
    found = read(district)
    write(district, planned(district, found, [finding(Severity.ERROR, 2),
                                               finding(Severity.ERROR, 3)]))
    note, fill = flag(district, 3)
    if district.kind == "google":
        # Sheets keeps no author on a note: a person's note on a cell the software flags
        # is replaced by the software's (sources/google/flag_requests.py).
        assert "Tổng số không khớp" in note and fill == ERROR_FILL
    else:
        assert (note, fill) == ("Theo sổ theo dõi", ERROR_FILL)
    write(district, planned(district, read(district), []))
    assert flag(district, 2) == (None, "")
    assert flag(district, 3, "Từ kỳ trước chuyển qua") == ("Số của chị Lan", "")
    assert flag(district, 3)[1] == ""
    assert set(status_cells(district, "U001", TTHC)) - {None} == {"✔ Hợp lệ"}
    check = [str(v) for row in district.tabs("U001")[CHECK_TAB] for v in row if v]
    assert "Không có lỗi nào." in check


def test_a_sheet_edited_since_the_read_gets_nothing(district):
    found = read(district)
    token = token_now(district)
    district.clock.tick()
    district.type_value("U001", TTHC, 2, "Từ kỳ trước chuyển qua", 4)
    assert write(district, planned(district, found, [finding(Severity.ERROR, 2)]),
                 token) is None
    assert flag(district, 2) == (None, "")
    assert set(status_cells(district, "U001", TTHC)) == {None}


def test_the_returned_token_is_not_taken_for_a_persons_edit(district):
    token = write(district, planned(district, read(district), [finding(Severity.ERROR, 2)]),
                  token_now(district))
    if district.kind == "google":
        # Drive's version after a write is not known from the write itself: the write
        # proves it (the version it expects, with our account the last modifier) and
        # hands back the basis it leaves.
        assert isinstance(token, OwnWrite) and token.startswith("own:")
        assert token.basis.ref == district.ref("U001").ref
    ref = district.ref("U001")
    assert district.ws.backend.scan({"U001": (ref, token)})["U001"].state is ScanState.UNCHANGED
    district.type_value("U001", TTHC, 2, COUNT, 77)  # a person types after our write
    assert district.ws.backend.scan({"U001": (ref, token)})["U001"].state is ScanState.CHANGED


def test_a_deleted_check_tab_is_made_again(district):
    district.delete_tab("U001", CHECK_TAB)
    write(district, planned(district, read(district), [finding(Severity.ERROR, 2)]))
    tabs = list(district.tabs("U001"))
    # After every table tab (Google appends it after the hidden "_cchc").
    assert tabs.index(CHECK_TAB) > tabs.index("Thông tin")
    assert str(district.tabs("U001")[CHECK_TAB][0][0]).startswith("Kết quả kiểm tra lúc")


def test_an_unreachable_sheet_raises_unit_unreachable(district):
    plan = planned(district, read(district), [finding(Severity.ERROR, 2)])
    district.take_away("U001")
    with pytest.raises(UnitUnreachable):
        write(district, plan)


def test_the_basis_is_a_value_that_survives_the_archive(district):
    """read_unit's basis names its backend and sheet and comes back from JSON equal; a
    write given the copy from JSON (as after a restart) writes the same flags."""
    found = read(district)
    basis = found.basis
    assert basis is not None
    assert basis.backend == district.ws.backend.kind and basis.ref == district.ref("U001").ref
    copy = ReadBasis.from_json(basis.to_json())
    assert copy == basis
    plan = planned(district, found, [finding(Severity.ERROR, 2)])
    assert write(district, plan, token_now(district), basis=copy) is not None
    note, fill = flag(district, 2)
    assert fill == ERROR_FILL and "Tổng số không khớp" in note
    check = [str(v) for row in district.tabs("U001")[CHECK_TAB] for v in row if v]
    assert any(v.startswith("Tổng số hồ sơ tiếp nhận (cột") for v in check)
