"""The units registry: a CSV that coordinators keep in a spreadsheet.

Columns `ma,ten,cap,cha,email`; unknown columns are kept, not rejected. A mistake is
reported with its line number so a coordinator can fix the CSV themselves.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cchc_sync.domain.records import Unit

REQUIRED_COLUMNS = ("ma", "ten", "cap")
KNOWN_COLUMNS = ("ma", "ten", "cap", "cha", "email")


class RegistryError(Exception):
    """The registry cannot be used; the message names the line and the problem."""


def load_units(path: str | Path) -> list[Unit]:
    """Read units.csv (UTF-8, with or without BOM; comma or semicolon separated)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise RegistryError(f"{path}: file not found") from None
    except UnicodeDecodeError:
        raise RegistryError(f"{path}: not UTF-8; save the CSV as 'CSV UTF-8'") from None
    return parse_units(text, source=str(path))


def parse_units(text: str, source: str = "units.csv") -> list[Unit]:
    text = unicodedata.normalize("NFC", text)
    first = text.splitlines()[0] if text.strip() else ""
    # Excel in a Vietnamese locale saves CSV with ";" because "," is the decimal mark.
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise RegistryError(f"{source}: missing column(s) {', '.join(missing)}")
    units: list[Unit] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        code = row.get("ma", "")
        if not code:
            raise RegistryError(f"{source}, line {line}: empty unit code (ma)")
        if code in seen:
            raise RegistryError(
                f"{source}, line {line}: unit code {code!r} already used on line {seen[code]}"
            )
        if not row.get("ten"):
            raise RegistryError(f"{source}, line {line}: unit {code} has no name (ten)")
        if not row.get("cap"):
            raise RegistryError(f"{source}, line {line}: unit {code} has no level (cap)")
        seen[code] = line
        emails = tuple(e.strip() for e in row.get("email", "").split(";") if e.strip())
        units.append(
            Unit(
                code=code,
                name=row["ten"],
                level=row["cap"],
                parent=row.get("cha", ""),
                emails=emails,
                extra={k: v for k, v in row.items() if k not in KNOWN_COLUMNS},
            )
        )
    for unit in units:
        if unit.parent and unit.parent not in seen:
            raise RegistryError(
                f"{source}, line {seen[unit.code]}: parent {unit.parent!r} of {unit.code} "
                "is not a unit code"
            )
    if not units:
        raise RegistryError(f"{source}: no units")
    return units


@dataclass(frozen=True, kw_only=True, slots=True)
class Succession:
    """Unit `old` ends and `new` carries on from `effective` (merger, split or recode)."""

    old: str
    new: str
    effective: dt.date


def load_successions(path: str | Path | None, units: list[Unit]) -> list[Succession]:
    """Read the optional successor mapping `ma_cu,ma_moi,ngay_hieu_luc`.

    A merger is several rows with the same new code; a split several rows with the same
    old code. Dates are day first (01/07/2025) or ISO.
    """
    if not path:
        return []
    path = Path(path)
    if not path.exists():
        raise RegistryError(f"{path}: successor mapping not found")
    known = {u.code for u in units}
    text = unicodedata.normalize("NFC", path.read_text(encoding="utf-8-sig"))
    first = text.splitlines()[0] if text.strip() else ""
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    out = []
    for line, row in enumerate(reader, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in row.items() if k}
        if not any(row.values()):
            continue
        old, new, when = row.get("ma_cu", ""), row.get("ma_moi", ""), row.get("ngay_hieu_luc", "")
        for code in (old, new):
            if code not in known:
                raise RegistryError(
                    f"{path}, line {line}: {code!r} is not a unit code of the registry"
                )
        try:
            effective = _parse_day_first(when)
        except ValueError:
            raise RegistryError(
                f"{path}, line {line}: ngay_hieu_luc {when!r} is not a date (dd/mm/yyyy)"
            ) from None
        out.append(Succession(old=old, new=new, effective=effective))
    return out


def _parse_day_first(text: str) -> dt.date:
    text = text.strip()
    if "-" in text and len(text.split("-")[0]) == 4:
        return dt.date.fromisoformat(text)
    day, month, year = (int(p) for p in text.replace(".", "/").replace("-", "/").split("/"))
    return dt.date(year, month, day)


def active_units(units: list[Unit], successions: list[Succession], on: dt.date) -> list[Unit]:
    """Units that exist on a day: a predecessor ends on its succession's effective date, a
    successor begins on it. Expected units of a period are those active at its end."""
    ended = {s.old for s in successions if s.effective <= on}
    not_yet = {s.new for s in successions if s.effective > on}
    return [u for u in units if u.code not in ended and u.code not in not_yet]


def predecessors(code: str, successions: list[Succession]) -> list[str]:
    """Codes whose figures roll up into `code` (transitively), for history checks."""
    out: list[str] = []
    frontier = [code]
    while frontier:
        current = frontier.pop()
        for s in successions:
            if s.new == current and s.old not in out and s.old != code:
                out.append(s.old)
                frontier.append(s.old)
    return out
