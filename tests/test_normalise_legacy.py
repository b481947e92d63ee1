"""detect_legacy: TCVN3 (ABC) and VNI text shown as Latin-1, and no false positives."""

from __future__ import annotations

import time

import pytest

from cchc_sync.normalise import detect_legacy


@pytest.mark.parametrize(
    "legacy, reading",
    [
        ("Phßng Néi vô", "Phòng Nội vụ"),
        ("Phßng", "Phòng"),
        ("UBND x· Long TrÞ", "UBND xã Long Trị"),
        ("V¨n phßng H§ND vµ UBND huyÖn", "Văn phòng HĐND và UBND huyện"),
        ("Gi¶i quyÕt thñ tôc hµnh chÝnh", "Giải quyết thủ tục hành chính"),
        ("QuyÕt ®Þnh", "Quyết định"),
        ("§µo t¹o, båi d­ìng", "Đào tạo, bồi dưỡng"),
        ("Thµnh phè Hå ChÝ Minh", "Thành phố Hồ Chí Minh"),
        ("Hoµ B×nh", "Hoà Bình"),
        ("Côc Thèng kª", "Cục Thống kê"),
        ("UBND HUYÖN", "UBND HUYỆN"),  # capitals font: the toned letter follows the word
        ("NguyÔn V¨n An", "Nguyễn Văn An"),
    ],
)
def test_tcvn3(legacy, reading):
    assert detect_legacy(legacy) == ("TCVN3", reading)


@pytest.mark.parametrize(
    "legacy, reading",
    [
        ("Phoøng Noäi vuï", "Phòng Nội vụ"),
        ("Phoøng", "Phòng"),
        ("Giaûi quyeát thuû tuïc haønh chính", "Giải quyết thủ tục hành chính"),
        ("Vaên phoøng HÑND vaø UBND huyeän", "Văn phòng HĐND và UBND huyện"),
        ("Tröôøng THCS", "Trường THCS"),
        ("Quyeát ñònh", "Quyết định"),
        ("Ñaøo taïo", "Đào tạo"),
        ("Thö vieän", "Thư viện"),
        ("THAØNH PHOÁ", "THÀNH PHỐ"),
        ("UBND xaõ Long Trò", "UBND xã Long Trị"),
    ],
)
def test_vni(legacy, reading):
    assert detect_legacy(legacy) == ("VNI", reading)


ORDINARY_VIETNAMESE = [
    "Phòng Nội vụ",
    "Giải quyết thủ tục hành chính",
    "Văn phòng HĐND và UBND huyện",
    "UBND xã Long Trị",
    "Uỷ ban nhân dân thị trấn Mỏ Cày",
    "Phòng Tư pháp",
    "Phòng Tài chính - Kế hoạch",
    "Phòng Tài nguyên và Môi trường",
    "Phòng Lao động - Thương binh và Xã hội",
    "Phòng Văn hóa và Thông tin",
    "Phòng Giáo dục và Đào tạo",
    "Phòng Y tế",
    "Thanh tra huyện",
    "Trung tâm Văn hóa, Thể thao và Truyền thanh",
    "Đất đai",
    "Hộ tịch",
    "Chứng thực",
    "Đăng ký kinh doanh",
    "Xây dựng",
    "Bảo trợ xã hội",
    "Cải cách hành chính",
    "Dịch vụ công trực tuyến toàn trình",
    "Kế hoạch cải cách hành chính năm 2022",
    "Nguyễn Thị Thu Hà",
    "Trần Văn Bình",
    "Lê Hoàng Nam",
    "Cà Mau",
    "Tây Ninh",
    "Bình Minh",
    "Long Hòa",
    "Tân Châu",
    "Hà Nội",
    "Bến Tre",
    "vô",
    "Cà phê",
    "Ðà Lạt",
    "Pho\u0300ng Nô\u0323i vu\u0323",  # NFD
    "Đã công bố hệ thống quản lý chất lượng TCVN ISO 9001:2015",
    "Hoàn thành",
    "Đang nhập",
]

NOT_VIETNAMESE = [
    "Café crème",
    "Je ne sais pas où il est",
    "où",
    "Hôtel de Ville",
    "naïve résumé",
    "Größe Straße",
    "Müller",
    "Señor José",
    "jalapeño",
    "Ærøskøbing",
    "coût",
    "Björk Guðmundsdóttir",
    "ISO 9001:2015",
    "Administrative reform report",
    "0912345678",
    "27.554",
    "96,16%",
    "📊📈 ✓",
    "🇻🇳 Việt Nam",
    "\u200fשלום",
    "مرحبا",
    "日本語",
    "±½×÷",
    "",
    "§ 3",
    "© 2022",
]


@pytest.mark.parametrize("text", ORDINARY_VIETNAMESE)
def test_no_false_positive_on_vietnamese(text):
    assert detect_legacy(text) is None


@pytest.mark.parametrize("text", NOT_VIETNAMESE)
def test_no_false_positive_on_other_text(text):
    assert detect_legacy(text) is None


def test_enough_ordinary_strings():
    assert len(ORDINARY_VIETNAMESE) >= 30


def test_long_legacy_text_is_fast():
    text = "Gi¶i quyÕt thñ tôc hµnh chÝnh " * 2000
    # CPU time, not the wall clock: a busy machine must not fail a bound on our work.
    start = time.process_time()
    found = detect_legacy(text)
    assert time.process_time() - start < 2.0
    assert found is not None and found[0] == "TCVN3"
