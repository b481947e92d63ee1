"""Finding a table's columns in a tab by their header titles, not their positions.

Clerks move, rename slightly and re-type header titles; matching by folded title keeps a
moved column readable, and a missing column becomes one finding for the tab.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from cchc_sync.domain.records import TabLayout
from cchc_sync.domain.templates import TableSpec
from cchc_sync.normalise import fold
from cchc_sync.sources.base import EXPLANATION_TITLE, STATUS_TITLE


class HeaderKeys:
    """A table's titles folded once: what `match_header` compares each header cell with.

    Held by `header_keys` per TableSpec (a frozen record: its titles never change)."""

    __slots__ = ("spec", "wanted", "reachable")

    def __init__(self, spec: TableSpec) -> None:
        self.spec = spec
        self.wanted = {fold(c.title): c.key for c in spec.columns}
        """Folded title -> column key (a later column with the same folded title wins)."""
        self.reachable = len(set(self.wanted.values()))
        """The most columns any header row can match: no row can do better than this."""


_STATUS_KEY = fold(STATUS_TITLE)
_EXPLANATION_KEY = fold(EXPLANATION_TITLE)
_KEYS_MAX = 64
_keys: dict[int, HeaderKeys] = {}
_keys_lock = threading.Lock()


def header_keys(spec: TableSpec) -> HeaderKeys:
    """The table's folded titles, folded on the first call for this spec object only."""
    keys = _keys.get(id(spec))
    if keys is not None and keys.spec is spec:  # the entry holds the spec: its id is its own
        return keys
    keys = HeaderKeys(spec)
    with _keys_lock:
        if len(_keys) >= _KEYS_MAX:
            _keys.clear()  # a template set has a dozen tables; only tests make more
        _keys[id(spec)] = keys
    return keys


def match_header(titles: Sequence[object], spec: TableSpec, header_row: int = 1) -> TabLayout:
    """Map header cells (in sheet order, index 0 = column A) to the table's column keys.

    The first cell whose folded title equals a column's title wins; a second one with the
    same title is reported as an unknown (duplicate) title rather than silently used.
    """
    wanted = header_keys(spec).wanted
    columns: dict[str, int] = {}
    explanation = status = None
    unknown: list[str] = []
    for index, raw in enumerate(titles, start=1):
        if raw is None:
            continue
        text = str(raw)
        title = text.strip()
        if not title:
            continue
        key = fold(text)
        if key == _STATUS_KEY and status is None:
            status = index
        elif key == _EXPLANATION_KEY and explanation is None:
            explanation = index
        elif key in wanted and wanted[key] not in columns:
            columns[wanted[key]] = index
        else:
            unknown.append(title)
    return TabLayout(
        columns=columns,
        explanation_col=explanation,
        status_col=status,
        header_row=header_row,
        unknown_titles=tuple(unknown),
    )
