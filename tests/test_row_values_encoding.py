"""A row's stored JSON (store/row_values.encode_values, made by one C encoder built once) is
exactly what json.dumps(values, ensure_ascii=False, sort_keys=True) with dates as ISO text
writes: the archive compares it with what it stored before to tell a changed row."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_sync.store import row_values
from cchc_sync.store.row_values import encode_values

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(),
    st.sampled_from(["Hà Nội", "Pho\u0300ng", '"x"\\', "\x00\x1f\u2028", "😀", "</script>"]),
    st.dates(), st.datetimes(),
)


def reference(values: dict) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=row_values._iso)


@settings(max_examples=500, deadline=None)
@given(values=st.dictionaries(st.text(max_size=12), scalars, max_size=12))
def test_a_rows_json_is_json_dumps(values):
    assert row_values._C_ENCODE is not None  # CPython: the fast encoder is the one tested
    assert encode_values(values) == reference(values)


def test_what_is_no_row_value_is_refused_as_before():
    with pytest.raises(TypeError):
        encode_values({"a": dt.time(8)})
    with pytest.raises(TypeError):
        reference({"a": dt.time(8)})
