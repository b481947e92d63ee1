"""The coordinator's report as plain data: outline, figure sentences, placeholders, annex
and the list of figures that rest on rows with open errors.

    report = build_report(ws, "2022S1", compare_with="2021S1")

Every number comes from `compute_figures` (the master's "Tổng hợp"), formatted by
`vnformat`; what the data cannot know is a "[Đề nghị bổ sung: …]" placeholder.
"""

from __future__ import annotations

from collections.abc import Iterable

from cchc_sync.domain.config import Config
from cchc_sync.domain.records import Unit
from cchc_sync.domain.vnformat import format_date
from cchc_sync.report.annex import COUNTING_RULE, annex_blocks, errors_page
from cchc_sync.report.data import (
    PeriodData,
    ReportSource,
    area_parts,
    compare_label,
    load_period,
    period_title,
)
from cchc_sync.report.model import Block, Letterhead, Para, ParaStyle, Report, Span
from cchc_sync.report.sections import (
    directives_section,
    iso_section,
    one_stop_section,
    online_catalogue_section,
    online_share_section,
    signature_section,
    staffing_section,
    training_section,
    tthc_section,
)
from cchc_sync.report.spans import Sentences, para, placeholder

DATE_BLANK = "      "
"""Room left in a draft for the day and month the document is signed."""


def default_letterhead(config: Config) -> Letterhead:
    """Issued by the People's Committee of the configured area ("huyện Sông Mây")."""
    kind, place = area_parts(config.name)
    issuer = ("ỦY BAN NHÂN DÂN", config.name.upper()) if config.name else (
        "ỦY BAN NHÂN DÂN", "[TÊN ĐỊA PHƯƠNG]")
    return Letterhead(issuer=issuer, place=place)


def issuer_phrase(letterhead: Letterhead, config: Config) -> str:
    """"Ủy ban nhân dân huyện Sông Mây" for running text."""
    if letterhead.issuer and letterhead.issuer[0] == "ỦY BAN NHÂN DÂN" and config.name:
        return f"Ủy ban nhân dân {config.name}"
    words = " ".join(letterhead.issuer).lower()
    return words[:1].upper() + words[1:]


def heading(text: str, level: int) -> Para:
    style = {1: ParaStyle.HEADING1, 2: ParaStyle.HEADING2, 3: ParaStyle.HEADING3}[level]
    return Para([Span(text)], style)


def build_report(
    ws: ReportSource, period: str, compare_with: str | None = None,
    letterhead: Letterhead | None = None,
) -> Report:
    """Read the period (and the one to compare with) from the archive and lay out the
    report. Raises ReportError when a period has no rows."""
    return assemble(ws, period, compare_with, letterhead)[0]


def assemble(
    ws: ReportSource, period: str, compare_with: str | None = None,
    letterhead: Letterhead | None = None,
) -> tuple[Report, Sentences]:
    """The report and the sentence builder behind it (a custom template reuses it)."""
    data = load_period(ws, period)
    earlier = load_period(ws, compare_with) if compare_with else None
    label = compare_label(data.code, earlier.code) if earlier else ""
    s = Sentences(data, earlier, label)
    lh = letterhead or default_letterhead(ws.config)
    who = issuer_phrase(lh, ws.config)
    year = data.period.end.year
    place = lh.place or "[Địa danh]"
    subtitle = f"Kết quả thực hiện công tác cải cách hành chính {data.title}"

    body: list[Block] = [
        para("Thực hiện ", placeholder("văn bản yêu cầu báo cáo của cơ quan cấp trên"), ", ",
             who, f" báo cáo kết quả thực hiện công tác cải cách hành chính {data.title} "
             "như sau:"),
    ]
    body += _outline(s)
    body.append(para(f"Trên đây là báo cáo kết quả thực hiện công tác cải cách hành chính "
                     f"{data.title} của {who}./."))
    annex = annex_blocks(s)
    tainted, open_errors, last_page = errors_page(s)
    note = f"Ghi chú: {COUNTING_RULE}"
    if tainted or s.compared_taint:
        note += (" Số liệu có dấu (*) chưa đầy đủ vì có dòng chưa được tổng hợp; danh sách tại "
                 "trang cuối \u201cSố liệu chưa được tổng hợp\u201d. Cần kiểm tra lại trước khi "
                 "ban hành báo cáo.")
    body.insert(1, para(note, style=ParaStyle.NOTE))
    number = lh.number or DATE_BLANK
    report = Report(
        letterhead=lh,
        date_line=f"{place}, ngày{DATE_BLANK}tháng{DATE_BLANK}năm {year}",
        title="BÁO CÁO",
        subtitle=subtitle,
        body=body,
        recipients=_recipients(ws.config),
        annex_title="PHỤ LỤC",
        annex_subtitle=f"Số liệu chi tiết theo cơ quan, đơn vị {data.title}",
        annex_ref=(f"(Kèm theo Báo cáo số {number}/BC-{lh.symbol} ngày{DATE_BLANK}tháng"
                   f"{DATE_BLANK}năm {year} của {who})"),
        annex=annex,
        tainted=tainted,
        open_errors=open_errors,
        errors_page=last_page,
    )
    return report, s


def _outline(s: Sentences) -> list[Block]:
    data = s.data
    out: list[Block] = [heading("I. CÔNG TÁC CHỈ ĐẠO, ĐIỀU HÀNH", 1)]
    out += directives_section(s)
    out.append(para(placeholder(
        "việc ban hành, triển khai kế hoạch cải cách hành chính năm; công tác kiểm tra, "
        "tuyên truyền cải cách hành chính; việc khắc phục những tồn tại, hạn chế đã chỉ ra")))

    out.append(heading("II. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ CẢI CÁCH HÀNH CHÍNH", 1))
    out.append(_coverage(data))
    out.append(heading("1. Cải cách thể chế", 2))
    out.append(para(placeholder(
        "kết quả xây dựng, ban hành văn bản quy phạm pháp luật; rà soát, kiểm tra, xử lý văn "
        "bản; theo dõi thi hành pháp luật trên địa bàn")))

    out.append(heading("2. Cải cách thủ tục hành chính", 2))
    out.append(heading("a) Kết quả giải quyết thủ tục hành chính", 3))
    out += tthc_section(s)
    out.append(heading("b) Thực hiện cơ chế một cửa, một cửa liên thông", 3))
    out += one_stop_section(s)
    out.append(para(placeholder(
        "rà soát, đơn giản hóa và công khai thủ tục hành chính; tiếp nhận, xử lý phản ánh, "
        "kiến nghị của cá nhân, tổ chức")))

    out.append(heading("3. Cải cách tổ chức bộ máy hành chính nhà nước", 2))
    out.append(para(placeholder(
        "rà soát, sắp xếp, kiện toàn tổ chức bộ máy; thực hiện phân cấp quản lý")))
    staffing = staffing_section(s)
    if staffing:
        out.append(para("Tình hình quản lý, sử dụng biên chế:"))
        out += staffing

    out.append(heading(
        "4. Xây dựng và nâng cao chất lượng đội ngũ cán bộ, công chức, viên chức", 2))
    out += training_section(s)
    out.append(para(placeholder(
        "tuyển dụng, sử dụng, đánh giá, xếp loại cán bộ, công chức, viên chức; kỷ luật, kỷ "
        "cương hành chính")))

    out.append(heading("5. Cải cách tài chính công", 2))
    out.append(para(placeholder(
        "thực hiện cơ chế tự chủ tài chính của cơ quan, đơn vị sự nghiệp công lập; quản lý, "
        "sử dụng ngân sách và tài sản công; thực hành tiết kiệm, chống lãng phí")))

    out.append(heading(
        "6. Hiện đại hóa nền hành chính, xây dựng chính quyền điện tử, chính quyền số", 2))
    online = online_catalogue_section(s) + online_share_section(s)
    if online:
        out.append(heading("a) Cung cấp dịch vụ công trực tuyến", 3))
        out += online
    signature = signature_section(s)
    if signature:
        out.append(heading("b) Sử dụng văn bản điện tử, chữ ký số", 3))
        out += signature
    iso = iso_section(s)
    if iso:
        out.append(heading("c) Áp dụng hệ thống quản lý chất lượng theo TCVN ISO 9001:2015", 3))
        out += iso
    out.append(para(placeholder(
        "ứng dụng công nghệ thông tin, chuyển đổi số; kết nối, chia sẻ dữ liệu; bảo đảm an "
        "toàn thông tin")))

    out.append(heading("III. NHẬN XÉT, ĐÁNH GIÁ", 1))
    out.append(heading("1. Ưu điểm", 2))
    out.append(para(placeholder("những kết quả nổi bật trong kỳ")))
    out.append(heading("2. Tồn tại, hạn chế và nguyên nhân", 2))
    reporting = _reporting_issues(data)
    if reporting:
        out.append(reporting)
    out.append(para(placeholder("tồn tại, hạn chế và nguyên nhân")))

    out.append(heading("IV. PHƯƠNG HƯỚNG, NHIỆM VỤ KỲ TỚI", 1))
    out.append(para(placeholder("nhiệm vụ, giải pháp trọng tâm kỳ tới; đề xuất, kiến nghị")))
    return out


def _names(units: Iterable[Unit]) -> str:
    return ", ".join(u.name for u in units)


def _coverage(data: PeriodData) -> Para:
    """Which units the figures come from: a reader must know when some are missing."""
    total = len(data.units)
    done, entering, idle = data.submitted, data.entering, data.not_started
    window = f"từ ngày {format_date(data.period.start)} đến ngày {format_date(data.period.end)}"
    parts = [f"Số liệu dưới đây được tổng hợp từ báo cáo của các cơ quan, đơn vị (kỳ báo cáo "
             f"{window}): {len(done)}/{total} cơ quan, đơn vị đã hoàn thành báo cáo"]
    if entering:
        parts.append(f"{len(entering)} đơn vị đang nhập số liệu ({_names(entering)})")
    if idle:
        parts.append(f"{len(idle)} đơn vị chưa báo cáo ({_names(idle)})")
    text = "; ".join(parts) + "."
    if data.parts:
        text += (f" Số liệu {data.title} được tổng hợp từ số liệu các kỳ "
                 f"{', '.join(period_title(p) for p in data.parts)}: số liệu phát sinh trong "
                 "kỳ được cộng dồn; số liệu tại thời điểm cuối kỳ (biên chế, số thủ tục, hồ sơ "
                 "đang giải quyết) lấy theo kỳ sau cùng; số liệu đầu kỳ (hồ sơ từ kỳ trước "
                 "chuyển qua) lấy theo kỳ đầu tiên.")
    return para(text)


def _reporting_issues(data: PeriodData) -> Para | None:
    late = data.entering + data.not_started
    erroneous = [u for u in data.units if any(e[0] == u.code for e in data.error_rows)]
    parts = []
    if late:
        parts.append(f"còn {len(late)} cơ quan, đơn vị chưa hoàn thành báo cáo ({_names(late)})")
    if erroneous:
        parts.append(f"{len(erroneous)} cơ quan, đơn vị còn lỗi số liệu chưa khắc phục "
                     f"({_names(erroneous)})")
    if not parts:
        return None
    return para("Về công tác báo cáo: đến thời điểm tổng hợp, " + "; ".join(parts) + ".")


def _recipients(config: Config) -> list[list[Span]]:
    kind, _ = area_parts(config.name)
    ubnd = f"UBND {kind}" if kind else "UBND"
    return [
        [Span("- "), placeholder("cơ quan nhận báo cáo cấp trên"), Span(";")],
        [Span(f"- Chủ tịch, các Phó Chủ tịch {ubnd};")],
        [Span("- Các cơ quan, đơn vị;")],
        [Span("- Lưu: VT.")],
    ]


