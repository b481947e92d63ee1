"""Normalisers: pure functions from what a clerk typed to a typed value or a clear
Vietnamese finding, never an exception. See docs/normalisation.md."""

from .base import Issue, Parsed
from .cells import normalise_cell
from .dates import parse_date_text, serial_to_date
from .docno import DocNo, parse_docno
from .legacy import detect_legacy
from .text import clean_text, fold, is_blank, match_choice

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
    "serial_to_date",
]
