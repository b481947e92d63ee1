"""The fast paths of per-cell normalisation (issue 17 item 5) give what the general path
gives: plain integers, digit strings, cells decided blank or not by their first
character, formula errors, and the per-process caches of text and document numbers."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cchc_sync.domain.records import RawCell
from cchc_sync.domain.templates import ColumnSpec, ColumnType
from cchc_sync.normalise import docno, numbers
from cchc_sync.normalise.base import Parsed
from cchc_sync.normalise.cells import _read_text, _text_reading, normalise_cell
from cchc_sync.normalise.docno import DocNo, parse_docno
from cchc_sync.normalise.text import _BLANK_RE, _strip_invisible, formula_error, is_blank

COUNT = ColumnSpec(key="so_luong", title="Số lượng", type=ColumnType.INT)
BOUNDED = ColumnSpec(key="diem", title="Điểm", type=ColumnType.INT, minimum=1, maximum=99)
DOCNO = ColumnSpec(key="so_ky_hieu", title="Số, ký hiệu", type=ColumnType.DOCNO)


def general_int(value, column) -> Parsed:
    """normalise_int's general paths: a stored number through Decimal, a text through
    cleaning, the date and separator tests and babel."""
    if isinstance(value, int):
        return numbers._int_number(value, column)
    return numbers._int_text_read(value, column)


@settings(max_examples=300, deadline=None)
@given(n=st.integers(min_value=-10**16, max_value=10**16),
       column=st.sampled_from([COUNT, BOUNDED]))
def test_a_stored_int_reads_as_through_decimal(n, column):
    assert normalise_cell(RawCell(value=n), column) == general_int(n, column)


@settings(max_examples=300, deadline=None)
@given(digits=st.text(alphabet="0123456789", min_size=1, max_size=15),
       column=st.sampled_from([COUNT, BOUNDED]))
def test_a_digit_string_reads_as_babel_reads_it(digits, column):
    assert normalise_cell(RawCell(value=digits), column) == general_int(digits, column)


def test_digit_strings_the_fast_path_leaves_alone():
    # Not ASCII digits, or too long: the general path, with its findings.
    assert normalise_cell(RawCell(value="٣"), COUNT).issues  # Arabic-Indic three
    assert normalise_cell(RawCell(value="1" * 16), COUNT).issues[0].rule == "cell.int.range"
    assert normalise_cell(RawCell(value="27.554"), COUNT).value == 27554


@given(s=st.text(max_size=12))
def test_is_blank_and_formula_error_by_first_character(s):
    general = _BLANK_RE.fullmatch(_strip_invisible(s).strip().replace(" ", "")) is not None
    assert is_blank(s) == general
    if "#" not in s:
        assert formula_error(s) is None
    assert formula_error(" #ref! ") == "#REF!"


@given(s=st.text(max_size=40))
def test_cached_readings_equal_fresh_ones(s):
    assert _text_reading(s) == _read_text(s)
    parsed = parse_docno(s)
    if isinstance(parsed, DocNo) and not is_blank(s) and formula_error(s) is None:
        assert normalise_cell(RawCell(value=s), DOCNO).value == parsed.text


ZERO_FLOOR = ColumnSpec(key="so_luong", title="Số lượng", type=ColumnType.INT, minimum=0)
"""COUNT with its implicit floor written out: _int_range's fast path (no bounds of the
column's own) is skipped for it, so it reads every value through the general checks."""


@settings(max_examples=300, deadline=None)
@given(n=st.one_of(st.integers(min_value=-10**17, max_value=10**17),
                   st.integers(min_value=2**50 - 5, max_value=2**50 + 5),
                   st.integers(min_value=10**15 - 5, max_value=10**15 + 5)))
def test_a_count_without_bounds_reads_as_with_its_floor_written(n):
    assert numbers._int_range(n, COUNT, n) == numbers._int_range(n, ZERO_FLOOR, n)



DOCNO_TYPING = "0123456789/-\u2013\u2215KHQĐUBNDkhđ sốSố:.,\t\n\u00a0\u2009"


@settings(max_examples=500, deadline=None)
@given(s=st.text(alphabet=DOCNO_TYPING, max_size=24))
def test_a_document_number_without_spaces_skips_the_separator_substitution(s):
    """The substitution runs only where a space is: what it would still change is nothing."""
    compact = docno._compact(s)
    assert docno._AROUND_SEPARATORS.sub(r"\1", compact) == compact
