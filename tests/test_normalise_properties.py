"""Property tests: normalise_cell is total, its findings are Vietnamese, and what vnformat
writes the normalisers read back."""

from __future__ import annotations

import datetime as dt
import logging
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_sync.domain.records import CellFormat, RawCell, Severity
from cchc_sync.domain.templates import Choice, ColumnSpec, ColumnType
from cchc_sync.domain.vnformat import format_date, format_date_long, format_int, format_percent
from cchc_sync.normalise import Issue, Parsed, clean_text, fold, normalise_cell
from cchc_sync.normalise.vietnamese import has_vietnamese_letters

CHOICES = (
    Choice(code="muc_2", label="Mức độ 2 (thông tin)", aliases=("mức 2", "2")),
    Choice(code="toan_trinh", label="Toàn trình (mức độ 4)", aliases=("toàn trình", "4")),
)
COLUMNS = [
    ColumnSpec(key=t.value, title=f"Cột {t.value}", type=t,
               choices=CHOICES if t is ColumnType.CHOICE else (),
               minimum=0 if t is ColumnType.INT else None)
    for t in ColumnType
]
COLUMN = {c.type: c for c in COLUMNS}

cell_values = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789.,/-% \u00a0"),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.sampled_from(["#REF!", "-", "15/16", "1,5", "27.554", "96,16%", "Phßng Néi vô",
                     "07/6/2022", "175/KH-UBND", "Có", "ngày 31 tháng 2 năm 2022"]),
)
formats = st.sampled_from([None, *CellFormat])

class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(value=cell_values, fmt=formats, column=st.sampled_from(COLUMNS))
def test_normalise_cell_is_total(value, fmt, column):
    logger = logging.getLogger("cchc_sync.normalise.cells")
    seen = _Records()
    logger.addHandler(seen)
    try:
        parsed = normalise_cell(RawCell(value=value, fmt=fmt), column)
    finally:
        logger.removeHandler(seen)
    assert isinstance(parsed, Parsed)
    assert not seen.records, "the last-resort safety net was used"
    for issue in parsed.issues:
        assert isinstance(issue, Issue)
        assert issue.rule.startswith("cell.")
        assert isinstance(issue.severity, Severity)
        assert issue.message.strip()
        assert has_vietnamese_letters(issue.message)
    if any(i.severity is Severity.ERROR for i in parsed.issues):
        assert parsed.value is None


@SETTINGS
@given(value=cell_values, fmt=formats, column=st.sampled_from(COLUMNS))
def test_value_types(value, fmt, column):
    parsed = normalise_cell(RawCell(value=value, fmt=fmt), column)
    if parsed.value is None:
        return
    expected = {
        ColumnType.INT: int,
        ColumnType.PCT: float,
        ColumnType.DATE: dt.date,
        ColumnType.TEXT: str,
        ColumnType.CHOICE: str,
        ColumnType.DOCNO: str,
        ColumnType.BOOL: bool,
    }[column.type]
    assert type(parsed.value) is expected
    if column.type is ColumnType.INT:
        assert parsed.value >= 0
    if column.type is ColumnType.PCT:
        assert 0 <= parsed.value <= 100
    if column.type is ColumnType.CHOICE:
        assert parsed.value in {c.code for c in CHOICES}


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_clean_text_and_fold_are_total_and_idempotent(s):
    cleaned = clean_text(s)
    assert clean_text(cleaned) == cleaned
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    key = fold(s)
    assert isinstance(key, str)


# --- round trips -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=10**14))
def test_format_int_round_trip(n):
    shown = format_int(n)
    assert normalise_cell(RawCell(value=shown), COLUMN[ColumnType.INT]) == Parsed(value=n)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=100, allow_nan=False))
def test_format_percent_round_trip(p):
    shown = format_percent(p)
    parsed = normalise_cell(RawCell(value=shown), COLUMN[ColumnType.PCT])
    assert parsed.issues == ()
    assert math.isclose(parsed.value, p, abs_tol=0.005 + 1e-9)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=0, max_value=1, allow_nan=False))
def test_percent_cell_round_trip(fraction):
    """A percent-formatted cell and its display text mean the same percentage."""
    stored = normalise_cell(RawCell(value=fraction, fmt=CellFormat.PERCENT),
                            COLUMN[ColumnType.PCT])
    typed = normalise_cell(RawCell(value=format_percent(fraction * 100)),
                           COLUMN[ColumnType.PCT])
    assert math.isclose(stored.value, typed.value, abs_tol=0.005 + 1e-9)


@settings(max_examples=200, deadline=None)
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)))
def test_format_date_round_trips(d):
    column = COLUMN[ColumnType.DATE]
    assert normalise_cell(RawCell(value=format_date_long(d)), column) == Parsed(value=d)
    assert normalise_cell(RawCell(value=format_date(d)), column) == Parsed(value=d)
    assert normalise_cell(RawCell(value=d.isoformat()), column) == Parsed(value=d)
