"""The flag write's batchUpdate body as JSON bytes, its status cells encoded once per process.

A flag write colours every status cell of a unit (tens to a hundred), each a CellData with
two colours of three floats; encoding those floats was a third of encoding the body, and
the body's encoding a tenth of a flag write's CPU. A status cell depends only on its text
and style, and a cycle writes a handful of distinct ones, so each is made and encoded once
(`status_cell`) and its JSON spliced into the body (`body_json`), which is byte for byte
what GoogleTransport's json.dumps writes for the same body (tests/test_google_flag_body.py).
"""

from __future__ import annotations

import functools
import json
from typing import Any, NoReturn

from cchc_sync.sources.google.cells import cell

# The encoder json.dumps(ensure_ascii=False, separators=(",", ":")) makes, made once (no
# circular-reference markers: a body is a few levels of dicts and lists).
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_PLAIN = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_C_PLAIN = _make_c_encoder(
    None, _PLAIN.default, json.encoder.encode_basestring, None, _PLAIN.key_separator,
    _PLAIN.item_separator, False, False, True,
) if _make_c_encoder is not None else None


def plain_json(obj: Any) -> str:
    """`obj` as json.dumps(obj, ensure_ascii=False, separators=(",", ":")) writes it."""
    if _C_PLAIN is not None:
        return "".join(_C_PLAIN(obj, 0))
    return _PLAIN.encode(obj)


class CellJson(dict[str, Any]):
    """A CellData shared by every status cell of its text and style, with its JSON. Shared,
    so never changed: its own keys refuse it (what it holds is not changed either)."""

    __slots__ = ("json",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.json = plain_json(data)

    def __reduce__(self) -> tuple[Any, ...]:
        # copy and pickle make it anew, not key by key.
        return CellJson, (dict(self),)

    def _frozen(self, *_: Any, **__: Any) -> NoReturn:
        raise TypeError("a shared status cell is not changed")

    __setitem__ = __delitem__ = update = pop = popitem = clear = setdefault = _frozen
    __ior__ = _frozen


@functools.lru_cache(maxsize=512)
def status_cell(text: str | None, colour: str | None, fill: str | None, bold: bool,
                italic: bool = False) -> CellJson:
    """`cell(text, colour=, fill=, bold=, italic=)`, made and encoded once."""
    return CellJson(cell(text, colour=colour, fill=fill, bold=bold, italic=italic))


def body_json(body: dict[str, Any]) -> bytes:
    """json.dumps(body, ensure_ascii=False, separators=(",", ":")) as UTF-8, with the
    CellJson cells of updateCells rows spliced in as their JSON."""
    requests = body.get("requests")
    if not isinstance(requests, list) or next(iter(body)) != "requests":
        return plain_json(body).encode("utf-8")
    parts = [_request_json(r) for r in requests]
    # "requests" is the first key: its '"requests":[]' comes before any other value.
    head, _, tail = plain_json({**body, "requests": []}).partition('"requests":[]')
    return "".join((head, '"requests":[', ",".join(parts), "]", tail)).encode("utf-8")


def _request_json(request: Any) -> str:
    cells = request.get("updateCells") if isinstance(request, dict) else None
    rows = cells.get("rows") if isinstance(cells, dict) else None
    if not isinstance(cells, dict) or not isinstance(rows, list) or len(request) != 1 \
            or not any(map(_has_shared, rows)):
        return plain_json(request)  # one C call beats a Python loop over its cells
    # '"rows":[]' is there once, as the key: other values are escaped strings and numbers.
    head, _, tail = plain_json({"updateCells": {**cells, "rows": []}}).partition('"rows":[]')
    texts = [
        '{"values":[' + ",".join(c.json if isinstance(c, CellJson) else plain_json(c)
                                 for c in row["values"]) + "]}"
        if _values_only(row) else plain_json(row)
        for row in rows]
    return "".join((head, '"rows":[', ",".join(texts), "]", tail))


def _values_only(row: Any) -> bool:
    return isinstance(row, dict) and len(row) == 1 and isinstance(row.get("values"), list)


def _has_shared(row: Any) -> bool:
    return _values_only(row) and any(isinstance(c, CellJson) for c in row["values"])
