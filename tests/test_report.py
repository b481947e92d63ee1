"""The coordinator's report: every figure sentence states exactly the consolidated figures
(checked against sums computed here from the archive's rows), tainted figures are marked
and listed, placeholders are there, Markdown and comparison with an earlier period."""

from __future__ import annotations

import re

import pytest

from cchc_sync.domain.periods import PeriodError
from cchc_sync.domain.vnformat import format_date, format_int
from cchc_sync.report import ReportError, build_report, report_text, write_report
from cchc_sync.report.data import compare_label, period_title
from cchc_sync.report.model import ParaStyle, SpanKind
from tests.test_report_expected import EARLIER, KINDS, build_district, expected_for, rate_text

PERIOD = "2022S1"
AREA = "Toàn huyện Sông Mây"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_district(tmp_path_factory.mktemp("report") / "district")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def exp(ws):
    return expected_for(ws, PERIOD)


@pytest.fixture(scope="module")
def report(ws):
    return build_report(ws, PERIOD)


@pytest.fixture(scope="module")
def md(ws):
    return report_text(ws, PERIOD)


def test_every_printed_figure_equals_an_independent_sum(report, exp):
    """Every number the body and annex print as a figure is one of that figure's values
    (by level or in total) computed here from raw rows, formatted as Vietnamese write it."""
    checked = 0
    for p in report.paragraphs():
        for span in p.spans:
            if span.kind is SpanKind.FIGURE and span.figure:
                assert span.plain() in exp.texts(span.figure), (span.figure, span.plain())
                checked += 1
    assert checked > 60
    # Level and area lines of the annex tables are the same figures.
    table = next(t for t in report.tables() if "thủ tục hành chính" in t.title)
    total_row = [c.text + ("(*)" if c.tainted else "") for c in table.rows[0].cells]
    assert total_row[1] == AREA
    assert total_row[2:] == [exp.text(f) for f in ("tthc.tiep_nhan", "tthc.da_giai_quyet",
                                                   "tthc.dung_han", "tthc.tre_han",
                                                   "tthc.chua_den_han", "tthc.dang_qua_han",
                                                   "tthc.ty_le_dung_han")]


def test_dossier_sentence_states_the_consolidated_figures(md, exp):
    t = exp.text
    # Resolved late ("giải quyết trễ hạn") and open and overdue ("đang … quá hạn") are two
    # figures under two names; the rate is printed with what it divides.
    assert (
        f"{AREA} đã tiếp nhận {t('tthc.tiep_nhan')} hồ sơ, gồm: từ kỳ trước "
        f"chuyển qua {t('tthc.tu_ky_truoc')} hồ sơ; mới tiếp nhận trực tuyến "
        f"{t('tthc.truc_tuyen')} hồ sơ; mới tiếp nhận trực tiếp, qua dịch vụ bưu chính "
        f"{t('tthc.truc_tiep')} hồ sơ. Đã giải quyết {t('tthc.da_giai_quyet')} hồ sơ (đúng "
        f"hạn, kể cả trước hạn {t('tthc.dung_han')} hồ sơ, giải quyết trễ hạn "
        f"{t('tthc.tre_han')} hồ sơ), tỷ lệ giải quyết đúng hạn đạt "
        f"{t('tthc.ty_le_dung_han')} ({t('tthc.dung_han')}/{t('tthc.da_giai_quyet')} hồ sơ). "
        f"Đang giải quyết {t('tthc.dang_giai_quyet')} hồ sơ (trong hạn "
        f"{t('tthc.chua_den_han')} hồ sơ, đã quá hạn {t('tthc.dang_qua_han')} hồ sơ). Trong đó:"
    ) in md
    for level, name, end in (("huyen", "Cấp huyện", ";"), ("xa", "Cấp xã", ".")):
        got, of = exp.reporting("tthc", level), 6
        cov = f" ({got}/{of} đơn vị có số liệu)" if got < of else ""
        assert (
            f"+ {name}{cov}: tiếp nhận {t('tthc.tiep_nhan', level)} hồ sơ; đã giải quyết "
            f"{t('tthc.da_giai_quyet', level)} hồ sơ (đúng hạn, kể cả trước hạn "
            f"{t('tthc.dung_han', level)} hồ sơ, giải quyết trễ hạn "
            f"{t('tthc.tre_han', level)} hồ sơ), tỷ lệ giải quyết đúng hạn đạt "
            f"{t('tthc.ty_le_dung_han', level)} ({t('tthc.dung_han', level)}/"
            f"{t('tthc.da_giai_quyet', level)} hồ sơ); đang giải quyết "
            f"{t('tthc.dang_giai_quyet', level)} hồ sơ (trong hạn "
            f"{t('tthc.chua_den_han', level)} hồ sơ, đã quá hạn "
            f"{t('tthc.dang_qua_han', level)} hồ sơ){end}"
        ) in md
    # The sample's commune An Bình has not started: the communes' line says 5/6.
    assert "+ Cấp xã (5/6 đơn vị có số liệu): tiếp nhận" in md


def test_online_one_stop_and_signature_sentences(md, exp):
    t = exp.text
    catalogue = "; ".join(
        f"{t(f'dvctt.so_thu_tuc.{k}')} thủ tục {label}"
        for k, label in zip(KINDS, ("một phần (mức độ 3)", "toàn trình (mức độ 4)"),
                            strict=True))
    assert f"trực tuyến trên địa bàn: {catalogue}. Trong đó:" in md
    assert (f"dịch vụ công trực tuyến: {t('dvctt.phat_sinh_tong')} hồ sơ phát sinh, "
            f"{t('dvctt.truc_tuyen_tong')} hồ sơ nộp trực tuyến, đạt {t('dvctt.ty_le_tong')}."
            ) in md
    for k, label in zip(KINDS, ("một phần (mức độ 3)", "toàn trình (mức độ 4)"), strict=True):
        assert (f"{label}: {t(f'dvctt.phat_sinh.{k}')} hồ sơ phát sinh, "
                f"{t(f'dvctt.truc_tuyen.{k}')} hồ sơ nộp trực tuyến, đạt "
                f"{t(f'dvctt.ty_le.{k}')}") in md
    assert (f"+ Cấp huyện: {t('dvctt.phat_sinh_tong', 'huyen')} hồ sơ phát sinh, "
            f"{t('dvctt.truc_tuyen_tong', 'huyen')} hồ sơ nộp trực tuyến, đạt "
            f"{t('dvctt.ty_le_tong', 'huyen')};") in md
    # "… đạt 96,16%": the rate is the rounded ratio of the printed numbers.
    total_rate = exp.raw("dvctt.truc_tuyen_tong") * 100 / exp.raw("dvctt.phat_sinh_tong")
    assert t("dvctt.ty_le_tong").startswith(rate_text(round(total_rate, 2)))
    assert (f"tại biểu Một cửa điện tử là {t('mot_cua.tren_he_thong')}/"
            f"{t('mot_cua.tong')} hồ sơ, đạt {t('mot_cua.ty_le')}.") in md
    for level in ("huyen", "xa"):
        assert (f"{t('mot_cua.tren_he_thong', level)}/{t('mot_cua.tong', level)} hồ sơ, đạt "
                f"{t('mot_cua.ty_le', level)}") in md
    assert (f"Tổng số văn bản đi là {t('ky_so.van_ban_di')} văn bản, trong đó "
            f"{t('ky_so.ky_so')} văn bản được ký số, đạt {t('ky_so.ty_le')}; chứng thư số đã "
            f"cấp: {t('ky_so.chung_thu_to_chuc')} cho tổ chức, "
            f"{t('ky_so.chung_thu_ca_nhan')} cho cá nhân.") in md


def test_staffing_training_iso_and_directives(md, exp, ws):
    t = exp.text
    assert (f"Biên chế công chức: được giao {t('bien_che.duoc_giao.cong_chuc')}; hiện có "
            f"{t('bien_che.hien_co.cong_chuc')}; chưa sử dụng "
            f"{t('bien_che.chua_su_dung.cong_chuc')}; hợp đồng lao động "
            f"{t('bien_che.hop_dong.cong_chuc')} người.") in md
    # Nobody reported viên chức: no "0" printed for it.
    assert "Biên chế viên chức" not in md
    assert (f"đã cử {t('dao_tao.so_nguoi')} lượt người tham gia đào tạo, bồi dưỡng với "
            f"{t('dao_tao.so_lop')} nội dung") in md
    for content in {r.values["noi_dung"] for r in ws.archive.current_rows(PERIOD)
                    if r.table == "dao_tao"}:
        assert content[0].lower() + content[1:] in md
    assert (f"9001:2015: {t('iso.ap_dung')}/{t('iso.bao_cao')} cơ quan, đơn vị đã công bố "
            f"(theo báo cáo của {t('iso.bao_cao')}/12 đơn vị)") in md
    assert (f"+ Cấp xã: {t('iso.ap_dung', 'xa')}/{t('iso.bao_cao', 'xa')} cơ quan, đơn vị đã "
            "công bố") in md
    assert f"đã ban hành, triển khai {t('van_ban.so_van_ban')} văn bản chỉ đạo" in md
    # Every counted directive as "Kế hoạch số 10/KH-UBND ngày 10/01/2022 …", dates by
    # Decree 30; a row with an open error is left out of the list (and the count) and
    # listed on the last page.
    rows = [r for r in ws.archive.current_rows(PERIOD) if r.table == "van_ban"]
    bad = {(f.unit, f.row_key) for f in ws.archive.open_findings(PERIOD)
           if f.table == "van_ban" and f.severity.value == "error"}
    assert bad
    body = md.split("# PHỤ LỤC")[0]
    for r in rows:
        import datetime as dt

        date = format_date(dt.date.fromisoformat(r.values["ngay_ban_hanh"]))
        line = f"Kế hoạch số {r.values['so_ky_hieu']} ngày {date} "
        assert (line in body) is ((r.unit, r.key) not in bad), line
    assert "- Kế hoạch số 175/KH-UBND ngày 07/01/2022" not in md
    assert "- Kế hoạch số 10/KH-UBND ngày 10/01/2022 về cải cách hành chính" in md


def test_outline_placeholders_and_coverage(report, md):
    headings = [p.plain() for p in report.body if getattr(p, "style", None) in (
        ParaStyle.HEADING1, ParaStyle.HEADING2)]
    assert headings[:3] == ["I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH",
                            "II. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH",
                            "1. Cải cách thể chế"]
    for h in ("2. Cải cách thủ tục hành chính", "3. Cải cách tổ chức bộ máy hành chính nhà nước",
              "4. Xây dựng và nâng cao chất lượng đội ngũ cán bộ, công chức, viên chức",
              "5. Cải cách tài chính công", "III. NHẬN XÉT, ĐÁNH GIÁ",
              "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI"):
        assert h in headings
    assert any(h.startswith("6. Hiện đại hóa nền hành chính") for h in headings)
    placeholders = [s for p in report.paragraphs() for s in p.spans
                    if s.kind is SpanKind.PLACEHOLDER]
    assert len(placeholders) >= 9
    assert all(s.text.startswith("[Đề nghị bổ sung: ") and s.text.endswith("]")
               for s in placeholders)
    assert report.subtitle == ("Kết quả thực hiện công tác cải cách hành chính 6 tháng đầu "
                               "năm 2022")
    assert report.date_line.startswith("Sông Mây, ngày") and report.date_line.endswith("2022")
    assert ("9/12 cơ quan, đơn vị đã hoàn thành báo cáo; 2 đơn vị đang nhập số liệu (Phòng Tài "
            "chính - Kế hoạch, UBND thị trấn Sông Mây); 1 đơn vị chưa báo cáo (UBND xã An "
            "Bình).") in md


def test_tainted_figures_are_marked_and_listed(report, ws, exp):
    findings = [f for f in ws.archive.open_findings(PERIOD)
                if f.severity.value == "error" and f.row_key is not None]
    assert findings
    listed = [(e.unit, e.message) for e in report.open_errors]
    names = {u.code: u.name for u in ws.units}
    for f in findings:
        assert any(unit == names[f.unit] and message.startswith("Còn lỗi chưa khắc phục")
                   and f.message in message for unit, message in listed), f.message
    by_figure = {t.figure: t for t in report.tainted}
    received = by_figure["tthc.tiep_nhan"]
    assert received.printed == exp.text("tthc.tiep_nhan") and received.printed.endswith("(*)")
    assert set(received.units) == {"Phòng Lao động - Thương binh và Xã hội", "UBND xã Long Trị"}
    assert received.groups == (AREA, "Cấp huyện", "Cấp xã")
    assert by_figure["dvctt.ty_le_tong"].units == ("Phòng Tài nguyên và Môi trường",)
    # A figure with no erroneous row is neither marked nor listed.
    assert "ky_so.van_ban_di" not in by_figure
    assert not exp.text("ky_so.van_ban_di").endswith("(*)")
    # Marked where printed, explained at the top, listed on the last page.
    spans = [s for p in report.paragraphs() for s in p.spans if s.figure == "tthc.tiep_nhan"]
    assert spans and all(s.tainted for s in spans)
    assert report.body[1].style is ParaStyle.NOTE and "(*)" in report.body[1].plain()
    titles = [p.plain() for p in report.errors_page if getattr(p, "style", None)
              is ParaStyle.TITLE]
    assert titles == ["SỐ LIỆU CHƯA ĐƯỢC TỔNG HỢP"]


def test_markdown_output(ws, md, tmp_path):
    assert md.startswith("ỦY BAN NHÂN DÂN / HUYỆN SÔNG MÂY")
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in md and "Độc lập - Tự do - Hạnh phúc" in md
    assert "# BÁO CÁO" in md and "## I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH" in md
    assert "**_Nơi nhận:_**" in md and "- Lưu: VT." in md and "**TM. ỦY BAN NHÂN DÂN**" in md
    assert "# PHỤ LỤC" in md and "# SỐ LIỆU CHƯA ĐƯỢC TỔNG HỢP" in md
    assert "| STT | Cơ quan, đơn vị | Tiếp nhận |" in md
    assert "| 6 | UBND xã An Bình | — | — | — | — | — | — | — |" in md
    out = write_report(ws, PERIOD, tmp_path / "bao-cao.md", fmt="md")
    assert out.read_text(encoding="utf-8") == md


def test_compare_with_an_earlier_period(ws, exp):
    before = expected_for(ws, EARLIER)
    text = report_text(ws, PERIOD, compare_with=EARLIER)
    now_n, then_n = exp.raw("tthc.tiep_nhan"), before.raw("tthc.tiep_nhan")
    change = rate_text(abs(now_n - then_n) * 100 / then_n)
    assert then_n < now_n
    # The earlier period has an open error of its own on a dossier row: marked too.
    assert (f"đã tiếp nhận {exp.text('tthc.tiep_nhan')} hồ sơ (cùng kỳ năm 2021: "
            f"{format_int(then_n)}(*) hồ sơ; tăng {change})") in text
    rate_now, rate_then = exp.raw("mot_cua.ty_le"), before.raw("mot_cua.ty_le")
    delta = abs(rate_now - rate_then)
    word = "tăng" if rate_now > rate_then else "giảm"
    if delta >= 0.005:
        from cchc_sync.domain.vnformat import format_number

        # The earlier rate comes with its own numerator and denominator too.
        assert (f"đạt {exp.text('mot_cua.ty_le')} (cùng kỳ năm 2021: "
                f"{rate_text(rate_then)} ({before.text('mot_cua.tren_he_thong')}/"
                f"{before.text('mot_cua.tong')}); {word} {format_number(delta)} điểm phần trăm)"
                ) in text
    assert "2. Kỳ so sánh (6 tháng đầu năm 2021)" in text
    assert "Lỗi thử của kỳ trước" in text


def test_a_level_without_data_says_so(ws):
    text = report_text(ws, EARLIER)
    assert "+ Cấp xã: chưa có đơn vị báo cáo số liệu." in text
    assert "+ Cấp xã: 0" not in text
    before = expected_for(ws, EARLIER)
    assert f"{AREA} đã tiếp nhận {before.text('tthc.tiep_nhan')} hồ sơ" in text


def test_period_titles():
    assert period_title("2022S1") == "6 tháng đầu năm 2022"
    assert period_title("2022S2") == "6 tháng cuối năm 2022"
    assert period_title("2022") == "năm 2022"
    assert period_title("2022Q2") == "quý II năm 2022"
    assert period_title("2022N9") == "9 tháng đầu năm 2022"
    assert period_title("202202") == "tháng 02 năm 2022"
    assert period_title("202206") == "tháng 6 năm 2022"
    assert compare_label("2022S1", "2021S1") == "cùng kỳ năm 2021"
    assert compare_label("2022S1", "2021S2") == "6 tháng cuối năm 2021"
    assert compare_label("2022Q2", "2022Q1") == "quý I năm 2022"


def test_errors_are_one_clear_line(ws, tmp_path):
    with pytest.raises(ReportError, match="2020S1 chưa có số liệu"):
        build_report(ws, "2020S1")
    with pytest.raises(PeriodError):
        build_report(ws, "2022H1")
    with pytest.raises(ReportError, match="định dạng"):
        write_report(ws, PERIOD, tmp_path / "x.pdf", fmt="pdf")
    with pytest.raises(ReportError, match="không tìm thấy"):
        write_report(ws, PERIOD, tmp_path / "x.docx", template=tmp_path / "none.docx")
    with pytest.raises(ReportError, match="2019S1"):
        build_report(ws, PERIOD, compare_with="2019S1")


def test_numbers_use_vietnamese_formatting(md):
    body = md.split("# PHỤ LỤC")[0]
    # No English grouping or decimal point anywhere in a figure.
    assert not re.search(r"\d,\d{3}\b(?!%)", body.replace("ISO 9001:2015", ""))
    assert not re.search(r"\d\.\d{1,2}%", body)
    assert re.search(r"\d\.\d{3} hồ sơ", body)
