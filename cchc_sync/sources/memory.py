"""The memory backend: the reference implementation of the Backend protocol.

Sheets are Python values in one process (like APScheduler's memory job store). It does,
method by method, what the local and Google backends do, with nothing in the way: no file
format, no HTTP. The contract suite (tests/contract/) holds all three to the same
observable behaviour; the pipeline and workflow tests run on it because it is fast.

What a sheet keeps apart, so a test can tell who changed what:

- `typed`: what people typed and what the template laid out (headers, instructions), each
  cell a value and its format kind (a count a spreadsheet turned into a date is the date,
  with CellFormat.DATE);
- `owned`: the software's values: the status cells below the "Kết quả kiểm tra" header and
  the whole "Kiểm tra" tab. The software writes nowhere else: `MemorySheet.typed_values()`
  before and after a cycle must be equal;
- `notes` (with their author) and `fills` (RRGGBB): the software adds and removes only its
  own (NOTE_AUTHOR; ERROR_FILL, WARNING_FILL), as the other backends do.

People act through `MemorySheet` (`type_rows`, `type_cell`, `delete_tab`, `add_note`), the
operator through `MemoryBackend.make_unreachable` / `open_elsewhere`. Not selectable in a
config file: its sheets die with the process, so tests and demos construct it directly
(`init_workspace(..., backend_factory=lambda config: MemoryBackend())`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from cchc_sync.domain.records import (
    CellFormat,
    CellValue,
    Period,
    RawCell,
    RawRow,
    RawTable,
    ReadBasis,
    TabLayout,
    Unit,
    UnitRead,
)
from cchc_sync.domain.templates import ColumnType, TableSpec, TemplateSet
from cchc_sync.sources.base import (
    CHECK_TAB,
    ERROR_FILL,
    INSTRUCTIONS_TAB,
    MASTER_SIGNATURE_TABS,
    META_TAB,
    NOTE_AUTHOR,
    WARNING_FILL,
    FlagPlan,
    MasterBook,
    Prefill,
    ScanEntry,
    ScanState,
    SheetRef,
    UnitUnreachable,
    scan_by_token,
)
from cchc_sync.sources.memory_sheet import (
    MemorySheet,
    MemoryTab,
    Note,
    TypedCell,
    utcnow,
)
from cchc_sync.sources.sheet_layout import (
    CHECK_COLUMNS,
    CHECK_HEADER_ROW,
    HEADER_SEARCH_ROWS,
    find_header,
    finding_values,
    master_frame,
    ordered_findings,
    plain,
    row_explanation,
    table_titles,
)
from cchc_sync.sources.sheet_text import (
    CHECK_PLACEHOLDER,
    EXCEL_CHECK_HINT,
    GOOGLE_SAVE_LINE,
    NO_FINDINGS,
    check_heading,
    empty_master_lines,
    header_note,
    instruction_lines,
    meta_values,
)

TEMPLATE_NOTE_AUTHOR = "cchc-sync (mẫu)"
"""Author of the header notes made with the sheet (as in the other backends): a check
never clears them."""
SUMMARY_TAB = "Tổng hợp"
_OWNED_FILLS = frozenset({ERROR_FILL, WARNING_FILL})
_COLUMN_FORMAT = {
    ColumnType.INT: CellFormat.NUMBER,
    ColumnType.PCT: CellFormat.PERCENT,
    ColumnType.DATE: CellFormat.DATE,
    ColumnType.TEXT: CellFormat.TEXT,
    ColumnType.DOCNO: CellFormat.TEXT,
}


class MemoryBackend:
    """Unit sheets and masters as MemorySheets, by ref."""

    kind = "memory"

    def __init__(self, clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.clock = clock
        self.sheets: dict[str, MemorySheet] = {}
        self._lock = threading.Lock()

    def sheet(self, ref: str | SheetRef) -> MemorySheet:
        return self.sheets[ref.ref if isinstance(ref, SheetRef) else ref]

    # -- the operator's side ------------------------------------------------------------------

    def make_unreachable(self, ref: str | SheetRef,
                         reason: str = "Bảng tính không còn được chia sẻ") -> None:
        self.sheet(ref).unreachable = reason

    def make_reachable(self, ref: str | SheetRef) -> None:
        self.sheet(ref).unreachable = None

    # -- creating ---------------------------------------------------------------------------

    def create_unit_sheet(
        self, unit: Unit, period: Period, templates: TemplateSet, prefill: Prefill | None = None
    ) -> SheetRef:
        """The unit's sheet from the templates; an existing one is returned as it is."""
        ref = f"don-vi/{period.code}/{unit.code}"
        with self._lock:
            if ref not in self.sheets:
                self.sheets[ref] = self._unit_sheet(ref, unit, period, templates, prefill)
        return self._ref(ref)

    def _unit_sheet(self, ref: str, unit: Unit, period: Period, templates: TemplateSet,
                    prefill: Prefill | None) -> MemorySheet:
        lines = instruction_lines(unit, period, templates, save_line=GOOGLE_SAVE_LINE)
        tabs = [_text_tab(INSTRUCTIONS_TAB, [text for _, text in lines])]
        tabs += [_table_tab(spec) for spec in templates.tables.values()]
        check = _text_tab(CHECK_TAB, list(CHECK_PLACEHOLDER))
        check.typed, check.owned = {}, {k: v.value for k, v in check.typed.items()}
        check.software_owned = True
        meta = _text_tab(META_TAB, [])
        meta.hidden = True
        created = self.clock()
        for row, (key, value) in enumerate(meta_values(unit, period, templates, created), 1):
            meta.typed[(row, 1)], meta.typed[(row, 2)] = TypedCell(key), TypedCell(value)
        sheet = MemorySheet(ref=ref, title=f"{unit.code} {unit.name}", tabs=[*tabs, check, meta],
                            clock=self.clock, modified_at=created)
        for table, rows in (prefill or {}).items():
            spec = templates.table(table)
            tab = sheet._tab_or_fail(spec.tab)
            index = {c.key: i for i, c in enumerate(spec.columns, start=1)}
            for offset, prefilled in enumerate(rows):
                for key, value in prefilled.items():
                    if key in index and value is not None:
                        col = index[key]
                        tab.typed[(2 + offset, col)] = TypedCell(value, tab.column_formats.get(col))
        return sheet

    def create_master(self, title: str, period: Period) -> SheetRef:
        ref = f"tong-hop/{period.code}"
        with self._lock:
            if ref not in self.sheets:
                summary = _text_tab(SUMMARY_TAB, list(empty_master_lines(title, period)))
                self.sheets[ref] = MemorySheet(ref=ref, title=title, tabs=[summary],
                                               clock=self.clock, modified_at=self.clock())
        return self._ref(ref)

    @staticmethod
    def _ref(ref: str) -> SheetRef:
        return SheetRef(ref=ref, url=f"memory://{ref}")

    def _reachable(self, sheet: SheetRef) -> MemorySheet:
        found = self.sheets.get(sheet.ref)
        if found is None:
            raise UnitUnreachable(f"Không tìm thấy bảng tính {sheet.ref}")
        if found.unreachable:
            raise UnitUnreachable(found.unreachable)
        return found

    def set_read_only(self, sheet: SheetRef, read_only: bool) -> None:
        target = self._reachable(sheet)
        with target.lock:
            target.read_only = read_only

    def is_read_only(self, sheet: SheetRef) -> bool:
        """Whether the sheet is still locked (a test may unlock it as a person would)."""
        target = self._reachable(sheet)
        with target.lock:
            return bool(target.read_only)

    # -- scanning and reading -----------------------------------------------------------------

    def scan(self, sheets: Mapping[str, tuple[SheetRef, str | None]]) -> dict[str, ScanEntry]:
        return scan_by_token(sheets, self._look)

    def _look(self, ref: SheetRef) -> ScanEntry:
        sheet = self._reachable(ref)
        return ScanEntry(state=ScanState.CHANGED, token=sheet.token,
                         modified_at=sheet.modified_at)

    def read_unit(self, unit: str, sheet: SheetRef, templates: TemplateSet) -> UnitRead:
        target = self._reachable(sheet)
        with target.lock:
            tables = {key: _read_table(target, spec) for key, spec in templates.tables.items()}
            titles = {key: {k: _title_at(tab, t.layout, k) for k in t.layout.columns}
                      for key, t in tables.items() if t.layout is not None
                      and (tab := target.tab(templates.table(key).tab)) is not None}
            return UnitRead(unit=unit, tables=tables, marks=(marks := _marks(target)),
                            template_version=marks.get("template_version"),
                            version_token=target.token, modified_at=target.modified_at,
                            owned_intact=target.tab(CHECK_TAB) is not None,
                            basis=ReadBasis(backend=self.kind, ref=sheet.ref,
                                            token=target.token, detail={"titles": titles}))

    # -- writing ------------------------------------------------------------------------------

    def write_flags(self, sheet: SheetRef, plan: FlagPlan, expect_token: str | None,
                    basis: ReadBasis | None = None) -> str | None:
        """The plan into the owned layer, notes and fills. `basis` (detail["titles"]: table
        key -> column key -> header title as read) names the columns in "Kiểm tra" as the
        clerk saw them at the read; without a usable one, the titles now in the sheet."""
        target = self._reachable(sheet)
        read_titles = basis.detail.get("titles", {}) if basis is not None and \
            basis.usable_for(self.kind, sheet.ref) else {}
        with target.lock:
            if target.open_elsewhere:
                return None
            if expect_token is not None and target.token != expect_token:
                return None
            titles: dict[tuple[str, str], tuple[str, int]] = {}
            for table, flags in plan.tabs.items():
                tab = target.tab(flags.tab)
                if tab is None:
                    continue
                for key, col in flags.layout.columns.items():
                    text = read_titles.get(table, {}).get(key) or _title_at(tab, flags.layout,
                                                                           key)
                    titles[(table, key)] = (text, col)
                _flag_tab(tab, flags)
            _write_check_tab(target, plan, titles)
            target.touch()
            return target.token

    def update_master(self, sheet: SheetRef, book: MasterBook, shape: str | None
                      ) -> str | None:
        """The whole master rewritten (no shape kept): "" when written, None when not."""
        return "" if self.write_master(sheet, book) else None

    def write_master(self, sheet: SheetRef, book: MasterBook) -> bool:
        target = self.sheets.get(sheet.ref)
        if target is None:
            target = self.sheets[sheet.ref] = MemorySheet(
                ref=sheet.ref, title=book.title, tabs=[], clock=self.clock)
        with target.lock:
            if target.open_elsewhere:
                return False
            tabs = [_master_tab(name, df, set(book.percent_columns.get(name, ())))
                    for name, df in book.tabs.items()]
            target.tabs = tabs or [_text_tab(SUMMARY_TAB, [book.title, "Chưa có số liệu."])]
            target.title = book.title
            target.touch()
        return True


# -- building tabs ------------------------------------------------------------------------------


def _text_tab(title: str, lines: Sequence[str]) -> MemoryTab:
    return MemoryTab(title=title, typed={(r, 1): TypedCell(t) for r, t in enumerate(lines, 1)})


def _table_tab(spec: TableSpec) -> MemoryTab:
    tab = MemoryTab(title=spec.tab)
    for col, title in enumerate(table_titles(spec), start=1):
        tab.typed[(1, col)] = TypedCell(title)
        if col <= len(spec.columns):
            column = spec.columns[col - 1]
            tab.notes[(1, col)] = Note(TEMPLATE_NOTE_AUTHOR, header_note(column))
            if column.type in _COLUMN_FORMAT:
                tab.column_formats[col] = _COLUMN_FORMAT[column.type]
    return tab


def _master_tab(name: str, df: Any, percent: set[str]) -> MemoryTab:
    """A master tab: titles, then plain values (percent columns in points, ISO dates as
    dates), as the other backends store them."""
    df, titles, kinds = master_frame(df, percent)
    tab = MemoryTab(title=str(name))
    for col, title in enumerate(titles, start=1):
        tab.typed[(1, col)] = TypedCell(title)
    for r, values in enumerate(df.itertuples(index=False, name=None), start=2):
        for col, (value, kind) in enumerate(zip(values, kinds, strict=True), start=1):
            value = plain(value)
            if value is None:
                continue
            if kind == "isodate" and isinstance(value, str):
                value = dt.date.fromisoformat(value)
            fmt = CellFormat.PERCENT if kind == "percent" else None
            tab.typed[(r, col)] = TypedCell(value, fmt)
    return tab


# -- reading ------------------------------------------------------------------------------------


def _blank(value: CellValue) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _read_table(sheet: MemorySheet, spec: TableSpec) -> RawTable:
    tab = sheet.tab(spec.tab)
    if tab is None:
        return RawTable(table=spec.key, tab_found=False)
    grid = tab.rows()
    layout = find_header(grid[:HEADER_SEARCH_ROWS], spec)
    tab.header_row = layout.header_row
    rows: list[RawRow] = []
    for number in range(layout.header_row + 1, len(grid) + 1):
        cells: dict[str, RawCell] = {}
        for key, col in layout.columns.items():
            typed = tab.typed.get((number, col))
            value = None if typed is None or _blank(typed.value) else typed.value
            cells[key] = RawCell(value=value, fmt=typed.fmt if typed else None)
        if all(c.value is None for c in cells.values()):
            continue
        explanation = row_explanation(grid[number - 1], layout.explanation_col,
                                      lambda v: None if _blank(v) else v)
        rows.append(RawRow(sheet_row=number, cells=cells, explanation=explanation))
    return RawTable(table=spec.key, tab_found=True, layout=layout, rows=tuple(rows))


def _title_at(tab: MemoryTab, layout: TabLayout, key: str) -> str:
    """The header title of a column key, as the clerk sees it (the key when blank)."""
    cell = tab.typed.get((layout.header_row, layout.columns[key]))
    return str(cell.value).strip() if cell is not None and cell.value else key


def _marks(sheet: MemorySheet) -> dict[str, str]:
    """The identity marks of "_cchc" (key/value rows); {"kind": "master"} for a master."""
    meta = sheet.tab(META_TAB)
    if meta is None:
        master = all(sheet.tab(t) for t in MASTER_SIGNATURE_TABS)
        return {"kind": "master"} if master else {}
    return {str(r[0]).strip(): str(r[1]).strip()
            for r in meta.rows() if len(r) >= 2 and r[0] is not None and r[1] is not None}


# -- flags --------------------------------------------------------------------------------------


def _flag_tab(tab: MemoryTab, flags: Any) -> None:
    """Clear the software's previous marks, then write the plan's: status cells, notes
    (never over another author's), fills on data cells."""
    header_row = flags.layout.header_row
    tab.header_row = header_row
    status = tab.status_column(header_row)
    for cell in [c for c, n in tab.notes.items() if n.author == NOTE_AUTHOR]:
        del tab.notes[cell]
    for cell in [c for c, f in tab.fills.items() if f in _OWNED_FILLS and c[0] > header_row]:
        del tab.fills[cell]
    tab.owned.clear()
    if status is None:
        return  # the status column was deleted: columns may have moved, no marks here
    for row, text in flags.row_status.items():
        if row > header_row:
            tab.owned[(row, status)] = text
    fill = {"error": ERROR_FILL, "warning": WARNING_FILL}
    for (row, col), mark in flags.cell_marks.items():
        if row < 1 or col < 1:
            continue
        if (row, col) not in tab.notes:
            tab.notes[(row, col)] = Note(NOTE_AUTHOR, mark.note)
        if row > header_row and col != status:
            tab.fills[(row, col)] = fill[str(mark.severity)]


def _write_check_tab(sheet: MemorySheet, plan: FlagPlan,
                     titles: dict[tuple[str, str], tuple[str, int]]) -> None:
    lines: list[Sequence[CellValue]] = [[line] for line in check_heading(plan)]
    if not plan.findings:
        lines += [[], [NO_FINDINGS]]
    else:
        lines.append([EXCEL_CHECK_HINT])
        lines += [[]] * (CHECK_HEADER_ROW - 1 - len(lines))
        lines.append([title for title, _ in CHECK_COLUMNS])
        for f in ordered_findings(plan):
            title, col = titles.get((f.table, f.column or ""), (f.column or "", 0))
            lines.append(list(finding_values(f, plan, title, col)))
    check = sheet.tab(CHECK_TAB)
    if check is None:
        check = MemoryTab(title=CHECK_TAB, software_owned=True)
        meta = sheet.tab(META_TAB)
        sheet.tabs.insert(sheet.tabs.index(meta) if meta else len(sheet.tabs), check)
    check.owned = {(r, c): v for r, line in enumerate(lines, 1)
                   for c, v in enumerate(line, 1) if v is not None}

