"""The annex (per-unit tables and charts) and the last page listing the figures that rest
on rows with open errors.

A unit's value is `compute_figures` over that unit's rows; a level's and the area's are the
report's own figures, so a table's subtotal is exactly the number the body prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cchc_sync.domain.records import Severity
from cchc_sync.domain.templates import FigureSpec
from cchc_sync.domain.vnformat import format_int
from cchc_sync.publish.figures import TOTAL
from cchc_sync.report.charts import bar_chart
from cchc_sync.report.data import PeriodData, format_value
from cchc_sync.report.model import (
    TAINT_MARK,
    Block,
    Cell,
    Chart,
    OpenError,
    PageBreak,
    ParaStyle,
    RowKind,
    Table,
    TableRow,
    TaintedFigure,
)
from cchc_sync.report.sections import area_subject, kinds
from cchc_sync.report.spans import Sentences, para

NONE = "—"
COUNTING_RULE = (
    "Dòng số liệu còn lỗi chưa khắc phục, hoặc có tổng không bằng tổng các cột thành phần "
    "(ô để trống tính là 0), không được tổng hợp vào bất kỳ số liệu nào của báo cáo, phụ lục, "
    "biểu đồ và bảng tổng hợp (Tổng hợp) của kỳ.")
"""The counting rule, stated once in the report's note and on the last page."""
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"]
TABLE_NOTE = (f"Ghi chú: {NONE} chưa có số liệu; {TAINT_MARK} số liệu chưa đầy đủ: có dòng số "
              "liệu chưa được tổng hợp vì còn lỗi (xem trang cuối).")


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    figure: str
    width: float
    """cm"""


def _cell(shown: str | None, tainted: bool) -> Cell:
    if shown is None:
        return Cell(NONE, align="center")
    return Cell(shown, tainted=tainted, align="right")


def unit_table(s: Sentences, title: str, cols: list[Col]) -> Table | None:
    """STT | Cơ quan, đơn vị | one column per figure: the area, each level, each unit."""
    data = s.data
    cols = [c for c in cols if data.fig(c.figure) is not None]
    if not cols:
        return None
    name_width = 16.5 - 1.1 - sum(c.width for c in cols)
    header = ["STT", "Cơ quan, đơn vị", *[c.header for c in cols]]

    def group_cells(group: str) -> list[Cell]:
        out = []
        for c in cols:
            fig = data.figures[c.figure]
            shown = format_value(fig, group)
            if shown is not None:
                s.printed.add(c.figure)
            out.append(_cell(shown, bool(fig.tainted.get(group))))
        return out

    rows = [TableRow([Cell(""), Cell(area_subject(data)), *group_cells(TOTAL)], RowKind.TOTAL,
                     TOTAL)]
    for i, level in enumerate(data.levels):
        if len(data.levels) > 1:
            rows.append(TableRow(
                [Cell(ROMAN[i] if i < len(ROMAN) else str(i + 1), align="center"),
                 Cell(data.level_name(level)), *group_cells(level)],
                RowKind.SUBTOTAL, level,
            ))
        for n, unit in enumerate(data.level_units(level), start=1):
            cells = [_cell(*data.unit_value(unit.code, c.figure)) for c in cols]
            rows.append(TableRow([Cell(str(n), align="center"), Cell(unit.name), *cells],
                                 RowKind.UNIT, unit.code))
    return Table(title=title, header=header, rows=rows,
                 widths_cm=[1.1, name_width, *[c.width for c in cols]], note=TABLE_NOTE,
                 figures=[None, None, *[c.figure for c in cols]])


def _short(label: str) -> str:
    """"Một phần (mức độ 3)" -> "Một phần"."""
    return label.split(" (")[0]


def _share_chart(s: Sentences, title: str, figure: str, key: str) -> Chart | None:
    data = s.data
    fig = data.fig(figure)
    if fig is None:
        return None
    bars = []
    missing = []
    codes = []
    for unit in data.units:
        f = data.unit_figures(unit.code).get(figure)
        if f is None or f.total is None:
            missing.append(unit.name)
            continue
        bars.append((unit.name, float(f.total), bool(f.tainted.get(TOTAL))))
        codes.append((unit.code, float(f.total)))
    if not bars:
        return None
    reference = None
    if fig.total is not None:
        reference = (f"{area_subject(data)}: {format_value(fig)}", float(fig.total))
    note = f"Chưa có số liệu: {', '.join(missing)}." if missing else ""
    if any(b[2] for b in bars):
        note = (note + " " if note else "") + (f"{TAINT_MARK} số liệu của đơn vị chưa đầy đủ: "
                                               "có dòng chưa được tổng hợp vì còn lỗi.")
    return Chart(title=title, draw=lambda: bar_chart("", bars, reference), key=key,
                 width_cm=16.0, note=note, figure=figure, bars=codes)


def annex_blocks(s: Sentences) -> list[Block]:
    data = s.data
    out: list[Block] = []
    number = 0

    def add(table: Table | None) -> None:
        nonlocal number
        if table is not None:
            number += 1
            table.title = f"Biểu {number}. {table.title}"
            out.append(table)

    # Resolved late and open-and-overdue are two columns under two headings, never one.
    add(unit_table(s, "Kết quả giải quyết thủ tục hành chính", [
        Col("Tiếp nhận", "tthc.tiep_nhan", 1.55),
        Col("Đã giải quyết", "tthc.da_giai_quyet", 1.55),
        Col("Đã giải quyết: đúng hạn (kể cả trước hạn)", "tthc.dung_han", 1.6),
        Col("Đã giải quyết: trễ hạn", "tthc.tre_han", 1.45),
        Col("Đang giải quyết: trong hạn", "tthc.chua_den_han", 1.5),
        Col("Đang giải quyết: quá hạn", "tthc.dang_qua_han", 1.45),
        Col("Tỷ lệ giải quyết đúng hạn (đúng hạn / đã giải quyết)", "tthc.ty_le_dung_han", 1.7),
    ]))
    cols = []
    for code, label in kinds(data, "dvctt", "loai", "dvctt.phat_sinh"):
        cols += [Col(f"{_short(label)}: phát sinh", f"dvctt.phat_sinh.{code}", 1.55),
                 Col(f"{_short(label)}: trực tuyến", f"dvctt.truc_tuyen.{code}", 1.55)]
    cols += [Col("Tổng phát sinh", "dvctt.phat_sinh_tong", 1.6),
             Col("Tổng trực tuyến", "dvctt.truc_tuyen_tong", 1.6),
             Col("Tỷ lệ trực tuyến", "dvctt.ty_le_tong", 1.75)]
    add(unit_table(s, "Hồ sơ dịch vụ công trực tuyến", cols))
    chart = _share_chart(s, "Biểu đồ 1. Tỷ lệ hồ sơ nộp trực tuyến theo đơn vị",
                         "dvctt.ty_le_tong", "online")
    if chart:
        out.append(chart)
    add(unit_table(s, "Hồ sơ tiếp nhận, xử lý trên Hệ thống thông tin một cửa điện tử", [
        Col("Số hồ sơ trên hệ thống một cửa điện tử", "mot_cua.tren_he_thong", 3.0),
        Col("Tổng số hồ sơ", "mot_cua.tong", 2.6),
        Col("Tỷ lệ", "mot_cua.ty_le", 2.4),
    ]))
    chart = _share_chart(
        s, "Biểu đồ 2. Tỷ lệ hồ sơ xử lý trên Hệ thống một cửa điện tử theo đơn vị",
        "mot_cua.ty_le", "one_stop")
    if chart:
        out.append(chart)
    add(unit_table(s, "Văn bản điện tử, chữ ký số", [
        Col("Văn bản đi", "ky_so.van_ban_di", 1.8),
        Col("Văn bản được ký số", "ky_so.ky_so", 1.8),
        Col("Tỷ lệ ký số", "ky_so.ty_le", 1.9),
        Col("Chứng thư số cấp cho tổ chức", "ky_so.chung_thu_to_chuc", 1.9),
        Col("Chứng thư số cấp cho cá nhân", "ky_so.chung_thu_ca_nhan", 1.9),
    ]))
    add(staffing_table(s))
    return out


def staffing_table(s: Sentences) -> Table | None:
    """One line per office and kind as the units typed it; level and area lines from the
    figures."""
    data = s.data
    found = kinds(data, "bien_che", "loai", "bien_che.duoc_giao")
    if not found:
        return None
    labels: dict[Any, str] = dict(found)
    spec = data.templates.table("bien_che")
    all_labels: dict[Any, str] = {c.code: c.label for c in spec.column("loai").choices}
    keys = ("duoc_giao", "hien_co", "chua_su_dung", "hop_dong")
    header = ["STT", "Cơ quan, đơn vị", "Loại", "Biên chế được giao", "Biên chế hiện có",
              "Chưa sử dụng", "Hợp đồng lao động"]

    def group_rows(group: str, name: str, stt: str, kind: RowKind) -> list[TableRow]:
        out = []
        for code, label in found:
            cells = []
            for k in keys:
                fig = data.figures[f"bien_che.{k}.{code}"]
                shown = format_value(fig, group)
                if shown is not None:
                    s.printed.add(fig.id)
                cells.append(_cell(shown, bool(fig.tainted.get(group))))
            out.append(TableRow([Cell(stt, align="center"), Cell(name), Cell(label), *cells],
                                kind, group, code))
            stt, name = "", ""
        return out

    rows = group_rows(TOTAL, area_subject(data), "", RowKind.TOTAL)
    for i, level in enumerate(data.levels):
        if len(data.levels) > 1:
            rows += group_rows(level, data.level_name(level), ROMAN[i % len(ROMAN)],
                               RowKind.SUBTOTAL)
        n = 0
        for unit in data.level_units(level):
            for r in data.rows_of("bien_che"):
                # Only counted rows: the level line above is their sum.
                if r.unit != unit.code or not data.row_counted(r):
                    continue
                n += 1
                v = r.values
                bad = data.row_has_error(r)
                unused = (v["duoc_giao"] - v["hien_co"]
                          if v.get("duoc_giao") is not None and v.get("hien_co") is not None
                          else None)
                cells = [_cell(format_int(x) if x is not None else None, bad)
                         for x in (v.get("duoc_giao"), v.get("hien_co"), unused,
                                   v.get("hop_dong"))]
                office = v.get("co_quan") or unit.name
                if office != unit.name:
                    office = f"{office} ({unit.name})"
                kind = labels.get(v.get("loai")) or all_labels.get(v.get("loai"), NONE)
                rows.append(TableRow([Cell(str(n), align="center"), Cell(office), Cell(kind),
                                      *cells], RowKind.UNIT, f"{unit.code}|{n}",
                                     v.get("loai") or ""))
    return Table(title="Biên chế theo cơ quan, đơn vị", header=header, rows=rows,
                 widths_cm=[1.1, 5.2, 2.4, 2.0, 2.0, 1.9, 1.9], note=TABLE_NOTE,
                 figures=[None, None, None, *(f"bien_che.{k}.*" for k in keys)])


# --- the last page -------------------------------------------------------------------------


def _source_specs(data: PeriodData, figure_id: str) -> list[FigureSpec]:
    try:
        spec = data.templates.figure(figure_id)
    except KeyError:
        return []
    refs = spec.ratio or spec.difference
    if refs:
        return [x for r in refs for x in _source_specs(data, r)]
    return [spec]


def _left_out_rows(data: PeriodData, figure_id: str) -> list:
    """The rows left out of a figure (LeftOut entries of its tables)."""
    specs = _source_specs(data, figure_id)
    return [x for x in data.left_out
            if any(x.row.table == spec.table
                   and all(x.row.values.get(c) == w for c, w in spec.where.items())
                   for spec in specs)]


def tainted_figures(data: PeriodData, printed: set[str]) -> tuple[list[TaintedFigure], list]:
    """The printed figures from which rows were left out, and those rows (LeftOut)."""
    figures, left = [], []
    order = {u.code: i for i, u in enumerate(data.units)}
    for fig in data.figures.values():
        if fig.id not in printed or not any(fig.tainted.values()):
            continue
        groups = [data.level_name(lv) for lv in data.levels if fig.tainted.get(lv)]
        if fig.tainted.get(TOTAL):
            groups.insert(0, area_subject(data))
        feeding = _left_out_rows(data, fig.id)
        codes = sorted({x.row.unit for x in feeding}, key=lambda c: order.get(c, 10**6))
        shown = format_value(fig) or NONE
        figures.append(TaintedFigure(
            figure=fig.id, label=fig.label, printed=shown + TAINT_MARK, groups=tuple(groups),
            units=tuple(data.unit_name(c) for c in codes) or ("(không xác định)",),
        ))
        for x in feeding:
            if x not in left:
                left.append(x)
    left.sort(key=lambda x: (order.get(x.row.unit, 10**6), x.row.table, x.row.sheet_row or 0))
    return figures, left


def _error_rows(data: PeriodData, left: list) -> list[OpenError]:
    """One line per row left out: the reason, and for an erroneous row its open errors."""
    out = []
    for x in left:
        r = x.row
        spec = data.templates.tables.get(r.table)
        messages = [f.message for f in data.findings
                    if f.severity is Severity.ERROR and (f.unit, f.table, f.row_key)
                    == (r.unit, r.table, r.key)]
        message = x.reason[:1].upper() + x.reason[1:]
        if messages:
            message += ": " + "; ".join(messages)
        out.append(OpenError(unit=data.unit_name(r.unit), table=spec.tab if spec else r.table,
                             row=r.sheet_row, message=message))
    return out


def _errors_tables(data: PeriodData, figures: list[TaintedFigure], errors: list[OpenError],
                   n: int) -> list[Block]:
    fig_rows = [
        TableRow([Cell(str(i), align="center"), Cell(f.label), Cell(f.printed, align="right"),
                  Cell(", ".join(f.groups)), Cell(", ".join(f.units))])
        for i, f in enumerate(figures, start=1)
    ]
    err_rows = [
        TableRow([Cell(str(i), align="center"), Cell(e.unit), Cell(e.table),
                  Cell(str(e.row) if e.row else NONE, align="center"), Cell(e.message)])
        for i, e in enumerate(errors, start=1)
    ]
    return [
        Table(title=f"{n}.1. Số liệu chưa đầy đủ",
              header=["STT", "Chỉ tiêu", "Số liệu đã in", "Phạm vi",
                      "Đơn vị có dòng chưa tổng hợp"],
              rows=fig_rows, widths_cm=[1.1, 5.4, 2.3, 3.2, 4.5]),
        Table(title=f"{n}.2. Dòng số liệu chưa được tổng hợp",
              header=["STT", "Đơn vị", "Biểu", "Dòng", "Lý do"],
              rows=err_rows, widths_cm=[1.1, 3.3, 2.7, 1.3, 8.1]),
    ]


def errors_page(s: Sentences) -> tuple[list[TaintedFigure], list[OpenError], list[Block]]:
    """"Số liệu chưa được tổng hợp": which figures are incomplete, which rows were left
    out of them and why (the counting rule)."""
    data = s.data
    figures, errors = tainted_figures(data, s.printed)
    earlier_figs: list[TaintedFigure] = []
    earlier_errors: list = []
    if s.earlier is not None and s.compared_taint:
        earlier_figs, earlier_errors = tainted_figures(s.earlier, s.compared_taint)
    if not figures and not earlier_figs:
        return [], [], []
    open_errors = _error_rows(data, errors)
    blocks: list[Block] = [PageBreak(), para("SỐ LIỆU CHƯA ĐƯỢC TỔNG HỢP",
                                             style=ParaStyle.TITLE)]
    blocks.append(para(f"(đến thời điểm lập báo cáo, kỳ {data.title})",
                       style=ParaStyle.SUBTITLE))
    blocks.append(para(
        "Các số liệu dưới đây chưa đầy đủ vì có dòng số liệu chưa được tổng hợp (quy tắc "
        f"tổng hợp nêu tại phần Ghi chú đầu báo cáo); trong báo cáo và phụ lục chúng được "
        f"đánh dấu {TAINT_MARK}. Đề nghị các đơn vị sửa lỗi trong bảng tính của "
        "mình; sau lần kiểm tra tiếp theo, lập lại báo cáo để có số liệu đầy đủ."))
    n = 1
    if figures:
        blocks.append(para(f"{n}. Kỳ báo cáo {data.title}", style=ParaStyle.HEADING2))
        blocks += _errors_tables(data, figures, open_errors, n)
        n += 1
    if earlier_figs and s.earlier is not None:
        blocks.append(para(f"{n}. Kỳ so sánh ({s.earlier.title})", style=ParaStyle.HEADING2))
        blocks += _errors_tables(s.earlier, earlier_figs, _error_rows(s.earlier, earlier_errors),
                                 n)
    return figures + earlier_figs, open_errors, blocks
