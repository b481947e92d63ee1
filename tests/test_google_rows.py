"""Following rows that moved between a read and a flag write (google_rows.py): the pure
part — which read row is where now, and the plan moved with them."""

from __future__ import annotations

import datetime as dt

from cchc_sync.domain.records import Finding, RawCell, RawRow, RawTable, Severity, TabLayout
from cchc_sync.sources.base import CellMark, FlagPlan, TabFlags
from cchc_sync.sources.google.cells import FlagState
from cchc_sync.sources.google.rows import (
    anchor_requests,
    is_still,
    moved_plan,
    response_ranges,
    row_moves,
    tab_print,
    unflagged_plan,
)

LAYOUT = TabLayout(columns={"ten": 1, "so": 2}, explanation_col=3, status_col=4)


def table(rows: list[tuple[int, str, int]], layout: TabLayout = LAYOUT) -> RawTable:
    return RawTable(table="t", tab_found=True, layout=layout, rows=tuple(
        RawRow(sheet_row=r, cells={"ten": RawCell(value=name), "so": RawCell(value=n)})
        for r, name, n in rows))


READ = table([(2, "A", 1), (3, "B", 2), (4, "C", 3)])


def test_rows_where_they_were_are_still():
    moves = row_moves(tab_print(READ), tab_print(READ))
    assert moves == {2: 2, 3: 3, 4: 4}
    assert is_still(moves, tab_print(READ))


def test_a_sort_is_followed_by_content():
    after = table([(2, "C", 3), (3, "B", 2), (4, "A", 1)])
    moves = row_moves(tab_print(READ), tab_print(after))
    assert moves == {2: 4, 3: 3, 4: 2}
    assert not is_still(moves, tab_print(READ))


def test_an_inserted_row_shifts_the_rows_below_it():
    after = table([(2, "A", 1), (3, "new", 9), (4, "B", 2), (5, "C", 3)])
    assert row_moves(tab_print(READ), tab_print(after)) == {2: 2, 3: 4, 4: 5}


def test_a_deleted_row_loses_its_flags_and_the_rest_follow():
    after = table([(2, "A", 1), (3, "C", 3)])
    assert row_moves(tab_print(READ), tab_print(after)) == {2: 2, 4: 3}


def test_a_row_edited_in_place_keeps_its_place_but_not_if_another_row_took_it():
    edited = table([(2, "A", 1), (3, "B", 5), (4, "C", 3)])
    assert row_moves(tab_print(READ), tab_print(edited)) == {2: 2, 3: 3, 4: 4}
    # B edited and the rows sorted: B's old place holds A now; B cannot be told apart.
    sorted_and_edited = table([(2, "C", 3), (3, "A", 1), (4, "B", 5)])
    assert row_moves(tab_print(READ), tab_print(sorted_and_edited)) == {2: 3, 4: 2}


def test_identical_rows_keep_their_order():
    read = table([(2, "A", 1), (3, "A", 1), (4, "B", 2)])
    after = table([(2, "B", 2), (3, "A", 1), (4, "A", 1)])
    assert row_moves(tab_print(read), tab_print(after)) == {2: 3, 3: 4, 4: 2}


def test_changed_columns_cannot_be_followed():
    moved = TabLayout(columns={"ten": 2, "so": 1}, explanation_col=3, status_col=4)
    after = table([(2, "A", 1), (3, "B", 2), (4, "C", 3)], layout=moved)
    assert row_moves(tab_print(READ), tab_print(after)) is None
    assert row_moves(tab_print(READ), None) is None


def plan() -> FlagPlan:
    mark = CellMark(severity=Severity.ERROR, note="sai")
    flags = TabFlags(tab="T", layout=LAYOUT,
                     row_status={2: "✔", 3: "✖ sai", 4: "✔"},
                     row_severity={2: None, 3: Severity.ERROR, 4: None},
                     cell_marks={(3, 2): mark})
    findings = (Finding(rule="r", severity=Severity.ERROR, message="sai", table="t", row=3,
                        column="so"),
                Finding(rule="s", severity=Severity.WARNING, message="bảng", table="t"))
    return FlagPlan(unit="U", unit_name="Đơn vị", period="2022S1",
                    checked_at=dt.datetime(2022, 7, 1), tabs={"t": flags}, findings=findings)


def test_the_plan_moves_with_its_rows():
    moved = moved_plan(plan(), {"t": {2: 4, 3: 2}})  # row 4 was lost
    flags = moved.tabs["t"]
    assert flags.row_status == {4: "✔", 2: "✖ sai"}
    assert flags.row_severity == {4: None, 2: Severity.ERROR}
    assert set(flags.cell_marks) == {(2, 2)}
    assert [f.row for f in moved.findings] == [2, None]


def test_a_finding_on_a_lost_row_stays_listed_without_a_row():
    moved = moved_plan(plan(), {"t": {2: 2}})
    assert moved.tabs["t"].cell_marks == {}
    assert [f.row for f in moved.findings] == [None, None]
    assert len(moved.findings) == 2


def test_the_unflagged_plan_has_no_row_flags_but_every_finding():
    bare = unflagged_plan(plan())
    flags = bare.tabs["t"]
    assert (flags.row_status, flags.row_severity, flags.cell_marks) == ({}, {}, {})
    assert [f.rule for f in bare.findings] == ["r", "s"]


def test_the_anchor_is_swapped_only_where_the_read_saw_the_column():
    first = anchor_requests(plan(), {"T": 42}, FlagState())
    lookup = first[0]["deleteDeveloperMetadata"]["dataFilter"]["developerMetadataLookup"]
    assert lookup == {"metadataId": 42}  # never anchored: made wherever it is
    again = anchor_requests(plan(), {"T": 42}, FlagState(anchored=[42]))
    lookup = again[0]["deleteDeveloperMetadata"]["dataFilter"]["developerMetadataLookup"]
    assert lookup["metadataId"] == 42
    assert lookup["locationMatchingStrategy"] == "EXACT_LOCATION"
    assert lookup["metadataLocation"]["dimensionRange"] == {
        "sheetId": 42, "dimension": "COLUMNS", "startIndex": 3, "endIndex": 4}
    made = again[1]["createDeveloperMetadata"]["developerMetadata"]
    assert made["metadataId"] == 42 and made["location"] == lookup["metadataLocation"]
    assert anchor_requests(plan(), {}, FlagState()) == []  # a tab without an id: nothing


def test_the_answer_covers_the_rows_read_and_a_margin_inside_the_grid():
    prints = {"t": tab_print(READ)}
    # Known grid of 500 rows: rows read (to 4) plus the margin (10), to the status column.
    assert response_ranges(plan(), prints, {"T": 7}, {7: 500}) == ["'T'!A1:D14"]
    # A 12-row grid: not past it (Google refuses a range past the grid).
    assert response_ranges(plan(), prints, {"T": 7}, {7: 12}) == ["'T'!A1:D12"]
    # Rows read past the size the tab was made with prove the grid reaches them.
    assert response_ranges(plan(), prints, {"T": 7}, {7: 3}) == ["'T'!A1:D4"]
    assert response_ranges(plan(), {}, {"T": 7}, {7: 500}) == []  # not read: no answer
