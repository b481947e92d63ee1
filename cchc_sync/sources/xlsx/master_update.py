"""Writing only what changed in the local master (issue 17: k units changed -> O(k) work).

An .xlsx is a zip of XML parts, one per tab. After each write the backend keeps the
master's *shape* (the archive's masters.shape, as JSON): the file's change token as
written, and per tab its title, a digest of its layout (column titles, how each column is
stored, percent, hidden and wrapped columns, this module's version) and its rows as
*blocks* — consecutive rows with the same first cell (a unit's rows in a table tab, its
line in "Tiến độ", its findings in "Bất thường", a figure in "Tổng hợp") — each a digest
of its values and its row count, as in the Google backend (google/master_update.py).

The next write compares the new book's blocks with the recorded ones (difflib's opcodes,
per tab) and renders with openpyxl only the rows of blocks that differ; the rows of equal
blocks are copied from the master on disk as XML, their row numbers moved where rows
above them came or went. Each tab's head (column widths, frozen pane, print setup, the
header row) and tail (filter, page setup) come from the new render, as do the workbook
parts (sheet list, filter names, properties). The result replaces the file in one
os.replace, like a whole write: a reader sees the old master or the new one, never a mix.

A whole render happens when the old master cannot be trusted to be what was recorded:
no shape, a file token that is not the recorded one (somebody saved the file), another
tab list or layout, another style table (master.build_master_workbook registers every
style in one order, so this means another openpyxl), or rows in the file that do not
add up to the recorded blocks. Whole or not, the file written is the same workbook.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from itertools import groupby
from typing import Any

from cchc_sync.sources.base import MasterBook
from cchc_sync.sources.sheet_layout import Link, MasterFrame, PercentPoints, master_tab
from cchc_sync.sources.xlsx.master import master_bytes, master_titles

WRITER_VERSION = 2
"""Part of every layout digest: a change to how rows are rendered makes the next write
whole."""

_ROW_START = re.compile(rb'<row r="')
_ROW_NUMBERS = re.compile(rb'(<row r="|<c r="[A-Z]+)(\d+)"')
_STYLES = "xl/styles.xml"


@dataclass(frozen=True, slots=True)
class MasterRender:
    """A master ready to be written: its bytes, its shape (without the file token, which
    only the write knows) and how many data rows openpyxl rendered for it."""

    data: bytes
    shape: dict[str, Any]
    rows_rendered: int


def render_master(book: MasterBook, old_shape: str | None, old_file: bytes | None
                  ) -> MasterRender:
    """The master for `book`, rendering only the rows that changed since the master
    `old_file` whose shape (with its token checked by the caller) is `old_shape`."""
    frames = [master_tab(df, set(book.percent_columns.get(name, ())))
              for name, df in book.tabs.items()]
    tabs = book_shape(book, frames)
    shape = {"version": WRITER_VERSION, "tabs": tabs}
    plans = _plans(tabs, _load(old_shape))
    if plans is not None and old_file is not None:
        spliced = _splice(book, frames, plans, old_file)
        if spliced is not None:
            data, rendered = spliced
            return MasterRender(data, shape, rendered)
    data = master_bytes(book, frames=frames)
    return MasterRender(data, shape, sum(sum(n for _, n in t["blocks"]) for t in tabs))


def book_shape(book: MasterBook, frames: Sequence[MasterFrame]) -> list[dict[str, Any]]:
    """Per tab: title, layout digest and blocks ([digest, rows]) of the book."""
    shaped = []
    for title, name, frame in zip(master_titles(book), book.tabs, frames, strict=True):
        percent = sorted(book.percent_columns.get(name, ()))
        layout = [WRITER_VERSION, title, frame.titles, frame.kinds, percent,
                  sorted(book.hidden_columns.get(name, ())),
                  sorted(book.wrapped_columns.get(name, ()))]
        blocks = []
        for _, group in groupby(_typed_rows(frame), key=lambda row: row[0] if row else None):
            rows = list(group)
            blocks.append([_digest(repr(rows)), len(rows)])
        shaped.append({"title": title, "layout": _digest(repr(layout)), "blocks": blocks})
    return shaped


def _typed_rows(frame: MasterFrame) -> list[tuple[Any, ...]]:
    """The frame's rows as tuples whose repr tells every cell apart as it is written: a
    repr already shows the type of a plain value (1, 1.0, '1', True, a date); a Link (a
    str) and a PercentPoints (a float) are tagged, in the columns that hold any."""
    columns = list(frame.columns)
    for i, column in enumerate(columns):
        if any(isinstance(v, Link | PercentPoints) for v in column):
            columns[i] = [_tagged(v) for v in column]
    return list(zip(*columns, strict=True)) if columns else [() for _ in range(len(frame))]


def _tagged(value: Any) -> Any:
    if isinstance(value, Link):
        return ("Link", str(value), value.url)
    if isinstance(value, PercentPoints):
        return ("PercentPoints", float(value))
    return value


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=10).hexdigest()


def _load(shape: str | None) -> dict[str, Any] | None:
    if not shape:
        return None
    try:
        loaded = json.loads(shape)
    except ValueError:
        return None
    if not isinstance(loaded, dict) or loaded.get("version") != WRITER_VERSION:
        return None
    return loaded


@dataclass(frozen=True, slots=True)
class _TabPlan:
    """How one tab's rows are made: `steps` in order, each ("keep", old_first, count) —
    rows copied from the old tab (positions among its data rows) — or ("render", count)
    — the next `count` rows of the render; `render` the frame positions rendered."""

    steps: list[tuple[Any, ...]]
    render: list[range]
    old_rows: int


def _plans(tabs: list[dict[str, Any]], old: dict[str, Any] | None) -> list[_TabPlan] | None:
    if old is None or len(old.get("tabs", ())) != len(tabs):
        return None
    plans = []
    for was, now in zip(old["tabs"], tabs, strict=True):
        if was.get("title") != now["title"] or was.get("layout") != now["layout"]:
            return None
        plans.append(_tab_plan(was["blocks"], now["blocks"]))
    return plans


def _tab_plan(old_blocks: list[list[Any]], new_blocks: list[list[Any]]) -> _TabPlan:
    old_starts = _starts(old_blocks)
    new_starts = _starts(new_blocks)
    old_keys, new_keys = [b[0] for b in old_blocks], [b[0] for b in new_blocks]
    # The blocks before the first and after the last difference are matched here: difflib
    # alone is quadratic in the blocks between its matches.
    head = 0
    while head < min(len(old_keys), len(new_keys)) and old_keys[head] == new_keys[head]:
        head += 1
    tail = 0
    while tail < min(len(old_keys), len(new_keys)) - head \
            and old_keys[-1 - tail] == new_keys[-1 - tail]:
        tail += 1
    matcher = SequenceMatcher(None, old_keys[head:len(old_keys) - tail],
                              new_keys[head:len(new_keys) - tail], autojunk=False)
    opcodes = [("equal", 0, head, 0, head)] if head else []
    opcodes += [(tag, i1 + head, i2 + head, j1 + head, j2 + head)
                for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    if tail:
        opcodes.append(("equal", len(old_keys) - tail, len(old_keys),
                        len(new_keys) - tail, len(new_keys)))
    steps: list[tuple[Any, ...]] = []
    render: list[range] = []
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            steps.append(("keep", old_starts[i1], old_starts[i2] - old_starts[i1]))
        elif j2 > j1:
            steps.append(("render", new_starts[j2] - new_starts[j1]))
            render.append(range(new_starts[j1], new_starts[j2]))
    return _TabPlan(steps, render, old_starts[-1])


def _starts(blocks: list[list[Any]]) -> list[int]:
    starts = [0]
    for _, count in blocks:
        starts.append(starts[-1] + count)
    return starts


def _splice(book: MasterBook, frames: Sequence[MasterFrame], plans: list[_TabPlan],
            old_file: bytes) -> tuple[bytes, int] | None:
    """The new master's bytes, rows kept from `old_file` and the rest rendered; None
    when the old file is not what its shape says (the caller renders the whole book)."""
    only = {index: plan.render for index, plan in enumerate(plans)}
    rendered = master_bytes(book, only, frames)
    sheets = {f"xl/worksheets/sheet{index + 1}.xml": plan for index, plan in enumerate(plans)}
    out = io.BytesIO()
    try:
        old = zipfile.ZipFile(io.BytesIO(old_file))
        new = zipfile.ZipFile(io.BytesIO(rendered))
        if old.read(_STYLES) != new.read(_STYLES) or not set(sheets) <= set(new.namelist()):
            return None
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            for info in new.infolist():
                plan = sheets.get(info.filename)
                if plan is None:
                    zf.writestr(info, new.read(info.filename))
                    continue
                # One tab at a time, its old and rendered XML held, the spliced one
                # streamed into the compressed part piece by piece (a 5,000-unit tab is
                # ~100 MB of XML: joined, it was held twice more).
                old_xml, new_xml = old.read(info.filename), new.read(info.filename)
                spans = _tab_spans(plan, old_xml, new_xml)
                if spans is None:
                    return None
                with zf.open(info, "w", force_zip64=True) as stream:
                    for piece in _spliced(plan, old_xml, new_xml, spans):
                        stream.write(piece)
    except (KeyError, zipfile.BadZipFile):
        return None
    return out.getvalue(), sum(len(r) for plan in plans for r in plan.render)


_BAND_ROWS = 2_000
_Spans = tuple[tuple[list[int], int], tuple[list[int], int]]


def _tab_spans(plan: _TabPlan, old_xml: bytes, new_xml: bytes) -> _Spans | None:
    """Where the old and the rendered tab's rows are; None when they are not where the
    plan says (row 1 is the header; every data row must be where the shape says)."""
    old_rows = _row_spans(old_xml)
    new_rows = _row_spans(new_xml)
    rendered = sum(len(r) for r in plan.render)
    if old_rows is None or new_rows is None or len(old_rows[0]) != plan.old_rows + 1 \
            or len(new_rows[0]) != rendered + 1:
        return None
    return old_rows, new_rows


def _spliced(plan: _TabPlan, old_xml: bytes, new_xml: bytes, spans: _Spans
             ) -> Iterator[bytes]:
    """The spliced tab's XML, piece by piece: rows kept from the old tab, renumbered, and
    the rendered ones in their places."""
    (old_starts, old_end), (new_starts, new_end) = spans
    yield new_xml[:new_starts[1] if len(new_starts) > 1 else new_end]
    row = 2  # the next row number in the new tab
    taken = 1  # rendered rows already used (after the header)
    for step in plan.steps:
        if step[0] == "keep":
            _, first, count = step
            xml, starts, end, at, delta = old_xml, old_starts, old_end, first + 1, row - (first + 2)
        else:
            count = step[1]
            xml, starts, end, at, delta = new_xml, new_starts, new_end, taken, row - (taken + 1)
            taken += count
        # In bands of rows: a block kept whole may be most of a 100 MB tab.
        for offset in range(0, count, _BAND_ROWS):
            yield _renumber(_rows(xml, starts, end, at + offset,
                                  min(_BAND_ROWS, count - offset)), delta)
        row += count
    yield new_xml[new_end:]


def _row_spans(xml: bytes) -> tuple[list[int], int] | None:
    """Where sheetData's rows are: each <row>'s offset, and the end of the last."""
    head = xml.find(b"<sheetData>")
    end = xml.rfind(b"</sheetData>")
    if head < 0 or end < head:
        return None
    return [m.start() for m in _ROW_START.finditer(xml, head, end)], end


def _rows(xml: bytes, starts: Sequence[int], end: int, first: int, count: int) -> bytes:
    """Rows first .. first + count - 1 (positions among all rows, 0 = the header)."""
    if count == 0:
        return b""
    stop = starts[first + count] if first + count < len(starts) else end
    return xml[starts[first]:stop]


def _renumber(rows: bytes, delta: int) -> bytes:
    """Rows moved `delta` rows down: their own and their cells' row numbers. Only tags
    match: a "<" in text is always escaped, and the master holds no cell references."""
    if delta == 0 or not rows:
        return rows
    return _ROW_NUMBERS.sub(lambda m: b"%s%d\"" % (m[1], int(m[2]) + delta), rows)
