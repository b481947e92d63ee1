"""Vietnamese orthography: tone marks, their placement, and what a syllable can look like.

Used by `fold` (tone-placement-insensitive keys) and by `detect_legacy` (does a reading
consist of real Vietnamese syllables?).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The five tone marks as combining characters (NFD).
ACUTE, GRAVE, HOOK, TILDE, DOT = "\u0301", "\u0300", "\u0309", "\u0303", "\u0323"
TONES = frozenset((ACUTE, GRAVE, HOOK, TILDE, DOT))

VOWELS = frozenset("aăâeêioôơuưy")
_MARKED_VOWELS = frozenset("ăâêôơư")

_VIET_ONLY = re.compile("[\u0102\u0103\u0110\u0111\u0128\u0129\u0168\u0169\u01a0\u01a1"
                        "\u01af\u01b0\u1ea0-\u1ef9]")
"""Letters only Vietnamese uses (Ă ă Đ đ Ĩ ĩ Ũ ũ Ơ ơ Ư ư and the Latin Extended Additional
block of tone-marked vowels). Text decoded from an 8-bit code page never contains them."""


def has_vietnamese_letters(text: str) -> bool:
    return _VIET_ONLY.search(text) is not None


def split_tones(word: str) -> tuple[str, str]:
    """(word without tone marks, NFC; the tone marks in order). Other diacritics stay."""
    nfd = unicodedata.normalize("NFD", word)
    tones = "".join(c for c in nfd if c in TONES)
    if not tones:
        return unicodedata.normalize("NFC", word), ""
    base = "".join(c for c in nfd if c not in TONES)
    return unicodedata.normalize("NFC", base), tones


def _tone_position(base: str, old_style: bool = False) -> int | None:
    """Index of the letter that carries the tone in `base` (lower-case, toneless), by the
    "new" placement rule (hoà, thuỷ, khoẻ; hoàn, quý, giữa, người), or by the old one
    (hòa, thủy, khỏe). None: no vowel."""
    n = len(base)
    i = 0
    while i < n and base[i] not in VOWELS:
        i += 1
    if i == n:
        return None
    j = i
    while j < n and base[j] in VOWELS:
        j += 1
    # In "qu" and "gi" (before another vowel) the u / i belongs to the onset.
    if j - i > 1 and i > 0 and (base[i - 1 : i + 1] in ("qu", "gi")):
        i += 1
    marked = [k for k in range(i, j) if base[k] in _MARKED_VOWELS]
    if marked:
        return marked[-1]
    run = base[i:j]
    if len(run) == 1:
        return i
    if j < n:
        return j - 1
    if run in ("oa", "oe", "uy"):
        return i if old_style else j - 1
    if len(run) == 3:
        return i + 1
    return i


def canonical_tone(word: str) -> str:
    """The word (lower-case expected) with its tone mark on the canonical vowel, NFC.

    Two spellings that differ only in where the tone mark sits ("hoà"/"hòa",
    "thuỷ"/"thủy") give the same result; different tones or letters never do, because
    the toneless base and the tone marks are both kept."""
    # Cache real words only: a 50,000-letter "word" must not sit in memory.
    return _canonical_tone(word) if len(word) <= _CACHED_WORD else _place_tone(word)


_CACHED_WORD = 40


@lru_cache(maxsize=8192)
def _canonical_tone(word: str) -> str:
    return _place_tone(word)


def _place_tone(word: str) -> str:
    base, tones = split_tones(word)
    if not tones:
        return base
    pos = _tone_position(base)
    if pos is None:
        return unicodedata.normalize("NFC", base + tones)
    return unicodedata.normalize("NFC", base[: pos + 1] + tones + base[pos + 1 :])


# --- what a syllable may look like -------------------------------------------------------

_ONSETS = ("ngh", "ng", "nh", "ch", "gh", "gi", "kh", "ph", "qu", "th", "tr",
           "b", "c", "d", "đ", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "x", "")

# Nucleus -> the codas it takes ("" = open syllable). Toneless, lower-case.
_STOP = ("c", "p", "t")
_RHYMES: dict[str, tuple[str, ...]] = {
    "a": ("", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "u", "y"),
    "ă": ("c", "m", "n", "ng", "p", "t"),
    "â": ("c", "m", "n", "ng", "p", "t", "u", "y"),
    "e": ("", "c", "m", "n", "ng", "p", "t", "o"),
    "ê": ("", "ch", "m", "n", "nh", "p", "t", "u"),
    "i": ("", "ch", "m", "n", "nh", "p", "t", "a", "u"),
    "o": ("", "c", "m", "n", "ng", "p", "t", "i"),
    "oo": ("c", "ng"),
    "ô": ("", "c", "m", "n", "ng", "p", "t", "i"),
    "ơ": ("", "m", "n", "p", "t", "i"),
    "u": ("", "c", "m", "n", "ng", "p", "t", "a", "i", "y"),
    "ư": ("", "c", "m", "n", "ng", "t", "a", "i", "u"),
    "y": ("",),
    "iê": ("c", "m", "n", "ng", "p", "t", "u"),
    "yê": ("", "m", "n", "ng", "t", "u"),
    "uô": ("c", "m", "n", "ng", "t", "i"),
    "ươ": ("c", "m", "n", "ng", "p", "t", "i", "u"),
    "oa": ("", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "y"),
    "oă": ("c", "m", "n", "ng", "t"),
    "oe": ("", "n", "t", "o"),
    "uâ": ("n", "ng", "t", "y"),
    "uê": ("", "ch", "n", "nh"),
    "uơ": ("",),
    "uy": ("", "ch", "n", "nh", "p", "t", "a", "u"),
    "uyê": ("n", "t"),
}
_NUCLEI = sorted(_RHYMES, key=len, reverse=True)
_LETTERS_ONLY = re.compile(r"[a-zđăâêôơư]+")


_LONGEST_SYLLABLE = 8  # "nghiêng", "nghiệp" have 7 letters


def is_syllable(word: str) -> bool:
    """True when `word` (any case) is spelled like one Vietnamese syllable: a known onset,
    a known nucleus with a coda it takes, at most one tone, on the vowel that carries it
    (old or new placement), and only sắc or nặng before a stop (-c, -ch, -p, -t)."""
    return len(word) <= _LONGEST_SYLLABLE * 2 and _is_syllable(word)


@lru_cache(maxsize=8192)
def _is_syllable(word: str) -> bool:
    lower = unicodedata.normalize("NFC", word.lower())
    base, tones = split_tones(lower)
    if len(tones) > 1 or not _LETTERS_ONLY.fullmatch(base) or len(base) != len(lower):
        return False
    if tones:
        # The tone must sit where Vietnamese puts it (old or new style): "xaõ" is no
        # spelling of "xão".
        at = next(k for k, ch in enumerate(lower) if ch != base[k])
        if at not in (_tone_position(base), _tone_position(base, old_style=True)):
            return False
    for onset in _ONSETS:
        if not base.startswith(onset):
            continue
        rest = base[len(onset):]
        if onset == "gi" and (not rest or rest[0] not in VOWELS or rest[0] == "i"):
            # "gì", "gìn": g + i..., tried with onset "g".
            continue
        if onset == "qu" and (not rest or rest[0] not in VOWELS):
            continue
        for nucleus in _NUCLEI:
            if not rest.startswith(nucleus):
                continue
            coda = rest[len(nucleus):]
            if coda not in _RHYMES[nucleus]:
                continue
            if (coda in _STOP or coda == "ch") and tones not in (ACUTE, DOT):
                continue
            return True
    return False
