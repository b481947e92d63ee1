"""The master's data rows as sheet XML, written directly: the bytes openpyxl writes for them.

A master row went through openpyxl one cell object at a time (a cell made, its value
bound, a style looked up by hash, an lxml element written): about 30 µs a cell, most of
a large master's write (a 50,000-row tab: seconds). The master's cells are few kinds —
text, whole or decimal numbers, percent points, dates, booleans, the HYPERLINK of a
unit's sheet — each with one of the styles master._register_styles fixes in advance, so
each kind is formatted here as openpyxl formats it (inline string with xml:space when
the text has edge whitespace, "%.16g" numbers, Excel serial dates, non-ASCII as character
references) and spliced into the sheet part openpyxl wrote with only the header row.

Anything else — a text Excel would read as an error code (#N/A), a carriage return (lxml
writes it as a character reference), a value of another type — makes `render_rows` give
up on the tab (None), and the tab is written by openpyxl as before.
tests/test_master_rows.py holds the two writers to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Sequence
from typing import IO, Any

from openpyxl.cell.cell import ERROR_CODES
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from cchc_sync.sources.sheet_layout import Link, MasterFrame, PercentPoints, plain
from cchc_sync.sources.sheet_text import to_vn_time
from cchc_sync.sources.xlsx.common import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    FLOAT_FORMAT,
    INT_FORMAT,
    PERCENT_POINTS_FORMAT,
    clean_text,
)

StyleOf = Callable[[str | None, bool, bool], int | None]
"""(number format, quote-prefixed, wrapped) -> the style id of a cell so styled (None:
the plain style, written without an "s" attribute)."""

_QUOTED = ("=", "+", "-", "@")
SPOOL_BYTES = 1024 * 1024
"""Rendered rows beyond this go to a temporary file: a 5,000-unit master's rows are
hundreds of MB of XML, which the process need not hold (issue 17: peak RSS)."""


class _GiveUp(Exception):
    """A value this writer does not format as openpyxl would: the tab goes to openpyxl."""


def _text(text: str) -> str:
    if "\r" in text:
        raise _GiveUp
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_rows(framed: MasterFrame, wrap: Sequence[bool], style_of: StyleOf,
                parts: Iterable[range], line_count: Callable[[str], int],
                line_points: int) -> tuple[IO[bytes], int] | None:
    """The `<row>` elements of the frame's rows in `parts`, numbered from 2, in a file
    positioned at its start (in memory up to SPOOL_BYTES, then on disk; the caller closes
    it), and how many rows they are; None when a value needs openpyxl (see the module's
    doc)."""
    letters = [get_column_letter(i + 1) for i in range(len(framed.titles))]
    kinds = framed.kinds
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES,  # noqa: SIM115
                                                   prefix="cchc-master-rows-")
    number = 1
    try:
        for part in parts:
            for values in framed.rows(part):
                number += 1
                cells = []
                lines = 1
                for letter, value, kind, wraps in zip(letters, values, kinds, wrap,
                                                      strict=True):
                    cell = _cell(f"{letter}{number}", plain(value), kind, wraps, style_of)
                    if cell is None:
                        continue
                    xml, shown = cell
                    cells.append(xml)
                    if wraps:
                        lines = max(lines, line_count(shown))
                head = (f'<row r="{number}" ht="{line_points * lines}" customHeight="1">'
                        if lines > 1 else f'<row r="{number}">')
                out.write((head + "".join(cells) + "</row>").encode("ascii",
                                                                  "xmlcharrefreplace"))
    except _GiveUp:
        out.close()
        return None
    out.seek(0)
    return out, number - 1


def _cell(ref: str, value: Any, kind: str, wraps: bool,
          style_of: StyleOf) -> tuple[str, str] | None:
    """(the cell's XML, its value as text for the wrapped-line count), None for a blank."""
    if value is None:
        return None
    if isinstance(value, Link):
        formula = value.formula()
        return (_element(ref, style_of(None, False, wraps), None,
                         f"<f>{_text(formula[1:])}</f><v></v>"), formula)
    if isinstance(value, str):
        if kind == "isodate":
            return _number(ref, dt.date.fromisoformat(value), DATE_FORMAT, wraps, style_of)
        return _string(ref, value, wraps, style_of)
    if isinstance(value, bool):
        return (_element(ref, style_of(None, False, wraps), "b",
                         f"<v>{int(value)}</v>"), str(value))
    if isinstance(value, int | float):
        if kind == "percent" or isinstance(value, PercentPoints):
            return _number(ref, value, PERCENT_POINTS_FORMAT, wraps, style_of)
        if isinstance(value, int) or (kind == "int" and value.is_integer()):
            return _number(ref, int(value), INT_FORMAT, wraps, style_of)
        return _number(ref, value, FLOAT_FORMAT, wraps, style_of)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = to_vn_time(value).replace(tzinfo=None)
        if kind == "date" or (value.time() == dt.time() and kind != "datetime"):
            return _number(ref, value.date(), DATE_FORMAT, wraps, style_of)
        return _number(ref, value, DATETIME_FORMAT, wraps, style_of)
    if isinstance(value, dt.date):
        return _number(ref, value, DATE_FORMAT, wraps, style_of)
    if type(value) is dt.time or type(value) is dt.timedelta:
        raise _GiveUp  # openpyxl binds these as times, not as their text
    return _string(ref, str(value), wraps, style_of)


def _string(ref: str, value: str, wraps: bool, style_of: StyleOf) -> tuple[str, str]:
    text = clean_text(value)
    if text in ERROR_CODES:
        raise _GiveUp
    style = style_of(None, text.startswith(_QUOTED), wraps)
    if not text:
        return _element(ref, style, "inlineStr", ""), text  # openpyxl: an empty element
    space = ' xml:space="preserve"' if text != text.strip() else ""
    return _element(ref, style, "inlineStr", f"<is><t{space}>{_text(text)}</t></is>"), text


def _number(ref: str, value: Any, number_format: str, wraps: bool,
            style_of: StyleOf) -> tuple[str, str]:
    stored = to_excel(value) if isinstance(value, dt.date) else value
    shown = "%.16g" % stored  # noqa: UP031 - openpyxl's own (compat.safe_string)
    return (_element(ref, style_of(number_format, False, wraps), "n", f"<v>{shown}</v>"),
            str(value))


def _element(ref: str, style: int | None, kind: str | None, inner: str) -> str:
    attrs = f'<c r="{ref}"'
    if style is not None:
        attrs += f' s="{style}"'
    if kind is not None:
        attrs += f' t="{kind}"'
    return f"{attrs}>{inner}</c>"
