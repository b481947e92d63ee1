"""History warnings a unit meets in its first year (DHIS2-style): a jump against the
previous period of the same length when no same period a year earlier exists, and
min-max bounds declared in the templates. Both are warnings the unit may explain."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import open_workspace, sync_once
from cchc_sync.app.workflow import open_period
from cchc_sync.checks.earlier import EarlierPeriod, EarlierPeriods, Relation
from cchc_sync.checks.suite import history_findings
from cchc_sync.domain.config import load_config
from cchc_sync.domain.records import CurrentRow, Severity
from cchc_sync.domain.templates import default_template_dir, load_template_set
from cchc_sync.testing.typist import set_cell, type_rows
from tests.conftest import Clock

UNITS = ("ma,ten,cap,cha,email\n"
         "TP,Phòng Tư pháp,huyen,,tuphap@example.gov.vn\n"
         "XA_A,UBND xã An Bình,xa,,anbinh@example.gov.vn\n")
TTHC = "Giải quyết TTHC"
RECEIVED = "Tổng số hồ sơ tiếp nhận"
T = load_template_set()


def vn(day: str) -> dt.datetime:
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, 9, tzinfo=dt.UTC) - dt.timedelta(hours=7)


@pytest.fixture
def workspace(tmp_path):
    templates = tmp_path / "tpl"
    shutil.copytree(default_template_dir(), templates)
    tthc = templates / "tthc.yaml"
    # A district's expectation for one field of procedures in a half-year (DHIS2 min-max).
    tthc.write_text(tthc.read_text(encoding="utf-8").replace("rules:\n", (
        "rules:\n  - {id: tthc.tiep-nhan-gioi-han, kind: range, severity: warning, "
        "column: tong_tiep_nhan, max: 50000}\n"), 1), encoding="utf-8")
    (tmp_path / "units.csv").write_text(UNITS, encoding="utf-8")
    ws = init_workspace(tmp_path / "ws", units_csv=tmp_path / "units.csv", period="2022S1",
                        name="huyện Sông Mây")
    config_path = ws.config.path
    ws.close()
    text = config_path.read_text(encoding="utf-8")
    assert 'templates = ""' in text
    config_path.write_text(text.replace('templates = ""', f'templates = "{templates}"'),
                           encoding="utf-8")
    clock = Clock(vn("2022-06-01"))
    ws = open_workspace(load_config(config_path), clock=clock)
    yield ws, clock
    ws.close()


def sheet(ws, unit):
    return ws.config.root / ws.archive.sheets(ws.period.code)[unit].ref


def received(ws, unit, value):
    path = sheet(ws, unit)
    type_rows(path, {TTHC: [{"Lĩnh vực": "Hộ tịch", RECEIVED: value}]})
    return path


def test_a_first_year_jump_between_half_years_is_a_warning_the_unit_can_explain(workspace):
    ws, clock = workspace
    received(ws, "TP", 3111)
    received(ws, "XA_A", 40)
    sync_once(ws)
    assert not [f for f in ws.archive.open_findings("2022S1") if f.unit == "TP"]

    clock.now = vn("2022-06-25")
    ws = open_period(ws, "2022S2", actor="Nguyễn Văn An")
    clock.now = vn("2022-07-10")
    path = received(ws, "TP", 311_100)
    received(ws, "XA_A", 41)  # a small change is no warning
    sync_once(ws)
    found = {(f.unit, f.rule): f for f in ws.archive.open_findings("2022S2")}
    change = found[("TP", "history.change")]
    assert change.severity is Severity.WARNING and change.column == "tong_tiep_nhan"
    # No 2021S2 in the archive: the message says it compares with the previous half-year.
    assert ('"Tổng số hồ sơ tiếp nhận" ghi 311.100, tăng 9.900% so với kỳ trước '
            "(2022S1: 3.111)") in change.message
    assert "cùng kỳ năm trước" not in change.message
    # Above the template's bound too: DHIS2's min-max, a warning, not an error.
    bound = found[("TP", "tthc.tiep-nhan-gioi-han")]
    assert bound.severity is Severity.WARNING
    assert "311.100" in bound.message and "tối đa 50.000" in bound.message
    assert ("XA_A", "history.change") not in found
    # Both can be explained in "Giải trình".
    set_cell(path, TTHC, 2, "Giải trình", "Tiếp nhận hồ sơ cấp đổi giấy tờ hàng loạt")
    clock.now = vn("2022-07-11")
    sync_once(ws)
    explained = {f.rule: f.explained for f in ws.archive.open_findings("2022S2")
                 if f.unit == "TP"}
    assert explained == {"history.change": "Tiếp nhận hồ sơ cấp đổi giấy tờ hàng loạt",
                         "tthc.tiep-nhan-gioi-han": "Tiếp nhận hồ sơ cấp đổi giấy tờ hàng loạt"}


def rows(unit, value):
    return [CurrentRow(unit=unit, table="tthc", key="ho tich", sheet_row=2,
                       values={"linh_vuc": "Hộ tịch", "tong_tiep_nhan": value})]


def test_a_year_earlier_wins_over_the_previous_period_where_it_exists():
    previous = EarlierPeriod.build("2022S1", Relation.PREVIOUS, rows("TP", 3111), {"TP": ["TP"]})
    year = EarlierPeriod.build("2021S2", Relation.YEAR_EARLIER, rows("TP", 300_000),
                               {"TP": ["TP"]})
    now = rows("TP", 311_100)
    # Within 50 % of a year earlier: no warning, although the previous half-year differs.
    assert history_findings(now, T, EarlierPeriods(previous=previous, year_earlier=year)) == []
    (f,) = history_findings(now, T, EarlierPeriods(previous=previous))
    assert "so với kỳ trước (2022S1: 3.111)" in f.message
    far = EarlierPeriod.build("2021S2", Relation.YEAR_EARLIER, rows("TP", 1000), {"TP": ["TP"]})
    (f,) = history_findings(now, T, EarlierPeriods(previous=previous, year_earlier=far))
    assert "so với cùng kỳ năm trước (2021S2: 1.000)" in f.message
