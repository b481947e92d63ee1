"""Detect Vietnamese typed in a legacy 8-bit font (TCVN3/ABC, VNI) and read it back.

Before Unicode, Vietnamese offices typed with 8-bit fonts (.VnTime = TCVN3/ABC, VNI-Times =
VNI). Text copied out of such documents arrives as the Latin-1 / cp1252 characters of those
bytes: "Phßng Néi vô" (TCVN3) or "Phoøng Noäi vuï" (VNI) for "Phòng Nội vụ".

Detection decodes each word both ways and keeps a reading only when it is clearly better
than taking the text as it is: the changed words must spell real Vietnamese syllables
(onset, rhyme, tone rules), more of them than the text as typed, and most words of the
reading must be Vietnamese. Text that already holds Vietnamese-only Unicode letters
(ơ, ư, ă, đ, ạ, ế, ...) is never legacy; nor is ASCII.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from cchc_sync.normalise.vietnamese import (
    ACUTE,
    DOT,
    GRAVE,
    HOOK,
    TILDE,
    has_vietnamese_letters,
    is_syllable,
)

# TCVN3 (TCVN 5712:1993, VN3): byte -> letter. Upper-case toned letters share the
# lower-case codes (the ".VnTimeH" font draws them as capitals).
_TCVN3 = dict(zip(
    "¸µ¶·¹¨¾»¼½Æ©ÊÇÈÉËÐÌÎÏÑªÕÒÓÔÖÝ×ØÜÞãßáâä«èåæçé¬íêëìîóïñòô\u00adøõö÷ùýúûüþ®¡¢£¤¥¦§",
    "áàảãạăắằẳẵặâấầẩẫậéèẻẽẹêếềểễệíìỉĩịóòỏõọôốồổỗộơớờởỡợúùủũụưứừửữựýỳỷỹỵđĂÂÊÔƠƯĐ",
    strict=True,
))

# VNI: a base letter followed by a byte that adds a mark; a few letters are one byte.
_CIRC, _BREVE = "\u0302", "\u0306"
_VNI_MARKS = {
    "ù": ("", ACUTE), "ø": ("", GRAVE), "û": ("", HOOK), "õ": ("", TILDE), "ï": ("", DOT),
    "â": (_CIRC, ""), "á": (_CIRC, ACUTE), "à": (_CIRC, GRAVE), "å": (_CIRC, HOOK),
    "ã": (_CIRC, TILDE), "ä": (_CIRC, DOT),
    "ê": (_BREVE, ""), "é": (_BREVE, ACUTE), "è": (_BREVE, GRAVE), "ú": (_BREVE, HOOK),
    "ü": (_BREVE, TILDE), "ë": (_BREVE, DOT),
}
_VNI_MARKS.update({k.upper(): v for k, v in list(_VNI_MARKS.items())})
_VNI_SINGLE = {
    "ô": "ơ", "ö": "ư", "ñ": "đ", "í": "í", "ì": "ì", "æ": "ỉ", "ó": "ĩ", "ò": "ị", "î": "ỵ",
}
_VNI_SINGLE.update({k.upper(): v.upper() for k, v in list(_VNI_SINGLE.items())})

# A word candidate: letters plus the symbols either code page uses for letters.
_LEGACY_SYMBOLS = "".join(sorted({c for c in _TCVN3 if not c.isalpha()}))
_RUN = re.compile(f"(?:[^\\W\\d_]|[{re.escape(_LEGACY_SYMBOLS)}])+")

_ABBREV = re.compile(r"[A-Z]{2,8}")

# Latin-1 letters that Unicode Vietnamese also uses: a word made only of these and ASCII
# could be either, so it alone is weak evidence (French "où" reads as VNI "ó").
_SHARED_LETTERS = frozenset("àáâãèéêìíòóôõùúýÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝ")


def _foreign(word: str) -> bool:
    """Does `word` hold a character Unicode Vietnamese never uses ("ß", "ø", "§", ...)?"""
    return any(not c.isascii() and c not in _SHARED_LETTERS for c in word)


def _decode_tcvn3(word: str) -> str:
    out = [_TCVN3.get(c, c) for c in word]
    letters = [c for c in word if c.isalpha() and c not in _TCVN3]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        # An all-caps word: its toned letters were typed in the capitals font.
        out = [c.upper() for c in out]
    return "".join(out)


def _decode_vni(word: str) -> str:
    out: list[str] = []
    for c in word:
        single = _VNI_SINGLE.get(c)
        if single is not None:
            out.append(single)
            continue
        mark = _VNI_MARKS.get(c)
        if mark is not None and out and _takes(out[-1], *mark):
            modifier, tone = mark
            out[-1] = unicodedata.normalize("NFC", out[-1] + modifier + tone)
            continue
        out.append(c)
    return "".join(out)


def _takes(prev: str, modifier: str, tone: str) -> bool:
    """Can the letter `prev` (already decoded) take this VNI mark?"""
    nfd = unicodedata.normalize("NFD", prev)
    if modifier == _CIRC:
        return nfd in ("a", "e", "o", "A", "E", "O")
    if modifier == _BREVE:
        return nfd in ("a", "A")
    if any(t in nfd for t in (ACUTE, GRAVE, HOOK, TILDE, DOT)):
        return False
    return nfd[0] in "aeiouyAEIOUY"


_DECODERS = (("TCVN3", _decode_tcvn3), ("VNI", _decode_vni))


def _reading(
    text: str, decode: Callable[[str], str]
) -> tuple[str, int, int, int, bool, bool]:
    """(reading, changed words that are syllables, changed words that are not, syllables
    among the changed words as typed, whether most words of the reading are Vietnamese,
    whether a changed word holds a character Vietnamese never uses)."""
    parts: list[str] = []
    last = 0
    good = bad = good_before = 0
    strong = False
    words = vietnamese = 0
    for m in _RUN.finditer(text):
        word = m.group(0)
        new = decode(word)
        parts.append(text[last : m.start()])
        parts.append(new)
        last = m.end()
        if _ABBREV.fullmatch(new):
            continue  # "UBND", "HĐND" spelled in ASCII: neither Vietnamese nor foreign
        words += 1
        if is_syllable(new):
            vietnamese += 1
        if new != word:
            strong = strong or _foreign(word)
            if is_syllable(new):
                good += 1
            else:
                bad += 1
            if is_syllable(word):
                good_before += 1
    parts.append(text[last:])
    return "".join(parts), good, bad, good_before, vietnamese * 10 >= words * 6, strong


def detect_legacy(text: str) -> tuple[str, str] | None:
    """("TCVN3", reading) or ("VNI", reading) when `text` looks like Vietnamese typed in a
    legacy 8-bit font and shown as Latin-1/cp1252; None for Unicode Vietnamese, ASCII,
    other languages, numbers, emoji."""
    if not isinstance(text, str) or text.isascii():
        return None
    text = unicodedata.normalize("NFC", text)
    if has_vietnamese_letters(text):
        return None
    best: tuple[int, str, str] | None = None
    for name, decode in _DECODERS:
        reading, good, bad, good_before, mostly_vietnamese, strong = _reading(text, decode)
        if not good or good <= good_before or not mostly_vietnamese:
            continue
        if good < 2 and not strong:
            continue
        if bad * 4 > good:  # a few proper names or foreign words may be garbled
            continue
        score = good - bad
        if best is None or score > best[0]:
            best = (score, name, reading)
    return None if best is None else (best[1], best[2])
