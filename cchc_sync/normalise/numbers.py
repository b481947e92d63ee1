"""Counts (int columns) and percentages (pct columns).

Vietnamese writing: "." groups thousands and "," is the decimal mark ("27.554",
"96,16%", "1.234,5"). Conversion of an accepted text goes through babel's "vi" parser
(strict); the regular expressions here only decide which shape the clerk typed, so that
each mistake gets its own explanation.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from babel import Locale
from babel.numbers import NumberFormatError, parse_decimal

from cchc_sync.domain.records import CellFormat
from cchc_sync.domain.templates import ColumnSpec
from cchc_sync.domain.vnformat import format_int, format_number
from cchc_sync.normalise.base import Parsed, error, quote
from cchc_sync.normalise.dates import (
    SERIAL_MAX,
    SERIAL_MIN,
    describe,
    parse_date_text,
    serial_to_date,
)
from cchc_sync.normalise.text import clean_text, fold

MAX_DIGITS = 15
"""More digits than this is no count a unit reports (and beyond float precision)."""

_MAX_NUMBER_TEXT = 100

_NUM = r"[0-9]+(?:[.,][0-9]+)*"
_MINUS = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
_SIGNED = re.compile(f"([+{_MINUS}]?)\\s*({_NUM})(?:\\s*([^\\W\\d_].*))?")
_TWO = re.compile(f"({_NUM})\\s*(?:[/\\\\;]|[{_MINUS}])\\s*({_NUM})")
_GROUPED = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})+")
_VI_DECIMAL = re.compile(r"[0-9]{1,3}(?:\.[0-9]{3})*,[0-9]+|[0-9]+,[0-9]+")
_SPACE_GROUP = re.compile(r"(?<=[0-9]) (?=[0-9]{3}(?![0-9]))")

# Words a clerk may put after a count ("12 hồ sơ"); matched with fold().
_UNIT_WORDS = frozenset(fold(w) for w in (
    "hồ sơ", "hs", "người", "lượt", "lượt người", "văn bản", "thủ tục", "TTHC", "cơ quan",
    "đơn vị", "chứng thư", "chứng thư số", "lớp", "cuộc", "hợp đồng", "biên chế", "dịch vụ",
    "cái", "bộ",
))


_VI = Locale.parse("vi")
"""Parsed once: given the name, babel parses the locale identifier again on every call."""


def _vi_decimal(s: str) -> Decimal | None:
    """Decimal value of a Vietnamese-written number, by babel (strict); None if not one."""
    try:
        return parse_decimal(s, locale=_VI, strict=True)
    except (NumberFormatError, ValueError, ArithmeticError):
        return None


def _whole(s: str) -> str:
    """Number text with space thousands separators ("27 554") turned into dots."""
    return _SPACE_GROUP.sub(".", s)


def _decimal_of(value: int | float | Decimal) -> Decimal | None:
    """The number a stored value means (a float by its shortest repr); None if not finite."""
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    return Decimal(value)


# --- int ---------------------------------------------------------------------------------


def normalise_int(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    """A count: a non-negative whole number (or within column.minimum/maximum)."""
    title = column.title
    if isinstance(value, bool):
        return error(
            "cell.int.bool",
            f'Ô "{title}" cần một số, nhưng đang chứa giá trị đúng/sai ({quote(value)}). '
            "Hãy ghi số lượng, ví dụ 15.",
            value,
        )
    if isinstance(value, dt.date):
        d = value.date() if isinstance(value, dt.datetime) else value
        return _int_is_date(column, value, d)
    if type(value) is int and fmt is not CellFormat.DATE:
        # The common case, a count stored as a number: no Decimal on the way.
        return _int_range(value, column, value)
    if isinstance(value, int | float | Decimal):
        if fmt is CellFormat.DATE:
            number = _decimal_of(value)
            serial_date = None
            if number is not None and SERIAL_MIN <= number <= SERIAL_MAX:
                serial_date = serial_to_date(float(number))
            return _int_is_date(column, value, serial_date)
        return _int_number(value, column)
    if isinstance(value, str):
        return _int_text(value, column)
    return _not_number(column, value)


def _int_is_date(column: ColumnSpec, value: Any, d: dt.date | None) -> Parsed:
    if d is None:
        shown, typed = "một ngày tháng", ""
    else:
        shown = f"ngày {describe(d)}"
        typed = f' (có lẽ bạn đã gõ "{d.day}/{d.month}")'
    return error(
        "cell.int.date",
        f'Ô "{column.title}" cần một số, nhưng đang chứa {shown}: bảng tính đã tự đổi điều '
        f"bạn gõ{typed} thành ngày tháng. Hãy định dạng ô này là Số (Định dạng > Số) rồi "
        "gõ lại số lượng. Nếu bạn muốn ghi hai số (ví dụ hiện có/được giao), hãy ghi mỗi số "
        "vào đúng cột của nó.",
        value,
    )


def _not_number(column: ColumnSpec, value: Any) -> Parsed:
    if isinstance(value, str):
        seen = f'bạn ghi "{quote(value)}"'
    elif isinstance(value, float | Decimal):
        seen = "ô đang chứa một giá trị không phải số"
    else:
        seen = "không đọc được giá trị trong ô"
    return error(
        "cell.int.not-number",
        f'Ô "{column.title}" cần một số nguyên, nhưng {seen}. '
        "Hãy chỉ ghi số, ví dụ 27.554 hoặc 27554 (dấu chấm tách hàng nghìn, không kèm chữ).",
        value,
    )


def _int_number(value: int | float | Decimal, column: ColumnSpec) -> Parsed:
    d = _decimal_of(value)
    if d is None:
        return _not_number(column, value)
    if d != d.to_integral_value():
        return error(
            "cell.int.decimal",
            f'Ô "{column.title}" phải là số nguyên (đếm số lượng), nhưng đang chứa '
            f"{quote(value)} là số có phần thập phân. " + _decimal_point_hint(d),
            value,
        )
    return _int_range(int(d), column, value)


def _decimal_point_hint(d: Decimal) -> str:
    """What to do about a stored decimal number in a count. Exactly three decimals above 1
    ("27.554" stored as 27.554) is what a clerk's thousands separator becomes in Excel or
    LibreOffice set to a language that reads "." as the decimal point: say so, and how to
    fix it. The value itself is never guessed (27.554 could still be a real fraction)."""
    exponent = d.normalize().as_tuple().exponent
    if d >= 1 and exponent == -3:
        typed = f"{d.normalize():f}"
        meant = typed.replace(".", "")
        return (
            f'Có lẽ bạn gõ "{typed}" để ghi {format_int(int(meant))}, nhưng Excel hoặc '
            "LibreOffice trên máy đang đặt ngôn ngữ đọc dấu chấm là dấu thập phân (ví dụ "
            f'tiếng Anh), nên hiểu thành số thập phân. Hãy gõ {meant} (không có dấu chấm), '
            "hoặc đổi ngôn ngữ (vùng) của bảng tính sang Tiếng Việt."
        )
    return "Hãy ghi lại bằng số nguyên, ví dụ 15."


PLAIN_COUNT = min(10**MAX_DIGITS, 2**50)
"""Counts below this pass every size check of _int_range."""


def _int_range(n: int, column: ColumnSpec, value: Any) -> Parsed:
    if 0 <= n < PLAIN_COUNT and column.minimum is None and column.maximum is None:
        # The common case, a count of a column with no bounds of its own: nothing below
        # can apply (bit_length <= 50, fewer than MAX_DIGITS digits, not negative).
        return Parsed(value=n)
    title = column.title
    if n.bit_length() > 50 or abs(n) >= 10**MAX_DIGITS:
        return error(
            "cell.int.range",
            f'Số ở ô "{title}" quá lớn ({quote(value)}), không thể là số lượng thật. '
            "Hãy kiểm tra và ghi lại.",
            value,
        )
    lo = column.minimum if column.minimum is not None else 0
    hi = column.maximum
    if n < lo and n < 0 <= lo:
        return error(
            "cell.int.negative",
            f'Ô "{title}" là số lượng nên không được âm, nhưng đang là {format_int(n)}. '
            "Hãy ghi số từ 0 trở lên; nếu không có thì ghi 0.",
            value,
        )
    if n < lo or (hi is not None and n > hi):
        bounds = f"từ {format_number(lo)}" + (f" đến {format_number(hi)}" if hi is not None
                                             else " trở lên")
        return error(
            "cell.int.range",
            f'Ô "{title}" phải {bounds}, nhưng đang là {format_int(n)}. Hãy kiểm tra lại.',
            value,
        )
    return Parsed(value=n)


def _int_text(raw: str, column: ColumnSpec) -> Parsed:
    if raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS:
        # Plain digits ("27554", "007"): no date, sign, separator or unit word to look
        # for, and what babel would read is int() (tests/test_normalise_fast_paths.py).
        return _int_range(int(raw), column, raw)
    return _int_text_read(raw, column)


def _int_text_read(raw: str, column: ColumnSpec) -> Parsed:
    """A count written as text, whatever it holds: dates, signs, separators, unit words."""
    s = clean_text(raw)
    if len(s) > _MAX_NUMBER_TEXT:
        return _not_number(column, raw)
    title = column.title
    typed = quote(raw)
    as_date = parse_date_text(s)
    if as_date is not None:
        return error(
            "cell.int.date",
            f'Ô "{title}" cần một số lượng, nhưng bạn ghi ngày tháng "{typed}". '
            "Hãy ghi số lượng (số nguyên), ví dụ 15; ngày tháng ghi ở cột ngày.",
            raw,
        )
    s = _whole(s)
    if m := _TWO.fullmatch(s):
        a, b = m.groups()
        return error(
            "cell.int.two-numbers",
            f'Ô "{title}" chỉ được ghi một số, nhưng bạn ghi hai số "{typed}" ({a} và {b}). '
            'Nếu đó là kiểu "hiện có/được giao", hãy tách ra: mỗi số ghi vào đúng cột của '
            "nó, mỗi ô một số.",
            raw,
        )
    m = _SIGNED.fullmatch(s)
    if m is None:
        return _not_number(column, raw)
    sign, body, unit = m.groups()
    if unit is not None and fold(unit) not in _UNIT_WORDS:
        return _not_number(column, raw)
    digits = body.replace(".", "").replace(",", "")
    if len(digits.lstrip("0")) > MAX_DIGITS:
        return _int_range(10**MAX_DIGITS, column, raw)
    value = _int_body(body, typed, column, raw)
    if isinstance(value, Parsed):
        return value
    return _int_range(-value if sign and sign != "+" else value, column, raw)


def _int_body(body: str, typed: str, column: ColumnSpec, raw: str) -> int | Parsed:
    """The whole number `body` (digits, "." and ",") stands for, or the error saying why
    it is not one."""
    title = column.title
    if "," not in body and "." not in body:
        return int(body)  # digits only (_NUM)
    if "," not in body:
        if _GROUPED.fullmatch(body):
            grouped = _vi_decimal(body)
            if grouped is not None:
                return int(grouped)
            # Grouped in threes but no Vietnamese number: the first group is or starts
            # with 0 ("0.123", "00.123.456"), as an English-language Excel writes a
            # decimal. Never read as 0 nor guessed: said like any other ambiguous dot.
        guess = str(int(body.replace(".", "")))
        return error(
            "cell.int.ambiguous",
            f'Không rõ "{typed}" ở ô "{title}" là số nào: dấu chấm chỉ dùng để tách hàng '
            "nghìn, và sau mỗi dấu chấm phải đủ 3 chữ số (ví dụ 1.500 hay 27.554). "
            f"Ô này cần số nguyên: hãy ghi lại, ví dụ {guess} nếu đó là số bạn muốn ghi.",
            raw,
        )
    if _VI_DECIMAL.fullmatch(body):
        whole, frac = body.split(",")
        if "." not in body and len(frac) == 3 and body.count(",") == 1:
            thousands = format_int(int(whole + frac))
            return error(
                "cell.int.ambiguous",
                f'Không rõ "{typed}" ở ô "{title}" là {thousands} hay {whole},{frac}: '
                "theo cách viết Việt Nam, dấu phẩy là dấu thập phân, còn dấu chấm tách hàng "
                f"nghìn. Nếu là số nghìn, hãy ghi {thousands} (hoặc {whole}{frac}); ô này cần "
                "số nguyên.",
                raw,
            )
        value = _vi_decimal(body)
        if value is not None and value == value.to_integral_value():
            return int(value)  # "5,0": a whole number written with a zero fraction
        return error(
            "cell.int.decimal",
            f'Ô "{title}" phải là số nguyên (đếm số lượng), nhưng bạn ghi "{typed}" là số '
            "có phần thập phân (dấu phẩy là dấu thập phân). Hãy ghi số nguyên, ví dụ 15 "
            "hoặc 1.500 (dấu chấm tách hàng nghìn).",
            raw,
        )
    return error(
        "cell.int.ambiguous",
        f'Cách viết số "{typed}" ở ô "{title}" không đúng kiểu Việt Nam: dấu chấm tách hàng '
        "nghìn, dấu phẩy là dấu thập phân (ví dụ 1.234 hay 27.554). Ô này cần số nguyên: "
        "hãy ghi lại.",
        raw,
    )


# --- pct ---------------------------------------------------------------------------------

_PCT = re.compile(f"([+{_MINUS}]?)\\s*({_NUM})\\s*%?")


def normalise_pct(value: Any, fmt: CellFormat | None, column: ColumnSpec) -> Parsed:
    """A percentage, as a float in percent points (96.16 for 96,16 %)."""
    if isinstance(value, bool):
        return _pct_not_number(column, value)
    if isinstance(value, dt.date):
        return _pct_is_date(column, value)
    if isinstance(value, int | float | Decimal):
        d = _decimal_of(value)
        if d is None:
            return _pct_not_number(column, value)
        if fmt is CellFormat.DATE:
            return _pct_is_date(column, value)
        if fmt is CellFormat.PERCENT:
            # A percent-formatted cell stores the fraction (96,16% -> 0.9616); above 1
            # someone typed the points into it without the % sign (shown 9616%).
            points = d * 100 if d <= 1 else d
        elif fmt is None:
            points = d * 100 if 0 <= d <= 1 else d
        else:
            points = d
        return _pct_range(points, column, value)
    if isinstance(value, str):
        return _pct_text(value, column)
    return _pct_not_number(column, value)


def _pct_not_number(column: ColumnSpec, value: Any) -> Parsed:
    seen = (f'bạn ghi "{quote(value)}"' if isinstance(value, str)
            else "ô đang chứa một giá trị không phải số")
    return error(
        "cell.pct.not-number",
        f'Ô "{column.title}" cần một tỷ lệ phần trăm, nhưng {seen}. '
        "Hãy ghi số phần trăm, ví dụ 96,16% (dấu phẩy là dấu thập phân).",
        value,
    )


def _pct_is_date(column: ColumnSpec, value: Any) -> Parsed:
    return error(
        "cell.pct.date",
        f'Ô "{column.title}" cần một tỷ lệ phần trăm, nhưng đang chứa ngày tháng: bảng tính '
        "đã tự đổi điều bạn gõ thành ngày. Hãy định dạng ô này là Phần trăm (Định dạng > "
        "Số > Phần trăm) rồi gõ lại, ví dụ 96,16%.",
        value,
    )


def _pct_range(points: Decimal, column: ColumnSpec, value: Any) -> Parsed:
    lo = column.minimum if column.minimum is not None else 0
    hi = column.maximum if column.maximum is not None else 100
    try:
        result = float(points)
    except (OverflowError, InvalidOperation):
        result = math.inf
    if not (lo <= result <= hi):
        shown = (format_number(points, decimals=4) + "%" if abs(result) < 1e15
                 else quote(value))
        return error(
            "cell.pct.range",
            f'Tỷ lệ ở ô "{column.title}" phải từ {format_number(lo)}% đến '
            f"{format_number(hi)}%, nhưng đang là {shown}. Hãy kiểm tra lại số liệu "
            "(tỷ lệ = phần / tổng × 100).",
            value,
        )
    return Parsed(value=result)


def _pct_text(raw: str, column: ColumnSpec) -> Parsed:
    s = clean_text(raw)
    m = _PCT.fullmatch(s) if len(s) <= _MAX_NUMBER_TEXT else None
    if m is None:
        return _pct_not_number(column, raw)
    sign, body = m.groups()
    if body.count(".") == 1 and "," not in body:
        # "96.16%": a percentage is at most 100, so a dot cannot be grouping thousands
        # here; it is a decimal point typed the English way.
        body = body.replace(".", ",")
    d = _vi_decimal(body)
    if d is None:
        return _pct_not_number(column, raw)
    return _pct_range(-d if sign and sign != "+" else d, column, raw)
