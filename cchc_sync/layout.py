"""Finding a table's columns in a tab by their header titles, not their positions.

Clerks move, rename slightly and re-type header titles; matching by folded title keeps a
moved column readable, and a missing column becomes one finding for the tab.
"""

from __future__ import annotations

from collections.abc import Sequence

from .backends.base import EXPLANATION_TITLE, STATUS_TITLE
from .models import TabLayout
from .normalise import fold
from .templates import TableSpec


def match_header(titles: Sequence[object], spec: TableSpec, header_row: int = 1) -> TabLayout:
    """Map header cells (in sheet order, index 0 = column A) to the table's column keys.

    The first cell whose folded title equals a column's title wins; a second one with the
    same title is reported as an unknown (duplicate) title rather than silently used.
    """
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
    return TabLayout(
        columns=columns,
        explanation_col=explanation,
        status_col=status,
        header_row=header_row,
        unknown_titles=tuple(unknown),
    )
