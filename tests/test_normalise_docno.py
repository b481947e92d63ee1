"""Document numbers (Decree 30/2020/NĐ-CP)."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cchc_sync.domain.records import RawCell, Severity
from cchc_sync.domain.templates import ColumnSpec, ColumnType
from cchc_sync.normalise import DocNo, Issue, Parsed, docno, normalise_cell, parse_docno

DOCNO = ColumnSpec(key="so_ky_hieu", title="Số, ký hiệu", type=ColumnType.DOCNO)


@pytest.mark.parametrize(
    "typed, text",
    [
        ("175/KH-UBND", "175/KH-UBND"),
        ("175 / KH - UBND", "175/KH-UBND"),
        ("175/ KH-UBND ", "175/KH-UBND"),
        ("số 175/kh-ubnd", "175/KH-UBND"),
        ("Số: 175/KH-UBND", "175/KH-UBND"),
        ("Số 175/KH-UBND", "175/KH-UBND"),
        ("so 175/KH-UBND", "175/KH-UBND"),
        ("175/KH–UBND", "175/KH-UBND"),  # en dash
        ("175/KH-UBND.", "175/KH-UBND"),
        ("175\u00a0/\u00a0KH-UBND", "175/KH-UBND"),
        ("28/QÐ-UBND", "28/QĐ-UBND"),  # U+00D0 lookalike
        ("28/qð-ubnd", "28/QĐ-UBND"),
        ("09/2019/NĐ-CP", "09/2019/NĐ-CP"),
        ("9/2019/nđ-cp", "09/2019/NĐ-CP"),  # Decree 30: numbers below 10 take a zero
        ("0175/KH-UBND", "175/KH-UBND"),
        ("1504/UBND-NCTH", "1504/UBND-NCTH"),
        ("1504/ubnd-ncth", "1504/UBND-NCTH"),
        ("12/CTr-UBND", "12/CTr-UBND"),
        ("12/ctr-ubnd", "12/CTr-UBND"),
        ("12/CTR-UBND", "12/CTr-UBND"),
        ("15/TTr-UBND", "15/TTr-UBND"),
        ("15/TTR-UBND", "15/TTr-UBND"),
        ("3/QyĐ-UBND", "03/QyĐ-UBND"),
        ("15/QĐ-TTG", "15/QĐ-TTg"),
        ("01/CT-TTg", "01/CT-TTg"),
        ("80/2015/QH13", "80/2015/QH13"),
        ("01/2020/TT-VPCP", "01/2020/TT-VPCP"),
        ("175/KH-UBND-VP", "175/KH-UBND-VP"),
    ],
)
def test_normalisation(typed, text):
    parsed = parse_docno(typed)
    assert isinstance(parsed, DocNo), parsed
    assert parsed.text == text
    assert normalise_cell(RawCell(value=typed), DOCNO) == Parsed(value=text)


def test_nfd_input():
    assert parse_docno("So\u0302\u0301 175/KH-UBND").text == "175/KH-UBND"
    assert parse_docno("Số: 28/QĐ-UBND").text == "28/QĐ-UBND"


@pytest.mark.parametrize(
    "typed, number, year, type_code, issuer, drafter",
    [
        ("175/KH-UBND", "175", None, "KH", "UBND", None),
        ("28/QĐ-UBND", "28", None, "QĐ", "UBND", None),
        ("09/2019/NĐ-CP", "09", 2019, "NĐ", "CP", None),
        ("1504/UBND-NCTH", "1504", None, None, "UBND", "NCTH"),
        ("12/CTr-UBND", "12", None, "CTr", "UBND", None),
        ("15/TTr-UBND", "15", None, "TTr", "UBND", None),
        ("80/2015/QH13", "80", 2015, None, "QH13", None),
        ("45/BC-UBND", "45", None, "BC", "UBND", None),
        ("7/CT-UBND", "07", None, "CT", "UBND", None),
        ("2/TB-UBND", "02", None, "TB", "UBND", None),
        ("5/NQ-HĐND", "05", None, "NQ", "HĐND", None),
        ("11/HD-SNV", "11", None, "HD", "SNV", None),
        ("01/2020/TT-VPCP", "01", 2020, "TT", "VPCP", None),
        ("123/CV-UBND", "123", None, None, "UBND", None),  # "CV": a công văn, no type code
        ("175/KH-UBND-VP", "175", None, "KH", "UBND", "VP"),
    ],
)
def test_fields(typed, number, year, type_code, issuer, drafter):
    assert parse_docno(typed) == DocNo(text=parse_docno(typed).text, number=number, year=year,
                                       type_code=type_code, issuer=issuer, drafter=drafter)


@pytest.mark.parametrize(
    "typed",
    ["175", "abc", "", "KH-UBND", "175/KH", "175 KH UBND", "175/", "/KH-UBND",
     "0/KH-UBND", "12/3456/QĐ-UBND", "175/KH-", "175/-UBND", "175/KH--UBND",
     "Kế hoạch số 175/KH-UBND ngày 07/6/2022", "175/KH UBND", "x" * 50_000],
)
def test_not_a_docno(typed):
    parsed = parse_docno(typed)
    assert isinstance(parsed, Issue)
    assert parsed.rule == "cell.docno.format"
    assert parsed.severity is Severity.ERROR
    assert "175/KH-UBND" in parsed.message  # shows the expected form


def test_docno_inside_a_sentence_is_suggested():
    issue = parse_docno("Kế hoạch số 175/kh-ubnd ngày 07/6/2022")
    assert isinstance(issue, Issue)
    assert '"175/KH-UBND"' in issue.message
    assert "cột riêng" in issue.message


@pytest.mark.parametrize("value", [175, 175.0, 28])
def test_stored_number(value):
    parsed = normalise_cell(RawCell(value=value), DOCNO)
    assert parsed.value is None
    (issue,) = parsed.issues
    assert issue.rule == "cell.docno.format"
    assert "thiếu ký hiệu" in issue.message
    assert f"{int(value)}/KH-UBND" in issue.message


@pytest.mark.parametrize("value", [True, 1.5, float("nan")])
def test_stored_non_docno(value):
    parsed = normalise_cell(RawCell(value=value), DOCNO)
    assert [i.rule for i in parsed.issues] == ["cell.docno.format"]


# `_compact` returns a plain number as typed, without cleaning it: it must be exactly what
# the general cleaning gives, for every text the shortcut takes and every one near it.
NEAR_PLAIN = st.lists(
    st.sampled_from([*"0123456789/-KHUBNDQĐđÐðaz.,; ", "\u00a0", "\u200b", "\u2013",
                     "\u2215", "O\u0302", "s\u1ed1 ", "no", "So", "NO"]),
    max_size=16,
).map("".join)


@settings(max_examples=500, deadline=None)
@example("no12/KH-UBND")  # a prefix glued on: the general cleaning drops it
@example("175/KH-UBND.")
@given(st.one_of(NEAR_PLAIN, st.text(max_size=16), st.from_regex(docno._PLAIN, fullmatch=True)))
def test_the_plain_shortcut_compacts_as_the_general_cleaning(text: str) -> None:
    assert docno._compact(text) == docno._compact_general(text)
    if docno._PLAIN.fullmatch(text):
        assert docno._compact_general(text) == text  # the shortcut's premise
