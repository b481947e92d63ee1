"""How a unit's sheet and the master are laid out, the same in either backend.

Backend-neutral decisions only — plain values, no openpyxl styles and no Sheets requests:
where the header is, column widths and number formats by column type, the colours of
what the software owns, the "Kiểm tra" columns and the order of its findings, how a
finding's value is shown, and how a master column is stored. `xlsx_*` turns them into
openpyxl styles, `google_*` into CellData.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from openpyxl.utils import get_column_letter

from cchc_sync.domain.records import CellValue, Finding, Severity, TabLayout
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TableSpec
from cchc_sync.sources.base import EXPLANATION_TITLE, STATUS_TITLE, FlagPlan
from cchc_sync.sources.header_match import HeaderKeys, header_keys, match_header
from cchc_sync.sources.sheet_text import display_date, severity_label

# -- reading ------------------------------------------------------------------------------

HEADER_SEARCH_ROWS = 10
"""The header is the row, among the first ten, that holds the most of the table's titles
(row 1 in a sheet we made; lower when a clerk inserted a heading line above it)."""


def find_header(head: Sequence[Sequence[Any]], spec: TableSpec) -> TabLayout:
    """The layout of the first HEADER_SEARCH_ROWS rows (plain values, in sheet order) that
    matches most of the table's titles.

    The same as trying every row with `match_header` and keeping the first that matches
    the most, but cheaper in the common case: a row that matches every column ends the
    search (no later row can match more), and a row of text is matched once per process
    (`header_memo`), since thousands of sheets share the template's header."""
    keys = header_keys(spec)
    best: TabLayout | None = None
    first: TabLayout | None = None
    for number, row in enumerate(head, start=1):
        layout = header_memo.layout(keys, row, number)
        if first is None:
            first = layout
        if len(layout.columns) > (len(best.columns) if best else 0):
            best = layout
            if len(layout.columns) >= keys.reachable:
                break
    if best is None:
        # No title found anywhere: report row 1 as the header so its titles are listed.
        best = first or match_header([], spec, header_row=1)
    # A layout of its own, as if just matched: the memo's stays as it was.
    return TabLayout(columns=dict(best.columns), explanation_col=best.explanation_col,
                     status_col=best.status_col, header_row=best.header_row,
                     unknown_titles=best.unknown_titles)


_TEXT_TYPES = frozenset({str, type(None)})


class HeaderMemo:
    """Header rows already matched, most recently used kept: (table, row number, the row's
    cells) -> the TabLayout `match_header` gave.

    Only rows of text and blanks are kept (exactly `str` or None: equal cells are then the
    same input to `match_header`; a number is not, as 1 == 1.0 == True but their titles
    differ), so data rows go to `match_header` unmemoised and seldom push a header out.
    Counters: `hits` (rows answered from the memo), `misses` (text rows matched, then
    kept), `scored` (rows `match_header` was called for, memoised or not)."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._rows: OrderedDict[tuple[Any, ...], TabLayout] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = self.scored = 0

    def layout(self, keys: HeaderKeys, row: Sequence[Any], number: int) -> TabLayout:
        """`match_header(row, keys.spec, number)`, from the memo when the row is there."""
        if not set(map(type, row)) <= _TEXT_TYPES:
            with self._lock:
                self.scored += 1
            return match_header(row, keys.spec, header_row=number)
        # The entry holds `keys` (and so the spec): an id can never stand for another.
        key = (keys, number, tuple(row))
        with self._lock:
            found = self._rows.get(key)
            if found is not None:
                self._rows.move_to_end(key)
                self.hits += 1
                return found
        layout = match_header(row, keys.spec, header_row=number)
        with self._lock:
            self.misses += 1
            self.scored += 1
            self._rows[key] = layout
            if len(self._rows) > self.maxsize:
                self._rows.popitem(last=False)
        return layout

    def __len__(self) -> int:
        return len(self._rows)

    def clear(self) -> None:
        """Forget every row and reset the counters."""
        with self._lock:
            self._rows.clear()
            self.hits = self.misses = self.scored = 0


header_memo = HeaderMemo()
"""The process's memo of header rows (`find_header`), shared by both backends' readers."""


def row_explanation(
    row: Sequence[Any], explanation_col: int | None, value: Callable[[Any], Any]
) -> str | None:
    """The row's "Giải trình" text (None when blank); `value` reads one item of `row`."""
    if explanation_col is None or explanation_col > len(row):
        return None
    text = value(row[explanation_col - 1])
    return None if text is None else str(text).strip()


# -- table tabs ---------------------------------------------------------------------------

DATA_ROWS = 500
"""Rows of a multi-row table (2..500) that get number formats and data validation."""

NUMBER_PATTERNS = {
    "percent": "0.00%",
    "points": '0.00"%"',
    "date": "dd/mm/yyyy",
    "datetime": "dd/mm/yyyy hh:mm",
    "int": "#,##0",
    "float": "#,##0.00",
    "text": "@",
}
"""Number format patterns by kind. "points": a number in percent points (96.16) shown
96,16%; "text" keeps "0912..." phone numbers and "09/2019" numbers from becoming numbers or
dates."""

_COLUMN_NUMBER_KIND = {
    ColumnType.PCT: "percent",
    ColumnType.DATE: "date",
    ColumnType.INT: "int",
    ColumnType.TEXT: "text",
    ColumnType.DOCNO: "text",
}
_TYPE_WIDTH = {
    ColumnType.INT: 16,
    ColumnType.PCT: 14,
    ColumnType.DATE: 14,
    ColumnType.BOOL: 14,
    ColumnType.TEXT: 30,
    ColumnType.DOCNO: 20,
    ColumnType.CHOICE: 22,
}
EXPLANATION_WIDTH = 32
STATUS_WIDTH = 44
INSTRUCTIONS_WIDTH = 110
PLACEHOLDER_WIDTH = 80
"""Width of column A of "Kiểm tra" before the first check."""
SUMMARY_WIDTH = 100
WRAPPED_WIDTH = 50
"""Characters of a master column whose long text wraps (messages, explanations)."""
"""Width of column A of an empty master's "Tổng hợp"."""

# Colours (RRGGBB) of what the software owns.
HEADER_FILL = "DDEBF7"
OWNED_HEADER_FILL = "BFBFBF"
OWNED_FILL = "F2F2F2"
OWNED_TEXT = "595959"
OK_TEXT = "006100"


def table_titles(spec: TableSpec) -> list[str]:
    """Header titles of a table tab as made: the template's columns, "Giải trình", the
    status column."""
    return [c.title for c in spec.columns] + [EXPLANATION_TITLE, STATUS_TITLE]


def column_number_kind(col: ColumnSpec) -> str | None:
    """The NUMBER_PATTERNS kind a template column is formatted with (None: automatic)."""
    return _COLUMN_NUMBER_KIND.get(col.type)


def column_width(col: ColumnSpec) -> float:
    """A template column's width, in characters."""
    return col.width or _TYPE_WIDTH.get(col.type, 18)


def number_text(value: float) -> str:
    """A bound of a validation rule: "0", "1.5"."""
    return str(int(value)) if float(value).is_integer() else str(value)


# -- status cells and "Kiểm tra" -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusStyle:
    colour: str
    fill: str
    bold: bool = False


STATUS_STYLE = {
    # Excel's "Bad" / "Neutral" / "Good" cell styles.
    Severity.ERROR: StatusStyle("9C0006", "FFC7CE", bold=True),
    Severity.WARNING: StatusStyle("9C5700", "FFEB9C"),
    None: StatusStyle(OK_TEXT, "C6EFCE"),
}
"""How a status cell (and a finding's severity in "Kiểm tra") looks, by the row's worst
severity (None: clean)."""

CHECK_COLUMNS = (
    ("Bảng", 26),
    ("Dòng", 8),
    ("Cột", 32),
    ("Mức độ", 14),
    ("Nội dung", 70),
    ("Giá trị", 20),
    ("Giải trình", 32),
)
"""Title and width of the columns of the findings list in "Kiểm tra"."""
CHECK_HEADER_ROW = 6
"""1-based row of that list's header (below the heading and the hint)."""
SEVERITY_COLUMN = 4
"""1-based column of the severity in the findings list."""


def ordered_findings(plan: FlagPlan) -> list[Finding]:
    """The plan's findings as "Kiểm tra" lists them: errors first, then by table (template
    order), row and column position."""
    order: dict[str, int] = {}
    for table in [*plan.table_titles, *plan.tabs]:
        order.setdefault(table, len(order))

    def position(f: Finding) -> int:
        flags = plan.tabs.get(f.table)
        if flags is None or not f.column:
            return 10**6
        return flags.layout.columns.get(f.column, 10**6)

    return sorted(plan.findings, key=lambda f: (
        f.severity != Severity.ERROR,
        order.get(f.table, len(order)),
        f.row if f.row is not None else 10**9,
        position(f),
    ))


def finding_values(
    f: Finding, plan: FlagPlan, title: str, col_index: int | None
) -> tuple[CellValue, ...]:
    """One line of the findings list, a value per CHECK_COLUMNS: the column is named by
    `title` (as the clerk sees it) and, when known, its letter."""
    flags = plan.tabs.get(f.table)
    tab = plan.table_titles.get(f.table) or (flags.tab if flags else f.table)
    return (
        tab,
        f.row,
        f"{title} (cột {get_column_letter(col_index)})" if col_index else title,
        severity_label(f),
        f.message,
        display_value(f.value),
        f.explained or None,
    )


def display_value(value: object) -> int | float | str | None:
    """A finding's value as a clerk reads it: numbers as they are, dates dd/mm/yyyy,
    booleans Có/Không, anything else as text."""
    if value is None or isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if isinstance(value, dt.datetime):
        return f"{display_date(value)} {value:%H:%M}" if value.time() else display_date(value)
    if isinstance(value, dt.date):
        return display_date(value)
    return str(value)


# -- the master ----------------------------------------------------------------------------

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class MasterFrame:
    """A master tab ready to render: the frame (a labelled index made columns), its column
    titles, how each column is stored (`column_kind`) and each column's values as one list
    (what iterating the column gives: Python scalars, Timestamps, the objects held).

    Renderers read `columns`, not the frame: pandas indexing per column or per cell cost
    most of a master write (634 pandas lookups in one 12-unit cycle)."""

    frame: pd.DataFrame
    titles: list[str]
    kinds: list[str]
    columns: list[list[Any]]

    def __len__(self) -> int:
        return len(self.frame)

    def rows(self, part: range | None = None) -> Iterator[tuple[Any, ...]]:
        """The rows (of positions `part`) as tuples, like `itertuples(index=False)`."""
        if part is None:
            return zip(*self.columns, strict=True)
        return zip(*(c[part.start:part.stop] for c in self.columns), strict=True)


def master_tab(df: pd.DataFrame, percent: AbstractSet[str]) -> MasterFrame:
    """`df` as a MasterFrame: every column read out of pandas once."""
    if not isinstance(df.index, pd.RangeIndex):
        df = df.reset_index()
    titles = [column_title(c) for c in df.columns]
    series = [s for _, s in df.items()]
    columns = [s.tolist() for s in series]
    kinds = [_kind(s, values, title in percent)
             for s, values, title in zip(series, columns, titles, strict=True)]
    return MasterFrame(df, titles, kinds, columns)


def master_frame(df: pd.DataFrame, percent: set[str]) -> tuple[pd.DataFrame, list[str],
                                                                   list[str]]:
    """A master tab's frame (a labelled index becomes columns), its column titles and how
    each column is stored (`column_kind`)."""
    tab = master_tab(df, percent)
    return tab.frame, tab.titles, tab.kinds


def column_title(column: Any) -> str:
    if isinstance(column, tuple):
        return " / ".join(str(c) for c in column if str(c))
    return str(column)


def text_width(title: str, sample: pd.Series | Sequence[Any]) -> float:
    """A master column's width in characters, from its title and a sample of its values."""
    # tolist(): iterating a pandas string array fetches each value through pandas, ~10x
    # slower than the list it gives at once.
    values = sample.tolist() if isinstance(sample, pd.Series) else sample
    longest = max([len(title) * 0.9, *(len(str(v)) for v in values if present(v))], default=8)
    return max(8, min(60, longest + 2))


def present(value: Any) -> bool:
    """False for the blanks pandas and numpy use (None, NaT, NA, NaN)."""
    if value is None or value is pd.NaT or value is pd.NA:
        return False
    return not (isinstance(value, float) and math.isnan(value))


def column_kind(series: pd.Series, is_percent: bool) -> str:
    """How a master column is stored: percent | int | float | date | datetime | isodate |
    auto (each value by its own type)."""
    return _kind(series, series.tolist(), is_percent)


def _kind(series: pd.Series, values: list[Any], is_percent: bool) -> str:
    """column_kind of `series`, whose values (`tolist()`) are `values`: decided on the
    list, in plain Python (pandas per column costs more than the few rows of a master)."""
    if is_percent:
        return "percent"
    dtype = series.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "auto"
    if pd.api.types.is_integer_dtype(dtype):
        return "int"
    if pd.api.types.is_float_dtype(dtype):
        finite = [v for v in values if present(v) and math.isfinite(v)]
        # An int column with a blank becomes float64 in pandas: keep showing whole numbers.
        return "int" if finite and all(float(v).is_integer() for v in finite) else "float"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        stamps = [v for v in values if present(v)]
        if stamps and all(v == v.normalize() for v in stamps):
            return "date"
        return "datetime"
    # The blanks pandas knows (None, NaN, NaT, NA, a NaN Decimal...), found in one pass.
    blank = pd.isna(series.to_numpy(dtype=object)).tolist()
    shown = [v for v, gap in zip(values, blank, strict=True) if not gap]
    if not shown:
        return "auto"
    # The first value decides which test can pass: a column of names is "auto" at once,
    # not after a look at each of its values.
    first = shown[0]
    if isinstance(first, str):
        if not all(isinstance(v, str) and _ISO_DATE.match(v) for v in shown):
            return "auto"
        try:
            for v in shown:
                dt.date.fromisoformat(v)
            return "isodate"
        except ValueError:
            return "auto"
    if isinstance(first, dt.date) and all(
            isinstance(v, dt.date) and not isinstance(v, dt.datetime) for v in shown):
        return "date"
    return "auto"


class PercentPoints(float):
    """A rate in percent points (96.16) inside a column of other numbers (the master's
    "Tổng hợp" holds counts and rates in one column): stored as that number, shown
    96,16%."""

    __slots__ = ()


class Link(str):
    """A master cell that opens `url` (a unit's sheet) and shows its own text: written as
    a HYPERLINK formula the software builds itself (never from a typed value)."""

    __slots__ = ("url",)
    url: str

    def __new__(cls, label: str, url: str) -> Link:
        obj = super().__new__(cls, label)
        obj.url = url
        return obj

    def formula(self) -> str:
        quote = lambda s: '"' + str(s).replace('"', '""') + '"'  # noqa: E731
        return f"=HYPERLINK({quote(self.url)},{quote(str(self))})"


def plain(value: Any) -> Any:
    """A plain Python value: numpy/pandas scalars unwrapped, Decimal as float, blanks and
    non-finite numbers as None."""
    if not present(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, decimal.Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
