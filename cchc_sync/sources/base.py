"""The one interface both backends implement, and the plain data they exchange.

Backends do I/O only: they create sheets, tell which sheets changed, read cells into
RawTables, and apply a FlagPlan or a MasterBook that the pure stages computed. They never
normalise, validate or merge.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import pandas as pd

from cchc_sync.domain.digest import json_digest
from cchc_sync.domain.records import (
    Finding,
    Period,
    ReadBasis,
    Severity,
    TabLayout,
    Unit,
    UnitRead,
)

__all__ = ["ReadBasis"]  # part of the interface: read_unit returns it, write_flags takes it
from cchc_sync.domain.templates import TemplateSet

# Titles of the software-owned parts of a unit's sheet (what the clerk sees).
INSTRUCTIONS_TAB = "Hướng dẫn"
CHECK_TAB = "Kiểm tra"
META_TAB = "_cchc"
"""Hidden tab holding unit code, period and template version the sheet was made from."""
MASTER_SIGNATURE_TABS = ("Tổng hợp",)
"""Tabs every master has (even before its first cycle) and no unit sheet is made with: with
no "_cchc" tab, how a copy of the master is told apart from a unit's sheet."""
EXPLANATION_TITLE = "Giải trình"
STATUS_TITLE = "Kết quả kiểm tra"

ERROR_FILL = "F4CCCC"
"""Light red: an error on this cell."""
WARNING_FILL = "FFF2CC"
"""Light yellow: a warning on this cell."""
NOTE_AUTHOR = "cchc-sync"
"""Author of the notes the software puts on cells; notes by others are never touched."""


Prefill = dict[str, list[dict[str, Any]]]
"""Table key -> rows of {column key: value} to type into a new sheet."""


class SourceError(Exception):
    """The run cannot continue with this source (bad credentials, missing folder)."""


class UnitUnreachable(Exception):
    """One unit's sheet cannot be read or written now (gone, unshared, locked)."""


class ScanState(StrEnum):
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, kw_only=True, slots=True)
class SheetRef:
    ref: str
    """Backend identity of the sheet: a workbook path relative to the workspace, or a
    Google spreadsheet id."""
    url: str = ""
    """Where a person opens it (file path or https URL)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ScanEntry:
    state: ScanState
    token: str | None = None
    """Change token now (mtime+size, Drive version)."""
    modified_at: dt.datetime | None = None
    reason: str = ""
    """Why a sheet is unreachable, in Vietnamese."""
    modified_by: str | None = None
    """Who saved this version where the backend knows: Drive's lastModifyingUser, the
    file's owner locally."""
    writable: bool | None = None
    """Whether the clerks can write the sheet now, when the scan tells it for free (the
    local file's write bits); None: ask is_read_only."""


def scan_by_token(
    sheets: Mapping[str, tuple[SheetRef, str | None]], look: Callable[[SheetRef], ScanEntry]
) -> dict[str, ScanEntry]:
    """`Backend.scan` for a backend that can look at one sheet at a time: look(ref) gives
    the sheet's entry as it is now (state CHANGED); the entry says UNCHANGED when its token
    is the one last seen, and UNREACHABLE with the reason when look raises UnitUnreachable."""
    out: dict[str, ScanEntry] = {}
    for unit, (ref, last_token) in sheets.items():
        try:
            entry = look(ref)
        except UnitUnreachable as exc:
            out[unit] = ScanEntry(state=ScanState.UNREACHABLE, reason=str(exc))
            continue
        same = entry.token == last_token
        out[unit] = dataclasses.replace(entry, state=ScanState.UNCHANGED) if same else entry
    return out


@dataclass(frozen=True, kw_only=True, slots=True)
class CellMark:
    severity: Severity
    note: str
    """Vietnamese note shown on the cell."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TabFlags:
    tab: str
    """Tab title."""
    layout: TabLayout
    row_status: dict[int, str]
    """Sheet row -> text of the status cell, for every data row."""
    row_severity: dict[int, Severity | None]
    """Sheet row -> worst severity on the row (None: clean)."""
    cell_marks: dict[tuple[int, int], CellMark]
    """(sheet row, 1-based column) -> mark."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FlagPlan:
    """Everything the software writes into one unit's sheet after a check."""

    unit: str
    unit_name: str
    period: str
    checked_at: dt.datetime
    tabs: dict[str, TabFlags]
    """By table key."""
    findings: tuple[Finding, ...]
    """The unit's open findings, for the "Kiểm tra" tab."""
    table_titles: dict[str, str] = field(default_factory=dict)
    """Table key -> tab title, to name tables in the "Kiểm tra" tab."""
    notice: str = ""
    """A line for the top of "Kiểm tra" (the period is closed: changes are not taken)."""

    def fingerprint(self) -> str:
        """Stable hash: the same plan is never written twice."""
        # "notice" only when there is one: a plan without it hashes as before the field
        # existed, so an archive from an earlier version does not rewrite every sheet.
        notice = {"notice": self.notice} if self.notice else {}
        return json_digest(
            {
                **notice,
                "checked_at": self.checked_at.isoformat(),
                "tabs": {
                    k: [
                        sorted(t.row_status.items()),
                        sorted(
                            (f"{r}:{c}", m.severity, m.note)
                            for (r, c), m in t.cell_marks.items()
                        ),
                    ]
                    for k, t in sorted(self.tabs.items())
                },
                "findings": [f.to_json() for f in self.findings],
            }
        )


_FINGERPRINT_ROWS = 2_000
"""Rows of a master tab encoded at a time for its fingerprint."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MasterBook:
    """The master sheet's content: tabs in order, each a DataFrame with Vietnamese titles."""

    title: str
    tabs: dict[str, pd.DataFrame]
    percent_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Tab -> column titles holding percent points (96.16), shown as 96,16%."""
    hidden_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Tab -> column titles kept for machines (figure ids) but hidden from the reader."""
    wrapped_columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Tab -> column titles of long text, wrapped in a column of WRAPPED_WIDTH."""
    generated_at: dt.datetime | None = None

    def fingerprint(self) -> str:
        """A digest of every tab's name and cells, in order.

        Fed a band of rows at a time: decoding each tab's whole JSON back into Python and
        encoding it again (as this did until issue 17 item 6) held ~520 MB and took ~18 s
        of CPU for a 5,000-unit book. A book hashed before that gives another digest; the
        one write that follows an upgrade changes nothing on the sheet that differs."""
        digest = hashlib.sha256()
        for name, df in self.tabs.items():
            digest.update(json.dumps(name, ensure_ascii=False).encode("utf-8"))
            for start in range(0, max(len(df), 1), _FINGERPRINT_ROWS):
                band = df.iloc[start:start + _FINGERPRINT_ROWS]
                digest.update(band.to_json(orient="split", date_format="iso",
                                           force_ascii=False).encode("utf-8"))
        return digest.hexdigest()


class OwnWrite(str):
    """A token write_flags returns when the backend can prove, without reading the sheet
    again, that the sheet's next version is its own write and nothing else (Google:
    google/flag_write.own_token). The string is the token to keep; `basis` is the read
    basis the next flag write starts from (the read's, with the flag state this write
    left), to keep in place of the read's."""

    basis: ReadBasis

    def __new__(cls, token: str, basis: ReadBasis) -> OwnWrite:
        made = super().__new__(cls, token)
        made.basis = basis
        return made


class Backend(Protocol):
    """What every backend does. Implementations: LocalBackend, GoogleBackend."""

    kind: str
    """"local" or "google"."""

    def create_unit_sheet(
        self, unit: Unit, period: Period, templates: TemplateSet, prefill: Prefill | None = None
    ) -> SheetRef:
        """Make the unit's sheet from the templates (tabs, headers, validation, formats,
        instructions, owned columns, metadata tab) and return where it is. prefill: rows
        carried forward from the previous period, typed in as starting values."""
        ...

    def set_read_only(self, sheet: SheetRef, read_only: bool) -> None:
        """Lock (deadline passed, approved) or unlock (reopened) a unit's sheet for its
        editors. Raises UnitUnreachable when the sheet cannot be changed now."""
        ...

    def is_read_only(self, sheet: SheetRef) -> bool:
        """Whether the sheet is still locked as set_read_only(True) left it (a person may
        have restored write bits or removed the protection). Raises UnitUnreachable."""
        ...

    def create_master(self, title: str, period: Period) -> SheetRef:
        """Make the (empty) master sheet and return where it is."""
        ...

    def scan(self, sheets: Mapping[str, tuple[SheetRef, str | None]]) -> dict[str, ScanEntry]:
        """For unit code -> (sheet, last seen token): which changed, cheaply, in bulk."""
        ...

    def read_unit(self, unit: str, sheet: SheetRef, templates: TemplateSet) -> UnitRead:
        """Read every template table of the sheet (columns found by title).

        The UnitRead's `basis` (a ReadBasis, or None when the backend needs nothing) holds
        everything a later `write_flags` of this sheet needs from this read; the caller
        keeps it (the pipeline: in the archive) and passes it back. Nothing of the read is
        kept in the backend object in a way that changes what a write does.
        Raises UnitUnreachable when the sheet cannot be read now."""
        ...

    def write_flags(self, sheet: SheetRef, plan: FlagPlan, expect_token: str | None,
                    basis: ReadBasis | None = None) -> str | None:
        """Write the plan into cells the software owns. When expect_token is given and the
        sheet changed since (a person edited it), write nothing and return None: the next
        cycle re-reads it. Returns the sheet's token after the write when the backend knows
        it (so its own write is not mistaken for a person's edit), else "".
        A sheet open in Excel or LibreOffice (lock file) also returns None.

        `basis`: the ReadBasis of the read the plan was computed from (the latest read of
        this sheet), or None when there is none (an archive from before bases were kept);
        a basis of another backend kind or another sheet counts as None. A write whose
        effect on the sheet the backend cannot prove returns "" when it changes what its
        basis says (the stored token then no longer matches, so no further write happens
        before the next read brings a new basis); one it can prove returns an OwnWrite:
        its token, and the basis to keep for the next write (no re-read needed).
        Raises UnitUnreachable when the sheet is gone or unshared."""
        ...

    def write_master(self, sheet: SheetRef, book: MasterBook) -> bool:
        """Replace the master's content with the book, atomically. Returns False when it
        cannot be written now (open in Excel): the next cycle tries again."""
        ...

    def update_master(self, sheet: SheetRef, book: MasterBook, shape: str | None
                      ) -> str | None:
        """Make the master show the book, atomically, writing only what changed since the
        master whose shape this backend returned last (`shape`; None or "": unknown, the
        whole master is written). Returns the new shape to pass next time ("" when the
        backend keeps none and always writes the whole master), or None when the master
        was not written (and may or may not have changed: the caller forgets the shape)."""
        ...
