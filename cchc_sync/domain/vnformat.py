"""Vietnamese output formatting: numbers, percentages and dates as Vietnamese documents
write them.

Digit grouping and the decimal mark come from babel's "vi" locale (CLDR): "." groups
thousands and "," is the decimal mark, so 27554 -> "27.554" and 1234.5 -> "1.234,5".

Choices made here (see docs/normalisation.md):

- Rounding is half-up on the decimal value the caller sees (96.165 -> "96,17"), not
  babel's default half-even and not the binary float: a report reader checks figures by
  hand and expects school rounding.
- Trailing zeros of the fraction are dropped: 100 -> "100%", 96.10 -> "96,1%",
  1234.50 -> "1.234,5". Reports write "đạt 100%", not "100,00%".
- Dates follow Decree 30/2020/NĐ-CP (Appendix I): a day below 10 and the months 1 and 2
  take a leading zero, other months do not: "07/6/2022", "07/01/2022",
  "ngày 07 tháng 6 năm 2022", "ngày 15 tháng 02 năm 2022".
- Aware datetimes are shown in Vietnam time (UTC+7, no daylight saving); naive ones are
  taken to be Vietnam time already.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from typing import Any

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal
from babel.numbers import format_percent as _babel_percent

from cchc_sync.domain.clock import VIETNAM

LOCALE = "vi"

__all__ = [
    "format_date",
    "format_date_long",
    "format_datetime",
    "format_int",
    "format_number",
    "format_percent",
]


def _decimal(x: float | Decimal | str) -> Decimal:
    """The decimal the caller means: a float by its shortest repr (0.1 -> 0.1, not
    0.1000000000000000055...)."""
    if isinstance(x, Decimal):
        d = x
    elif isinstance(x, bool):
        raise TypeError(f"expected a number, got {x!r}")
    elif isinstance(x, int):
        d = Decimal(x)
    elif isinstance(x, float):
        d = Decimal(repr(x))
    else:
        try:
            d = Decimal(str(x))
        except InvalidOperation:
            raise TypeError(f"expected a number, got {x!r}") from None
    if not d.is_finite():
        raise ValueError(f"cannot format {x!r}")
    return d


def _round(d: Decimal, decimals: int) -> Decimal:
    if decimals < 0:
        raise ValueError("decimals must be >= 0")
    return d.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _exact(function: Callable[..., str]) -> Callable[..., str]:
    """`function` run with a decimal precision for every digit of its number: the default
    28 digits make quantize (ours and babel's) fail on a value as large as 1e28, a clerk's
    stray figure shown back in a message."""

    def wrapped(x: Any, *args: Any, **kwargs: Any) -> str:
        try:
            size = max(0, _decimal(x).adjusted())
        except (TypeError, ValueError):
            size = 0  # the function itself says what is wrong with x
        with localcontext() as ctx:
            ctx.prec = max(ctx.prec, size + 40)
            return function(x, *args, **kwargs)

    wrapped.__doc__, wrapped.__name__ = function.__doc__, function.__name__
    return wrapped


def _pattern(decimals: int) -> str:
    return "#,##0" + ("." + "#" * decimals if decimals else "")


@_exact
def format_int(n: float | Decimal) -> str:
    """A count with Vietnamese digit grouping: 27554 -> "27.554"; -1200 -> "-1.200".

    A non-integral number is rounded half-up first (2.5 -> "3")."""
    return format_decimal(_round(_decimal(n), 0), format="#,##0", locale=LOCALE)


@_exact
def format_number(x: float | Decimal, decimals: int = 2) -> str:
    """A number with at most `decimals` fraction digits, trailing zeros dropped:
    1234.5 -> "1.234,5"; 1234.567 -> "1.234,57"; 3.0 -> "3"."""
    d = _round(_decimal(x), decimals)
    return format_decimal(d, format=_pattern(decimals), locale=LOCALE, decimal_quantization=True)


@_exact
def format_percent(p: float | Decimal, decimals: int = 2) -> str:
    """A percentage given in percent points: 96.16 -> "96,16%"; 100 -> "100%";
    30.7407 -> "30,74%"; 96.1 -> "96,1%" (trailing zeros dropped)."""
    d = _round(_decimal(p), decimals)
    # babel's percent pattern multiplies by 100: hand it the fraction, exactly.
    return _babel_percent(d.scaleb(-2), format=_pattern(decimals) + "%", locale=LOCALE)


def _date_pattern(d: dt.date) -> str:
    # Decree 30/2020/NĐ-CP: days < 10 and months 1, 2 are written with a leading zero.
    return "dd/MM/yyyy" if d.month <= 2 else "dd/M/yyyy"


def format_date(d: dt.date) -> str:
    """Short form, day first, as Vietnamese documents write it: "07/6/2022",
    "15/02/2022" (a datetime is shown by its date)."""
    if isinstance(d, dt.datetime):
        d = _local(d).date()
    return _babel_date(d, _date_pattern(d), locale=LOCALE)


def format_date_long(d: dt.date) -> str:
    """Long form: "ngày 07 tháng 6 năm 2022", "ngày 15 tháng 02 năm 2022"."""
    if isinstance(d, dt.datetime):
        d = _local(d).date()
    month = "MM" if d.month <= 2 else "M"
    return _babel_date(d, f"'ngày' dd 'tháng' {month} 'năm' yyyy", locale=LOCALE)


def format_datetime(t: dt.datetime) -> str:
    """Time then date, Vietnam time: "14:05 ngày 07/6/2022"."""
    t = _local(t)
    # Hand babel an aware value in the zone it should show, so the machine's own time
    # zone never shifts the clock.
    utc = dt.UTC
    pattern = "HH:mm 'ngày' " + _date_pattern(t)
    return _babel_datetime(t.replace(tzinfo=utc), pattern, tzinfo=utc, locale=LOCALE)


def _local(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None:
        return t
    return t.astimezone(VIETNAM).replace(tzinfo=None)
