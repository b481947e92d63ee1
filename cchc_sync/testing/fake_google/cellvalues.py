"""Cell values for the fake Sheets API: what typing a value does, and how values render.

Faithful (checked against the recorded traffic, which is en_US):
- ``valueInputOption=RAW``: strings stay strings (``"=1+1"`` and ``"1234"`` are text), JSON
  numbers and booleans keep their type, ``""`` empties the cell, ``null`` leaves it alone.
- ``USER_ENTERED`` in the spreadsheet's locale (``properties.locale``; en_US by default):
  ``"1234.5"`` -> number; ``"1,234"`` -> 1234 shown ``1,234`` (format ``#,##0``);
  ``"2,000,000.01"`` -> ``#,##0.00``; ``"96%"`` -> 0.96 with a PERCENT format;
  ``"$1,234.50"`` -> CURRENCY; ``"1e3"`` -> SCIENTIFIC; ``"6/7/2022"`` (M/d/yyyy) and
  ``"2022-06-07"`` -> date serial (days since 1899-12-30) with a DATE format echoing the typed
  pattern; ``"6/7"`` -> that day of the current year; ``"6/7/2022 14:30"`` -> DATE_TIME;
  ``"14:30"`` -> TIME; TRUE/FALSE (any case) -> boolean; a leading ``'`` forces text;
  ``=...`` is a formula.
- vi_VN (the locale our unit sheets are made with): "." groups thousands and "," is the
  decimal mark, dates are day first: ``"27.554"`` -> 27554 (``#,##0``), ``"1,5"`` -> 1.5,
  ``"1.234,5"`` -> 1234.5 (``#,##0.00``), ``"96,16%"`` -> 0.9616 (PERCENT ``0.00%``),
  ``"07/06/2022"`` -> 7 June 2022 (serial 44719), ``"15/6"`` -> 15 June of the current year,
  ``"15/16"`` and ``"ngày 07 tháng 6 năm 2022"`` stay text; ``"1.5"`` (not a grouping) is
  text. en_GB is day first with en_US separators. Other locales are read as en_US.
- A cell whose number format is TEXT (pattern ``@``) keeps typed text exactly as typed:
  no number, date or formula, and a leading ``'`` stays part of the text. JSON numbers and
  booleans sent to it keep their type.
- Rendering: FORMATTED_VALUE gives strings (numbers through their number format, "General"
  otherwise: up to 10 decimals, no grouping), UNFORMATTED_VALUE gives JSON numbers/booleans,
  FORMULA gives the formula text for formula cells, and dateTimeRenderOption
  SERIAL_NUMBER/FORMATTED_STRING decides how DATE/TIME/DATE_TIME/DURATION cells come back
  when not formatted: FORMATTED_STRING gives the string their number format shows (the
  cell's pattern; without one, the locale's default: ``M/d/yyyy`` in en_US, ``dd/MM/yyyy``
  in the day-first vi_VN and en_GB), other numbers stay numbers.
Simplified: only the first section of a number format pattern (plus a negative section) is
used, fractions/conditions/colours in patterns are ignored, two-digit years pivot at 30,
month and day names are English, rendering uses en_US separators whatever the locale (the
day-first locales' default date, time and duration patterns aside: an assumption, no
recording shows them), elapsed-time tokens (``[h]``, ``[m]``, ``[s]``) are whole units, a
typed date gets a pattern echoing what was typed (``d/M/yyyy`` in vi_VN), currency is "$"
only, and AM/PM markers are English in every locale.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from cchc_sync.testing.fake_google.formula import ERROR_TEXT

EPOCH = dt.datetime(1899, 12, 30)
DATE_TYPES = ("DATE", "TIME", "DATE_TIME")
FORMATTED_STRING_TYPES = (*DATE_TYPES, "DURATION")
"""Number format types whose cells dateTimeRenderOption=FORMATTED_STRING gives as strings."""



@dataclass(frozen=True, slots=True)
class Locale:
    """How a spreadsheet's locale reads typed numbers and dates."""

    group: str
    decimal: str
    day_first: bool

    def number_re(self) -> re.Pattern[str]:
        group, decimal = re.escape(self.group), re.escape(self.decimal)
        return re.compile(
            rf"^(?P<sign>[+-]?)(?P<cur>\$?)(?P<int>\d{{1,3}}(?:{group}\d{{3}})+|\d*)"
            rf"(?P<frac>{decimal}\d*)?(?P<exp>[eE][+-]?\d+)?(?P<pct>%?)$"
        )


EN_US = Locale(group=",", decimal=".", day_first=False)
LOCALES = {
    "en_US": EN_US,
    "en_GB": Locale(group=",", decimal=".", day_first=True),
    "vi_VN": Locale(group=".", decimal=",", day_first=True),
}
_NUM_RES = {loc: loc.number_re() for loc in LOCALES.values()}
_SLASHED = [
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$"), "yyyy"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2})$"), "yy"),
    (re.compile(r"^(\d{1,2})/(\d{1,2})$"), ""),
]
_ISO_DATES = [
    (re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"), "yyyy-mm-dd"),
    (re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"), "yyyy/mm/dd"),
]
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?$")


def serial(value: dt.datetime | dt.date) -> float:
    if not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    delta = value - EPOCH
    return delta.days + delta.seconds / 86400


def from_serial(value: float) -> dt.datetime:
    days = math.floor(value)
    seconds = round((value - days) * 86400)
    return EPOCH + dt.timedelta(days=days, seconds=seconds)


def _parse_time(text: str) -> tuple[float, str] | None:
    m = _TIME_RE.match(text)
    if not m:
        return None
    hour, minute, sec = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    ampm = m.group(4)
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    if hour > 23 or minute > 59 or sec > 59:
        return None
    pattern = "h:mm:ss am/pm" if ampm else ("H:mm:ss" if m.group(3) else "H:mm")
    return (hour * 3600 + minute * 60 + sec) / 86400, pattern


def locale_of(name: str | None) -> Locale:
    """The reading rules of a spreadsheet locale (en_US for one the fake does not know)."""
    return LOCALES.get(name or "", EN_US)


def is_text_format(number_format: dict[str, Any] | None) -> bool:
    """Plain text (Format > Number > Plain text): what is typed stays text."""
    return number_format is not None and (number_format.get("type") == "TEXT"
                                          or number_format.get("pattern") == "@")


def _parse_date(text: str, loc: Locale = EN_US) -> tuple[float, str] | None:
    for regex, pattern in _ISO_DATES:
        m = regex.match(text)
        if m:
            year, month, day = (int(g) for g in m.groups())
            return _date_serial(year, month, day, pattern)
    for regex, year_pattern in _SLASHED:
        m = regex.match(text)
        if not m:
            continue
        a, b = int(m.group(1)), int(m.group(2))
        day, month = (a, b) if loc.day_first else (b, a)
        year = int(m.group(3)) if year_pattern else dt.date.today().year
        pattern = "/".join(["d/M" if loc.day_first else "M/d", year_pattern]).rstrip("/")
        return _date_serial(year, month, day, pattern)
    return None


def _date_serial(year: int, month: int, day: int, pattern: str) -> tuple[float, str] | None:
    if year < 100:
        year += 2000 if year < 30 else 1900
    try:
        return serial(dt.date(year, month, day)), pattern
    except ValueError:
        return None


def parse_user_entered(
    raw: Any, *, locale: str | None = None, number_format: dict[str, Any] | None = None
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """A value typed (USER_ENTERED) -> (userEnteredValue or None to empty, numberFormat).

    locale: the spreadsheet's ``properties.locale``; number_format: the cell's number format
    before the edit (a TEXT one keeps typed text as it is)."""
    if isinstance(raw, bool):
        return {"boolValue": raw}, None
    if isinstance(raw, int | float):
        return {"numberValue": float(raw)}, None
    text = str(raw)
    if text == "":
        return None, None
    if is_text_format(number_format):
        return {"stringValue": text}, None
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None
    if text.startswith("=") and len(text) > 1:
        return {"formulaValue": text}, None
    loc = locale_of(locale)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return {"boolValue": stripped.upper() == "TRUE"}, None
    number = _parse_number(stripped, loc)
    if number is not None:
        return {"numberValue": number[0]}, number[1]
    date = _parse_date(stripped, loc)
    if date is not None:
        return {"numberValue": date[0]}, {"type": "DATE", "pattern": date[1]}
    if " " in stripped:
        day_part, _, time_part = stripped.partition(" ")
        date, time = _parse_date(day_part, loc), _parse_time(time_part.strip())
        if date and time:
            return {"numberValue": date[0] + time[0]}, {
                "type": "DATE_TIME",
                "pattern": f"{date[1]} {time[1]}",
            }
    time = _parse_time(stripped)
    if time is not None:
        return {"numberValue": time[0]}, {"type": "TIME", "pattern": time[1]}
    return {"stringValue": text}, None


def _parse_number(text: str, loc: Locale = EN_US) -> tuple[float, dict[str, Any] | None] | None:
    m = _NUM_RES[loc].match(text)
    if not m or not (m.group("int") or (m.group("frac") or "").strip(loc.decimal)):
        return None
    if m.group("exp") and (m.group("pct") or m.group("cur")):
        return None
    digits = m.group("int").replace(loc.group, "") or "0"
    frac = (m.group("frac") or "").replace(loc.decimal, ".")
    value = float(digits + frac + (m.group("exp") or ""))
    if m.group("sign") == "-":
        value = -value
    decimals = len((frac or ".")[1:])
    if m.group("pct"):
        value /= 100
        pattern = "0%" if decimals == 0 else "0.00%"
        return value, {"type": "PERCENT", "pattern": pattern}
    if m.group("cur"):
        pattern = '"$"#,##0.00' if decimals else '"$"#,##0'
        return value, {"type": "CURRENCY", "pattern": pattern}
    if m.group("exp"):
        return value, {"type": "SCIENTIFIC", "pattern": "0.00E+00"}
    if loc.group in m.group("int"):
        return value, {"type": "NUMBER", "pattern": "#,##0.00" if decimals else "#,##0"}
    return value, None


def parse_raw(raw: Any) -> dict[str, Any] | None:
    """A value written with RAW -> userEnteredValue (None empties the cell)."""
    if isinstance(raw, bool):
        return {"boolValue": raw}
    if isinstance(raw, int | float):
        return {"numberValue": float(raw)}
    if raw == "":
        return None
    return {"stringValue": str(raw)}


# --------------------------------------------------------------------------- formatting


def general(value: float) -> str:
    """Sheets' automatic number display."""
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 1e15 or abs(value) < 1e-10:
        mant, exp = f"{value:.5E}".split("E")
        mant = mant.rstrip("0").rstrip(".")
        return f"{mant}E{'+' if int(exp) >= 0 else '-'}{abs(int(exp)):02d}"
    text = f"{value:.10f}".rstrip("0").rstrip(".")
    return text if text not in ("-0", "") else "0"


_MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
_DATE_TOKEN_RE = re.compile(
    r'"[^"]*"|\\.|\[[hHmMsS]+\]|am/pm|AM/PM|a/p|A/P|y+|Y+|m+|M+|d+|D+|h+|H+|s+|S+|\.0+|.',
    re.S,
)
_ELAPSED_SECONDS = {"h": 3600, "m": 60, "s": 1}


def _token_kind(tok: str) -> str:
    """"y", "m", "d", "h", "s" for a date/time token ("[h]" is "h"); "" for the others."""
    letter = tok[1:2] if tok.startswith("[") else tok[:1]
    return letter.lower() if letter.isalpha() and tok.lower() not in ("am/pm", "a/p") else ""


def _format_date(value: float, pattern: str) -> str:
    when = from_serial(value)
    tokens = _DATE_TOKEN_RE.findall(pattern)
    has_ampm = any(t.lower() in ("am/pm", "a/p") for t in tokens)
    out = []
    kinds = [_token_kind(t) for t in tokens]
    for i, tok in enumerate(tokens):
        k = kinds[i]
        n = len(tok)
        if tok.startswith("["):  # elapsed time (a duration): whole hours, minutes, seconds
            total = round(value * 86400) // _ELAPSED_SECONDS[k]
            out.append(f"{total:0{n - 2}d}")
        elif tok.startswith('"'):
            out.append(tok[1:-1])
        elif tok.startswith("\\"):
            out.append(tok[1:])
        elif tok.lower() in ("am/pm", "a/p"):
            pm = when.hour >= 12
            text = ("PM" if pm else "AM") if tok.lower() == "am/pm" else ("P" if pm else "A")
            out.append(text if tok[0].isupper() else text.lower())
        elif k == "y":
            out.append(f"{when.year % 100:02d}" if n <= 2 else f"{when.year:04d}")
        elif k == "m" and tok[0] == "m" and (
            any(kinds[j] == "h" for j in range(i - 1, max(-1, i - 3), -1) if kinds[j])
            or any(kinds[j] == "s" for j in range(i + 1, min(len(tokens), i + 3)) if kinds[j])
        ):
            out.append(f"{when.minute:02d}" if n >= 2 else str(when.minute))
        elif k == "m":
            month = when.month
            out.append(
                str(month) if n == 1 else f"{month:02d}" if n == 2
                else _MONTHS[month - 1][:3] if n == 3 else _MONTHS[month - 1]
            )
        elif k == "d":
            out.append(
                str(when.day) if n == 1 else f"{when.day:02d}" if n == 2
                else _DAYS[when.weekday()][:3] if n == 3 else _DAYS[when.weekday()]
            )
        elif k == "h":
            hour = when.hour
            if has_ampm:
                hour = hour % 12 or 12
            out.append(f"{hour:02d}" if n >= 2 else str(hour))
        elif k == "s":
            out.append(f"{when.second:02d}" if n >= 2 else str(when.second))
        elif tok.startswith("."):
            out.append("." + "0" * (n - 1))
        else:
            out.append(tok)
    return "".join(out)


def _strip_literals(text: str) -> str:
    return re.sub(r'"([^"]*)"|\\(.)|\[[^\]]*\]|_.|\*.', lambda m: m.group(1) or m.group(2) or "",
                  text)


def _localised(body: str, locale: str | None) -> str:
    """A number written with "," grouping and "." decimals, in the locale's marks (vi_VN:
    27.554, 1,5): FORMATTED_VALUE shows numbers as the spreadsheet's locale does."""
    loc = locale_of(locale)
    if (loc.group, loc.decimal) == (",", "."):
        return body
    return body.translate({ord(","): loc.group, ord("."): loc.decimal})


def _format_number_pattern(value: float, pattern: str, locale: str | None = None) -> str:
    sections = pattern.split(";")
    section = sections[0]
    negative_section = len(sections) > 1 and value < 0
    if negative_section:
        section = sections[1]
    if value == 0 and len(sections) > 2:
        section = sections[2]
    m = re.search(r"[0#?][0#?,]*(?:\.[0#?]*)?(?:E[+-][0#]+)?|\.[0#?]+", section)
    if not m:
        return _strip_literals(section)
    prefix, core, suffix = section[: m.start()], m.group(0), section[m.end() :]
    v = abs(value) if (negative_section or value >= 0) else -value
    if "%" in prefix + suffix:
        v *= 100
    if "E" in core:
        mant_part, exp_part = core.split("E")
        decimals = len(mant_part.split(".")[1]) if "." in mant_part else 0
        text = f"{v:.{decimals}E}"
        mant, exp = text.split("E")
        body = f"{mant}E{'+' if int(exp) >= 0 else '-'}{abs(int(exp)):0{len(exp_part) - 1}d}"
    else:
        int_part, _, dec_part = core.partition(".")
        max_dec = len(dec_part)
        min_dec = dec_part.count("0")
        grouping = "," in int_part
        body = f"{v:,.{max_dec}f}" if grouping else f"{v:.{max_dec}f}"
        if max_dec > min_dec and "." in body:
            whole, frac = body.split(".")
            frac = frac.rstrip("0")
            frac = frac + "0" * max(0, min_dec - len(frac))
            body = whole + ("." + frac if frac or core.endswith(".") else "")
        min_int = int_part.count("0")
        whole, sep, frac = body.partition(".")
        if whole.replace(",", "") == "0" and min_int == 0:
            whole = ""
        elif min_int > len(whole.replace(",", "")):
            whole = whole.zfill(min_int)
        body = whole + sep + frac
    sign = "-" if value < 0 and not negative_section and body.strip("0.,") else ""
    return sign + _strip_literals(prefix) + _localised(body, locale) + _strip_literals(suffix)


_DEFAULT_PATTERNS = {
    False: {"DATE": "M/d/yyyy", "TIME": "h:mm:ss am/pm", "DATE_TIME": "M/d/yyyy H:mm:ss",
            "DURATION": "[h]:mm:ss"},
    True: {"DATE": "dd/MM/yyyy", "TIME": "HH:mm:ss", "DATE_TIME": "dd/MM/yyyy HH:mm:ss",
           "DURATION": "[h]:mm:ss"},
}
"""A date, time or duration format's pattern when it has none, by whether the locale puts
the day first (en_US's as recorded; the day-first ones an assumption)."""


def format_number(value: float, number_format: dict[str, Any] | None,
                  locale: str | None = None) -> str:
    """A number as its number format shows it (a date format without a pattern: the
    spreadsheet locale's default)."""
    kind = (number_format or {}).get("type")
    if not number_format or not number_format.get("pattern"):
        if kind == "PERCENT":
            return _format_number_pattern(value, "0.00%", locale)
        if kind in FORMATTED_STRING_TYPES:
            return _format_date(value, _DEFAULT_PATTERNS[locale_of(locale).day_first][kind])
        return _localised(general(value), locale)
    pattern = number_format["pattern"]
    if kind in FORMATTED_STRING_TYPES:
        return _format_date(value, pattern)
    if number_format.get("type") == "TEXT" or pattern == "@":
        return _localised(general(value), locale)
    return _format_number_pattern(value, pattern, locale)


def formatted_value(ev: dict[str, Any] | None, number_format: dict[str, Any] | None,
                    locale: str | None = None) -> str | None:
    if not ev:
        return None
    if "stringValue" in ev:
        return ev["stringValue"]
    if "boolValue" in ev:
        return "TRUE" if ev["boolValue"] else "FALSE"
    if "errorValue" in ev:
        return ERROR_TEXT.get(ev["errorValue"].get("type", "ERROR"), "#ERROR!")
    if "numberValue" in ev:
        return format_number(float(ev["numberValue"]), number_format, locale)
    return None


def render(
    uev: dict[str, Any] | None,
    ev: dict[str, Any] | None,
    number_format: dict[str, Any] | None,
    value_render: str = "FORMATTED_VALUE",
    date_render: str = "SERIAL_NUMBER",
    locale: str | None = None,
) -> Any:
    """One cell as values.get returns it ("" for an empty cell). With UNFORMATTED_VALUE or
    FORMULA and FORMATTED_STRING, a date, time or duration is the string its format shows
    (in the spreadsheet `locale`); other numbers stay numbers."""
    if ev is None and uev is None:
        return ""
    if value_render == "FORMATTED_VALUE":
        text = formatted_value(ev, number_format, locale)
        return "" if text is None else text
    if value_render == "FORMULA" and uev and "formulaValue" in uev:
        return uev["formulaValue"]
    if not ev:
        return ""
    if "numberValue" in ev:
        kind = (number_format or {}).get("type")
        if kind in FORMATTED_STRING_TYPES and date_render == "FORMATTED_STRING":
            return format_number(float(ev["numberValue"]), number_format, locale)
        return ev["numberValue"]
    if "boolValue" in ev:
        return ev["boolValue"]
    if "errorValue" in ev:
        return formatted_value(ev, None)
    return ev.get("stringValue", "")
