"""Document numbers ("số, ký hiệu") as Decree 30/2020/NĐ-CP writes them.

`number/TYPE-ISSUER` (175/KH-UBND, 28/QĐ-UBND), legal documents with the year
(09/2019/NĐ-CP), a công văn without a type code (1504/UBND-NCTH: issuer, then the unit
that drafted it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from cchc_sync.domain.records import Severity
from cchc_sync.normalise.base import Issue, quote
from cchc_sync.normalise.text import clean_text

# Type codes of Decree 30/2020/NĐ-CP (Appendix III) and of legal documents, in their
# official spelling; matched case-insensitively. Three are mixed-case by decree.
TYPE_CODES: tuple[str, ...] = (
    "NQ", "QĐ", "CT", "QC", "QyĐ", "TB", "HD", "CTr", "KH", "PA", "ĐA", "DA", "BC", "BB",
    "TTr", "HĐ", "CĐ", "BGN", "BTT", "GUQ", "GM", "GGT", "GNP", "PG", "PC", "PB", "TC",
    "NĐ", "TT", "TTLT", "NQLT", "PL", "SL", "LCT", "VBHN",
)
_TYPE_BY_KEY = {code.upper(): code for code in TYPE_CODES}
# Not in the decree, but widely written for a công văn ("123/CV-UBND"): kept in the text,
# and the number is a công văn (no type code) issued by what follows.
_CONG_VAN_MARK = "CV"
# Issuer abbreviations whose official spelling is not all upper-case.
_ISSUER_BY_KEY = {"TTG": "TTg"}

FIRST_YEAR, LAST_YEAR = 1945, 2100

_PREFIX = re.compile(r"(?:số\s*hiệu|số|so|no)\s*[:.]?\s*", re.IGNORECASE)
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2015\u2212]")
_SLASHES = re.compile("[\u2044\u2215\uff0f]")
_AROUND_SEPARATORS = re.compile(r"\s*([/-])\s*")
_SPACE = re.compile(r"\s")
_PART = "[A-Za-zĐđ][A-Za-zĐđ0-9]*"
_DOCNO = re.compile(f"([0-9]{{1,7}})/(?:([0-9]{{4}})/)?({_PART}(?:-{_PART})*)")
_SEARCH = re.compile(f"[0-9]{{1,7}}/(?:[0-9]{{4}}/)?{_PART}(?:-{_PART})+")

_MAX_TEXT = 200

FORM = "175/KH-UBND, 28/QĐ-UBND, 1504/UBND-NCTH hoặc 09/2019/NĐ-CP"


@dataclass(frozen=True, slots=True)
class DocNo:
    """A document number, normalised."""

    text: str
    """The whole number as it should be written: "175/KH-UBND", "09/2019/NĐ-CP"."""
    number: str
    """The running number, at least two digits ("175", "09")."""
    year: int | None
    """The year inside the number (legal documents), else None."""
    type_code: str | None
    """"KH", "QĐ", "CTr", ...; None for a công văn ("1504/UBND-NCTH") or a law."""
    issuer: str | None
    """The issuing body's abbreviation: "UBND" in 175/KH-UBND and in 1504/UBND-NCTH."""
    drafter: str | None = None
    """The drafting unit after the issuer, when written: "NCTH" in 1504/UBND-NCTH."""


_PLAIN = re.compile("[0-9][0-9A-Za-z\u0110\u0111/-]*")
"""A text every step of `_compact_general` gives back unchanged: a digit first (no "Số"
prefix), then only ASCII letters and digits, Đ/đ, "/" and "-" — nothing clean_text
changes (no space, invisible or decomposable character, no eth), no other dash or slash,
no trailing punctuation. Most numbers are typed so: each distinct one is parsed once per
process, and cleaning was a third of that."""


def _compact(text: str) -> str:
    if _PLAIN.fullmatch(text):
        return text
    return _compact_general(text)


def _compact_general(text: str) -> str:
    s = clean_text(text).replace("\u00d0", "Đ").replace("\u00f0", "đ")
    s = _DASHES.sub("-", _SLASHES.sub("/", s))
    if m := _PREFIX.match(s):
        rest = s[m.end():]
        if rest[:1].isdigit():
            s = rest
    if _SPACE.search(s):
        # Without a space the substitution gives s back, but it still expands its
        # template in Python for every separator: a third of parsing "175/KH-UBND".
        s = _AROUND_SEPARATORS.sub(r"\1", s)
    return s.rstrip(".,;")


def _format_issue(text: str, found: str | None) -> Issue:
    hint = ""
    if found:
        hint = (f' Nếu số văn bản là "{found}", chỉ ghi phần đó vào ô này (ngày ban hành, '
                "trích yếu ghi ở cột riêng).")
    return Issue(
        rule="cell.docno.format",
        severity=Severity.ERROR,
        message=(f'"{quote(text)}" không đúng dạng số, ký hiệu văn bản. Hãy ghi theo dạng '
                 f"số/ký hiệu, ví dụ {FORM} (viết liền, không có khoảng trắng).{hint}"),
        value=text,
    )


def parse_docno(text: str) -> DocNo | Issue:
    """The document number a clerk typed, normalised: "175 / KH - UBND",
    "số 175/kh-ubnd", "Số: 175/KH-UBND" -> 175/KH-UBND; "Ð" -> "Đ"; NFD -> NFC; upper
    case except the decree's mixed-case codes (CTr, TTr, QyĐ; issuer TTg); a running
    number below 10 gets its leading zero (9/KH-UBND -> 09/KH-UBND, as the decree writes
    it). Anything else -> an Issue "cell.docno.format"."""
    if not isinstance(text, str):
        return _format_issue(quote(text), None)
    if len(text) > _MAX_TEXT * 4:
        return _format_issue(text, None)
    s = _compact(text)
    m = _DOCNO.fullmatch(s) if len(s) <= _MAX_TEXT else None
    if m is None:
        found = _SEARCH.search(s) if len(s) <= _MAX_TEXT * 4 else None
        hint = None
        if found is not None:
            inner = parse_docno(found.group(0))
            hint = inner.text if isinstance(inner, DocNo) else None
        return _format_issue(text, hint)
    number, year_text, symbol = m.groups()
    n = int(number)
    year = int(year_text) if year_text else None
    if n == 0 or (year is not None and not FIRST_YEAR <= year <= LAST_YEAR):
        return _format_issue(text, None)
    parts = [_ISSUER_BY_KEY.get(p, p) for p in symbol.upper().split("-")]
    type_code = _TYPE_BY_KEY.get(parts[0])
    if type_code is not None and len(parts) == 1:
        return _format_issue(text, None)  # "175/KH": the issuer is missing
    if type_code is not None:
        parts[0] = type_code
    skip = type_code is not None or (parts[0] == _CONG_VAN_MARK and len(parts) > 1)
    rest = parts[1:] if skip else parts
    issuer = rest[0]
    drafter = "-".join(rest[1:]) or None
    number = f"{n:02d}"
    symbol = "-".join(parts)
    full = f"{number}/{year}/{symbol}" if year is not None else f"{number}/{symbol}"
    return DocNo(text=full, number=number, year=year, type_code=type_code, issuer=issuer,
                 drafter=drafter)


_CACHED_DOCNO = 300
_parse_docno_once = lru_cache(maxsize=4096)(parse_docno)


def parse_docno_cached(text: str) -> DocNo | Issue:
    """parse_docno, once per process for each text up to a few hundred characters: the
    provincial documents every unit cites are the same texts, and the row check
    `docno_type` parses each normalised number again. Its results are frozen; a longer
    text (no document number) is parsed without filling the cache."""
    return _parse_docno_once(text) if len(text) <= _CACHED_DOCNO else parse_docno(text)
