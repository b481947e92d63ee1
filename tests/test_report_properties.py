"""Issue 13, property: whatever units report (levels, blanks, totals that do not add up,
open errors, explained warnings, units merged away, units that never reported), the report
and the master's "Tổng hợp" have zero inconsistencies.

Each example is two half-years recorded in the archive of one real workspace (SQLite,
units' sheets in the memory backend: nothing here reads a sheet) under a year of its own;
the half-year's report and the year's (built from both halves by report.combined, with
some fields carried over exactly and some not) are built and checked by `check_report`,
and the master's summary by `summary_problems`. Charts are drawn only by the .docx writer,
so an example costs milliseconds.
"""

from __future__ import annotations

import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_sync.app.demo_data import DISTRICT, UNITS_CSV
from cchc_sync.app.initialise import init_workspace
from cchc_sync.domain.records import Finding, Severity, TypedRow
from cchc_sync.publish.figures import compute_figures, level_name
from cchc_sync.publish.master import summary_frame, summary_problems
from cchc_sync.report import check_report
from cchc_sync.report.content import assemble
from cchc_sync.sources.memory import MemoryBackend

FIELDS = ["Hộ tịch", "Đất đai", "Chứng thực", "Tư pháp"]
_years = itertools.count(2101)


@pytest.fixture(scope="module")
def ws(tmp_path_factory):
    root = tmp_path_factory.mktemp("props")
    (root / "units.csv").write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(root / "district", units_csv=root / "units.csv", period="2100S1",
                        name=DISTRICT, backend_factory=lambda config: MemoryBackend())
    yield ws
    ws.close()


count = st.one_of(st.none(), st.integers(0, 400))


@st.composite
def tthc_row(draw):
    parts = {k: draw(count) for k in ("tu_ky_truoc", "truc_tuyen", "truc_tiep")}
    res = {k: draw(count) for k in ("truoc_han", "dung_han", "qua_han", "dang_qua_han")}
    total = sum(v or 0 for v in parts.values())
    values = {**parts, **res, "tong_tiep_nhan": total}
    values["dang_trong_han"] = total - sum(v or 0 for v in res.values())
    if values["dang_trong_han"] < 0 or draw(st.booleans()) and draw(st.booleans()):
        values["tong_tiep_nhan"] = total + draw(st.integers(1, 50))  # does not add up
    return {k: v for k, v in values.items() if v is not None and v >= 0}


@st.composite
def unit_rows(draw):
    tables: dict[str, list[dict]] = {}
    fields = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=3))
    tables["tthc"] = [{"linh_vuc": f, **draw(tthc_row())} for f in fields]
    if draw(st.booleans()):
        whole = draw(st.integers(0, 500))
        tables["mot_cua"] = [{"tong_ho_so": whole,
                              "ho_so_tren_he_thong": draw(st.integers(0, whole))}]
    kinds = draw(st.lists(st.sampled_from(["mot_phan", "toan_trinh"]), unique=True))
    tables["dvctt"] = []
    for kind in kinds:
        arising = draw(st.integers(0, 300))
        tables["dvctt"].append({"loai": kind, "so_thu_tuc": draw(st.integers(1, 90)),
                                "ho_so_phat_sinh": arising,
                                "ho_so_truc_tuyen": draw(st.integers(0, arising))})
    if draw(st.booleans()):
        given_ = draw(st.integers(0, 40))
        tables["bien_che"] = [{"co_quan": "Văn phòng", "loai": "cong_chuc",
                               "duoc_giao": given_, "hien_co": draw(st.integers(0, given_)),
                               "hop_dong": draw(count)}]
    return {t: [r for r in rows] for t, rows in tables.items() if rows}


@st.composite
def district(draw, n_units: int):
    present = draw(st.lists(st.booleans(), min_size=n_units, max_size=n_units))
    rows = [draw(unit_rows()) if p else {} for p in present]
    errors = draw(st.lists(st.booleans(), min_size=n_units, max_size=n_units))
    explained = draw(st.booleans())
    merged = draw(st.sets(st.integers(0, n_units - 1), max_size=2))
    return rows, errors, explained, merged


def _record(ws, period: str, rows, errors, explained, merged) -> None:
    archive = ws.archive
    run = archive.start_run(period)
    units = list(ws.units)
    # A unit merged away: its rows stay in the archive, it is not in the period's registry.
    archive.save_units(period, [u for i, u in enumerate(units) if i not in merged])
    findings = []
    for i, (unit, tables) in enumerate(zip(units, rows, strict=True)):
        if not tables:
            continue
        typed = {}
        for table, items in tables.items():
            typed[table] = []
            for n, values in enumerate(items, start=2):
                key = {"tthc": values.get("linh_vuc", ""), "dvctt": values.get("loai", ""),
                       "bien_che": f"{values.get('co_quan')}|{values.get('loai')}"}.get(table, "")
                typed[table].append(TypedRow(table=table, key=key, sheet_row=n, values=values,
                                             explanation="Đã giải trình" if explained else None))
        archive.record_rows(period, unit.code, typed, {}, run)
        first = next(iter(typed.values()))[0]
        severity = Severity.ERROR if errors[i] else Severity.WARNING
        findings.append(Finding(rule="thu.nghiem", severity=severity, unit=unit.code,
                                table=first.table, row=first.sheet_row, column=None,
                                row_key=first.key, value=None, message="Lỗi thử nghiệm"))
    archive.replace_findings(period, "unit", findings, run)


def carried_over(first: list[dict], second: list[dict], which: list[bool]) -> None:
    """Some fields of the second half carry in exactly what was open at the end of the
    first (as the year needs); the others carry in what the generator drew."""
    open_at_end = {r["linh_vuc"]: r.get("dang_trong_han", 0) + r.get("dang_qua_han", 0)
                   for r in first}
    for row, exact in zip(second, which, strict=False):
        if not exact or row["linh_vuc"] not in open_at_end:
            continue
        change = open_at_end[row["linh_vuc"]] - row.get("tu_ky_truoc", 0)
        if row.get("dang_trong_han", 0) + change >= 0:
            row["tu_ky_truoc"] = open_at_end[row["linh_vuc"]]
            row["tong_tiep_nhan"] += change
            row["dang_trong_han"] = row.get("dang_trong_han", 0) + change


def assert_reconciles(ws, period: str) -> None:
    report, sentences = assemble(ws, period)
    assert check_report(report, sentences.data) == []
    # The master's summary, from the same figures.
    d = sentences.data
    figures = compute_figures(d.rows, d.templates, d.units_by_code, d.levels, d.error_rows,
                              d.excluded)
    titles = [level_name(lv, ws.config.level_names) for lv in d.levels]
    frame = summary_frame(figures, d.levels, ws.config.level_names, "Toàn huyện")
    assert summary_problems(frame, d.templates, titles, "Toàn huyện") == []


@settings(max_examples=6, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_generated_districts_reconcile(ws, data):
    year = next(_years)
    halves = []
    for half in ("S1", "S2"):
        rows, errors, explained, merged = data.draw(district(len(ws.units)))
        if not any(rows):
            rows[0] = data.draw(unit_rows())
            rows[0].setdefault("mot_cua", [{"tong_ho_so": 1, "ho_so_tren_he_thong": 1}])
        for before, now in zip(halves[0] if halves else [], rows, strict=False):
            exact = data.draw(st.lists(st.booleans(), min_size=3, max_size=3))
            carried_over(before.get("tthc", []), now.get("tthc", []), exact)
        halves.append(rows)
        _record(ws, f"{year}{half}", rows, errors, explained, merged)
        assert_reconciles(ws, f"{year}{half}")
    assert_reconciles(ws, str(year))
