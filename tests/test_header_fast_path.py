"""The header fast path (`sheet_layout.find_header`: the early stop and `header_memo`) gives
exactly what trying every row with the plain matcher gives, and is taken for the header
the template writes, in both backends' readers."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook
from openpyxl.cell.read_only import EMPTY_CELL

from cchc_sync.domain.records import TabLayout
from cchc_sync.domain.templates import ColumnSpec, ColumnType, TableSpec, load_template_set
from cchc_sync.normalise import fold
from cchc_sync.sources.base import EXPLANATION_TITLE, STATUS_TITLE
from cchc_sync.sources.google import read as google_read
from cchc_sync.sources.header_match import header_keys, match_header
from cchc_sync.sources.sheet_layout import (
    HEADER_SEARCH_ROWS,
    HeaderMemo,
    find_header,
    header_memo,
    table_titles,
)
from cchc_sync.sources.xlsx import read as xlsx_read

TEMPLATES = load_template_set()
TTHC = TEMPLATES.table("tthc")


# -- the slow path, as it was before the fast one ----------------------------------------


def slow_match_header(titles: Sequence[object], spec: TableSpec, header_row: int = 1
                      ) -> TabLayout:
    wanted = {fold(c.title): c.key for c in spec.columns}
    columns: dict[str, int] = {}
    explanation = status = None
    unknown: list[str] = []
    for index, raw in enumerate(titles, start=1):
        if raw is None or not str(raw).strip():
            continue
        key = fold(str(raw))
        if key == fold(STATUS_TITLE) and status is None:
            status = index
        elif key == fold(EXPLANATION_TITLE) and explanation is None:
            explanation = index
        elif key in wanted and wanted[key] not in columns:
            columns[wanted[key]] = index
        else:
            unknown.append(str(raw).strip())
    return TabLayout(columns=columns, explanation_col=explanation, status_col=status,
                     header_row=header_row, unknown_titles=tuple(unknown))


def slow_find_header(head: Sequence[Sequence[object]], spec: TableSpec) -> TabLayout:
    best = slow_match_header([], spec, header_row=1)
    for number, row in enumerate(head, start=1):
        layout = slow_match_header(list(row), spec, header_row=number)
        if len(layout.columns) > len(best.columns):
            best = layout
    if not best.columns and head:
        best = slow_match_header(list(head[0]), spec, header_row=1)
    return best


def fresh(head: Sequence[Sequence[object]]) -> list[list[object]]:
    """The same rows with new str objects, as another sheet's JSON or XML gives them."""
    return [[("" + v + ".")[:-1] if isinstance(v, str) else v for v in row] for row in head]


def assert_same(head: Sequence[Sequence[object]], spec: TableSpec) -> TabLayout:
    """find_header with the memo cold, warm and on fresh strings == the slow path."""
    expected = slow_find_header(head, spec)
    header_memo.clear()
    assert find_header(head, spec) == expected
    assert find_header(head, spec) == expected
    assert find_header(fresh(head), spec) == expected
    return expected


# -- special tables ------------------------------------------------------------------------

TWINS = TableSpec(key="twins", tab="Twins", columns=(
    ColumnSpec(key="a", title="Hòa giải", type=ColumnType.INT),
    ColumnSpec(key="b", title="Hoà giải", type=ColumnType.INT),  # folds like "a"
    ColumnSpec(key="c", title="Ghi chú", type=ColumnType.TEXT),
))
"""Two titles that fold alike: at most two columns can ever be matched."""
NUMBERED = TableSpec(key="numbered", tab="Numbered", columns=(
    ColumnSpec(key="one", title="1", type=ColumnType.INT),
    ColumnSpec(key="true", title="True", type=ColumnType.TEXT),
))
"""Titles a number or a boolean cell matches: 1 == 1.0 == True, but str() differs."""
OWNED = TableSpec(key="owned", tab="Owned", columns=(
    ColumnSpec(key="x", title=EXPLANATION_TITLE, type=ColumnType.TEXT),
    ColumnSpec(key="y", title="Số", type=ColumnType.INT),
))
"""A column titled like the software's own "Giải trình"."""
SPECS = [TTHC, TEMPLATES.table("van_ban"), TEMPLATES.table("thong_tin"), TWINS, NUMBERED,
         OWNED]


def header(spec: TableSpec) -> list[str]:
    return table_titles(spec)


def data_rows(spec: TableSpec, n: int) -> list[list[object]]:
    out = []
    for i in range(n):
        row: list[object] = []
        for c in spec.columns:
            row.append(f"Lĩnh vực {i}" if c.type is ColumnType.TEXT else
                       dt.datetime(2022, 3, 1 + i) if c.type is ColumnType.DATE else 10 + i)
        out.append(row + [None, None])
    return out


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


def _cases() -> dict[str, tuple[TableSpec, list[list[object]]]]:
    titles = header(TTHC)
    moved = list(reversed(titles))
    renamed = titles[:]
    renamed[3] = "Tiếp nhận trực tiếp"
    duplicated = titles[:2] + [titles[1]] + titles[2:]
    missing = titles[:4] + titles[5:]
    extra = ["STT", *titles, "Ghi chú", "Người nhập"]
    data = data_rows(TTHC, 11)
    return {
        "template header": (TTHC, [titles, *data]),
        "header on row 3": (TTHC, [["BÁO CÁO GIẢI QUYẾT TTHC"], [], titles, *data]),
        "header on row 10": (TTHC, [["Tiêu đề"]] * 9 + [titles]),
        "header on row 11 (not searched)": (TTHC, [[]] * 10 + [titles]),
        "moved columns": (TTHC, [moved, *data]),
        "renamed column": (TTHC, [renamed, *data]),
        "duplicated column": (TTHC, [duplicated, *data]),
        "missing column": (TTHC, [missing, *data]),
        "unknown titles": (TTHC, [extra, *data]),
        "NFD text": (TTHC, [[nfd(t) for t in titles], *data]),
        "upper case": (TTHC, [[t.upper() for t in titles], *data]),
        "spaces and punctuation": (TTHC, [[f"  {t} :" for t in titles], *data]),
        "two candidate rows, first wins": (TTHC, [missing, titles[:3], missing, *data]),
        "better row later": (TTHC, [titles[:3], ["x"], titles, *data]),
        "no title anywhere": (TTHC, [["STT", "Ghi chú", 3], *data]),
        "no rows": (TTHC, []),
        "blank rows only": (TTHC, [[], [None, "", "  "]]),
        "numbers in the header": (TTHC, [[1, 2.5, True, dt.date(2022, 1, 1), *titles[1:]]]),
        "status and explanation twice": (TTHC, [titles + [EXPLANATION_TITLE, STATUS_TITLE]]),
        "tone placement": (TWINS, [["Hoà giải", "Hòa giải", "GHI CHÚ"], [1, 2, "x"]]),
        "twins, full match on row 2": (TWINS, [["Ghi chú"], ["Hòa giải", "Ghi chú"],
                                               ["Hòa giải", "Hoà giải", "Ghi chú"]]),
        "number 1 as a title": (NUMBERED, [[1, "True"], [1.0, True], [True, 1]]),
        "a column titled Giải trình": (OWNED, [[EXPLANATION_TITLE, "Số", EXPLANATION_TITLE]]),
    }


CASES = _cases()


@pytest.mark.parametrize("name", CASES)
def test_fast_path_gives_what_the_slow_path_gives(name):
    spec, head = CASES[name]
    assert_same(head, spec)
    assert_same(head[:HEADER_SEARCH_ROWS], spec)


def test_numbers_equal_as_keys_are_not_confused():
    # 1 == 1.0 == True (and hash alike), but they are the titles "1", "1.0" and "True".
    header_memo.clear()
    for row in ([1], [1.0], [True], ["1"], [1], [True]):
        assert find_header([row], NUMBERED) == slow_find_header([row], NUMBERED)


@pytest.mark.parametrize("key", list(TEMPLATES.tables))
def test_every_template_header_matches_on_row_1(key):
    spec = TEMPLATES.table(key)
    layout = assert_same([header(spec), *data_rows(spec, 3)], spec)
    assert layout.header_row == 1
    assert len(layout.columns) == len(spec.columns)
    assert layout.unknown_titles == ()
    assert (layout.explanation_col, layout.status_col) == (len(spec.columns) + 1,
                                                            len(spec.columns) + 2)


def test_the_layout_returned_is_the_callers_own():
    head = [header(TTHC)]
    first = find_header(head, TTHC)
    first.columns.clear()
    assert find_header(head, TTHC) == slow_find_header(head, TTHC)


def test_match_header_is_unchanged():
    for spec, head in CASES.values():
        for number, row in enumerate(head, start=1):
            assert match_header(row, spec, number) == slow_match_header(row, spec, number)


# -- property: any header, anywhere --------------------------------------------------------


def _variants(title: str) -> st.SearchStrategy[str]:
    return st.sampled_from([title, title.upper(), title.lower(), nfd(title), f" {title}  ",
                            title.replace(" ", "  "), f"{title}:", f"{title}*"])


def _cells(spec: TableSpec) -> st.SearchStrategy[object]:
    titles = [c.title for c in spec.columns] + [EXPLANATION_TITLE, STATUS_TITLE]
    return st.one_of(
        st.sampled_from(titles).flatmap(_variants),
        st.sampled_from(titles),
        st.sampled_from([None, "", "   ", "\u00a0", "STT", "Ghi chú", "Hòa giải", "Hoà giải",
                         "1", "True", "#REF!"]),
        st.text(max_size=8),
        st.integers(-3, 3),
        st.sampled_from([1.0, 0.5, -0.0, float("nan"), True, False]),
        st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 1, 1)),
    )


@st.composite
def tabs(draw: st.DrawFn) -> tuple[TableSpec, list[list[object]]]:
    spec = draw(st.sampled_from(SPECS))
    rows = st.lists(_cells(spec), max_size=len(spec.columns) + 4)
    head = draw(st.lists(rows, max_size=HEADER_SEARCH_ROWS + 2))
    if draw(st.booleans()):
        # The template's header somewhere, perhaps edited: the common case and near it.
        titles = header(spec)
        edited = draw(st.permutations(titles)) if draw(st.booleans()) else titles
        edited = [draw(_variants(t)) if draw(st.integers(0, 4)) == 0 else t for t in edited]
        if edited and draw(st.booleans()):
            del edited[draw(st.integers(0, len(edited) - 1))]
        head.insert(draw(st.integers(0, len(head))), edited)
    return spec, head


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tab=tabs())
def test_any_header_fast_path_equals_slow_path(tab):
    spec, head = tab
    assert_same(head, spec)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tab_list=st.lists(tabs(), min_size=2, max_size=6))
def test_a_warm_memo_never_answers_for_another_header(tab_list):
    # Headers one after the other without clearing, as in a cycle over many sheets.
    header_memo.clear()
    for spec, head in tab_list * 2:
        assert find_header(head, spec) == slow_find_header(head, spec)


def test_the_memo_is_bounded():
    memo = HeaderMemo(maxsize=3)
    keys = header_keys(TTHC)
    titles = header(TTHC)
    for i in range(10):
        row = [*titles, f"Cột thêm {i}"]
        assert memo.layout(keys, row, 1) == slow_match_header(row, TTHC, 1)
        assert len(memo) <= 3
    assert (memo.hits, memo.misses, memo.scored) == (0, 10, 10)
    row = [*titles, "Cột thêm 9"]
    assert memo.layout(keys, row, 1) == slow_match_header(row, TTHC, 1)
    assert memo.hits == 1
    memo.clear()
    assert (len(memo), memo.hits, memo.misses, memo.scored) == (0, 0, 0, 0)


# -- the fast path is taken ------------------------------------------------------------------


def google_tab(spec: TableSpec, seed: int, heading_rows: int = 0) -> list[list[object]]:
    heading = [["BÁO CÁO"], []][:heading_rows]
    return fresh([*heading, header(spec), *data_rows(spec, 5 + seed)])


def test_google_reader_matches_the_template_header_once():
    header_memo.clear()
    tables = [google_read.read_table(TTHC, google_tab(TTHC, seed)) for seed in range(3)]
    # Row 1 was matched once (then it was the memo's), the data rows never: every column
    # found on row 1 ends the search.
    assert (header_memo.scored, header_memo.misses, header_memo.hits) == (1, 1, 2)
    for table, seed in zip(tables, range(3), strict=True):
        assert table.layout == slow_find_header(google_tab(TTHC, seed), TTHC)
        assert len(table.rows) == 5 + seed


def test_google_reader_header_below_a_heading_is_memoised_too():
    header_memo.clear()
    for seed in range(3):
        table = google_read.read_table(TTHC, google_tab(TTHC, seed, heading_rows=2))
        assert table.layout.header_row == 3
    assert header_memo.scored == 3  # rows 1-3 of the first tab only
    assert header_memo.hits == 6


def _workbook(path, spec: TableSpec, seed: int) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = spec.tab
    for row in [header(spec), *data_rows(spec, 4 + seed)]:
        ws.append(row)
    wb.save(path)


def test_xlsx_reader_matches_the_template_header_once(tmp_path):
    header_memo.clear()
    for seed in range(3):
        path = tmp_path / f"unit{seed}.xlsx"
        _workbook(path, TTHC, seed)
        wb = load_workbook(path, read_only=True, data_only=True)
        try:
            table = xlsx_read.read_table(wb, TTHC)
        finally:
            wb.close()
        assert table.layout == slow_find_header([header(TTHC)], TTHC)
        assert len(table.rows) == 4 + seed
    assert (header_memo.scored, header_memo.misses, header_memo.hits) == (1, 1, 2)


# -- the xlsx reader's per-cell formats -------------------------------------------------------


def test_xlsx_formats_cache_agrees_with_each_cell(tmp_path):
    wb = Workbook()
    ws = wb.active
    formats = ["General", "0.00%", '0.00"%"', "dd/mm/yyyy", "@", "#,##0", "0\\%"]
    values = [1, 2.5, "3", True, dt.datetime(2022, 1, 2), None, "  ", "_x0007_"]
    for r, fmt in enumerate(formats, start=1):
        for c, value in enumerate(values, start=1):
            cell = ws.cell(row=r, column=2 * c, value=value)  # every other cell missing
            cell.number_format = fmt
    path = tmp_path / "formats.xlsx"
    wb.save(path)
    rb = load_workbook(path, read_only=True, data_only=True)
    try:
        rows = list(rb.active.iter_rows(values_only=False))
    finally:
        rb.close()
    known = xlsx_read._Formats()
    seen_empty = False
    for _ in range(2):  # cold, then from the cache
        for row in rows:
            for cell in row:
                seen_empty |= cell is EMPTY_CELL
                value = xlsx_read._value(cell)
                assert known.of(cell, value) == xlsx_read._format(cell, value)
                assert known.of(cell, None) == xlsx_read._format(cell, None)
    assert seen_empty
