"""Normalisers: pure functions from what a clerk typed to a typed value or a clear
Vietnamese finding, never an exception. See docs/normalisation.md."""

from cchc_sync.normalise.base import Issue, Parsed
from cchc_sync.normalise.cells import normalise_cell
from cchc_sync.normalise.dates import parse_date_text, serial_to_date
from cchc_sync.normalise.docno import DocNo, parse_docno, parse_docno_cached
from cchc_sync.normalise.legacy import detect_legacy
from cchc_sync.normalise.text import clean_text, fold, is_blank, match_choice

__all__ = [
    "DocNo",
    "Issue",
    "Parsed",
    "clean_text",
    "detect_legacy",
    "fold",
    "is_blank",
    "match_choice",
    "normalise_cell",
    "parse_date_text",
    "parse_docno",
    "parse_docno_cached",
    "serial_to_date",
]
