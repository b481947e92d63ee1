"""The units registry: a CSV that coordinators keep in a spreadsheet.

Columns `ma,ten,cap,cha,email`; unknown columns are kept, not rejected. A mistake is
reported with its line number so a coordinator can fix the CSV themselves.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from pathlib import Path

from .models import Unit

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
