"""Issue 13, point 4: the report of a longer period built from the archive's shorter ones —
the year from S1 and S2 (flows added, stocks taken at the end, carried-in taken at the
start, as each figure declares), a quarter from its months — with its title, its Decree 09
window and --compare-with.

The rows are recorded in a real archive (SQLite) of a workspace whose sheets live in the
memory backend: the report reads nothing else.
"""

from __future__ import annotations

import dataclasses

import pytest

from cchc_sync.app.demo_data import DISTRICT, UNITS_CSV
from cchc_sync.app.initialise import init_workspace
from cchc_sync.domain.records import Finding, Severity, TypedRow
from cchc_sync.domain.templates import TemplateError
from cchc_sync.publish.figures import TOTAL
from cchc_sync.report import ReportError, build_report, check_report
from cchc_sync.report.combined import column_period_modes
from cchc_sync.report.content import assemble
from cchc_sync.sources.memory import MemoryBackend
from tests import cli_process


def tthc(field: str, carried: int, online: int, counter: int, resolved_on_time: int,
         resolved_late: int, open_late: int) -> dict:
    received = carried + online + counter
    open_in_time = received - resolved_on_time - resolved_late - open_late
    return {"linh_vuc": field, "tu_ky_truoc": carried, "truc_tuyen": online,
            "truc_tiep": counter, "tong_tiep_nhan": received, "dung_han": resolved_on_time,
            "qua_han": resolved_late, "dang_trong_han": open_in_time, "dang_qua_han": open_late}


def staffing(given: int, present: int) -> dict:
    return {"co_quan": "Văn phòng", "loai": "cong_chuc", "duoc_giao": given, "hien_co": present}


KEYS = {"tthc": "linh_vuc", "bien_che": None, "mot_cua": None}


def record(ws, period: str, units: dict[str, dict[str, list[dict]]],
           errors: tuple[str, ...] = ()) -> None:
    """units: unit code -> table -> rows; errors: units whose first row has an open error."""
    archive = ws.archive
    run = archive.start_run(period)
    archive.save_units(period, list(ws.units))
    findings = []
    for unit, tables in units.items():
        typed = {t: [TypedRow(table=t, key=_key(t, v), sheet_row=n, values=v)
                     for n, v in enumerate(rows, start=2)] for t, rows in tables.items()}
        archive.record_rows(period, unit, typed, {}, run)
        if unit in errors:
            first = next(iter(typed.values()))[0]
            findings.append(Finding(rule="thu.nghiem", severity=Severity.ERROR, unit=unit,
                                    table=first.table, row=first.sheet_row, row_key=first.key,
                                    message="Số liệu sai (thử nghiệm)"))
    archive.replace_findings(period, "unit", findings, run)


def _key(table: str, values: dict) -> str:
    if table == "tthc":
        return values["linh_vuc"]
    if table == "bien_che":
        return f"{values['co_quan']}|{values['loai']}"
    return ""


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("periods")
    (root / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(root / "district", units_csv=root / "units.csv", period="2022S2",
                        name=DISTRICT, backend_factory=lambda config: MemoryBackend())
    for year, extra in ((2021, 0), (2022, 100)):
        # S2 carries in exactly what was open at the end of S1 (8 + 2 and 4 + 1).
        record(ws, f"{year}S1", {
            "VP": {"tthc": [tthc("Hộ tịch", 5, 100 + extra, 40, 128 + extra, 7, 2)],
                   "bien_che": [staffing(20, 18)]},
            "XA_LT": {"tthc": [tthc("Chứng thực", 0, 30, 20, 41, 4, 1)],
                      "mot_cua": [{"tong_ho_so": 50, "ho_so_tren_he_thong": 45}]},
        })
        record(ws, f"{year}S2", {
            "VP": {"tthc": [tthc("Hộ tịch", 10, 80, 60 + extra, 140 + extra, 3, 5)],
                   "bien_che": [staffing(22, 21)]},
            "XA_LT": {"tthc": [tthc("Chứng thực", 5, 25, 10, 30, 2, 0),
                               tthc("Đất đai", 0, 7, 3, 6, 0, 0)],
                      "mot_cua": [{"tong_ho_so": 40, "ho_so_tren_he_thong": 40}]},
        })
    for month, online in (("01", 10), ("02", 20), ("03", 30)):
        record(ws, f"2023{month}", {"VP": {"tthc": [tthc("Hộ tịch", 0, online, 1, online, 1, 0)]}})
    record(ws, "2024S1", {"VP": {"tthc": [tthc("Hộ tịch", 0, 1, 1, 1, 1, 0)]}})
    record(ws, "2025S1", {"VP": {"tthc": [tthc("Hộ tịch", 0, 10, 0, 10, 0, 0)]},
                          "XA_LT": {"tthc": [tthc("Hộ tịch", 0, 2, 0, 2, 0, 0)]}},
           errors=("VP",))
    record(ws, "2025S2", {"VP": {"tthc": [tthc("Hộ tịch", 0, 5, 0, 5, 0, 0)]},
                          "XA_LT": {"tthc": [tthc("Hộ tịch", 3, 5, 0, 5, 0, 0)]}})
    yield ws
    ws.close()


def test_the_year_adds_flows_and_takes_stocks_at_the_end(ws):
    report, sentences = assemble(ws, "2022")
    data = sentences.data
    assert data.parts == ("2022S1", "2022S2")
    assert report.subtitle.endswith("năm 2022")
    total = {k: v.values[TOTAL] for k, v in data.figures.items()}
    # Flows: S1 + S2.
    assert total["tthc.truc_tuyen"] == (200 + 30) + (80 + 25 + 7)
    assert total["tthc.truc_tiep"] == (40 + 20) + (160 + 10 + 3)
    assert total["tthc.tre_han"] == (7 + 4) + (3 + 2)
    assert total["mot_cua.tong"] == 90 and total["mot_cua.tren_he_thong"] == 85
    # Carried in: what was there at the start of the year (S1's), not S1's + S2's.
    assert total["tthc.tu_ky_truoc"] == 5
    # Stocks: the end of the year (S2's), not S1's + S2's.
    assert total["bien_che.duoc_giao.cong_chuc"] == 22
    assert total["bien_che.hien_co.cong_chuc"] == 21
    assert total["tthc.dang_qua_han"] == 5
    # The identities hold for the year: received = carried + new = resolved + open.
    assert total["tthc.tiep_nhan"] == 5 + total["tthc.truc_tuyen"] + total["tthc.truc_tiep"]
    assert total["tthc.tiep_nhan"] == total["tthc.da_giai_quyet"] + total["tthc.dang_giai_quyet"]
    assert data.left_out == []
    assert check_report(report, data) == []
    text = "\n".join(p.plain() for p in report.paragraphs())
    # The Decree 09 window of the year, and how its figures were made.
    assert "từ ngày 15/12/2021 đến ngày 14/12/2022" in text
    assert ("tổng hợp từ số liệu các kỳ 6 tháng đầu năm 2022, 6 tháng cuối năm 2022: số liệu "
            "phát sinh trong kỳ được cộng dồn") in text


def test_the_year_compares_with_the_year_before(ws):
    report, sentences = assemble(ws, "2022", compare_with="2021")
    assert sentences.earlier.parts == ("2021S1", "2021S2")
    text = "\n".join(p.plain() for p in report.paragraphs())
    # 2022 received 200 more new dossiers than 2021 (100 in each half).
    now = sentences.data.figures["tthc.tiep_nhan"].values[TOTAL]
    before = sentences.earlier.figures["tthc.tiep_nhan"].values[TOTAL]
    assert now - before == 200
    assert "cùng kỳ năm 2021" in text
    assert check_report(report, sentences.data) == []


def test_a_quarter_is_built_from_its_months(ws):
    report, sentences = assemble(ws, "2023Q1")
    data = sentences.data
    assert data.parts == ("202301", "202302", "202303")
    assert report.subtitle.endswith("quý I năm 2023")
    assert data.figures["tthc.truc_tuyen"].values[TOTAL] == 60
    assert data.figures["tthc.tre_han"].values[TOTAL] == 3
    text = "\n".join(p.plain() for p in report.paragraphs())
    assert "từ ngày 15/12/2022 đến ngày 14/3/2023" in text or \
        "từ ngày 15/12/2022 đến ngày 14/03/2023" in text
    assert check_report(report, data) == []


def test_a_year_without_its_second_half_is_refused_naming_it(ws):
    with pytest.raises(ReportError, match="2024S2 chưa có số liệu"):
        build_report(ws, "2024")


def test_a_row_left_out_of_a_half_or_breaking_the_carry_over_is_left_out_of_the_year(ws):
    report, sentences = assemble(ws, "2025")
    reasons = {(x.row.unit, x.row.key): x.reason for x in sentences.data.left_out}
    # VP's row had an open error in 2025S1: the year cannot count it either.
    assert reasons[("VP", "Hộ tịch")] == "còn lỗi chưa khắc phục (kỳ 2025S1)"
    # XA_LT carried in 3 dossiers in S2 that S1 never had open: the year's row does not
    # add up, and the reason says it comes from adding the halves.
    assert reasons[("XA_LT", "Hộ tịch")].endswith("khi cộng các kỳ 2025S1, 2025S2")
    assert sentences.data.figures["tthc.tiep_nhan"].values[TOTAL] is None
    assert check_report(report, sentences.data) == []
    # Not "nobody reported": every reported row was left out, which is said and marked.
    text = "\n".join(p.plain() for p in report.paragraphs())
    assert ("báo cáo số liệu giải quyết thủ tục hành chính trong kỳ: các dòng số liệu đã báo "
            "cáo đều chưa được tổng hợp (xem trang cuối") in text
    assert [f.figure for f in report.tainted] == ["tthc.tiep_nhan"]
    # The last page lists both rows, the erroneous one with its error's message.
    listed = {e.unit: e.message for e in report.open_errors}
    assert "Số liệu sai (thử nghiệm)" in listed["Văn phòng HĐND và UBND huyện"]
    assert "khi cộng các kỳ 2025S1, 2025S2" in listed["UBND xã Long Trị"]


def test_cli_prints_the_year_report_compared_with_the_year_before(ws):
    """Through the CLI, as a coordinator runs it (Markdown to stdout: the .docx writer is
    tested elsewhere and costs seconds): titled for the year, its window, compared."""
    done = cli_process.run(
        ["report", "--config", str(ws.config.path),
         "--period", "2022", "--compare-with", "2021", "--format", "md"],
        capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "cải cách hành chính năm 2022" in done.stdout
    assert "cùng kỳ năm 2021" in done.stdout
    assert "từ ngày 15/12/2021 đến ngày 14/12/2022" in done.stdout


def test_two_figures_combining_one_column_differently_are_refused(ws):
    modes = column_period_modes(ws.templates.figures)
    assert modes[("tthc", "truc_tuyen")] == "sum"
    assert modes[("tthc", "dang_qua_han")] == "last"
    assert modes[("tthc", "tu_ky_truoc")] == "first"
    received = ws.templates.figure("tthc.truc_tuyen")
    clash = dataclasses.replace(received, id="x.truc_tuyen", over_periods="last")
    with pytest.raises(TemplateError, match="tthc.truc_tuyen is combined over periods"):
        column_period_modes([*ws.templates.figures, clash])
