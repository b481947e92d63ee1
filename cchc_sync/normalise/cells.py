"""One cell: from the stored value to a typed value or a clear finding, by column type."""

from __future__ import annotations

import datetime as dt
import logging
import math
from decimal import Decimal
from functools import lru_cache
from typing import Any

from cchc_sync.domain.records import CellFormat, RawCell
from cchc_sync.domain.templates import ColumnSpec, ColumnType
from cchc_sync.domain.vnformat import format_date, format_datetime
from cchc_sync.normalise.base import BLANK, Parsed, error, quote, warning
from cchc_sync.normalise.dates import normalise_date
from cchc_sync.normalise.docno import FORM, DocNo, parse_docno_cached
from cchc_sync.normalise.legacy import detect_legacy
from cchc_sync.normalise.numbers import normalise_int, normalise_pct
from cchc_sync.normalise.text import (
    basic_clean,
    clean_text,
    fold,
    formula_error,
    is_blank,
    match_choice,
)

log = logging.getLogger(__name__)

_LEGACY_NAMES = {"TCVN3": "TCVN3 (ABC, ví dụ .VnTime)", "VNI": "VNI (ví dụ VNI-Times)"}


def normalise_cell(cell: RawCell, column: ColumnSpec) -> Parsed:
    """The typed value of one cell for its column, with what is wrong in Vietnamese.

    Total: never raises, whatever the cell holds. Blank (see `is_blank`) -> value None
    and no issue; an error -> value None and an error Issue; warnings keep the value."""
    try:
        value = cell.value
        if value is None:
            return BLANK
        # Blanks and formula errors are text: a stored number, date or bool is neither
        # (is_blank and formula_error say so too; not calling them saves two calls a cell).
        if type(value) is not str:
            handler = _HANDLERS.get(column.type)
            if handler is None:
                return _unreadable(column, value)
            return handler(value, cell.fmt, column)
        if is_blank(value):
            return BLANK
        if code := formula_error(value):
            return error(
                "cell.formula-error",
                f'Công thức trong ô "{column.title}" đang bị lỗi ({code}) nên ô không có giá '
                "trị. Hãy sửa công thức, hoặc xoá công thức và ghi trực tiếp giá trị.",
                value,
            )
        handler = _HANDLERS.get(column.type)
        if handler is None:
            return _unreadable(column, value)
        return handler(value, cell.fmt, column)
    except Exception:  # a normaliser bug must not stop a cycle; it is logged, not hidden
        log.exception("normalising %r for column %s failed", cell, column.key)
        return _unreadable(column, getattr(cell, "value", None))


def _unreadable(column: ColumnSpec, value: Any) -> Parsed:
    return error(
        "cell.unreadable",
        f'Không đọc được giá trị ở ô "{column.title}". Hãy xoá ô và ghi lại giá trị.',
        value,
    )


# --- text --------------------------------------------------------------------------------


def _as_text(value: Any) -> str | None:
    """What a stored non-text value reads as in a text column; None if it reads as nothing."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        # A phone number typed without a leading apostrophe arrives as an int.
        return str(value) if value.bit_length() <= 200 else None
    if isinstance(value, float | Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, Decimal) and not value.is_finite():
            return None
        if value == int(value) and -(10**20) < value < 10**20:
            return str(int(value))
        return repr(value) if isinstance(value, float) else str(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0):
            return format_date(value.date())
        return format_datetime(value)
    if isinstance(value, dt.date):
        return format_date(value)
    return None


def _read_text(value: str) -> tuple[str, tuple[str, str] | None]:
    """The text as stored, and the legacy encoding it seems typed in (with its reading)."""
    cleaned = clean_text(value)
    return cleaned, (detect_legacy(basic_clean(value)) if cleaned else None)


_CACHED_TEXT = 200
"""Texts up to this long are read once per process: field names, levels, document types
and agencies repeat in every unit's sheet, and cleaning them is most of a text cell's cost."""
_text_reading = lru_cache(maxsize=8192)(_read_text)


def normalise_text(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    if not isinstance(value, str):
        text = _as_text(value)
        if text is None:
            return _unreadable(column, value)
        return Parsed(value=text)
    cleaned, legacy = _text_reading(value) if len(value) <= _CACHED_TEXT else \
        _read_text(value)
    if not cleaned:
        return BLANK
    if legacy is None:
        return Parsed(value=cleaned)
    encoding, reading = legacy
    return Parsed(value=cleaned, issues=(warning(
        "cell.text.legacy-encoding",
        f'Chữ ở ô "{column.title}" có vẻ được gõ bằng phông chữ cũ {_LEGACY_NAMES[encoding]} '
        f'nên hiển thị sai dấu: "{quote(value)}" có lẽ là "{quote(reading)}". Hãy gõ lại '
        "bằng Unicode (bộ gõ Unikey hoặc EVKey, bảng mã Unicode, phông Times New Roman "
        "hoặc Arial).",
        value,
    ),))


# --- choice ------------------------------------------------------------------------------


def normalise_choice(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    text: str | None
    if isinstance(value, str):
        text = value
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        text = _as_text(value)  # an alias such as "3" arrives as the number 3
    else:
        text = None
    choice = match_choice(text, column) if text else None
    if choice is not None:
        return Parsed(value=choice.code)
    labels = ", ".join(f'"{c.label}"' for c in column.choices)
    return error(
        "cell.choice.unknown",
        f'Giá trị "{quote(value)}" ở ô "{column.title}" không có trong danh sách. Hãy chọn '
        f"một trong các giá trị: {labels} (bấm vào ô để chọn từ danh sách thả xuống).",
        value,
    )


# --- docno -------------------------------------------------------------------------------


def normalise_docno(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    if isinstance(value, str):
        parsed = parse_docno_cached(value)
        if isinstance(parsed, DocNo):
            return Parsed(value=parsed.text)
        return Parsed(value=None, issues=(parsed,))
    number = _as_text(value) if isinstance(value, int | float) else None
    if number is not None and number.isdigit() and not isinstance(value, bool):
        what = f"chỉ có số {number}, thiếu ký hiệu văn bản"
        example = f"{int(number):02d}/KH-UBND"
    else:
        what = f"đang chứa {quote(value)}, không phải số, ký hiệu văn bản"
        example = FORM
    return error(
        "cell.docno.format",
        f'Ô "{column.title}" {what}. Hãy ghi đủ số và ký hiệu theo dạng số/ký hiệu, ví dụ '
        f"{example} (viết liền, không có khoảng trắng).",
        value,
    )


# --- bool --------------------------------------------------------------------------------

_TRUE = frozenset(fold(w) for w in (
    "có", "co", "x", "đã công bố", "đã áp dụng", "đã", "rồi", "đúng",
    "true", "yes", "y", "1",
))
_FALSE = frozenset(fold(w) for w in (
    "không", "khong", "chưa", "chưa công bố", "chưa áp dụng", "không áp dụng", "sai",
    "false", "no", "n", "0",
))
# Check marks are no word characters, so fold() drops them: compare them as typed.
_TRUE_SYMBOLS = frozenset("✓✔☑✅")
_FALSE_SYMBOLS = frozenset("✗✘☐")


def normalise_bool(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    if isinstance(value, bool):
        return Parsed(value=value)
    if isinstance(value, int | float | Decimal) and value in (0, 1):
        return Parsed(value=bool(value))
    if isinstance(value, str):
        text = clean_text(value)
        key = fold(text)
        if text in _TRUE_SYMBOLS or (key and key in _TRUE):
            return Parsed(value=True)
        if text in _FALSE_SYMBOLS or (key and key in _FALSE):
            return Parsed(value=False)
    return error(
        "cell.bool.unknown",
        f'Ô "{column.title}" chỉ nhận "Có" hoặc "Không", nhưng bạn ghi "{quote(value)}". '
        'Hãy chọn "Có" hoặc "Không".',
        value,
    )


_HANDLERS = {
    ColumnType.INT: normalise_int,
    ColumnType.PCT: normalise_pct,
    ColumnType.DATE: normalise_date,
    ColumnType.TEXT: normalise_text,
    ColumnType.CHOICE: normalise_choice,
    ColumnType.DOCNO: normalise_docno,
    ColumnType.BOOL: normalise_bool,
}
