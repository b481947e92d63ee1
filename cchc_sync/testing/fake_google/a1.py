"""A1 notation for the fake Sheets API: parsing ranges and echoing them the way Google does.

Faithful: quoted sheet names (``'It''s'!A1``), unquoted names with spaces (Google accepts
``My sheet!A1``), a bare sheet name meaning the whole grid, open ranges (``A:A``, ``1:3``,
``A2:2``, ``B3:D``), lower-case letters, reversed corners, and the way Google echoes a range
back: the title quoted only when it is not a plain identifier, open ends clamped to the grid
(``'Sheet1'`` -> ``Sheet1!A1:Z1000``, ``A:A`` -> ``A1:A10`` on a 10-row grid), one cell
written as ``A1``.
Simplified: R1C1 notation is not supported, and a range that names no sheet but is not a
sheet title is read as an A1 reference on the first sheet before trying named ranges
(Google looks at named ranges first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL_RE = re.compile(r"^\$?([A-Za-z]{0,3})\$?(\d*)$")
_PLAIN_TITLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CELL_LIKE_RE = re.compile(r"^([A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*)$")


class A1Error(ValueError):
    """The text is not a range Google would accept."""


def col_letters(index: int) -> str:
    """0-based column index -> letters (0 -> A, 26 -> AA)."""
    if index < 0:
        raise ValueError(index)
    out = ""
    n = index + 1
    while n:
        n, rem = divmod(n - 1, 26)
        out = chr(65 + rem) + out
    return out


def col_index(letters: str) -> int:
    """Letters -> 0-based column index (A -> 0)."""
    n = 0
    for ch in letters.upper():
        if not "A" <= ch <= "Z":
            raise A1Error(letters)
        n = n * 26 + (ord(ch) - 64)
    return n - 1


def quote_title(title: str) -> str:
    """Quote a sheet title as Google does when echoing a range."""
    if _PLAIN_TITLE_RE.match(title) and not _CELL_LIKE_RE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_sheet(text: str) -> tuple[str | None, str | None]:
    """Split ``'Sheet 1'!A1:B2`` into (title, ref). A text without ``!`` gives (None, text)."""
    text = text.strip()
    if text.startswith("'"):
        i, title = 1, list[str]()
        while i < len(text):
            ch = text[i]
            if ch == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title.append("'")
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest == "":
                    return "".join(title), None
                if rest.startswith("!"):
                    return "".join(title), rest[1:] or None
                raise A1Error(text)
            title.append(ch)
            i += 1
        raise A1Error(text)
    if "!" in text:
        sheet, ref = text.rsplit("!", 1)
        return sheet, ref or None
    return None, text


@dataclass(frozen=True)
class Ref:
    """A rectangle; ``None`` ends are open (to the edge of the grid). Indexes are 0-based,
    ends exclusive, like a GridRange."""

    r0: int
    c0: int
    r1: int | None
    c1: int | None

    def clamp(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        return (
            self.r0,
            self.c0,
            rows if self.r1 is None else self.r1,
            cols if self.c1 is None else self.c1,
        )


def _endpoint(text: str) -> tuple[int | None, int | None]:
    m = _CELL_RE.match(text)
    if not m or (not m.group(1) and not m.group(2)):
        raise A1Error(text)
    col = col_index(m.group(1)) if m.group(1) else None
    row = int(m.group(2)) - 1 if m.group(2) else None
    if row is not None and row < 0:
        raise A1Error(text)
    return row, col


def is_a1_ref(text: str) -> bool:
    try:
        parse_ref(text)
    except A1Error:
        return False
    return True


def parse_ref(text: str) -> Ref:
    """Parse the part after ``!``: ``A1``, ``A1:B2``, ``A:A``, ``1:1``, ``A2:2``, ``B3:D``."""
    text = text.strip()
    if ":" not in text:
        row, col = _endpoint(text)
        if row is None or col is None:
            raise A1Error(text)
        return Ref(row, col, row + 1, col + 1)
    left, right = text.split(":", 1)
    r0, c0 = _endpoint(left)
    r1, c1 = _endpoint(right)
    if r0 is None and c0 is None:
        raise A1Error(text)
    rs = 0 if r0 is None else r0
    cs = 0 if c0 is None else c0
    re_ = None if r1 is None else r1 + 1
    ce = None if c1 is None else c1 + 1
    if re_ is not None and re_ <= rs:
        rs, re_ = re_ - 1, rs + 1
    if ce is not None and ce <= cs:
        cs, ce = ce - 1, cs + 1
    return Ref(rs, cs, re_, ce)


def format_cells(r0: int, c0: int, r1: int, c1: int) -> str:
    """Rectangle (ends exclusive) -> ``A1`` or ``A1:B2``."""
    first = f"{col_letters(c0)}{r0 + 1}"
    if r1 - r0 <= 1 and c1 - c0 <= 1:
        return first
    return f"{first}:{col_letters(c1 - 1)}{r1}"


def format_range(title: str, r0: int, c0: int, r1: int, c1: int) -> str:
    return f"{quote_title(title)}!{format_cells(r0, c0, r1, c1)}"
