"""Issue 13: every figure of the report reconciles. One test per defect a coordinator found
on the demo district, and the self-check that refuses a draft contradicting itself."""

from __future__ import annotations

import re
import shutil

import pytest
from docx import Document

from cchc_sync.app.pipeline import open_workspace, sync_once
from cchc_sync.domain.config import load_config
from cchc_sync.domain.templates import default_template_dir
from cchc_sync.publish.figures import format_rate, rate
from cchc_sync.report import ReportCheckError, build_report, check_report, write_report
from cchc_sync.report.content import assemble
from cchc_sync.report.data import period_title
from cchc_sync.report.model import SpanKind
from cchc_sync.report.selfcheck import parse_value
from tests import cli_process
from tests.conftest import make_district
from tests.test_report_expected import build_district, expected_for

PERIOD = "2022S1"


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    ws = build_district(tmp_path_factory.mktemp("reconciles") / "district")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def report(ws):
    return build_report(ws, PERIOD)


def _figures(para) -> dict[str, int]:
    """Figure id -> value of the first span printing it for the whole area."""
    out: dict[str, int] = {}
    for s in para.spans:
        if s.kind is SpanKind.FIGURE and s.figure and s.group == "__total__":
            out.setdefault(s.figure, parse_value(s.text))
    return out


def test_dossier_parts_add_up_to_what_was_received(report):
    """Was: "tiếp nhận 9.406(*); đúng hạn 8.732(*); chưa đến hạn 553(*); trễ hạn 109(*)"
    whose parts add to 9.394."""
    lead = next(p for p in report.paragraphs() if "đã tiếp nhận" in p.plain())
    v = _figures(lead)
    assert v["tthc.tiep_nhan"] == v["tthc.tu_ky_truoc"] + v["tthc.truc_tuyen"] + \
        v["tthc.truc_tiep"]
    assert v["tthc.tiep_nhan"] == v["tthc.da_giai_quyet"] + v["tthc.dang_giai_quyet"]
    assert v["tthc.da_giai_quyet"] == v["tthc.dung_han"] + v["tthc.tre_han"]
    assert v["tthc.dang_giai_quyet"] == v["tthc.chua_den_han"] + v["tthc.dang_qua_han"]


def test_late_means_resolved_late_and_the_rate_divides_resolved(report, ws):
    """Was: Biểu 1 "trễ hạn" also counted dossiers still open and overdue, and 99,23% was
    đúng hạn / đã giải quyết with đã giải quyết printed nowhere."""
    exp = expected_for(ws, PERIOD)
    lead = next(p for p in report.paragraphs() if "đã tiếp nhận" in p.plain())
    text = lead.plain()
    assert (f"giải quyết trễ hạn {exp.text('tthc.tre_han')} hồ sơ" in text
            and f"đã quá hạn {exp.text('tthc.dang_qua_han')} hồ sơ" in text)
    assert (f"đạt {exp.text('tthc.ty_le_dung_han')} ({exp.text('tthc.dung_han')}/"
            f"{exp.text('tthc.da_giai_quyet')} hồ sơ)") in text
    table = next(t for t in report.tables() if "thủ tục hành chính" in t.title)
    col = {f: i for i, f in enumerate(table.figures) if f}
    rows = [r for r in ws.archive.current_rows(PERIOD) if r.table == "tthc"]
    checked = 0
    for row in table.rows:
        if row.kind.value != "unit" or row.cells[col["tthc.tre_han"]].text == "—":
            continue
        cells = [c.text for c in row.cells]
        late = parse_value(cells[col["tthc.tre_han"]])
        resolved = parse_value(cells[col["tthc.da_giai_quyet"]])
        on_time = parse_value(cells[col["tthc.dung_han"]])
        assert resolved == on_time + late
        assert cells[col["tthc.ty_le_dung_han"]] == format_rate(rate(on_time, resolved))
        if not any(c.tainted for c in row.cells):
            unit_rows = [r for r in rows if r.unit == row.group]
            assert late == sum(r.values.get("qua_han") or 0 for r in unit_rows)
            checked += 1
    assert checked >= 5


def test_level_lines_are_the_sums_of_their_units(ws, tmp_path):
    """Was: Biểu 5, Cấp xã "Chưa sử dụng 25(*)" while its unit rows add to 5."""
    out = write_report(ws, PERIOD, tmp_path / "r.docx")
    doc = Document(out)
    staffing = next(t for t in doc.tables
                    if len(t.columns) > 2 and t.rows[0].cells[2].text == "Loại")
    rows = [[c.text for c in r.cells] for r in staffing.rows[1:]]
    level = next(i for i, r in enumerate(rows) if r[1] == "Cấp xã")
    units = []
    for r in rows[level + 1:]:
        if r[0] and not r[0].isdigit():
            break
        units.append(r)
    assert units
    for col in (3, 4, 5, 6):
        shown = [parse_value(r[col]) for r in units if parse_value(r[col]) is not None]
        assert parse_value(rows[level][col]) == sum(shown), (rows[level][1], col)


def test_titles_follow_the_period():
    """Was: the 2026S2 report titled "… năm 2026" while holding 15/6–14/12/2026 only."""
    assert period_title("2026S2") == "6 tháng cuối năm 2026"
    assert period_title("2026S1") == "6 tháng đầu năm 2026"
    assert period_title("2026") == "năm 2026"


def test_rates_as_official_reports_write_them(report):
    """Was: "73,8%" and "100%" beside "74,37%"."""
    assert format_rate(rate(738, 1000)) == "73,80%"
    assert format_rate(rate(3960, 10000)) == "39,60%"
    assert format_rate(rate(5, 5)) == "100,00%"
    assert format_rate(rate(99_999, 100_000)) == "99,99%"  # not "100,00%": one is missing
    assert format_rate(rate(1, 1_000_000)) == "0,01%"  # not "0,00%": one is there
    assert format_rate(rate(0, 7)) == "0,00%"
    rates = [s.text for p in report.paragraphs() for s in p.spans
             if s.kind is SpanKind.FIGURE and s.text.endswith("%")]
    assert len(rates) > 10
    assert all(re.fullmatch(r"\d{1,3}(\.\d{3})*,\d\d%", t) for t in rates), rates


def test_the_rendered_report_passes_its_own_check(ws, tmp_path):
    report, sentences = assemble(ws, PERIOD, "2021S1")
    from cchc_sync.report.docx_writer import write_docx

    path = write_docx(report, tmp_path / "r.docx")
    assert check_report(report, sentences.data, path) == []


def test_a_document_that_contradicts_itself_is_caught(ws, tmp_path):
    """The check reads the .docx: a number changed in the document is found, with where."""
    report, sentences = assemble(ws, PERIOD)
    from cchc_sync.report.docx_writer import write_docx

    path = write_docx(report, tmp_path / "r.docx")
    doc = Document(path)
    table = next(t for t in doc.tables if t.rows[0].cells[-1].text.startswith("Tỷ lệ giải"))
    cell = table.rows[1].cells[2]  # the area's "Tiếp nhận"
    cell.paragraphs[0].runs[0].text = "1"
    doc.save(path)
    problems = check_report(report, sentences.data, path)
    assert problems
    assert any("Tổng số hồ sơ tiếp nhận" in p and "khác nhau" in p for p in problems)
    assert any("dòng tổng" in p for p in problems)


def test_cli_refuses_a_draft_whose_identity_fails(tmp_path):
    """A template set declaring an identity the data breaks: exit 1, the list, no file."""
    templates = tmp_path / "mau"
    shutil.copytree(default_template_dir(), templates)
    set_file = templates / "_set.yaml"
    text = set_file.read_text(encoding="utf-8")
    text = text.replace("parts: [[tthc.tu_ky_truoc, tthc.truc_tuyen, tthc.truc_tiep], ",
                        "parts: [[tthc.truc_tuyen, tthc.truc_tiep], ")
    set_file.write_text(text, encoding="utf-8")
    ws = make_district(tmp_path / "d")
    config = ws.config.path
    ws.close()
    toml = config.read_text(encoding="utf-8").replace('templates = ""',
                                                      f'templates = "{templates}"')
    config.write_text(toml, encoding="utf-8")
    ws = open_workspace(load_config(config))
    sync_once(ws)
    ws.close()
    out = tmp_path / "bao-cao.docx"
    done = cli_process.run(["report", "--config", str(config),
                           "--period", PERIOD, "-o", str(out)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    assert "báo cáo không được ghi vì số liệu không khớp" in done.stderr
    assert "Tổng số hồ sơ tiếp nhận (toàn địa bàn)" in done.stderr
    assert not out.exists() and not list(tmp_path.glob(".bao-cao*"))
    with pytest.raises(ReportCheckError):
        ws = open_workspace(load_config(config))
        try:
            write_report(ws, PERIOD, out)
        finally:
            ws.close()


def test_demo_report_passes_the_self_check(tmp_path):
    """The demo (whatever area and period it shows) gives a report that reconciles."""
    target = tmp_path / "demo"
    cli_process.run(["demo", str(target)], check=True,
                   capture_output=True)
    config = load_config(target / "cchc-sync.toml")
    out = tmp_path / "demo.docx"
    done = cli_process.run(["report", "--config",
                           str(config.path), "--period", config.period, "-o", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert out.exists()


def test_master_summary_reads_as_a_coordinator_needs(ws):
    """Was: "Tổng hợp" showed counts as 9.406,00 and machine keys in its first column;
    "Đơn vị có số liệu 11" while 9 had submitted."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    path = ws.config.root / ws.archive.master(PERIOD)["ref"]
    book = openpyxl.load_workbook(path)
    sheet = book["Tổng hợp"]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    assert header[0] == "Chỉ tiêu" and header[-1] == "Mã chỉ tiêu"
    assert sheet.column_dimensions[get_column_letter(len(header))].hidden
    assert "Số đơn vị có số liệu" in header and "Đơn vị có số liệu" not in header
    by_id = {r[-1].value: r for r in rows[1:]}
    total = header.index("Toàn huyện Sông Mây")
    count = by_id["tthc.tiep_nhan"][total]
    assert isinstance(count.value, int) and count.number_format == "#,##0"
    share = by_id["tthc.ty_le_dung_han"][total]
    assert isinstance(share.value, float) and "%" in share.number_format
    assert share.number_format.startswith("0.00")
    progress = book["Tiến độ"]
    prow = list(progress.iter_rows(values_only=True))
    links = [v for r in prow[1:] for v in r if isinstance(v, str) and v.startswith("=HYPERLINK(")]
    assert len(links) == len(ws.units)
    lines = [r[1] for r in prow if r[0] in ("Cấp xã", "Tất cả các cấp")]
    assert len(lines) == 2
    assert all("tỷ lệ nộp báo cáo" in line and "nộp đúng hạn" in line
               and "đơn vị có số liệu" in line for line in lines)
    assert "6/6 đơn vị có số liệu" not in lines[0]  # An Bình has not started
