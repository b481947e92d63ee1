"""Row values at the archive's boundary: typed in Python, JSON in SQLite.

The archive has always stored a date as its ISO text ("2022-06-07") inside the row's JSON;
that format stays. Rows carry `datetime.date` from validation on, so dates are written as
ISO here and, for the checks that compare them, read back as dates here: the one place
that knows both forms.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterable, Mapping
from typing import Any

from cchc_sync.domain.records import CurrentRow
from cchc_sync.domain.templates import ColumnType, TemplateSet


def _iso(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time(0) else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a row value")


# What json.dumps(values, ensure_ascii=False, sort_keys=True, default=_iso) builds for each
# call, built once (an encoder keeps no state between calls).
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_iso)
# JSONEncoder.encode still makes a new C encoder object on every call: a row costs that
# more than its few values. This is the one it makes, made once (the same arguments, but no
# circular-reference markers: a row's values are scalars). tests/test_row_values_encoding.py
# holds it to json.dumps.
_make_c_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = _make_c_encoder(
    None, _iso, json.encoder.encode_basestring, None, _ENCODER.key_separator,
    _ENCODER.item_separator, True, False, True,
) if _make_c_encoder is not None else None


def encode_values(values: Mapping[str, Any]) -> str:
    """The stored JSON of a row's values (sorted keys, dates as ISO text)."""
    if _C_ENCODE is not None:
        return "".join(_C_ENCODE(values, 0))
    return _ENCODER.encode(values)


def date_columns(templates: TemplateSet) -> dict[str, frozenset[str]]:
    """Table key -> keys of its date columns."""
    return {
        key: frozenset(c.key for c in spec.columns if c.type is ColumnType.DATE)
        for key, spec in templates.tables.items()
    }


def with_dates(rows: Iterable[CurrentRow], templates: TemplateSet) -> list[CurrentRow]:
    """Archived rows with the values of date columns as `datetime.date` again."""
    dates = date_columns(templates)
    out = []
    for row in rows:
        keys = dates.get(row.table)
        if not keys or not keys & row.values.keys():
            out.append(row)
            continue
        values = dict(row.values)
        for key in keys & values.keys():
            if isinstance(values[key], str):
                values[key] = dt.date.fromisoformat(values[key])
        out.append(dataclasses.replace(row, values=values))
    return out
