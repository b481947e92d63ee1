"""State of the fake: Drive files, spreadsheets, sheets and cells, plus the shared store.

Faithful: a cell is (userEnteredValue, effectiveValue, userEnteredFormat, note, data
validation) as in the Sheets API; sheet properties, merges, protected ranges, basic filter,
row/column groups and dimension properties are kept per sheet; a Drive file has id, name,
mimeType, parents, createdTime, modifiedTime and version, owners, permissions, trashed.
Every edit of a spreadsheet bumps ``modifiedTime`` (RFC 3339 with milliseconds, strictly
increasing even within one millisecond) and ``version`` (a string of an integer, as Drive
returns it).
Simplified: a grid is sparse (a dict of cells), so size limits (10 million cells) are
checked only against rowCount x columnCount; formulas are recalculated all at once after
each edit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from cchc_sync.testing.fake_google import cellvalues, formula
from cchc_sync.testing.fake_google.user_oauth import OAuthState

SHEETS_MIME = "application/vnd.google-apps.spreadsheet"
FOLDER_MIME = "application/vnd.google-apps.folder"
MAX_CELLS = 10_000_000

DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}


def _theme_color(kind: str, r: float | None = None, g: float | None = None,
                 b: float | None = None) -> dict[str, Any]:
    rgb = {k: v for k, v in (("red", r), ("green", g), ("blue", b)) if v}
    return {"colorType": kind, "color": {"rgbColor": rgb}}


SPREADSHEET_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        _theme_color("TEXT"),
        _theme_color("BACKGROUND", 1, 1, 1),
        _theme_color("ACCENT1", 0.25882354, 0.52156866, 0.95686275),
        _theme_color("ACCENT2", 0.91764706, 0.2627451, 0.20784314),
        _theme_color("ACCENT3", 0.9843137, 0.7372549, 0.015686275),
        _theme_color("ACCENT4", 0.20392157, 0.65882355, 0.3254902),
        _theme_color("ACCENT5", 1, 0.42745098, 0.003921569),
        _theme_color("ACCENT6", 0.27450982, 0.7411765, 0.7764706),
        _theme_color("LINK", 0.06666667, 0.33333334, 0.8),
    ],
}


def json_copy(obj: Any) -> Any:
    """A copy of JSON-shaped data (dicts, lists, scalars): what copy.deepcopy gives for it,
    without deepcopy's bookkeeping."""
    if isinstance(obj, dict):
        return {k: json_copy(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [json_copy(v) for v in obj]
    return obj


@dataclass(slots=True)
class Cell:
    uev: dict[str, Any] | None = None  # userEnteredValue
    ev: dict[str, Any] | None = None  # effectiveValue
    fmt: dict[str, Any] | None = None  # userEnteredFormat
    note: str | None = None
    dv: dict[str, Any] | None = None  # dataValidation
    owner: Any = field(default=None, compare=False, repr=False)
    """The token of the Sheet that may change this cell in place (Sheet.cell); a cell
    shared by copies of a sheet belongs to none of them."""

    def copy(self) -> Cell:
        """A copy sharing the value and format dicts (never changed in place)."""
        return Cell(self.uev, self.ev, self.fmt, self.note, self.dv)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled as its constructor's arguments: a snapshot of the fake (FakeGoogle.
        # snapshot/restore, once per test of a built district) is twice as fast as with the
        # slotted dataclass's __getstate__/__setstate__.
        return Cell, (self.uev, self.ev, self.fmt, self.note, self.dv, self.owner)

    def is_empty(self) -> bool:
        return self.uev is None and not self.fmt and not self.note and not self.dv

    def number_format(self) -> dict[str, Any] | None:
        return (self.fmt or {}).get("numberFormat")

    def formatted(self) -> str | None:
        return cellvalues.formatted_value(self.ev, self.number_format())


@dataclass
class Sheet:
    props: dict[str, Any]
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    merges: list[dict[str, Any]] = field(default_factory=list)
    protected: list[dict[str, Any]] = field(default_factory=list)
    basic_filter: dict[str, Any] | None = None
    row_groups: list[dict[str, Any]] = field(default_factory=list)
    col_groups: list[dict[str, Any]] = field(default_factory=list)
    row_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    col_meta: dict[int, dict[str, Any]] = field(default_factory=dict)
    token: Any = field(default_factory=object, compare=False, repr=False)
    """Owner mark of the cells this sheet may change in place (Cell.owner). A copy of the
    sheet (Spreadsheet.clone) shares every Cell, and both copies get new tokens: the first
    change of a cell in either copies that cell alone (copy on write)."""

    @property
    def sheet_id(self) -> int:
        return self.props["sheetId"]

    @property
    def title(self) -> str:
        return self.props["title"]

    @property
    def rows(self) -> int:
        return self.props["gridProperties"]["rowCount"]

    @property
    def cols(self) -> int:
        return self.props["gridProperties"]["columnCount"]

    def cell(self, r: int, c: int) -> Cell:
        """The cell at (r, c) to change in place: made if absent, copied first if it is
        shared with another copy of the sheet. Every change of a cell goes through here."""
        found = self.cells.get((r, c))
        if found is None or found.owner is not self.token:
            found = Cell() if found is None else found.copy()
            found.owner = self.token
            self.cells[(r, c)] = found
        return found

    def drop_if_empty(self, r: int, c: int) -> None:
        found = self.cells.get((r, c))
        if found is not None and found.is_empty():
            del self.cells[(r, c)]

    def value_rows(self, r0: int, c0: int, r1: int, c1: int, render: str = "FORMATTED_VALUE",
                   date_render: str = "SERIAL_NUMBER") -> list[list[Any]]:
        """Rows of rendered values over a rectangle, trailing empties trimmed."""
        grid: dict[int, dict[int, Any]] = {}
        for (r, c), cell in self.cells.items():
            if r0 <= r < r1 and c0 <= c < c1 and cell.uev is not None:
                grid.setdefault(r, {})[c] = cellvalues.render(
                    cell.uev, cell.ev, cell.number_format(), render, date_render)
        if not grid:
            return []
        out = []
        for r in range(r0, max(grid) + 1):
            row = grid.get(r, {})
            values = [row.get(c, "") for c in range(c0, max(row) + 1)] if row else []
            while values and values[-1] == "":
                values.pop()
            out.append(values)
        while out and not out[-1]:
            out.pop()
        return out


@dataclass
class Spreadsheet:
    id: str
    props: dict[str, Any]
    sheets: list[Sheet] = field(default_factory=list)
    named_ranges: list[dict[str, Any]] = field(default_factory=list)
    # developer metadata entries (see metadata.py), in creation order
    developer_metadata: list[dict[str, Any]] = field(default_factory=list)
    metadata_seq: int = 0  # how many metadata ids were drawn (ids derive from it)

    def clone(self, only: set[int] | None = None) -> Spreadsheet:
        """A copy to edit atomically. The cells are shared (copy on write: Sheet.cell), and
        their dicts too: the edit code replaces a cell's value/format dicts and never
        mutates them in place. `only`: the sheet ids the edit can change; the other sheets
        are shared with this spreadsheet, not copied (a batchUpdate into two tabs of a big
        master copies those two)."""
        sheets = []
        for s in self.sheets:
            if only is not None and s.sheet_id not in only:
                sheets.append(s)
                continue
            s.token = object()  # its cells are shared from now on: neither copy owns them
            sheets.append(Sheet(
                props=json_copy(s.props),
                cells=dict(s.cells),
                merges=json_copy(s.merges), protected=json_copy(s.protected),
                basic_filter=json_copy(s.basic_filter),
                row_groups=json_copy(s.row_groups), col_groups=json_copy(s.col_groups),
                row_meta=json_copy(s.row_meta), col_meta=json_copy(s.col_meta),
            ))
        return Spreadsheet(id=self.id, props=json_copy(self.props), sheets=sheets,
                           named_ranges=json_copy(self.named_ranges),
                           developer_metadata=json_copy(self.developer_metadata),
                           metadata_seq=self.metadata_seq)

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def sheet_by_title(self, title: str) -> Sheet | None:
        found = next((s for s in self.sheets if s.title == title), None)
        if found is None:
            folded = title.casefold()
            found = next((s for s in self.sheets if s.title.casefold() == folded), None)
        return found

    def reindex(self) -> None:
        self.sheets.sort(key=lambda s: s.props["index"])
        for i, sheet in enumerate(self.sheets):
            sheet.props["index"] = i

    def recalc(self) -> None:
        """Re-evaluate every formula (a few passes, enough for chains of references)."""
        formula_cells = [
            (sheet, key, cell.uev["formulaValue"])
            for sheet in self.sheets for key, cell in sheet.cells.items()
            if cell.uev and "formulaValue" in cell.uev
        ]
        for _ in range(3 if formula_cells else 0):
            for sheet, (r, c), text in formula_cells:
                sheet.cell(r, c).ev = formula.evaluate(text, self._resolver(sheet))

    def _resolver(self, home: Sheet) -> formula.Resolver:
        def resolve(title: str | None, r0: int, c0: int, r1: int | None, c1: int | None
                    ) -> list[list[Any]]:
            sheet = home if title is None else self.sheet_by_title(title)
            if sheet is None:
                raise formula.FormulaError("REF", f"Unresolved sheet name '{title}'.")
            r1 = sheet.rows if r1 is None else r1
            c1 = sheet.cols if c1 is None else c1
            out = []
            for r in range(r0, min(r1, r0 + 100_000)):
                row = []
                for c in range(c0, c1):
                    cell = sheet.cells.get((r, c))
                    ev = cell.ev if cell else None
                    if ev and "errorValue" in ev:
                        raise formula.FormulaError(ev["errorValue"]["type"],
                                                   ev["errorValue"].get("message", ""))
                    row.append(None if not ev else next(iter(ev.values())))
                out.append(row)
            return out

        return resolve

    def total_cells(self) -> int:
        return sum(s.rows * s.cols for s in self.sheets)


@dataclass
class DriveFile:
    id: str
    name: str
    mime_type: str
    owner: str
    parents: list[str]
    created_ms: int
    modified_ms: int
    version: int = 1
    trashed: bool = False
    starred: bool = False
    description: str | None = None
    app_created: bool = True  # visible with the drive.file scope
    unshared: bool = False  # the service account lost access (control endpoint)
    last_modifier: str = ""
    permissions: list[dict[str, Any]] = field(default_factory=list)
    lagging: list[tuple[float, int, int]] = field(default_factory=list)
    """Edits Drive's listings do not show yet: (wall time they show from, version and
    modified_ms before the edit). See Store.listing_lag."""
    spreadsheet: Spreadsheet | None = None
    drive_id: str = ""
    """The shared drive holding the file ("": My Drive); a drive's root has its own id.
    A shared-drive file has no owner: members reach it through the drive (shared_drives.py)."""
    creator: str = ""


def rfc3339(ms: int) -> str:
    when = dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


class Store:
    """Everything the fake knows, behind one re-entrant lock."""

    def __init__(self, seed: int | None = None):
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.files: dict[str, DriveFile] = {}
        self.deleted: set[str] = set()
        self.tokens: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, Any] = {}  # service account email -> public key (optional)
        self.accounts: dict[str, dict[str, Any]] = {}  # email -> {"scopes": [...], ...}
        self.root_ids: dict[str, str] = {}
        self._last_ms = 0
        self.oauth = OAuthState()  # user sign-in and delegation (user_oauth.py)
        self.drive_requests: dict[str, str] = {}  # drives.create requestId -> drive id
        self.listing_lag = 0.0
        """Seconds an edit takes to show in files.list (Drive's search index lags behind
        edits; files.get and Sheets see it at once). Applies to edits made while set."""
        self.time_shift_ms = 0
        """Added to the real clock in every time the fake stamps (modifiedTime, versions'
        times): `shift_clock`."""

    # ------------------------------------------------------------------ ids and time
    def now_ms(self) -> int:
        with self.lock:
            self._last_ms = max(int(time.time() * 1000) + self.time_shift_ms,
                                self._last_ms + 1)
            return self._last_ms

    def shift_clock(self, ms: int) -> None:
        """Move the fake's clock by `ms`: a harness whose own clock is not today's (the
        bench runs in its period's window) moves Google's with it. Backwards only while
        the fake holds no file: Drive's times never go back."""
        with self.lock:
            if ms < 0:
                if self.files:
                    raise ValueError("the fake's clock goes back only before any file")
                self._last_ms = 0
            self.time_shift_ms += ms

    def new_id(self, length: int = 44) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        while True:
            candidate = "1" + "".join(self.rng.choice(alphabet) for _ in range(length - 1))
            if candidate not in self.files and candidate not in self.deleted:
                return candidate

    def new_int_id(self) -> int:
        return self.rng.randint(1, 2**31 - 2)

    def root_of(self, email: str) -> str:
        if email not in self.root_ids:
            self.root_ids[email] = "0A" + self.new_id(17)[1:]
        return self.root_ids[email]

    def permission_id(self, email: str) -> str:
        digest = sum((i + 1) * ord(ch) for i, ch in enumerate(email.lower()))
        return f"{(digest * 2654435761) % 10**20:020d}"

    # ------------------------------------------------------------------ files
    def new_spreadsheet_model(self, file_id: str, title: str,
                              sheets: list[dict[str, Any]] | None = None) -> Spreadsheet:
        ss = Spreadsheet(
            id=file_id,
            props={
                "title": title,
                "locale": "en_US",
                "autoRecalc": "ON_CHANGE",
                "timeZone": "Etc/GMT",
                "defaultFormat": json_copy(DEFAULT_FORMAT),
                "spreadsheetTheme": json_copy(SPREADSHEET_THEME),
            },
        )
        for i, spec in enumerate(sheets or [{}]):
            props = spec.get("properties", {}) if isinstance(spec, dict) else {}
            grid = props.get("gridProperties") or {}
            sheet_props = {
                "sheetId": props.get("sheetId", 0 if i == 0 else self.new_int_id()),
                "title": props.get("title") or f"Sheet{i + 1}",
                "index": i,
                "sheetType": "GRID",
                "gridProperties": {
                    "rowCount": grid.get("rowCount", 1000),
                    "columnCount": grid.get("columnCount", 26),
                },
            }
            for key in ("frozenRowCount", "frozenColumnCount"):
                if grid.get(key):
                    sheet_props["gridProperties"][key] = grid[key]
            ss.sheets.append(Sheet(props=sheet_props))
        return ss

    def create_file(self, name: str, mime_type: str, owner: str, parents: list[str] | None = None,
                    app_created: bool = True, file_id: str | None = None) -> DriveFile:
        with self.lock:
            now = self.now_ms()
            file = DriveFile(
                id=file_id or self.new_id(),
                name=name,
                mime_type=mime_type,
                owner=owner,
                parents=list(parents) if parents else [self.root_of(owner)],
                created_ms=now,
                modified_ms=now,
                app_created=app_created,
                last_modifier=owner,
            )
            file.permissions.append(self.make_permission("user", "owner", owner))
            if mime_type == SHEETS_MIME:
                file.spreadsheet = self.new_spreadsheet_model(file.id, name)
            self.files[file.id] = file
            return file

    def make_permission(self, kind: str, role: str, email: str | None = None,
                        domain: str | None = None) -> dict[str, Any]:
        perm: dict[str, Any] = {"kind": "drive#permission", "type": kind, "role": role}
        if kind in ("user", "group") and email:
            perm["id"] = self.permission_id(email)
            perm["emailAddress"] = email
            perm["displayName"] = email.split("@")[0]
        elif kind == "domain":
            perm["id"] = f"{self.permission_id(domain or '')}k"
            perm["domain"] = domain
            perm["displayName"] = domain
        else:
            perm["id"] = "anyoneWithLink"
        perm["deleted"] = False
        perm["pendingOwner"] = False
        return perm

    def role_of(self, file: DriveFile, email: str) -> str | None:
        """The caller's role on a file, or None when it cannot see it."""
        if file.unshared:
            return None
        best = None
        order = {"reader": 1, "commenter": 2, "writer": 3, "fileOrganizer": 4, "organizer": 5,
                 "owner": 6}
        root = self.files.get(file.drive_id) if file.drive_id else None
        inherited = root.permissions if root is not None and root is not file else []
        for perm in [*file.permissions, *inherited]:
            if perm.get("type") in ("user", "group") and perm.get("emailAddress", "").lower() \
                    == email.lower() or perm.get("type") == "anyone":
                role = perm.get("role", "reader")
                if best is None or order.get(role, 0) > order.get(best, 0):
                    best = role
        return best

    def bump(self, file: DriveFile, by: str) -> None:
        """Record an edit: modifiedTime strictly increases, version goes up by one."""
        with self.lock:
            if self.listing_lag > 0:
                file.lagging.append((time.time() + self.listing_lag, file.version,
                                     file.modified_ms))
            file.modified_ms = self.now_ms()
            file.version += 1
            file.last_modifier = by

    def catch_up_listings(self) -> None:
        """Drive's index catches up: every lagging edit shows in listings from now on."""
        with self.lock:
            for file in self.files.values():
                file.lagging.clear()

    def as_listed(self, file: DriveFile) -> DriveFile:
        """The file as files.list shows it now: before the first edit still lagging."""
        with self.lock:
            now = time.time()
            file.lagging[:] = [entry for entry in file.lagging if entry[0] > now]
            if not file.lagging:
                return file
            _, version, modified_ms = file.lagging[0]
            return dataclasses.replace(file, version=version, modified_ms=modified_ms,
                                       lagging=[])
