"""Small helpers shared by the local backend's .xlsx modules: styles, safe text, file I/O.

Nothing here knows about templates or plans; it is the vocabulary the other `xlsx_*`
modules are written in. Colours and number formats are sheet_layout's (shared with the
Google backend), as openpyxl styles.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import stat
import tempfile
import unicodedata
from pathlib import Path

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.workbook import Workbook
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from cchc_sync.normalise import fold
from cchc_sync.sources import sheet_layout as layout

log = logging.getLogger(__name__)

DATE_FORMAT = layout.NUMBER_PATTERNS["date"]
DATETIME_FORMAT = layout.NUMBER_PATTERNS["datetime"]
INT_FORMAT = layout.NUMBER_PATTERNS["int"]
FLOAT_FORMAT = layout.NUMBER_PATTERNS["float"]
PERCENT_FORMAT = layout.NUMBER_PATTERNS["percent"]
PERCENT_POINTS_FORMAT = layout.NUMBER_PATTERNS["points"]
TEXT_FORMAT = layout.NUMBER_PATTERNS["text"]

HEADER_FILL = PatternFill("solid", fgColor=layout.HEADER_FILL)
OWNED_HEADER_FILL = PatternFill("solid", fgColor=layout.OWNED_HEADER_FILL)
OWNED_FILL = PatternFill("solid", fgColor=layout.OWNED_FILL)
NO_FILL = PatternFill(fill_type=None)
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
OWNED_FONT = Font(italic=True, color=layout.OWNED_TEXT)
HEADER_ALIGN = Alignment(wrap_text=True, vertical="center", horizontal="center")
WRAP = Alignment(wrap_text=True, vertical="top")
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)

PORTRAIT_COLUMNS_WIDTH = 90
"""Column widths (Excel characters) that A4 portrait holds at 100 % within the default
margins (about 172 mm); wider tabs print landscape (about 259 mm)."""
_DEFAULT_COLUMN_WIDTH = 8.43

# Excel keeps at most 32,767 characters in a cell.
_MAX_CELL_TEXT = 32_767
# A text starting with one of these is read as a formula by Excel/LibreOffice when typed,
# and by openpyxl when assigned: such text must be stored as an inert string.
_FORMULA_START = ("=", "+", "-", "@")


def find_sheet(wb: Workbook, title: str) -> Worksheet | None:
    """The sheet whose title equals `title` ignoring case, tone placement and spacing."""
    wanted = fold(title)
    exact = [ws for ws in wb.worksheets if ws.title == title]
    if exact:
        return exact[0]
    return next((ws for ws in wb.worksheets if fold(ws.title) == wanted), None)


def clean_text(text: str) -> str:
    """Text that openpyxl accepts and Excel keeps: no control characters, not too long."""
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    return text[:_MAX_CELL_TEXT]


def set_text(cell: Cell, text: str) -> None:
    """Store `text` in the cell as a plain string, never as a formula.

    openpyxl turns a str starting with "=" into a formula; forcing the data type back to
    "s" stores it as a shared string, and quotePrefix keeps Excel/LibreOffice from turning
    it into a formula when somebody edits the cell later.
    """
    text = clean_text(text)
    cell.value = text
    if text.startswith(_FORMULA_START):
        cell.data_type = "s"
        cell.quotePrefix = True


def fit_to_page_width(ws: Worksheet, *, title_row: int | None = None) -> None:
    """Print setup for a clerk's printer: A4, every column on the page (scaled to one page
    wide, as many pages tall as the rows need), `title_row` repeated on every page.

    Landscape when the columns (set their widths first) are wider than portrait holds at
    100 %. That matters for a tab of one wide column ("Hướng dẫn"): LibreOffice shrinks to
    fit only what would spill onto a second page, and a single column is never split, only
    cut at the margin. Excel and LibreOffice keep these settings on save, and openpyxl
    keeps them when the software rewrites the workbook."""
    widths = (
        ws.column_dimensions[get_column_letter(i)].width or _DEFAULT_COLUMN_WIDTH
        for i in range(1, ws.max_column + 1)
    )
    landscape = sum(widths) > PORTRAIT_COLUMNS_WIDTH
    setup = ws.page_setup
    setup.paperSize = ws.PAPERSIZE_A4
    setup.orientation = ws.ORIENTATION_LANDSCAPE if landscape else ws.ORIENTATION_PORTRAIT
    setup.fitToWidth = 1
    setup.fitToHeight = 0  # 0: as many pages tall as needed
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_row is not None:
        ws.print_title_rows = f"{title_row}:{title_row}"


def sized_comment(text: str, author: str, *, chars_per_line: int = 40) -> Comment:
    """A note big enough to read without resizing (openpyxl's default box is tiny)."""
    text = clean_text(text)
    lines = sum(max(1, -(-len(part) // chars_per_line)) for part in text.split("\n"))
    return Comment(text, author, height=min(18 * lines + 24, 600), width=300)


def ascii_slug(text: str, *, lower: bool = True, limit: int = 60) -> str:
    """An ASCII file-name part: "UBND xã Long Trị" -> "ubnd-xa-long-tri"."""
    text = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.encode("ascii", "ignore").decode("ascii")
    if lower:
        text = text.lower()
    text = re.sub(r"[^A-Za-z0-9_]+", "-", text).strip("-")
    return text[:limit].strip("-")


def file_token(st: os.stat_result) -> str:
    """The change token of a file: modification time (ns) and size."""
    return f"{st.st_mtime_ns}:{st.st_size}"


def lock_files(path: Path) -> list[Path]:
    """Lock files that Excel or LibreOffice put next to `path` while it is open."""
    name = path.name
    candidates = [
        path.with_name(f"~${name}"),  # Excel
        path.with_name(f".~lock.{name}#"),  # LibreOffice
    ]
    if len(name) > 2:
        # Office shortens the owner file of a long name by replacing its first two characters.
        candidates.append(path.with_name(f"~${name[2:]}"))
    return [p for p in candidates if p.exists()]


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Write `data` to `path` so a reader never sees half a workbook, keeping what makes
    the file its owner's: owner, group, permission bits and extended attributes (POSIX
    ACLs of a share, for one).

    The data goes to a temp file in the same folder that takes on the old file's identity
    and then replaces it (os.replace). When that identity cannot be given to a new file (a
    daemon that is not root cannot chown to the clerk; a file system without xattrs on the
    temp file), the file is rewritten in place instead: same inode, so nothing of its
    identity changes; the caller holds the archive lock and has just checked that no
    Excel/LibreOffice lock file is there. `mode` applies to a new file; an existing file
    keeps its own. A new file gets the usual mode for the process's umask (mkstemp alone
    would make it 0600)."""
    try:
        old = os.stat(path)
    except FileNotFoundError:
        old = None
    if old is not None:
        mode = stat.S_IMODE(old.st_mode)
    elif mode is None:
        mode = 0o666 & ~_umask()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if old is not None and not _take_identity(tmp, path, old):
            tmp.unlink()
            _rewrite_in_place(path, data)
            return
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _take_identity(tmp: Path, path: Path, old: os.stat_result) -> bool:
    """Give `tmp` the owner, group and extended attributes of `path`; False when that is
    not allowed here (the caller then writes in place)."""
    try:
        if (old.st_uid, old.st_gid) != (os.geteuid(), os.getegid()):
            os.chown(tmp, old.st_uid, old.st_gid)
        for name in _xattr_names(path):
            os.setxattr(tmp, name, os.getxattr(path, name))
    except OSError:
        return False
    return True


def _xattr_names(path: Path) -> list[str]:
    try:
        return os.listxattr(path)
    except OSError:  # no xattr support here: nothing to keep
        return []


def _rewrite_in_place(path: Path, data: bytes) -> None:
    log.info("%s rewritten in place to keep its owner, group and ACLs", path)
    with path.open("r+b") as fh:
        fh.write(data)
        fh.truncate()
        fh.flush()
        os.fsync(fh.fileno())


def workbook_bytes(wb: Workbook) -> bytes:
    """The workbook serialised as .xlsx bytes."""
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current
