"""A row's cells → typed values and the cells' findings, by column readers compiled once
per table (issue 17 item 5).

`normalise_cell` is total and general: for every cell it tests blanks and formula errors,
picks a handler by column type and builds a `Parsed`. Most cells of a sheet are clean and
repeat from unit to unit (field names, choice labels, document types, small counts), so a
table's columns are compiled once into readers that take the common cases without that
chain: a blank (None or "") in an optional column is nothing, a count stored as a plain int
within its column's bounds is its own value, and a text or int the general path
once read clean in this column is read from a memo of that result (likewise a naive
datetime: the dates a backend reads from date cells). Everything else — other
blanks, every finding, floats, dates — goes through `normalise_cell` as before.
`normalise_row_per_cell` is that general path for every cell: tests/test_row_cells.py
asserts both give the same values and findings.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from cchc_sync.domain.records import CellFormat, Finding, RawCell, RawRow, Severity
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TableSpec
from cchc_sync.domain.vnformat import format_int
from cchc_sync.normalise import normalise_cell
from cchc_sync.normalise.base import Parsed
from cchc_sync.normalise.numbers import PLAIN_COUNT

MAX_CELL_TEXT = 32_767
"""Excel's limit for one cell: longer text cannot reach the master whole."""

MEMO_TEXT = 200
"""Texts up to this long are memoised (longer ones are notes, rarely repeated)."""
MEMO_SIZE = 4096
"""Clean readings kept per column: the values that repeat come early (every unit's sheet
has them); a column of unique texts stops growing here."""


def plain_ints(col: ColumnSpec) -> tuple[float, float]:
    """(lo, hi): a stored int n with lo <= n <= hi is its own reading in this column; an
    empty range (1, 0) for a column that is not a count. _int_range gives such an n back
    untouched: 0 <= n < PLAIN_COUNT passes its size checks, and the column's own bounds
    (the shipped templates give every count `minimum: 0`) are folded in."""
    if col.type is not ColumnType.INT:
        return 1, 0
    lo = 0 if col.minimum is None else max(0, col.minimum)
    hi = PLAIN_COUNT - 1 if col.maximum is None else min(PLAIN_COUNT - 1, col.maximum)
    return lo, hi


class TableReader:
    """The compiled columns of one table: (key, spec, plain-int range, memo)."""

    __slots__ = ("columns", "spec")

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec  # held: the reader is cached by id(spec), which must stay its own
        self.columns: tuple[tuple[str, ColumnSpec, float, float, dict[Any, Any]], ...] = tuple(
            (c.key, c, *plain_ints(c), {}) for c in spec.columns
        )

    def normalise_row(self, raw: RawRow, unit: str) -> tuple[dict[str, Any], list[Finding]]:
        values: dict[str, Any] = {}
        findings: list[Finding] = []
        cells = raw.cells
        for key, col, int_lo, int_hi, memo in self.columns:
            cell = cells.get(key)
            if cell is None:
                continue
            value: Any = cell.value  # Any: the type tests below go by `kind`
            if (value is None or value == "") and not col.required:
                continue  # blank, as normalise_cell reads it: no value, nothing to say
            kind = type(value)
            if kind is int:
                if int_lo <= value <= int_hi and cell.fmt is not CellFormat.DATE:
                    values[key] = value
                    continue
            elif (len(value) > MEMO_TEXT if kind is str
                  else kind is not dt.datetime or value.tzinfo is not None):
                add_cell(values, findings, normalise_cell(cell, col), cell, col, raw, unit,
                         self.spec)
                continue
            # A str, an int or a naive datetime (a date cell as a backend reads it: a few
            # distinct dates fill a column). Exact types: True == 1 and 1.0 == 1 must not
            # share a key; aware datetimes are equal across zones whose dates differ.
            seen = (value, cell.fmt)
            known = memo.get(seen)
            if known is not None:
                values[key] = known
                continue
            parsed = normalise_cell(cell, col)
            if parsed.value is not None and not parsed.issues and len(memo) < MEMO_SIZE:
                memo[seen] = parsed.value
            add_cell(values, findings, parsed, cell, col, raw, unit, self.spec)
        return values, findings


_READERS: dict[int, TableReader] = {}
_READERS_MAX = 64
"""Template sets loaded more than once (a test per workspace) must not grow it forever."""


def table_reader(spec: TableSpec) -> TableReader:
    reader = _READERS.get(id(spec))
    if reader is None or reader.spec is not spec:
        if len(_READERS) >= _READERS_MAX:
            _READERS.clear()
        reader = _READERS[id(spec)] = TableReader(spec)
    return reader


def normalise_row_per_cell(raw: RawRow, spec: TableSpec, unit: str
                           ) -> tuple[dict[str, Any], list[Finding]]:
    """The general path: normalise_cell for every cell (what TableReader must equal)."""
    values: dict[str, Any] = {}
    findings: list[Finding] = []
    for col in spec.columns:
        cell = raw.cells.get(col.key)
        if cell is not None:
            add_cell(values, findings, normalise_cell(cell, col), cell, col, raw, unit, spec)
    return values, findings


def add_cell(values: dict[str, Any], findings: list[Finding], parsed: Parsed, cell: RawCell,
             col: ColumnSpec, raw: RawRow, unit: str, spec: TableSpec) -> None:
    """One cell's reading into the row: its value, or its findings as the unit's."""
    for issue in parsed.issues:
        findings.append(
            Finding(
                rule=issue.rule,
                severity=issue.severity,
                message=issue.message,
                unit=unit,
                table=spec.key,
                row=raw.sheet_row,
                column=col.key,
                value=jsonable(issue.value if issue.value is not None else cell.value),
            )
        )
    if isinstance(parsed.value, str) and len(parsed.value) > MAX_CELL_TEXT:
        findings.append(
            Finding(
                rule="cell.text.too-long",
                severity=Severity.WARNING,
                message=f'Ô "{col.title}" dài {format_int(len(parsed.value))} ký tự, quá '
                f"giới hạn {format_int(MAX_CELL_TEXT)} ký tự của một ô bảng tính: bảng "
                "tổng hợp chỉ hiện phần đầu. Hãy rút gọn nội dung.",
                unit=unit,
                table=spec.key,
                row=raw.sheet_row,
                column=col.key,
                value=parsed.value[:80] + "…",
            )
        )
    if parsed.value is not None:
        values[col.key] = parsed.value
    elif col.required and not parsed.issues:
        findings.append(
            Finding(
                rule="row.required",
                severity=Severity.ERROR,
                message=f'Dòng {raw.sheet_row}: chưa ghi "{col.title}". Cột này bắt buộc '
                "khi dòng có số liệu.",
                unit=unit,
                table=spec.key,
                row=raw.sheet_row,
                column=col.key,
            )
        )


def jsonable(value: Any) -> Any:
    """A cell value as a finding carries it (stored as JSON in the archive)."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value
