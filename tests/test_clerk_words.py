"""The clerk's words: cells are "ô màu đỏ / ô màu vàng" (never "Ô tô", read first as "a
car"), and a count typed as 27.554 in an Excel that reads "." as the decimal point is
explained as that, without guessing the value."""

from __future__ import annotations

from pathlib import Path

import pytest

import cchc_sync
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import RawCell, Severity, Unit
from cchc_sync.domain.templates import load_template_set
from cchc_sync.normalise import normalise_cell
from cchc_sync.sources.sheet_text import EXCEL_SAVE_LINE, instruction_lines

T = load_template_set()
RECEIVED = T.table("tthc").column("tong_tiep_nhan")


def test_the_guide_says_red_and_yellow_cells():
    unit = Unit(code="TP", name="Phòng Tư pháp", level="huyen")
    lines = instruction_lines(unit, parse_period("2022S1"), T, save_line=EXCEL_SAVE_LINE)
    text = "\n".join(line for _, line in lines)
    assert "Ô màu đỏ: LỖI" in text and "Ô màu vàng: CẢNH BÁO" in text
    assert "Ô tô" not in text and "ô tô" not in text


def test_no_clerk_facing_text_says_o_to():
    package = Path(cchc_sync.__file__).parent
    offending = [str(p) for p in package.rglob("*.py")
                 if "testing" not in p.parts
                 and ("Ô tô" in p.read_text(encoding="utf-8")
                      or "ô tô" in p.read_text(encoding="utf-8"))]
    assert offending == []


@pytest.mark.parametrize(("stored", "typed", "meant"),
                         [(27.554, "27.554", "27554"), (1.5, None, None),
                          (3.1, None, None), (1234.567, "1234.567", "1234567")])
def test_a_decimal_count_with_three_decimals_names_the_language_setting(stored, typed, meant):
    parsed = normalise_cell(RawCell(value=stored), RECEIVED)
    assert parsed.value is None  # never guessed
    (issue,) = parsed.issues
    assert issue.rule == "cell.int.decimal" and issue.severity is Severity.ERROR
    if typed is None:
        assert "ngôn ngữ" not in issue.message
        assert "ví dụ 15" in issue.message
        return
    assert f'gõ "{typed}"' in issue.message
    assert "Excel hoặc LibreOffice" in issue.message
    assert "dấu chấm là dấu thập phân" in issue.message
    assert f"Hãy gõ {meant}" in issue.message
    assert "đổi ngôn ngữ" in issue.message
