"""The flag write's body (flag_body.py): status cells made and encoded once per process and
spliced in, the bytes exactly what GoogleTransport's json.dumps writes for the same body,
so Google (and the fake, and every recorded body) sees no difference."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_sync.sources.google.cells import cell
from cchc_sync.sources.google.flag_body import CellJson, body_json, status_cell
from cchc_sync.sources.google.unit_sheet import status_base
from cchc_sync.sources.sheet_layout import STATUS_STYLE


def dumped(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def test_a_status_cell_is_the_cell_it_stands_for() -> None:
    for style in STATUS_STYLE.values():
        for text in ("✔ Hợp lệ", "✖ 2 lỗi", ""):
            shared = status_cell(text, style.colour, style.fill, style.bold)
            made = cell(text, colour=style.colour, fill=style.fill, bold=style.bold)
            assert shared == made and shared.json == json.dumps(
                made, ensure_ascii=False, separators=(",", ":"))
    base = status_cell(None, *_owned(), False, italic=True)
    assert base == status_base()
    assert status_cell("x", "9C0006", "FFC7CE", True) is status_cell("x", "9C0006", "FFC7CE",
                                                                      True)


def _owned() -> tuple[str, str]:
    from cchc_sync.sources.sheet_layout import OWNED_FILL, OWNED_TEXT
    return OWNED_TEXT, OWNED_FILL


def test_a_shared_status_cell_cannot_be_changed() -> None:
    shared = status_cell("✖ 1 lỗi", "9C0006", "FFC7CE", True)
    for change in (lambda: shared.__setitem__("note", "x"), lambda: shared.pop("userEnteredValue"),
                   lambda: shared.update(note="x"), shared.clear,
                   lambda: shared.setdefault("note", "x"), lambda: shared.__delitem__("x")):
        with pytest.raises(TypeError):
            change()
    import copy
    import pickle

    for again in (copy.copy(shared), copy.deepcopy(shared), pickle.loads(pickle.dumps(shared))):
        assert again == shared and again.json == shared.json
    assert "note" not in shared and shared.json == json.dumps(
        dict(shared), ensure_ascii=False, separators=(",", ":"))


_TEXT = st.text(alphabet=st.sampled_from('ab"\\:[]{},rowsequ ✔ệ\n\x00'), max_size=12)
_STYLES = [(s.colour, s.fill, s.bold) for s in STATUS_STYLE.values()]
_CELL = st.one_of(
    st.builds(lambda t, s: status_cell(t, *s), st.one_of(st.none(), _TEXT),
              st.sampled_from(_STYLES)),
    st.builds(lambda t, n: cell(t, note=n or None), _TEXT, _TEXT),
    st.just({}))
_ROWS = st.lists(st.one_of(
    st.builds(lambda v: {"values": v}, st.lists(_CELL, max_size=3)),
    st.just({}), st.builds(lambda v: {"values": v, "x": 1}, st.lists(_CELL, max_size=2))),
    max_size=4)
_REQUEST = st.one_of(
    st.builds(lambda rows, f, i: {"updateCells": {
        "start": {"sheetId": i, "rowIndex": 1, "columnIndex": 2}, "rows": rows, "fields": f}},
        _ROWS, _TEXT, st.integers(0, 2**31)),
    st.builds(lambda rows, f: {"updateCells": {"fields": f, "rows": rows}}, _ROWS, _TEXT),
    st.builds(lambda c, f: {"repeatCell": {"range": {"sheetId": 1}, "cell": c, "fields": f}},
              _CELL, _TEXT),
    st.builds(lambda rows: {"updateCells": {"rows": rows}, "other": 1}, _ROWS))


@settings(max_examples=300, deadline=None)
@given(requests=st.lists(_REQUEST, max_size=5), ranges=st.lists(_TEXT, max_size=3),
       grid=st.booleans())
def test_the_body_is_what_json_dumps_writes(requests: list[Any], ranges: list[str],
                                            grid: bool) -> None:
    body: dict[str, Any] = {"requests": requests}
    if grid:
        body.update(includeSpreadsheetInResponse=True, responseRanges=ranges,
                    responseIncludeGridData=True)
    assert body_json(body) == dumped(body)
    assert body_json({"responseRanges": ranges, **body}) == dumped(
        {"responseRanges": ranges, **body})


def test_a_status_block_is_spliced_as_its_cells_json() -> None:
    shared = status_cell("✔ Hợp lệ", *_STYLES[0])
    body = {"requests": [{"updateCells": {"start": {"sheetId": 3}, "rows": [
        {"values": [shared]}, {"values": [cell("khác")]}], "fields": "userEnteredValue"}}]}
    assert isinstance(shared, CellJson)
    assert body_json(body) == dumped(body)
    assert shared.json.encode("utf-8") in body_json(body)
