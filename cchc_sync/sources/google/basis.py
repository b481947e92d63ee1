"""The Google backend's read → write basis: what `write_flags` needs from the read its plan
was computed from, as a `ReadBasis` value the pipeline keeps in the archive.

Before, four per-process caches of the backend carried these from `read_unit` to
`write_flags`; a restart between the two lost them and the write behaved differently (one
more request for the flag state, no row check, template titles for renamed headers). Now
the read returns them and the write is given them back, so a restart changes nothing.

`ReadBasis.detail` keys (all written by `google_basis`, read only by `flag_basis`):

- "state": the flag state text of the sheet's hidden "_cchc" tab at the read
  (cells.FlagState JSON; None when the tab or the entry is missing): which notes, colours
  and statuses the software wrote last time, so the write removes exactly its own.
- "headers": [[table key, column key, header title as the sheet shows it], ...]: the
  titles the "Kiểm tra" tab names columns by (a clerk may have re-typed a title).
- "missing": table keys whose tab the read did not find: they get no marks (a tab made
  again in the meantime may now hold something else).
- "prints": {table key: {"columns": [[column key, 1-based index], ...],
  "explanation_col", "status_col", "rows": [[sheet row, hex digest], ...]}}: each found
  tab's columns and each data row's content digest (rows.TabPrint), to tell in the write's
  answer whether rows moved since the read (sort, insert, delete) and follow them;
  "header_row" and "raw": the header's row and one digest of the tab's rows as read
  (rows.raw_digest; absent in bases kept before it), so an answer showing those very rows
  needs no parsing (rows.unmoved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cchc_sync.domain.records import RawTable, ReadBasis
from cchc_sync.sources.google.cells import FlagState
from cchc_sync.sources.google.rows import TabPrint, tab_prints

KIND = "google"


@dataclass(frozen=True, slots=True)
class FlagBasis:
    """A Google ReadBasis, decoded for the flag write."""

    state: FlagState
    headers: dict[tuple[str, str], str]
    missing: frozenset[str]
    prints: dict[str, TabPrint]


def google_basis(sid: str, tables: Mapping[str, RawTable],
                 ranges: Mapping[str, Sequence[Sequence[Any]] | None],
                 state_text: str | None) -> ReadBasis:
    """The basis of one read: `tables` as read from `ranges` (table key -> the tab's rows),
    `state_text` the flag state found in "_cchc"."""
    headers: list[list[str]] = []
    for key, table in tables.items():
        rows = ranges.get(key)
        if rows is None or table.layout is None:
            continue
        head = rows[table.layout.header_row - 1] if len(rows) >= table.layout.header_row else []
        for column, index in table.layout.columns.items():
            if index <= len(head) and str(head[index - 1]).strip():
                headers.append([str(key), str(column), str(head[index - 1]).strip()])
    # Built of the very values a JSON round trip gives (str keys, str and int, lists; keys
    # in sorted order), so the basis skips that round trip (ReadBasis.of_json_values).
    prints = {
        key: {"columns": [[str(c), int(i)] for c, i in p.columns],
              "explanation_col": _int(p.explanation_col), "header_row": int(p.header_row),
              "raw": p.raw_digest(ranges.get(key) or ()).hex(),
              "rows": [[int(row), digest.hex()] for row, digest in p.rows],
              "status_col": _int(p.status_col)}
        for key, p in sorted(tab_prints(tables).items())
    }
    return ReadBasis.of_json_values(backend=KIND, ref=sid, detail={
        "headers": sorted(headers),
        "missing": sorted(str(k) for k, t in tables.items() if not t.tab_found),
        "prints": prints,
        "state": None if state_text is None else str(state_text),
    })


def _int(value: int | None) -> int | None:
    return None if value is None else int(value)


def flag_basis(basis: ReadBasis | None, sid: str) -> FlagBasis | None:
    """What the flag write of sheet `sid` knows from its basis; None when there is no
    usable one (another backend's or sheet's, or unreadable): the write then reads the
    flag state from the sheet and skips the row check, as before bases were kept."""
    if basis is None or not basis.usable_for(KIND, sid):
        return None
    d = basis.detail
    try:
        state_text = d.get("state")
        state = FlagState.from_json(state_text) if state_text else FlagState()
        headers = {(str(t), str(c)): str(title) for t, c, title in d.get("headers") or ()}
        prints = {
            str(key): TabPrint(
                columns=tuple((str(c), int(i)) for c, i in p["columns"]),
                explanation_col=p.get("explanation_col"), status_col=p.get("status_col"),
                rows=tuple((int(r), bytes.fromhex(h)) for r, h in p["rows"]),
                header_row=int(p.get("header_row") or 1),
                raw=bytes.fromhex(p["raw"]) if p.get("raw") and p.get("header_row") else None)
            for key, p in (d.get("prints") or {}).items()
        }
        return FlagBasis(state=state, headers=headers,
                         missing=frozenset(str(k) for k in d.get("missing") or ()),
                         prints=prints)
    except (TypeError, ValueError, KeyError, AttributeError):
        return None
