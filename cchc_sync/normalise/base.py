"""The result records of normalisation and small helpers shared by the normalisers."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from cchc_sync.domain.records import Severity
from cchc_sync.domain.vnformat import format_number

_QUOTE_MAX = 60


@dataclass(frozen=True, kw_only=True, slots=True)
class Issue:
    """A finding about one cell, without its context (the caller adds unit/table/row)."""

    rule: str
    """Stable rule id, e.g. "cell.int.decimal"."""
    severity: Severity
    message: str
    """Vietnamese, for the clerk: what is wrong, quoting what they typed, and what to do."""
    value: Any = None
    """What was seen in the cell (the stored value, unchanged)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Parsed:
    """A normalised cell value and what was found on the way."""

    value: Any
    """None when the cell is blank ("not reported") or unusable (an error); else typed."""
    issues: tuple[Issue, ...] = ()


BLANK = Parsed(value=None)


def error(rule: str, message: str, value: Any) -> Parsed:
    """An unusable cell: value None and one error."""
    return Parsed(value=None, issues=(Issue(rule=rule, severity=Severity.ERROR, message=message,
                                            value=value),))


def warning(rule: str, message: str, value: Any) -> Issue:
    return Issue(rule=rule, severity=Severity.WARNING, message=message, value=value)


def quote(value: Any) -> str:
    """What the clerk typed, short enough to quote inside a message (never raises)."""
    if isinstance(value, str):
        text = " ".join(value.split())
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, int):
        # str() of a huge int is slow and, past 4300 digits, raises ValueError.
        text = str(value) if value.bit_length() <= 200 else "(một số rất lớn)"
    elif isinstance(value, float | Decimal):
        text = _quote_number(value)
    elif isinstance(value, dt.datetime | dt.date):
        text = value.isoformat()
    else:
        text = repr(value)
    if len(text) > _QUOTE_MAX:
        text = text[: _QUOTE_MAX - 1] + "…"
    return text


def _quote_number(value: float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return "(không phải số)"
    if isinstance(value, Decimal) and not value.is_finite():
        return "(không phải số)"
    try:
        if not -(10**15) < value < 10**15:
            return "(một số rất lớn)"
        return format_number(value, decimals=6)
    except Exception:  # pragma: no cover - defensive: a message must never fail
        return repr(value)
