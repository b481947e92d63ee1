"""The sheets of the memory backend: tabs of typed values kept apart from what the software
owns, a change counter, and what people do to a sheet (type, delete a tab, add a note).

See `cchc_sync.sources.memory` for why the layers are apart.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cchc_sync.domain.records import CellFormat, CellValue
from cchc_sync.normalise import fold
from cchc_sync.sources.base import STATUS_TITLE

Cell = tuple[int, int]
"""(1-based row, 1-based column)."""

def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class TypedCell:
    value: CellValue
    fmt: CellFormat | None = None
    """The cell's format kind, as the spreadsheet program set it."""


@dataclass(frozen=True, slots=True)
class Note:
    author: str
    text: str


@dataclass(eq=False)
class MemoryTab:
    title: str
    typed: dict[Cell, TypedCell] = field(default_factory=dict)
    owned: dict[Cell, CellValue] = field(default_factory=dict)
    notes: dict[Cell, Note] = field(default_factory=dict)
    fills: dict[Cell, str] = field(default_factory=dict)
    column_formats: dict[int, CellFormat] = field(default_factory=dict)
    """A cell typed in a column takes the column's format (as Excel and Sheets do)."""
    software_owned: bool = False
    """The whole tab belongs to the software ("Kiểm tra")."""
    hidden: bool = False
    header_row: int = 1
    """Where the status column's title is looked for when a person types into it."""

    def value(self, cell: Cell) -> CellValue:
        if cell in self.owned:
            return self.owned[cell]
        typed = self.typed.get(cell)
        return typed.value if typed else None

    def rows(self) -> list[list[CellValue]]:
        """The grid of values (owned over typed), None for blank, trailing blanks cut."""
        cells = {**{k: v.value for k, v in self.typed.items()}, **self.owned}
        height = max((r for r, _ in cells), default=0)
        grid: list[list[CellValue]] = [[] for _ in range(height)]
        for (r, c), value in cells.items():
            line = grid[r - 1]
            line.extend([None] * (c - len(line)))
            line[c - 1] = value
        return grid

    def status_column(self, header_row: int | None = None) -> int | None:
        row = header_row or self.header_row
        wanted = fold(STATUS_TITLE)
        return next((c for (r, c), v in sorted(self.typed.items())
                     if r == row and isinstance(v.value, str) and fold(v.value) == wanted), None)

    def is_owned(self, cell: Cell) -> bool:
        if self.software_owned:
            return True
        status = self.status_column()
        return status is not None and cell[1] == status and cell[0] > self.header_row


@dataclass(eq=False)
class MemorySheet:
    """One spreadsheet: tabs in order, a change counter, and what people do to it."""

    ref: str
    title: str
    tabs: list[MemoryTab]
    clock: Callable[[], dt.datetime] = utcnow
    version: int = 1
    modified_at: dt.datetime = field(default_factory=utcnow)
    read_only: bool = False
    unreachable: str | None = None
    """Why the sheet cannot be reached now (Vietnamese); None when it can."""
    open_elsewhere: bool = False
    """Open in a program that holds it (Excel's lock file): writes wait."""
    lock: threading.RLock = field(default_factory=threading.RLock)

    @property
    def token(self) -> str:
        return str(self.version)

    def touch(self) -> None:
        self.version += 1
        self.modified_at = self.clock()

    def tab(self, title: str) -> MemoryTab | None:
        """The tab titled `title`, ignoring case, tone placement and spacing."""
        exact = next((t for t in self.tabs if t.title == title), None)
        return exact or next((t for t in self.tabs if fold(t.title) == fold(title)), None)

    def values(self) -> dict[str, list[list[CellValue]]]:
        """Tab title -> grid of values."""
        return {t.title: t.rows() for t in self.tabs}

    def typed_values(self) -> dict[tuple[str, int, int], CellValue]:
        """Every value a person typed or the template laid out, by (tab, row, column)."""
        return {(t.title, r, c): v.value for t in self.tabs if not t.software_owned
                for (r, c), v in t.typed.items()}

    # -- what people do -----------------------------------------------------------------

    def _tab_or_fail(self, title: str) -> MemoryTab:
        tab = self.tab(title)
        if tab is None:
            raise KeyError(f"no tab {title!r} in {self.title}")
        return tab

    def _column(self, tab: MemoryTab, title: str) -> int:
        for (r, c), v in sorted(tab.typed.items()):
            if r == tab.header_row and isinstance(v.value, str) and fold(v.value) == fold(title):
                return c
        raise KeyError(f"no column {title!r} in tab {tab.title!r}")

    def _check_writable(self) -> None:
        if self.read_only:
            raise PermissionError(f"{self.title} is read-only")

    def type_cell(self, tab_title: str, row: int, column: int | str, value: CellValue,
                  fmt: CellFormat | None = None) -> None:
        """A person types `value` (a stored value: text, number, date) into one cell. The
        cell takes its column's format unless `fmt` says what the program made of it
        (CellFormat.DATE for "15/6" typed into a count). None clears the cell."""
        with self.lock:
            self._check_writable()
            tab = self._tab_or_fail(tab_title)
            col = column if isinstance(column, int) else self._column(tab, column)
            cell = (row, col)
            if tab.is_owned(cell):
                # The software's cell: what a person types there is overwritten at the
                # next check, as in a real sheet.
                tab.owned[cell] = value
            elif value is None or (isinstance(value, str) and value == ""):
                tab.typed.pop(cell, None)
            else:
                tab.typed[cell] = TypedCell(value, fmt or tab.column_formats.get(col))
            self.touch()

    def type_rows(self, tables: Mapping[str, Sequence[Mapping[str, CellValue]]], *,
                  start_row: int = 2) -> None:
        """Rows by tab title and column title, from `start_row` down (typist.type_rows)."""
        with self.lock:
            for tab, rows in tables.items():
                for offset, row in enumerate(rows):
                    for title, value in row.items():
                        self.type_cell(tab, start_row + offset, title, value)

    def delete_tab(self, title: str) -> None:
        with self.lock:
            self.tabs.remove(self._tab_or_fail(title))
            self.touch()

    def add_note(self, tab_title: str, row: int, column: int, text: str,
                 author: str = "Nguyễn Văn An") -> None:
        with self.lock:
            self._tab_or_fail(tab_title).notes[(row, column)] = Note(author, text)
            self.touch()

    def flag(self, tab_title: str, row: int, column: int | str) -> tuple[str | None, str]:
        """(note text, fill RRGGBB or "") of a cell."""
        tab = self._tab_or_fail(tab_title)
        col = column if isinstance(column, int) else self._column(tab, column)
        note = tab.notes.get((row, col))
        return (note.text if note else None), tab.fills.get((row, col), "")
