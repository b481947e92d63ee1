"""A master tab's rows as JSON, made once per write and kept out of memory.

A whole master write needs every data row three ways: its digest for the shape the next
write compares with (master_update.master_shape), its size in bytes to cut the write into
parts within the budget (master.master_batches), and its CellData in the request. Making
the CellData (MasterTab.iter_rows: a Python dict per cell) is most of the cost, and it
was done twice over, the JSON encoded three times (shape, sizes, the transport). The shape
now spools each row as the compact, key-sorted JSON it digests, and a whole rewrite's
bodies are assembled from those bytes as they are (`RawRow`, `encode_body`), their sizes
known without encoding them; a difference's few rows are decoded (`json.loads`). Key
order does not matter to Google and the byte count is the same either way.

The spool is a temporary file (in memory up to SPOOL_BYTES), never a list of every row:
a 5,000-unit master's rows are about 100 MB of JSON (issue 17 item 6 keeps the cycle's
peak RSS under 500 MB).
"""

from __future__ import annotations

import json
import tempfile
from array import array
from collections.abc import Iterator
from typing import IO, Any

SPOOL_BYTES = 1 << 20
"""Rows' JSON held in memory before the spool moves to a temporary file."""
ROW_WRAPPING = len('{"values":}')
"""Bytes a RowData's JSON adds to its cells' list."""


_SORTED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), sort_keys=True)
# json.dumps with arguments builds a JSONEncoder, and its encode() a C encoder, on every
# call: more than a row's few cells cost to encode, twice a row (its cells, its block
# key). This is the C encoder encode() makes, made once (the same arguments; no
# circular-reference markers: a row is a few levels of dicts and lists).
# tests/test_google_master_cells.py holds it to json.dumps.
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_SORTED = _make_c_encoder(
    None, _SORTED.default, json.encoder.encode_basestring, None, _SORTED.key_separator,
    _SORTED.item_separator, True, False, True,
) if _make_c_encoder is not None else None


def sorted_json(obj: Any) -> str:
    """`obj` as json.dumps(obj, ensure_ascii=False, separators=(",", ":"),
    sort_keys=True) writes it."""
    if _C_SORTED is not None:
        return "".join(_C_SORTED(obj, 0))
    return _SORTED.encode(obj)


class RawRow(bytes):
    """A RowData as JSON, taken from the spool as it is: `encode_body` puts it into the
    request body without decoding and encoding it again."""

    __slots__ = ()


def encode_body(requests: list[dict[str, Any]]) -> bytes:
    """The batchUpdate body {"requests": [...]} as compact UTF-8 JSON (keys sorted): the
    bytes GoogleTransport would send for it, but an updateCells' RawRow rows spliced in as
    they are (its other rows encoded)."""
    parts = []
    for request in requests:
        cells = request.get("updateCells") or {}
        rows = cells.get("rows")
        if not rows or not any(isinstance(r, RawRow) for r in rows):
            parts.append(sorted_json(request).encode("utf-8"))
            continue
        # '"rows":[]' is there once: keys sorted, no other value of updateCells holds it.
        head, _, tail = sorted_json({**request, "updateCells": {**cells, "rows": []}}
                                    ).partition('"rows":[]')
        data = b",".join(r if isinstance(r, RawRow) else sorted_json(r).encode("utf-8")
                         for r in rows)
        parts.append(b"".join((head.encode("utf-8"), b'"rows":[', data, b"]",
                               tail.encode("utf-8"))))
    return b'{"requests":[' + b",".join(parts) + b"]}"


READ_BYTES = 1 << 20
"""Rows' JSON read back from the spool at a time."""


class RowSpool:
    """Rows 1.. of one tab (row 0, the header, is the tab's own), added in order, read back
    in runs; `blocks` the shape's blocks of those rows (master_update.master_shape), set
    once every row is in (`done`)."""

    def __init__(self) -> None:
        self._file: IO[bytes] | None = None
        self._ends = array("q")
        self.blocks: list[list[Any]] = []
        self.done = False

    def __len__(self) -> int:
        return len(self._ends)

    def add(self, data: bytes) -> None:
        if self._file is None:
            self._file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115
        self._file.write(data)
        self._ends.append((self._ends[-1] if self._ends else 0) + len(data))

    def total(self) -> int:
        """Bytes of every row as RowData, with a comma after each."""
        return (self._ends[-1] if self._ends else 0) + len(self._ends) * (ROW_WRAPPING + 1)

    def rows(self, start: int, end: int) -> Iterator[tuple[dict[str, Any], int]]:
        """(RowData, its bytes) of rows [start, end) (0 = the first row below the header),
        read back about READ_BYTES at a time."""
        for raw, size in self.raw_rows(start, end):
            yield json.loads(raw), size

    def raw_rows(self, start: int, end: int) -> Iterator[tuple[RawRow, int]]:
        """(RowData as JSON, its bytes) of rows [start, end), read back about READ_BYTES at
        a time."""
        end = min(end, len(self._ends))
        ends = self._ends
        while start < end and self._file is not None:
            first = ends[start - 1] if start else 0
            stop = start + 1
            while stop < end and ends[stop] - first <= READ_BYTES:
                stop += 1
            self._file.seek(first)
            data = self._file.read(ends[stop - 1] - first)
            self._file.seek(0, 2)  # a later add goes to the end
            at = 0
            for index in range(start, stop):
                until = ends[index] - first
                yield (RawRow(b'{"values":%b}' % data[at:until]),
                       until - at + ROW_WRAPPING)
                at = until
            start = stop

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._ends = array("q")
        self.done = False
