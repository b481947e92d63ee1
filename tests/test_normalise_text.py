"""is_blank, clean_text, fold, match_choice."""

from __future__ import annotations

import time

import pytest

from cchc_sync.domain.templates import Choice, ColumnSpec, ColumnType, load_template_set
from cchc_sync.normalise import clean_text, fold, is_blank, match_choice

# --- is_blank ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [None, "", " ", "   ", "\u00a0", "\t\n", "\u200b", "-", "–", "—", " - ", "\u00a0–\u00a0",
     "--", "\u2212"],
)
def test_blank(value):
    assert is_blank(value)


@pytest.mark.parametrize("value", ["0", 0, 0.0, False, "x", "-5", "a", "#N/A", "–1"])
def test_not_blank(value):
    assert not is_blank(value)


# --- clean_text --------------------------------------------------------------------------


def test_clean_text_nfd_becomes_nfc():
    nfd = "Pho\u0300ng Nô\u0323i vu\u0323"
    assert nfd != "Phòng Nội vụ"
    assert clean_text(nfd) == "Phòng Nội vụ"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Phòng   Nội vụ  ", "Phòng Nội vụ"),
        ("Phòng\u00a0Nội\u2009vụ", "Phòng Nội vụ"),
        ("Phòng\u202fNội\u3000vụ", "Phòng Nội vụ"),
        ("Phòng\nNội\r\nvụ\tx", "Phòng Nội vụ x"),
        ("Phòng\u200b Nội\u200d vụ\ufeff", "Phòng Nội vụ"),
        ("\u200fPhòng\u200e Nội vụ\u202b", "Phòng Nội vụ"),
        ("Phòng\x00 Nội\x07 vụ", "Phòng Nội vụ"),
        ("Ðồng Khởi", "Đồng Khởi"),
        ("Ðà Lạt", "Đà Lạt"),
        ("ðồng", "đồng"),
        ("Ðinh Văn An", "Đinh Văn An"),
        ("HÐND huyện", "HĐND huyện"),
        ("28/QÐ-UBND", "28/QĐ-UBND"),
        ("Ðoan", "Đoan"),
        ("Guðrún", "Guðrún"),  # Icelandic: eth inside a non-Vietnamese word stays
        ("Guðmundsson", "Guðmundsson"),
        ("Thủy 💧 ok", "Thủy 💧 ok"),
        ("", ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


def test_clean_text_eth_is_u0110():
    assert clean_text("Ð") == "\u0110"
    assert "\u00d0" not in clean_text("HÐND và UBND")


def test_clean_text_long_input_is_fast():
    s = ("Phòng\u00a0Nội  vụ\u200b " * 4000)[:50_000]
    # CPU time, not the wall clock: a busy machine must not fail a bound on our work.
    start = time.process_time()
    out = clean_text(s)
    assert time.process_time() - start < 1.0
    assert "  " not in out and "\u00a0" not in out


# --- fold --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "a, b",
    [
        ("UBND xã Long Trị", "Uỷ ban nhân dân Xã  Long Trị"),
        ("UBND xã Long Trị", "Ủy ban nhân dân xã Long Trị"),
        ("Hoà", "Hòa"),
        ("Thuỷ", "Thủy"),
        ("hoá", "hóa"),
        ("hoả", "hỏa"),
        ("Khoẻ", "khỏe"),
        ("uỳ", "ùy"),
        ("uý", "úy"),
        ("Hoà Bình", "HÒA BÌNH"),
        ("Văn phòng HĐND và UBND huyện", "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân huyện"),
        ("VP HÐND", "VP Hội đồng nhân dân"),
        ("Giải quyết TTHC", "giải quyết thủ tục hành chính"),
        ("Công tác CCHC", "công tác cải cách hành chính"),
        ("DVCTT toàn trình", "Dịch vụ công trực tuyến toàn trình"),
        ("TP. Bến Tre", "Thành phố Bến Tre"),
        ("TP Bến Tre", "thành phố Bến Tre"),
        ("TX. Bình Minh", "Thị xã Bình Minh"),
        ("TT. Mỏ Cày", "Thị trấn Mỏ Cày"),
        ("Mức độ 3", "mức độ  3"),
        ("Một phần (mức độ 3)", "một phần mức độ 3"),
        ("Pho\u0300ng Nô\u0323i vu\u0323", "Phòng Nội vụ"),
        ("Phòng Nội vụ.", " phòng, nội vụ "),
        ("Thụy", "Thuỵ"),
        ("Quý", "Qúy"),
        ("xoà", "xòa"),
    ],
)
def test_fold_equal(a, b):
    assert fold(a) == fold(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("Hoà", "Họa"),
        ("má", "mà"),
        ("ma", "mã"),
        ("Đồng", "Dong"),
        ("Đồng", "Đông"),
        ("Thủy", "Thúy"),
        ("Hòa", "Hoa"),
        ("mức 3", "mức 4"),
        ("TT Hành chính công", "Thị trấn Hành chính công"),  # bare "TT" is ambiguous
        ("Công chức", "Viên chức"),
        ("lương", "luống"),
    ],
)
def test_fold_not_equal(a, b):
    assert fold(a) != fold(b)


def test_fold_is_idempotent_on_samples():
    for s in ["Uỷ ban nhân dân xã", "HOÀ", "Thuỷ lợi", "người", "quyết định", "giữa"]:
        assert fold(fold(s)) == fold(s)


# --- match_choice ------------------------------------------------------------------------

DVCTT = ColumnSpec(
    key="loai",
    title="Loại dịch vụ",
    type=ColumnType.CHOICE,
    choices=(
        Choice(code="muc_2", label="Mức độ 2 (thông tin)", aliases=("mức 2", "2", "thông tin")),
        Choice(code="mot_phan", label="Một phần (mức độ 3)",
               aliases=("một phần", "mức 3", "Mức độ 3", "3")),
        Choice(code="toan_trinh", label="Toàn trình (mức độ 4)",
               aliases=("toàn trình", "mức 4", "mức độ 4", "4")),
    ),
)


@pytest.mark.parametrize(
    "text, code",
    [
        ("Toàn trình (mức độ 4)", "toan_trinh"),
        ("toàn trình", "toan_trinh"),
        ("TOÀN TRÌNH", "toan_trinh"),
        ("Mức độ 3", "mot_phan"),
        ("mức  độ 3", "mot_phan"),
        ("3", "mot_phan"),
        ("toan_trinh", "toan_trinh"),
        ("mot phan", "mot_phan"),
        ("Một phần (mức độ 3)", "mot_phan"),
        ("Mo\u0323\u0302t pha\u0302\u0300n", "mot_phan"),
        ("mức 2", "muc_2"),
    ],
)
def test_match_choice(text, code):
    choice = match_choice(text, DVCTT)
    assert choice is not None and choice.code == code


@pytest.mark.parametrize("text", ["mức 5", "", "   ", "mực 3", "toàn", "5"])
def test_match_choice_unknown(text):
    assert match_choice(text, DVCTT) is None


def test_match_choice_with_shipped_templates():
    templates = load_template_set()
    loai = templates.table("van_ban").column("loai_van_ban")
    assert match_choice("kế hoạch", loai).code == "ke_hoach"
    assert match_choice("QÐ", loai).code == "quyet_dinh"  # by its document type code
    assert match_choice("Quyết Định", loai).code == "quyet_dinh"
    assert match_choice("Chương trình", loai).code == "chuong_trinh"
    assert match_choice("Tờ trình", loai).code == "to_trinh"
    dvctt = templates.table("dvctt").column("loai")
    assert match_choice("Dịch vụ công mức độ 4", dvctt).code == "toan_trinh"


@pytest.mark.parametrize("s", ["aÐ0Ð", "Ðà Lạt và Guðrún", "Guðrún Ðinh", "xÐ Ð"])
def test_clean_text_is_idempotent_with_eth(s):
    once = clean_text(s)
    assert clean_text(once) == once
