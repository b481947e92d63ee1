"""A master cell is the same CellData whether made by a column's fast maker
(master._cell_maker: text, whole numbers, blanks and dates at once) or by `_value_cell`,
which handles every type pandas and the book can hold."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_sync.sources.google.master import _cell_json_maker, _cell_maker, _value_cell
from cchc_sync.sources.google.master_spool import sorted_json
from cchc_sync.sources.sheet_layout import Link, PercentPoints

KINDS = ("percent", "int", "float", "date", "isodate", "datetime", "auto")
EDGES: list[Any] = [
    None, "", "Xã Hòa Bình", "a\x00b\x1fc", "tab\tand\nnewline", "\u2028", "x" * 60_000,
    "2026-06-15", "=IMPORTXML(1)", 0, 7, -3, 2**60, True, False, 0.0, 2.5, 3.0,
    float("nan"), float("inf"), np.int64(5), np.float64(2.0), np.nan, pd.NA, pd.NaT,
    decimal.Decimal("1.5"), PercentPoints(96.16), Link("Mở", "https://x"),
    dt.date(2026, 6, 15), dt.datetime(2026, 6, 15, 8, 30), pd.Timestamp("2026-06-15"),
]


def test_every_kind_and_type_is_made_as_value_cell_makes_it() -> None:
    for kind in KINDS:
        make = _cell_maker(kind)
        for value in EDGES:
            if kind == "isodate" and isinstance(value, str) and value != "2026-06-15":
                continue  # an isodate column holds ISO dates only (column_kind)
            assert make(value) == _value_cell(value, kind), (kind, value)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([k for k in KINDS if k != "isodate"]),
       st.none() | st.text() | st.integers() | st.booleans() | st.floats() | st.dates())
def test_any_value_is_made_alike(kind: str, value: Any) -> None:
    assert _cell_maker(kind)(value) == _value_cell(value, kind)


@settings(max_examples=300, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=20))
def test_sorted_json_is_json_dumps(value: Any) -> None:
    """The spool's C encoder, made once, writes what json.dumps writes with its
    arguments (the shape's digests and the parts' bytes depend on it)."""
    import json

    assert sorted_json(value) == json.dumps(value, ensure_ascii=False, separators=(",", ":"),
                                            sort_keys=True)


def test_every_kind_and_type_is_written_as_its_cell_encodes() -> None:
    """The spool's row JSON, written at once for the common types, is the CellData's
    sorted_json (the shape's digests and the write's bytes depend on it)."""
    for kind in KINDS:
        make, make_json = _cell_maker(kind), _cell_json_maker(kind)
        for value in EDGES:
            if kind == "isodate" and isinstance(value, str) and value != "2026-06-15":
                continue
            assert make_json(value) == sorted_json(make(value)), (kind, value)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([k for k in KINDS if k != "isodate"]),
       st.none() | st.text() | st.integers() | st.booleans() | st.floats() | st.dates())
def test_any_value_is_written_as_its_cell_encodes(kind: str, value: Any) -> None:
    assert _cell_json_maker(kind)(value) == sorted_json(_cell_maker(kind)(value))
