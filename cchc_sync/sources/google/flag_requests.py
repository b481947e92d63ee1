"""The one `spreadsheets.batchUpdate` that writes a FlagPlan into a unit's sheet.

What it touches, and nothing else:

- the status column of each table tab (values and colours; the column is a protected range
  only the service account may edit);
- note and background colour of the cells the software marked last time (read back from
  the flag state in "_cchc") and of the cells it marks now. Sheets keeps no author on a
  note, so a person's note cannot be told from ours: the software only ever removes notes
  from cells it recorded as its own, and a note a person puts on a cell the software flags
  is replaced by the software's (the finding is also listed in "Kiểm tra"; explanations
  belong in the "Giải trình" column). Values are never part of a data cell's field mask,
  so a typed value is never written, whatever happened in the sheet meanwhile;
- the whole "Kiểm tra" tab, rewritten;
- the flag state row of "_cchc".

When a recorded state cannot be trusted (unreadable, or too many marks to record) the notes
and colours of the template columns' data area are cleared instead — the only case where a
person's own note there would go.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cchc_sync.domain.records import Finding, Severity
from cchc_sync.sources.base import (
    CHECK_TAB,
    ERROR_FILL,
    META_TAB,
    WARNING_FILL,
    FlagPlan,
    TabFlags,
)
from cchc_sync.sources.google.cells import (
    STATE_KEY,
    FlagState,
    cell,
    column_width,
    grid,
    update_cells,
)
from cchc_sync.sources.google.flag_body import status_cell
from cchc_sync.sources.google.unit_sheet import SMALL_GRID, status_base
from cchc_sync.sources.sheet_layout import (
    CHECK_COLUMNS,
    CHECK_HEADER_ROW,
    HEADER_FILL,
    OK_TEXT,
    OWNED_FILL,
    OWNED_TEXT,
    SEVERITY_COLUMN,
    STATUS_STYLE,
    StatusStyle,
    finding_values,
    ordered_findings,
)
from cchc_sync.sources.sheet_text import GOOGLE_CHECK_HINT, NO_FINDINGS, check_heading

STATE_ROW = 19
"""0-based row of the flag state in "_cchc" (below the metadata keys)."""
MARK_FIELDS = "note,userEnteredFormat.backgroundColor"
STATUS_MARGIN = 50
"""Rows below the last status written that are reset too (rows a clerk inserted above)."""
_MARK_FILL = {Severity.ERROR: ERROR_FILL, Severity.WARNING: WARNING_FILL}


@dataclass(frozen=True, kw_only=True, slots=True)
class SheetInfo:
    """What a metadata read told about one tab (used only after a failed write)."""

    sheet_id: int
    rows: int
    cols: int


def flag_requests(
    plan: FlagPlan,
    *,
    ids: Mapping[str, int],
    previous: FlagState,
    titles: Mapping[tuple[str, str], str],
    info: Mapping[int, SheetInfo] | None = None,
    grid_rows: Mapping[int, int] | None = None,
    finish: Callable[[FlagState], None] | None = None,
) -> tuple[list[dict[str, Any]], FlagState]:
    """The requests for `plan` and the flag state they leave behind.

    ids: tab title -> sheet id (tabs missing from it are skipped). info: sheet id -> grid
    size, when known (after a metadata read): marks outside the grid are skipped.
    grid_rows: sheet id -> rows the tab was made with (ranges are kept inside; a tab a
    person shrank makes the write fail once and come back with `info`). finish: completes
    the new state before it is written into "_cchc".
    """
    limits = {k: v.rows for k, v in info.items()} if info is not None else dict(grid_rows or {})
    requests: list[dict[str, Any]] = []
    state = FlagState(ids=dict(previous.ids))
    marked_now: dict[int, set[tuple[int, int]]] = {}
    for flags in plan.tabs.values():
        sheet_id = ids.get(flags.tab)
        if sheet_id is None or (info is not None and sheet_id not in info):
            continue
        layout = flags.layout
        status_col = layout.status_col
        marks = marked_now.setdefault(sheet_id, set())
        if status_col is not None:
            for row, col in sorted(flags.cell_marks):
                if row <= layout.header_row or col < 1 or col == status_col:
                    continue
                if not _inside(info, sheet_id, row, col):
                    continue
                marks.add((row, col))
        if previous.overflow and layout.columns:
            first, last = min(layout.columns.values()), max(layout.columns.values())
            requests.append({"repeatCell": {
                "range": grid(sheet_id, layout.header_row, limits.get(sheet_id), first - 1,
                              last),
                "cell": {}, "fields": MARK_FIELDS}})
        if status_col is not None:
            requests += _status_requests(flags, sheet_id, status_col, previous, state,
                                         limits.get(sheet_id))
        for (row, col), mark in sorted(flags.cell_marks.items()):
            if (row, col) in marks:
                requests.append(update_cells(sheet_id, row - 1, col - 1, [[cell(
                    fill=_MARK_FILL[Severity(mark.severity)], note=mark.note)]], MARK_FIELDS))
    clear = []
    for sheet_id, cells in sorted(previous.marks.items()):
        if info is not None and sheet_id not in info:
            continue
        if info is None and sheet_id not in ids.values():
            continue
        for row, col in sorted(set(cells) - marked_now.get(sheet_id, set())):
            if _inside(info, sheet_id, row, col):
                clear.append(update_cells(sheet_id, row - 1, col - 1, [[{}]], MARK_FIELDS))
    state.marks = {k: sorted(v) for k, v in marked_now.items() if v}
    # Old marks go first: a cell marked again now gets its new note after.
    requests = clear + requests
    check_id = ids.get(CHECK_TAB)
    if check_id is not None:
        requests += check_tab_requests(plan, check_id, titles)
    if finish is not None:
        finish(state)
    meta_id = ids.get(META_TAB)
    if meta_id is not None:
        requests.append(update_cells(meta_id, STATE_ROW, 0,
                                     [[cell(STATE_KEY), cell(state.to_json())]],
                                     "userEnteredValue"))
    return requests, state


def _inside(info: Mapping[int, SheetInfo] | None, sheet_id: int, row: int, col: int) -> bool:
    if info is None:
        return True
    tab = info.get(sheet_id)
    return tab is not None and row <= tab.rows and col <= tab.cols


def _status_requests(flags: TabFlags, sheet_id: int, status_col: int, previous: FlagState,
                     state: FlagState, limit: int | None) -> list[dict[str, Any]]:
    """Reset the status column below the header, then write the rows' statuses.

    The column is protected (only the service account writes it), so its old values are
    the ones recorded last time; STATUS_MARGIN more rows cover rows a clerk inserted above.
    """
    header = flags.layout.header_row
    rows = sorted(r for r in flags.row_status if r > header)
    styled = max([previous.status_rows.get(sheet_id, 0), *rows], default=0)
    last = styled + STATUS_MARGIN
    if limit is not None:
        # Not past the grid; but a status row that exists proves the grid reaches it.
        last = max(min(last, limit), rows[-1] if rows else 0)
        styled = min(styled, last)
    out: list[dict[str, Any]] = []
    if last > header:
        out.append({"repeatCell": {
            "range": grid(sheet_id, header, last, status_col - 1, status_col),
            "cell": {}, "fields": "userEnteredValue"}})
    if styled > header:
        # Colours of statuses written before go back to the column's grey.
        out.append({"repeatCell": {
            "range": grid(sheet_id, header, styled, status_col - 1, status_col),
            "cell": status_base(), "fields": "userEnteredFormat"}})
    if rows:
        block: list[list[dict[str, Any]]] = []
        base = status_cell(None, OWNED_TEXT, OWNED_FILL, False, italic=True)  # status_base()
        for row in range(rows[0], rows[-1] + 1):
            text = flags.row_status.get(row)
            if text is None:
                block.append([base])
            else:
                style = STATUS_STYLE[_severity(flags.row_severity.get(row))]
                block.append([status_cell(text, style.colour, style.fill, style.bold)])
        out.append(update_cells(sheet_id, rows[0] - 1, status_col - 1, block,
                                "userEnteredValue,userEnteredFormat"))
        state.status_rows[sheet_id] = rows[-1]
    return out


def _severity(value: Any) -> Severity | None:
    return None if value is None else Severity(value)


def _style(style: StatusStyle) -> dict[str, Any]:
    """`cell` keywords for a status style."""
    return {"colour": style.colour, "fill": style.fill, "bold": style.bold}


# -- the "Kiểm tra" tab --------------------------------------------------------------------


def check_tab_requests(plan: FlagPlan, sheet_id: int,
                       titles: Mapping[tuple[str, str], str]) -> list[dict[str, Any]]:
    """Rewrite "Kiểm tra": sized to the findings, every old cell cleared."""
    rows = check_rows(plan, titles)
    height = max(SMALL_GRID, len(rows) + 5)
    frozen = CHECK_HEADER_ROW if plan.findings else 0
    out: list[dict[str, Any]] = [{"updateSheetProperties": {
        "properties": {"sheetId": sheet_id, "gridProperties": {
            "rowCount": height, "columnCount": len(CHECK_COLUMNS), "frozenRowCount": frozen}},
        "fields": "gridProperties.rowCount,gridProperties.columnCount,"
                  "gridProperties.frozenRowCount",
    }}, {"updateCells": {
        "range": grid(sheet_id),
        "rows": [{"values": r} for r in rows],
        "fields": "userEnteredValue,userEnteredFormat,note",
    }}]
    out += [column_width(sheet_id, i, w) for i, (_, w) in enumerate(CHECK_COLUMNS)]
    return out


def check_rows(plan: FlagPlan, titles: Mapping[tuple[str, str], str]) -> list[list[dict]]:
    heading, unit_line, counts = check_heading(plan)
    rows: list[list[dict]] = [
        [cell(heading, bold=True, size=14)],
        [cell(unit_line)],
        [cell(counts, bold=True)],
    ]
    if not plan.findings:
        rows += [[], [cell(NO_FINDINGS, bold=True, colour=OK_TEXT)]]
        return rows
    rows += [
        [cell(GOOGLE_CHECK_HINT)],
        [],
        # Row CHECK_HEADER_ROW: the findings list's header.
        [cell(t, bold=True, fill=HEADER_FILL, centre=True, wrap=True) for t, _ in CHECK_COLUMNS],
    ]
    for f in ordered_findings(plan):
        rows.append(_finding_row(f, plan, titles))
    return rows


def _finding_row(f: Finding, plan: FlagPlan, titles: Mapping[tuple[str, str], str]
                 ) -> list[dict]:
    flags = plan.tabs.get(f.table)
    title = titles.get((f.table, f.column or ""), f.column or "")
    col_index = flags.layout.columns.get(f.column or "") if flags else None
    style = _style(STATUS_STYLE[Severity(f.severity)])
    return [cell(value, wrap=True, **(style if number == SEVERITY_COLUMN else {}))
            for number, value in enumerate(finding_values(f, plan, title, col_index), start=1)]
