"""Text as clerks type it: blanks, cleaning, and matching keys."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from cchc_sync.domain.templates import Choice, ColumnSpec
from cchc_sync.normalise.vietnamese import canonical_tone, has_vietnamese_letters, is_syllable

# Dashes a clerk types for "none": hyphen, the minus sign and the typographic dashes.
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212"
_BLANK_RE = re.compile(f"[{_DASHES}]*")

FORMULA_ERRORS = frozenset({
    "#REF!", "#DIV/0!", "#N/A", "#VALUE!", "#NAME?", "#NUM!", "#NULL!", "#ERROR!",
    "#SPILL!", "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
    "#UNKNOWN!", "#EXTERNAL!", "#PYTHON!",
})
"""What Excel and Google Sheets store as the value of a cell whose formula failed."""


def _space_or_drop(ch: str) -> str:
    """Map one non-ordinary character: spaces and line breaks -> " ", format/control -> ""."""
    cat = unicodedata.category(ch)
    if cat in ("Zs", "Zl", "Zp") or ch in "\t\n\r\v\f\x1c\x1d\x1e\x1f\x85":
        return " "
    if cat in ("Cc", "Cf", "Cs", "Co", "Cn"):
        # Zero-width spaces and joiners, BOM, soft hyphen, bidi marks, other controls,
        # lone surrogates: invisible, and they break matching.
        return ""
    return ch


@lru_cache(maxsize=1024)
def _translation(ch: str) -> str:
    return _space_or_drop(ch)


def _strip_invisible(s: str) -> str:
    if s.isprintable():
        # Every character printable: nothing to map (Vietnamese text too; checking
        # isascii() first sent all of it through the per-character loop below).
        return s
    # isprintable() is False exactly for separators other than " " (NBSP, thin spaces,
    # line breaks) and for control / format / unassigned characters.
    return "".join(ch if ch.isprintable() else _translation(ch) for ch in s)


_MULTISPACE = re.compile(" {2,}")


def is_blank(value: Any) -> bool:
    """True for what a clerk means as "nothing here": None, "", spaces (incl. NBSP and
    zero-width characters) only, or a dash ("-", "–", "—", also "--")."""
    if value is None:
        return True
    if not isinstance(value, str):
        return False
    if value[:1].isalnum():
        # A letter or digit first survives every strip below: not blank, and most cells
        # are decided here.
        return False
    stripped = _strip_invisible(value).strip()
    return _BLANK_RE.fullmatch(stripped.replace(" ", "")) is not None


def formula_error(value: Any) -> str | None:
    """The formula error code a cell holds ("#REF!"), or None."""
    if isinstance(value, str) and len(value) < 40 and "#" in value:
        code = value.strip().upper()
        if code in FORMULA_ERRORS:
            return code
    return None


_ETH = re.compile("[\u00d0\u00f0]")
_WORD = re.compile(r"[^\W\d_]+")
_ASCII_CAPS_WITH_ETH = re.compile("[A-Z\u00d0]+")


def _fix_eth(s: str) -> str:
    """"Ð" (U+00D0, Icelandic eth) -> "Đ" (U+0110), "ð" -> "đ", where it is clearly
    Vietnamese: at the start of a word (no Icelandic word starts with eth), in a word that
    then spells a Vietnamese syllable ("Ðồng"), in an all-caps abbreviation ("HÐND",
    "QÐ"), or anywhere in text that holds other Vietnamese-only letters (Đ/đ not
    counted, so that cleaning twice changes nothing more)."""
    if not _ETH.search(s):
        return s
    # Đ/đ themselves do not count: a second pass must see what the first one saw.
    if has_vietnamese_letters(s.replace("\u0110", "").replace("\u0111", "")):
        return s.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")

    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        if not _ETH.search(word):
            return word
        fixed = word.replace("\u00d0", "\u0110").replace("\u00f0", "\u0111")
        if word[0] in "\u00d0\u00f0" or is_syllable(fixed) or _ASCII_CAPS_WITH_ETH.fullmatch(word):
            return fixed
        return word

    return _WORD.sub(fix, s)


def basic_clean(s: str) -> str:
    """NFC, invisible characters dropped, spaces normalised and collapsed, trimmed; no
    letter is changed (legacy-encoding detection looks at this)."""
    s = unicodedata.normalize("NFC", s)
    s = _strip_invisible(s)
    if "  " in s:
        s = _MULTISPACE.sub(" ", s)
    return s.strip()


def clean_text(s: str) -> str:
    """Text as it should be stored: Unicode NFC (NFD input is common), NBSP / thin spaces /
    line breaks / tabs -> one space, zero-width and control characters removed, runs of
    spaces collapsed, trimmed, and the lookalike "Ð" -> "Đ" where clearly Vietnamese."""
    if not isinstance(s, str):
        s = str(s)
    return _fix_eth(basic_clean(s))


# --- matching keys -----------------------------------------------------------------------

_TOKEN = re.compile(r"(?:[^\W_]|[\u0300-\u036f])+\.?")

_ABBREVIATIONS = {
    "ubnd": "ủy ban nhân dân",
    "hđnd": "hội đồng nhân dân",
    "tthc": "thủ tục hành chính",
    "cchc": "cải cách hành chính",
    "dvctt": "dịch vụ công trực tuyến",
    "dvc": "dịch vụ công",
    "tp": "thành phố",
    "tx": "thị xã",
    # "TT" alone is as often "Trung tâm" as "thị trấn": only "TT." expands.
    "tt.": "thị trấn",
}


def _tokens(s: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(s):
        tok = m.group(0)
        expansion = _ABBREVIATIONS.get(tok) or _ABBREVIATIONS.get(tok.rstrip("."))
        if expansion is not None:
            out.extend(_EXPANDED[expansion])
        else:
            out.append(canonical_tone(tok.rstrip(".")))
    return out


_EXPANDED: dict[str, list[str]] = {
    full: [canonical_tone(w) for w in full.split()] for full in _ABBREVIATIONS.values()
}


def fold(s: str) -> str:
    """A matching key: equal keys mean "the same name" to a clerk.

    Ignores case, where the tone mark sits ("Hoà"/"Hòa", "Thuỷ"/"Thủy"), punctuation and
    spacing, NFC/NFD and "Ð"/"Đ", and expands UBND, HĐND, TTHC, CCHC, DVCTT, DVC, TP, TX
    and "TT." (thị trấn). Every other diacritic still matters: "Hoà" != "Họa",
    "má" != "mà", "Đ" != "D"."""
    if not isinstance(s, str):
        s = str(s)
    if len(s) <= 256:
        return _fold_cached(s)  # header titles and keys repeat across thousands of sheets
    return " ".join(_tokens(clean_text(s).lower()))


@lru_cache(maxsize=65536)
def _fold_cached(s: str) -> str:
    return " ".join(_tokens(clean_text(s).lower()))


# --- choices -----------------------------------------------------------------------------


def _choice_keys(choice: Choice) -> list[str]:
    keys = [choice.code, choice.label, *choice.aliases]
    if choice.doc_type:
        keys.append(choice.doc_type)
    return keys


def match_choice(text: str, column: ColumnSpec) -> Choice | None:
    """The choice the clerk means by `text`: its code, label, an alias, or the document
    type code that goes with it ("KH" -> Kế hoạch), compared with `fold`. Codes and labels
    win over aliases when two choices would match."""
    if not isinstance(text, str) or not column.choices:
        return None
    key = fold(text)
    if not key:
        return None
    for c in column.choices:
        if key in (fold(c.code), fold(c.label)):
            return c
    for c in column.choices:
        if any(key == fold(k) for k in _choice_keys(c)):
            return c
    return None
