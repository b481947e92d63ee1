"""Records that flow through the pipeline.

Every record is a small frozen dataclass; the pipeline passes these between its pure
stages (normalise, validate, build_master) and the I/O stages (backends, archive).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class CellFormat(StrEnum):
    """What the spreadsheet says about how a cell is formatted, where the backend knows."""

    PERCENT = "percent"
    DATE = "date"
    NUMBER = "number"
    TEXT = "text"


CellValue = str | int | float | bool | dt.date | dt.datetime | dt.time | None
"""A stored cell value as a backend delivers it (never a display string when a number
or date is stored)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RawCell:
    value: CellValue
    """The stored value (Sheets UNFORMATTED_VALUE; openpyxl's cell.value)."""
    fmt: CellFormat | None = None
    """The cell's number format where the backend knows it; None when unknown."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RawRow:
    sheet_row: int
    """1-based row number as the clerk sees it in the sheet."""
    cells: dict[str, RawCell]
    """Cells by column key (columns are found by their header title)."""
    explanation: str | None = None
    """What the unit typed in the "Giải trình" column of this row, if anything."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TabLayout:
    """Where things are in a unit's tab, as found when it was read."""

    columns: dict[str, int]
    """Column key -> 1-based column index of the header cell holding its title."""
    explanation_col: int | None = None
    """1-based index of the "Giải trình" column, if present."""
    status_col: int | None = None
    """1-based index of the software-owned status column, if present."""
    header_row: int = 1
    """Row holding the titles."""
    unknown_titles: tuple[str, ...] = ()
    """Header titles the template does not know (kept, reported once)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RawTable:
    """One template table as read from a unit's sheet, before any interpretation."""

    table: str
    """Template table key, e.g. "tthc"."""
    tab_found: bool
    """False when the unit's sheet has no tab with the table's title."""
    layout: TabLayout | None = None
    rows: tuple[RawRow, ...] = ()
    """Non-blank data rows, in sheet order."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadBasis:
    """What a backend's `write_flags` needs from the read its plan was computed from, as a
    value: `read_unit` returns it (UnitRead.basis), the pipeline keeps it in the archive
    (store: `read_bases`) and hands it back to `write_flags`. A backend keeps nothing of
    a read in memory that a write depends on, so a restart between the read and the write
    (a new process, a new backend object, the same archive) writes exactly what no restart
    would have written, with the same requests.

    JSON round trip: `ReadBasis.from_json(basis.to_json()) == basis`. A basis that cannot
    be read back (an older archive, a hand edit) is None, and `write_flags` then behaves
    as it does for a sheet it has no basis for (documented per backend)."""

    backend: str
    """Kind of the backend that made it ("local", "google", "memory"). A backend given a
    basis of another kind treats it as absent."""
    ref: str
    """`SheetRef.ref` of the sheet that was read. A basis of another sheet is absent."""
    token: str | None = None
    """The sheet's change token at the read (as in UnitRead.version_token or the scan):
    for reference and logs. The write's own concurrency check stays `expect_token`."""
    detail: Mapping[str, Any] = field(default_factory=dict)
    """Backend-specific facts, JSON values only (str keys; str, int, float, bool, None,
    lists, dicts). Each backend documents its keys in its module; nothing outside the
    backend reads them. Read-only."""

    def __post_init__(self) -> None:
        # Canonical and immutable: a basis must survive the archive unchanged, so anything
        # JSON cannot hold is refused here, at the read, not at the write. A detail that is
        # JSON values already (_JsonValues: parsed from a basis's text, or a basis's detail
        # with canonical values set) is not encoded and decoded again: that was most of
        # what a basis cost a cycle (three times a unit).
        if isinstance(self.detail, _JsonValues):
            frozen = dict(self.detail)
        else:
            frozen = json.loads(json.dumps(dict(self.detail), sort_keys=True,
                                           allow_nan=False))
        object.__setattr__(self, "detail", MappingProxyType(frozen))

    @classmethod
    def of_json_values(cls, *, backend: str, ref: str, detail: Mapping[str, Any],
                       token: str | None = None) -> ReadBasis:
        """A basis whose `detail` its maker built of JSON values only, as a JSON round trip
        gives them (str keys; str, int, bool, None, lists, dicts: no tuples, no floats),
        which is not checked: the encode and decode that make any other detail canonical
        are skipped (a Google read built one per unit)."""
        return cls(backend=backend, ref=ref, token=token, detail=_JsonValues(detail))

    def with_detail(self, token: str | None = None, **changes: Any) -> ReadBasis:
        """This basis (its `token` replaced) with these detail keys set; only the new
        values are made canonical."""
        fresh = json.loads(json.dumps(changes, sort_keys=True, allow_nan=False))
        return ReadBasis(backend=self.backend, ref=self.ref, token=token,
                         detail=_JsonValues({**self.detail, **fresh}))

    def to_json(self) -> str:
        return json.dumps({"backend": self.backend, "ref": self.ref, "token": self.token,
                           "detail": dict(self.detail)},
                          ensure_ascii=False, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | None) -> ReadBasis | None:
        """The basis a `to_json` text holds; None for no text or text that is not one."""
        if not text:
            return None
        try:
            data = json.loads(text, parse_constant=_not_json, parse_float=_finite)
            token = data.get("token")
            detail = data.get("detail") or {}
            if not isinstance(detail, dict):
                return None
            return cls(backend=str(data["backend"]), ref=str(data["ref"]),
                       token=None if token is None else str(token),
                       detail=_JsonValues(detail))
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def usable_for(self, backend: str, ref: str) -> bool:
        """Whether this basis was made by that backend kind for that sheet."""
        return self.backend == backend and self.ref == ref

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReadBasis):
            return NotImplemented
        return self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash(self.to_json())


class _JsonValues(dict[str, Any]):
    """A basis's detail known to hold JSON values only (decoded from JSON text that had no
    NaN or Infinity, or a basis's detail with canonical values set)."""

    __slots__ = ()


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON a basis can hold")


def _finite(text: str) -> float:
    # A number too large for a float (1e400) is read as inf without any NaN or Infinity
    # in the text: to_json would then write Infinity, which from_json refuses.
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is not a number a basis can hold")
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class UnitRead:
    """Everything read from one unit's sheet in one cycle."""

    unit: str
    tables: dict[str, RawTable]
    template_version: str | None = None
    """Template version recorded in the sheet when it was created."""
    version_token: str | None = None
    """Backend change token observed at read time (mtime/size, Drive version)."""
    modified_at: dt.datetime | None = None
    """When the sheet was last modified, where the backend knows."""
    owned_intact: bool = True
    """False when a part the software owns is gone (the "Kiểm tra" tab was deleted): the
    flags are rewritten even though no figure changed."""
    marks: dict[str, str] = field(default_factory=dict)
    """The sheet's identity marks as written when it was made (the hidden "_cchc" tab:
    unit, period, template_name, ...), or {"kind": "master"} for a master; {} when it
    carries none. The pipeline refuses a sheet whose marks name another unit or period."""
    basis: ReadBasis | None = None
    """What a later `write_flags` of this sheet needs from this read (see ReadBasis); the
    pipeline stores it with the sheet and hands it back. None: the backend needs nothing."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """A problem found in the data. Findings are data, never exceptions."""

    rule: str
    """Stable rule id, e.g. "tthc.tong-tiep-nhan" or "cell.int.decimal"."""
    severity: Severity
    message: str
    """Vietnamese, for the clerk: what is wrong, with the numbers, and what to do."""
    unit: str = ""
    table: str = ""
    row: int | None = None
    """Sheet row number the clerk sees, when the finding is about a row."""
    column: str | None = None
    """Column key, when the finding is about one cell."""
    value: Any = None
    """The value seen (as typed, or normalised when more telling)."""
    row_key: str | None = None
    """The row's key within its table (archive identity), when known."""
    explained: str | None = None
    """The unit's explanation of a warning ("Giải trình"), if it gave one."""

    def identity(self) -> tuple:
        """What makes two findings 'the same open problem' across cycles."""
        return (self.unit, self.table, self.row_key, self.column, self.rule, self.message)

    def to_json(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, dt.date | dt.datetime):
            value = value.isoformat()
        return {
            "unit": self.unit,
            "table": self.table,
            "row": self.row,
            "column": self.column,
            "severity": str(self.severity),
            "rule": self.rule,
            "message": self.message,
            "value": value,
            "row_key": self.row_key,
            "explained": self.explained,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class TypedRow:
    """A row after normalisation: values by column key, typed."""

    table: str
    key: str
    """Row identity within the unit's table ("" for one-row tables)."""
    sheet_row: int
    values: dict[str, Any]
    """Normalised values (int, float, str, datetime.date, bool); blanks are absent."""
    explanation: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class CurrentRow:
    """A row as the archive holds it now (its latest version), with the same typed values
    as the TypedRow it came from (dates are `datetime.date`)."""

    unit: str
    table: str
    key: str
    sheet_row: int | None
    values: dict[str, Any]
    explanation: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Unit:
    """A reporting unit from the registry (units.csv)."""

    code: str
    name: str
    level: str
    parent: str = ""
    emails: tuple[str, ...] = ()
    extra: dict[str, str] = field(default_factory=dict)
    """Columns of units.csv the software does not know: kept, not rejected."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Period:
    """A reporting period: its DHIS2-style code and explicit closing window."""

    code: str
    start: dt.date
    end: dt.date

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "from": self.start.isoformat(), "to": self.end.isoformat()}
