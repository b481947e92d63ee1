"""The figure paragraphs of the report, one function per topic.

Each returns paragraphs (possibly none, when the template set has no such figures), so a
deployment with its own template set still gets a report for the figures it has.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from cchc_sync.domain.vnformat import format_date
from cchc_sync.normalise import fold
from cchc_sync.publish.figures import TOTAL
from cchc_sync.report.data import PeriodData
from cchc_sync.report.model import Para, ParaStyle, Span, SpanKind
from cchc_sync.report.spans import Clause, Piece, Sentences, lower_first, para, text


def area_subject(data: PeriodData) -> str:
    """"Toàn huyện Sông Mây" (the master's total column), or a neutral subject."""
    return data.config.area_total if data.config.name else "Toàn địa bàn"


def kinds(data: PeriodData, table: str, column: str, prefix: str) -> list[tuple[str, str]]:
    """(choice code, label) of a `by` column for which the figure `prefix.<code>` has a
    value somewhere (a kind nobody reported is left out rather than printed as 0)."""
    spec = data.templates.tables.get(table)
    if spec is None or column not in {c.key for c in spec.columns}:
        return []
    out = []
    for choice in spec.column(column).choices:
        fig = data.fig(f"{prefix}.{choice.code}")
        if fig is not None and any(v is not None for v in fig.values.values()):
            out.append((choice.code, choice.label))
    return out


# --- I. Directives -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Directive:
    number: str
    date: dt.date | None
    kind: str
    """Choice label ("Kế hoạch"), "" when not given."""
    summary: str
    units: tuple[str, ...]
    """Codes of the units that reported it."""
    tainted: bool

    @property
    def about(self) -> str:
        """"về cải cách hành chính năm 2022" from the trích yếu, without repeating the type."""
        s = " ".join(self.summary.split())
        m = re.match(r"^(v/v|về việc)\s*:?\s*", s, re.IGNORECASE)
        if m:
            return "về việc " + s[m.end():]
        if self.kind and fold(s).startswith(fold(self.kind) + " "):
            rest = s[len(self.kind):].lstrip(" :,-")
            if rest:
                return "về " + rest
        return "về việc " + lower_first(s) if s else ""

    def spans(self) -> list[Span]:
        head = f"{self.kind or 'Văn bản'} số {self.number}"
        date = format_date(self.date) if self.date else "(chưa rõ ngày ban hành)"
        spans = [text(head + " ngày "), Span(date, SpanKind.FIGURE, tainted=self.tainted)]
        if self.about:
            spans.append(text(" " + self.about))
        return spans


def directives(data: PeriodData) -> list[Directive]:
    """Distinct (number, date) pairs of the period's van_ban rows, by date then number."""
    spec = data.templates.tables.get("van_ban")
    if spec is None:
        return []
    choices: dict[Any, str] = {c.code: c.label for c in spec.column("loai_van_ban").choices} if (
        "loai_van_ban" in {c.key for c in spec.columns}) else {}
    grouped: dict[tuple[str, dt.date | None], dict] = {}
    for r in data.rows_of("van_ban"):
        number = r.values.get("so_ky_hieu")
        if not number or not data.row_counted(r):
            continue
        date = r.values.get("ngay_ban_hanh")
        entry = grouped.setdefault((number, date), {
            "kind": choices.get(r.values.get("loai_van_ban"), ""),
            "summary": r.values.get("trich_yeu") or "",
            "units": [], "tainted": False,
        })
        entry["units"].append(r.unit)
        entry["tainted"] |= data.row_has_error(r)
        if not entry["kind"]:
            entry["kind"] = choices.get(r.values.get("loai_van_ban"), "")
    out = [
        Directive(
            number=number,
            date=date,
            kind=e["kind"],
            summary=e["summary"],
            units=tuple(e["units"]),
            tainted=e["tainted"],
        )
        for (number, date), e in grouped.items()
    ]
    out.sort(key=lambda d: (d.date or dt.date.max, _number_key(d.number)))
    return out


def _number_key(number: str) -> tuple:
    m = re.match(r"(\d+)", number)
    return (int(m.group(1)) if m else 10**9, number)


def directives_section(s: Sentences) -> list[Para]:
    data = s.data
    fid = "van_ban.so_van_ban"
    if data.fig(fid) is None:
        return []
    if not s.has(fid):
        return [s.nobody(fid, (
            "Chưa có cơ quan, đơn vị nào báo cáo văn bản chỉ đạo, điều hành về cải cách "
            "hành chính trong kỳ."))]
    lead: list[Piece] = [
        "Trong kỳ, theo báo cáo của các cơ quan, đơn vị, đã ban hành, triển khai ",
        s.value(fid), " văn bản chỉ đạo, điều hành về cải cách hành chính",
    ]
    if s.has_levels():
        parts: list[Piece] = [" ("]
        for i, level in enumerate(data.levels):
            parts += ["; " if i else "", lower_first(data.level_name(level)), ": "]
            parts += s.value(fid, level) if s.has(fid, level) else [text("chưa có số liệu")]
        lead += [*parts, ")"]
    docs = directives(data)
    # The count is of reports (a plan two units both report counts twice); the list is of
    # distinct documents, so its length is said in words of its own.
    out = [para(*lead, f"; danh sách {len(docs)} văn bản khác nhau:" if docs else ".")]
    for i, d in enumerate(docs):
        end = "." if i == len(docs) - 1 else ";"
        out.append(para("- ", d.spans(), end, style=ParaStyle.ITEM))
    return out


# --- II.2 Administrative procedures --------------------------------------------------------

def tthc_section(s: Sentences) -> list[Para]:
    """Received, then resolved (on time / late, and the on-time rate with what it divides),
    then still open (not yet due / overdue): "giải quyết trễ hạn" (resolved late) and
    "đang giải quyết quá hạn" (open and overdue) are never added under one name."""
    data = s.data
    if data.fig("tthc.tiep_nhan") is None:
        return []
    if not s.has("tthc.tiep_nhan"):
        return [s.nobody("tthc.tiep_nhan", (
            "Chưa có cơ quan, đơn vị nào báo cáo số liệu giải quyết thủ tục hành chính "
            "trong kỳ."))]
    lead = [
        f"{area_subject(data)} ",
        s.clause(Clause("đã tiếp nhận", "tthc.tiep_nhan", "hồ sơ"), compare=True),
        ", gồm: ",
        s.clauses([
            Clause("từ kỳ trước chuyển qua", "tthc.tu_ky_truoc", "hồ sơ"),
            Clause("mới tiếp nhận trực tuyến", "tthc.truc_tuyen", "hồ sơ"),
            Clause("mới tiếp nhận trực tiếp, qua dịch vụ bưu chính", "tthc.truc_tiep", "hồ sơ"),
        ]),
        ". ", _resolved(s, TOTAL, compare=True), ". ", _open(s, TOTAL), ".",
    ]
    if not s.has_levels():
        return [para(*lead)]
    out = [para(*lead, " Trong đó:")]
    ids = ["tthc.tiep_nhan", "tthc.da_giai_quyet", "tthc.dang_giai_quyet"]
    out += s.level_items(
        lambda lv: [*s.clause(Clause("tiếp nhận", "tthc.tiep_nhan", "hồ sơ"), lv), "; ",
                    *_resolved(s, lv, lower=True), "; ", *_open(s, lv, lower=True)], ids)
    return out


def _resolved(s: Sentences, group: str, compare: bool = False, lower: bool = False) -> list:
    spans = _subtotal(s, group, "Đã giải quyết", "tthc.da_giai_quyet", lower, [
        Clause("đúng hạn, kể cả trước hạn", "tthc.dung_han", "hồ sơ"),
        Clause("giải quyết trễ hạn", "tthc.tre_han", "hồ sơ")])
    if not s.has("tthc.da_giai_quyet", group):
        return spans
    return [*spans, ", tỷ lệ giải quyết đúng hạn đạt ",
            s.rate("tthc.ty_le_dung_han", group, "hồ sơ", compare=compare)]


def _open(s: Sentences, group: str, lower: bool = False) -> list:
    return _subtotal(s, group, "Đang giải quyết", "tthc.dang_giai_quyet", lower, [
        Clause("trong hạn", "tthc.chua_den_han", "hồ sơ"),
        Clause("đã quá hạn", "tthc.dang_qua_han", "hồ sơ")])


def _subtotal(s: Sentences, group: str, head: str, figure: str, lower: bool,
              parts: list[Clause]) -> list:
    """"Đã giải quyết 8.296 hồ sơ (đúng hạn … , trễ hạn …)": a figure and its parts."""
    head = lower_first(head) if lower else head
    if not s.has(figure, group):
        return [f"{head}: chưa có số liệu"]
    return [s.clause(Clause(head, figure, "hồ sơ"), group), " (",
            s.clauses(parts, group, sep=", "), ")"]


def one_stop_section(s: Sentences) -> list[Para]:
    data = s.data
    ids = ["mot_cua.tren_he_thong", "mot_cua.tong", "mot_cua.ty_le"]
    if data.fig(ids[0]) is None:
        return []
    if not s.any_value(ids, TOTAL):
        return [s.nobody(ids[0], (
            "Chưa có cơ quan, đơn vị nào báo cáo số liệu về Hệ thống một cửa điện tử."))]

    def line(group: str, compare: bool = False) -> list[Piece]:
        return [
            s.value(ids[0], group), "/", s.value(ids[1], group), " hồ sơ, đạt ",
            s.value(ids[2], group), s.comparison(ids[2]) if compare else [],
        ]

    lead = ["Số hồ sơ được tiếp nhận, xử lý trên Hệ thống thông tin một cửa điện tử trên tổng "
            "số hồ sơ các cơ quan, đơn vị báo cáo tại biểu Một cửa điện tử là ",
            *line(TOTAL, compare=True), "."]
    if not s.has_levels():
        return [para(*lead)]
    return [para(*lead, " Trong đó:"), *s.level_items(lambda lv: para(*line(lv)).spans, ids)]


# --- II.3 Organisation: staffing -----------------------------------------------------------


def staffing_section(s: Sentences) -> list[Para]:
    data = s.data
    out: list[Para] = []
    for code, label in kinds(data, "bien_che", "loai", "bien_che.duoc_giao"):
        ids = [f"bien_che.{k}.{code}" for k in ("duoc_giao", "hien_co", "chua_su_dung",
                                                 "hop_dong")]
        clauses = [
            Clause("được giao", ids[0]),
            Clause("hiện có", ids[1]),
            Clause("chưa sử dụng", ids[2]),
        ]
        contract = Clause("hợp đồng lao động", ids[3], "người")
        lead: list[Piece] = [
            f"Biên chế {label.lower()}: ", s.clause(clauses[0]), "; ",
            s.clause(clauses[1], compare=True), "; ", s.clause(clauses[2]), "; ",
            s.clause(contract), ".",
        ]
        if not s.has_levels():
            out.append(para(*lead))
            continue
        out.append(para(*lead, " Trong đó:"))

        def level_line(lv: str, cl: list[Clause] = clauses, ct: Clause = contract) -> list[Span]:
            return [*s.clauses(cl, lv), text("; "), *s.clause(ct, lv)]

        out += s.level_items(level_line, ids)
    if out:
        out.append(para("Chi tiết theo từng cơ quan, đơn vị tại Phụ lục kèm theo báo cáo này."))
    return out


# --- II.4 Staff: training ------------------------------------------------------------------


def training_section(s: Sentences) -> list[Para]:
    data = s.data
    people, contents = "dao_tao.so_nguoi", "dao_tao.so_lop"
    if data.fig(people) is None:
        return []
    if not s.has(people):
        return [s.nobody(people, (
            "Chưa có cơ quan, đơn vị nào báo cáo kết quả đào tạo, bồi dưỡng trong kỳ."))]
    names: list[str] = []
    for r in data.rows_of("dao_tao"):
        if not data.row_counted(r):
            continue
        name = " ".join(str(r.values.get("noi_dung") or "").split())
        if name and fold(name) not in {fold(n) for n in names}:
            names.append(name)
    lead: list = [
        "Theo báo cáo của các cơ quan, đơn vị, trong kỳ đã cử ", s.value(people),
        " lượt người tham gia đào tạo, bồi dưỡng", s.comparison(people, "lượt người"),
    ]
    if data.fig(contents) is not None:
        lead += [" với ", s.value(contents), " nội dung đào tạo, bồi dưỡng (tính theo từng "
                 "đơn vị)"]
    if names:
        lead += [", gồm: ", "; ".join(lower_first(n) for n in names)]
    lead.append(".")
    if not s.has_levels():
        return [para(*lead)]
    build = [Clause("", contents, "nội dung", missing="số nội dung: chưa có số liệu"),
             Clause("", people, "lượt người", missing="số lượt người: chưa có số liệu")]
    return [
        para(*lead, " Trong đó:"),
        *s.level_items(lambda lv: s.clauses(build, lv, sep=", "), [people, contents], people),
    ]


# --- II.6 Modernisation --------------------------------------------------------------------


def online_catalogue_section(s: Sentences) -> list[Para]:
    data = s.data
    found = kinds(data, "dvctt", "loai", "dvctt.so_thu_tuc")
    if not found:
        return []
    clauses = [Clause("", f"dvctt.so_thu_tuc.{code}", f"thủ tục {lower_first(label)}",
                      missing=f"{lower_first(label)}: chưa có số liệu")
               for code, label in found]
    lead: list[Piece] = ["Số thủ tục hành chính cung cấp dịch vụ công trực tuyến trên địa bàn: ",
                         s.clauses(clauses), "."]
    if not s.has_levels():
        return [para(*lead)]
    return [para(*lead, " Trong đó:"),
            *s.level_items(lambda lv: s.clauses(clauses, lv), [c.figure for c in clauses])]


def online_share_section(s: Sentences) -> list[Para]:
    data = s.data
    ids = ("dvctt.phat_sinh_tong", "dvctt.truc_tuyen_tong", "dvctt.ty_le_tong")
    if data.fig(ids[0]) is None:
        return []
    if not s.any_value(ids, TOTAL):
        return [s.nobody(ids[0], (
            "Chưa có cơ quan, đơn vị nào báo cáo số hồ sơ dịch vụ công trực tuyến."))]

    def share(a: str, b: str, c: str, group: str, compare: bool = False) -> list[Piece]:
        return [
            s.value(a, group), " hồ sơ phát sinh, ", s.value(b, group),
            " hồ sơ nộp trực tuyến, đạt ", s.value(c, group),
            s.comparison(c) if compare else [],
        ]

    lead: list[Piece] = [
        "Tổng số hồ sơ phát sinh của các thủ tục hành chính cung cấp dịch vụ công trực tuyến: ",
        *share(*ids, TOTAL, compare=True), ".",
    ]
    found = kinds(data, "dvctt", "loai", "dvctt.phat_sinh")
    if found:
        lead.append(" Theo loại dịch vụ: ")
        for i, (code, label) in enumerate(found):
            k = (f"dvctt.phat_sinh.{code}", f"dvctt.truc_tuyen.{code}", f"dvctt.ty_le.{code}")
            lead += ["; " if i else "", f"{lower_first(label)}: ", *share(*k, TOTAL)]
        lead.append(".")
    if not s.has_levels():
        return [para(*lead)]
    return [para(*lead, " Theo cấp:"),
            *s.level_items(lambda lv: para(*share(*ids, lv)).spans, ids)]


def signature_section(s: Sentences) -> list[Para]:
    data = s.data
    ids = ["ky_so.van_ban_di", "ky_so.ky_so", "ky_so.ty_le"]
    certs = ["ky_so.chung_thu_to_chuc", "ky_so.chung_thu_ca_nhan"]
    if data.fig(ids[0]) is None:
        return []
    if not s.any_value(ids + certs, TOTAL):
        return [s.nobody(ids[0], (
            "Chưa có cơ quan, đơn vị nào báo cáo số liệu văn bản điện tử, chữ ký số."))]

    def line(group: str, compare: bool = False) -> list:
        return [
            s.value(ids[0], group), " văn bản" if compare else " văn bản đi",
            ", trong đó ", s.value(ids[1], group),
            " văn bản được ký số, đạt ", s.value(ids[2], group),
            s.comparison(ids[2]) if compare else [], "; chứng thư số đã cấp: ",
            s.value(certs[0], group), " cho tổ chức, ", s.value(certs[1], group), " cho cá nhân",
        ]

    lead = ["Tổng số văn bản đi là ", *line(TOTAL, compare=True), "."]
    if not s.has_levels():
        return [para(*lead)]
    return [para(*lead, " Trong đó:"),
            *s.level_items(lambda lv: para(*line(lv)).spans, ids + certs)]


def iso_section(s: Sentences) -> list[Para]:
    data = s.data
    applied, reported = "iso.ap_dung", "iso.bao_cao"
    fig = data.fig(reported)
    if data.fig(applied) is None or fig is None:
        return []
    total_units = len(data.units)
    if not s.has(reported) or fig.total == 0:
        return [s.nobody(reported, (
            "Chưa có cơ quan, đơn vị nào báo cáo việc áp dụng hệ thống quản lý chất lượng "
            "theo TCVN ISO 9001:2015."))]

    def line(group: str, count: int) -> list[Piece]:
        cov = ""
        if (fig.values.get(group) or 0) < count:
            cov = f" (theo báo cáo của {fig.values.get(group) or 0}/{count} đơn vị)"
        return [s.value(applied, group), "/", s.value(reported, group),
                " cơ quan, đơn vị đã công bố" + cov]

    lead = ["Việc áp dụng hệ thống quản lý chất lượng theo Tiêu chuẩn quốc gia TCVN ISO "
            "9001:2015: ", *line(TOTAL, total_units), "."]
    if not s.has_levels():
        return [para(*lead)]
    return [para(*lead, " Trong đó:"), *s.level_items(
        lambda lv: line(lv, len(data.level_units(lv))), [reported], coverage=False)]
