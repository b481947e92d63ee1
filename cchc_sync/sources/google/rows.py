"""Flags that stay on their rows when a clerk edits between our read and our write.

Sheets has no conditional write, so the flag write cannot say "only if nothing moved".
Two mechanisms close the gap instead (docs/google-backend.md, "Flags and concurrent
edits"):

- **Column anchor (before writing).** Each table tab's status column carries a developer
  metadata entry with a fixed id (the tab's sheet id). Developer metadata follows its column
  when columns are inserted, deleted or moved. The flag write starts with a compare-and-swap
  on it: delete the entry *at the column the read saw*, then create it again with the same
  id. If a person moved the column since the read, the delete matches nothing, the create
  finds the id taken, and Google refuses the whole (atomic) batchUpdate: nothing is written,
  so a status is never written into a column a person now types in.
- **Row check (in the same request).** The write asks Google for the tabs' values as they
  are after it (`includeSpreadsheetInResponse` with `responseRanges`), which is exactly the
  sheet the write landed on. Each row seen at the read is found again there by its content.
  If rows moved (a sort, an insert, a delete), the flags are moved with them by a second
  write at once; if that cannot be done, our notes, colours and statuses are taken off the
  tab instead (they come back with the next read). The values of the cells a person types
  are never in a flag write's field masks, so none of this can change them.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from openpyxl.utils import get_column_letter

from cchc_sync.domain.records import RawRow, RawTable
from cchc_sync.domain.templates import TableSpec
from cchc_sync.sources.base import FlagPlan, TabFlags
from cchc_sync.sources.google.cells import FlagState, quote_title
from cchc_sync.sources.google.read import grid_values, read_table
from cchc_sync.sources.sheet_layout import HEADER_SEARCH_ROWS

ANCHOR_KEY = "cchc-sync.status-column"
"""Developer metadata key of the status-column anchors."""
RESPONSE_FIELDS = ("updatedSpreadsheet(sheets(properties(sheetId,title),data(startRow,"
                   "startColumn,rowData(values(effectiveValue,formattedValue,"
                   "effectiveFormat.numberFormat.type)))))")
"""What comes back with a flag write: each cell's value, what it shows and its format's type,
so `grid_values` + `read_table` give the rows the read gave (a date as the read's
FORMATTED_STRING shows it) and each row's digest can be compared."""
MAX_MOVES = 2
"""Follow-up writes that move flags after rows moved; past that, the flags come off."""


@dataclasses.dataclass(frozen=True, slots=True)
class TabPrint:
    """A tab as the flags were computed for it: its columns, and each data row's content."""

    columns: tuple[tuple[str, int], ...]
    explanation_col: int | None
    status_col: int | None
    rows: tuple[tuple[int, bytes], ...]
    """(sheet row, digest of the row's template cells and explanation), in sheet order."""
    header_row: int = 1
    """The header's sheet row."""
    raw: bytes | None = None
    """`raw_digest` of the rows the read gave for this tab (None: not known, as in a print
    made from a write's answer): the row check's shortcut, `unmoved`."""

    def raw_digest(self, rows: Sequence[Sequence[Any]]) -> bytes:
        """`raw_digest` of a tab's rows over what decides this print."""
        return raw_digest(rows, self.width, self.span, self.status_col, self.header_row)

    @property
    def width(self) -> int:
        """Columns from A to the last one the layout uses (the write's answer shows these)."""
        return max([c for _, c in self.columns]
                   + [c for c in (self.explanation_col, self.status_col) if c is not None])

    @property
    def span(self) -> int:
        """Rows from 1 that decide this print: the header search's and every data row."""
        return max([HEADER_SEARCH_ROWS, *(r for r, _ in self.rows)])


def tab_print(table: RawTable) -> TabPrint | None:
    if not table.tab_found or table.layout is None:
        return None
    layout = table.layout
    return TabPrint(
        columns=tuple(sorted(layout.columns.items())),
        explanation_col=layout.explanation_col,
        status_col=layout.status_col,
        rows=tuple((row.sheet_row, _digest(row)) for row in table.rows),
        header_row=layout.header_row,
    )


def raw_digest(rows: Sequence[Sequence[Any]], width: int, span: int, status_col: int | None,
               header_row: int) -> bytes:
    """Digest of rows 1..span, columns 1..width, as values.batchGet gives them (or
    `grid_values` from grid data), the status column below the header left out: the flag
    write itself writes it (a protected column only the software edits), and a print
    never reads it. An empty cell inside a row ("") and one past its end are alike, as are
    a short row and a missing one. Two tabs with the same digest give the same TabPrint:
    read_table sees nothing else of a tab's rows (its header among the first
    HEADER_SEARCH_ROWS rows, which match no column past `width` that it keeps; a status
    text is no column's title)."""
    h = hashlib.blake2b(digest_size=16)
    status = status_col - 1 if status_col is not None else width
    padded = itertools.chain(rows, itertools.repeat(()))
    for number, row in enumerate(itertools.islice(padded, span), start=1):
        cells = [None if c == "" else c for c in row[:width]]
        if number > header_row and status < len(cells):
            cells[status] = None
        while cells and cells[-1] is None:
            cells.pop()
        h.update(repr(cells).encode())
        h.update(b"\x1e")
    return h.digest()


def tab_prints(tables: Mapping[str, RawTable]) -> dict[str, TabPrint]:
    """Table key -> print, for the tabs that were found."""
    out = {}
    for key, table in tables.items():
        found = tab_print(table)
        if found is not None:
            out[key] = found
    return out


def _digest(row: RawRow) -> bytes:
    parts = [f"{key}\x1f{cell.value!r}\x1f{cell.fmt}" for key, cell in sorted(row.cells.items())]
    parts.append(f"\x1e{row.explanation!r}")
    return hashlib.blake2b("\x1d".join(parts).encode(), digest_size=12).digest()


def row_moves(before: TabPrint, after: TabPrint | None) -> dict[int, int] | None:
    """Old sheet row -> row now holding it, for every row read before that can be found.

    None when the tab's columns changed (a row map cannot fix that). Rows are matched by
    content, in order (identical rows keep their order); a row whose content changed but
    whose place holds no other read row is taken as edited in place (its flags stay; they
    are what the next read revises). Rows neither found nor in place are left out.
    """
    if after is None or (after.columns, after.explanation_col, after.status_col) != (
            before.columns, before.explanation_col, before.status_col):
        return None
    places: dict[bytes, deque[int]] = defaultdict(deque)
    for row, digest in after.rows:
        places[digest].append(row)
    moves: dict[int, int] = {}
    lost: list[int] = []
    for row, digest in before.rows:
        if places[digest]:
            moves[row] = places[digest].popleft()
        else:
            lost.append(row)
    claimed = set(moves.values())
    unclaimed = {row for row, _ in after.rows} - claimed
    for row in lost:
        if row in unclaimed:
            moves[row] = row
    return moves


def is_still(moves: Mapping[int, int] | None, before: TabPrint) -> bool:
    """True when every row read is where it was."""
    return moves is not None and all(moves.get(row) == row for row, _ in before.rows)


def moved_plan(plan: FlagPlan, moves: Mapping[str, Mapping[int, int]]) -> FlagPlan:
    """The plan with each table's rows moved (rows that cannot be found lose their flags;
    their findings stay in "Kiểm tra" without a row number)."""
    tabs: dict[str, TabFlags] = {}
    for key, flags in plan.tabs.items():
        rows = moves.get(key)
        if rows is None:
            tabs[key] = flags
            continue
        tabs[key] = dataclasses.replace(
            flags,
            row_status={rows[r]: t for r, t in flags.row_status.items() if r in rows},
            row_severity={rows[r]: s for r, s in flags.row_severity.items() if r in rows},
            cell_marks={(rows[r], c): m for (r, c), m in flags.cell_marks.items() if r in rows},
        )
    findings = tuple(
        f if f.row is None or f.table not in moves
        else dataclasses.replace(f, row=moves[f.table].get(f.row))
        for f in plan.findings)
    return dataclasses.replace(plan, tabs=tabs, findings=findings)


def unflagged_plan(plan: FlagPlan) -> FlagPlan:
    """The plan with no row flags at all: statuses blank, no marks; findings listed."""
    tabs = {k: dataclasses.replace(f, row_status={}, row_severity={}, cell_marks={})
            for k, f in plan.tabs.items()}
    findings = tuple(f if f.row is None else dataclasses.replace(f, row=None)
                     for f in plan.findings)
    return dataclasses.replace(plan, tabs=tabs, findings=findings)


# -- the column anchors --------------------------------------------------------------------


def _column(sheet_id: int, col: int) -> dict[str, Any]:
    return {"dimensionRange": {"sheetId": sheet_id, "dimension": "COLUMNS",
                               "startIndex": col - 1, "endIndex": col}}


def anchor_requests(plan: FlagPlan, ids: Mapping[str, int], state: FlagState
                    ) -> list[dict[str, Any]]:
    """The compare-and-swap of every table tab's status-column anchor (see the module
    docstring). A tab whose anchor was never made gets one, unconditionally."""
    out: list[dict[str, Any]] = []
    for flags in plan.tabs.values():
        sheet_id = ids.get(flags.tab)
        col = flags.layout.status_col
        if sheet_id is None or col is None:
            continue
        lookup: dict[str, Any] = {"metadataId": sheet_id}
        if sheet_id in state.anchored:
            lookup.update(metadataLocation=_column(sheet_id, col),
                          locationMatchingStrategy="EXACT_LOCATION")
        out.append({"deleteDeveloperMetadata": {"dataFilter": {
            "developerMetadataLookup": lookup}}})
        out.append({"createDeveloperMetadata": {"developerMetadata": {
            "metadataId": sheet_id, "metadataKey": ANCHOR_KEY, "metadataValue": flags.tab,
            "location": _column(sheet_id, col), "visibility": "DOCUMENT"}}})
    return out


def anchored(plan: FlagPlan, ids: Mapping[str, int]) -> list[int]:
    """Sheet ids whose anchor the write made (to record in the flag state)."""
    return sorted({ids[f.tab] for f in plan.tabs.values()
                   if f.tab in ids and f.layout.status_col is not None})


def anchors_moved(sheets: Iterable[dict[str, Any]], plan: FlagPlan,
                  ids: Mapping[str, int]) -> list[str]:
    """Tabs whose anchor now sits in another column than the read saw, from a
    spreadsheets.get with `columnMetadata.developerMetadata` (see ANCHOR_FIELDS)."""
    where: dict[int, int] = {}
    for sheet in sheets:
        for block in sheet.get("data") or []:
            start = block.get("startColumn", 0)
            for offset, meta in enumerate(block.get("columnMetadata") or []):
                for entry in meta.get("developerMetadata") or []:
                    if entry.get("metadataKey") == ANCHOR_KEY:
                        where[int(entry.get("metadataId", 0))] = start + offset + 1
    moved = []
    for flags in plan.tabs.values():
        sheet_id = ids.get(flags.tab)
        col = flags.layout.status_col
        if sheet_id in where and col is not None and where[sheet_id] != col:
            moved.append(flags.tab)
    return moved


ANCHOR_FIELDS = ("sheets(data(startColumn,columnMetadata(developerMetadata("
                 "metadataId,metadataKey))))")
"""What a metadata read adds to see where the anchors are."""


# -- the row check -------------------------------------------------------------------------


RANGE_MARGIN = 10
"""Rows below the last row read that the write's answer shows too (rows inserted above
push the rows read down; a row moved further cannot be found and loses its flags)."""


def response_ranges(plan: FlagPlan, prints: Mapping[str, TabPrint], ids: Mapping[str, int],
                    grid_rows: Mapping[int, int]) -> list[str]:
    """The part of each tab the write's answer must show: from A1 (the header is found
    again) to the status column, down to the last row read plus RANGE_MARGIN. Not the
    whole tab: the template formats hundreds of empty rows, which a grid answer lists.
    grid_rows: sheet id -> rows the tab is known to have (a range past the grid is
    refused); the rows read prove the grid reaches them."""
    out = []
    for key, flags in plan.tabs.items():
        tab = prints.get(key)
        if tab is None:
            continue
        width = tab.width
        read = max([r for r, _ in tab.rows], default=1)
        known = grid_rows.get(ids.get(flags.tab, -1))
        last = read + RANGE_MARGIN if known is None else max(read, min(read + RANGE_MARGIN,
                                                                       known))
        out.append(f"{quote_title(flags.tab)}!A1:{get_column_letter(width)}{last}")
    return out


def _answer_sheets(answer: Mapping[str, Any]) -> dict[int, dict[str, Any]]:
    return {int(s.get("properties", {}).get("sheetId", -1)): s
            for s in (answer.get("updatedSpreadsheet") or {}).get("sheets") or []}


def unmoved(answer: Mapping[str, Any], plan: FlagPlan, ids: Mapping[str, int],
            prints: Mapping[str, TabPrint]) -> bool:
    """True when every tab of the plan that was read shows in the write's answer the very
    rows the read gave (`TabPrint.raw`): then every row is where it was, without parsing
    the answer into prints (`prints_after`, which a sheet nobody touched made cost a
    third of a flag write). False says only "compare the prints"."""
    by_id = _answer_sheets(answer)
    for key, tab in prints.items():
        flags = plan.tabs.get(key)
        if flags is None:
            continue
        sheet = by_id.get(ids.get(flags.tab, -2))
        if tab.raw is None or sheet is None or tab.raw_digest(grid_values(sheet)) != tab.raw:
            return False
    return True


def prints_after(answer: Mapping[str, Any], plan: FlagPlan, ids: Mapping[str, int],
                 specs: Mapping[str, TableSpec]) -> dict[str, TabPrint | None]:
    """Table key -> print of the tab as the write's response shows it."""
    by_id = _answer_sheets(answer)
    out: dict[str, TabPrint | None] = {}
    for key, flags in plan.tabs.items():
        sheet = by_id.get(ids.get(flags.tab, -2))
        spec = specs.get(key)
        if sheet is None or spec is None:
            out[key] = None
            continue
        out[key] = tab_print(read_table(spec, grid_values(sheet)))
    return out


# -- our notes and colours, after a clerk's sort -------------------------------------------

DIGEST_CHARS = 10
"""Hex characters of a row digest kept in the flag state (collisions only make a mark be
cleared where it was written, as without digests)."""


def _short(tab: TabPrint) -> dict[int, str]:
    return {row: digest.hex()[:DIGEST_CHARS] for row, digest in tab.rows}


def _sheet_keys(plan: FlagPlan, ids: Mapping[str, int]) -> dict[int, str]:
    return {ids[f.tab]: key for key, f in plan.tabs.items() if f.tab in ids}


def mark_digests(marks: Mapping[int, list[tuple[int, int]]], plan: FlagPlan,
                 ids: Mapping[str, int], prints: Mapping[str, TabPrint]
                 ) -> dict[int, dict[int, str]]:
    """Sheet id -> row -> short digest, for the rows that got marks (rows as in `prints`,
    the read the plan was made from)."""
    keys = _sheet_keys(plan, ids)
    out: dict[int, dict[int, str]] = {}
    for sheet_id, cells in marks.items():
        tab = prints.get(keys.get(sheet_id, ""))
        if tab is None:
            continue
        short = _short(tab)
        rows = {r: short[r] for r, _ in cells if r in short}
        if rows:
            out[sheet_id] = rows
    return out


def follow_marks(previous: FlagState, plan: FlagPlan, ids: Mapping[str, int],
                 prints: Mapping[str, TabPrint]) -> FlagState:
    """The previous state with each marked row's cells where that row is now.

    Sheets moves a cell's note and colour with it when rows are sorted, inserted or
    deleted, so our marks from the last write now sit wherever their rows went. A marked
    row is looked up by its digest in the rows just read: found once elsewhere, its marks
    are there; otherwise (its content changed — typically the clerk fixed it — or it is one
    of identical rows) they are taken to be where they were written."""
    keys = _sheet_keys(plan, ids)
    marks: dict[int, list[tuple[int, int]]] = {}
    for sheet_id, cells in previous.marks.items():
        tab = prints.get(keys.get(sheet_id, ""))
        digests = previous.mark_rows.get(sheet_id, {})
        if tab is None or not digests:
            marks[sheet_id] = list(cells)
            continue
        short = _short(tab)
        where: dict[str, list[int]] = defaultdict(list)
        for row, digest in short.items():
            where[digest].append(row)
        moved = []
        for row, col in cells:
            marked = digests.get(row)
            if marked is not None and short.get(row) != marked and len(where[marked]) == 1:
                row = where[marked][0]
            moved.append((row, col))
        marks[sheet_id] = moved
    return dataclasses.replace(previous, marks=marks, mark_rows={})
