"""The period workflow through the CLI (issue 14): the first opening logged, approvals that
need a sign-off and can be withdrawn, reopen refused while approved, `--period` on status,
findings and export, a closed period's master rebuilt when its workflow state changes, and
the backfill warning."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import stat

import openpyxl
import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.demo import fill_demo_workbooks
from cchc_sync.app.demo_data import UNITS_CSV
from cchc_sync.app.pipeline import open_workspace, sync_once
from cchc_sync.app.workflow import open_period
from cchc_sync.domain.config import load_config
from cchc_sync.publish.master import PROGRESS_TAB
from cchc_sync.store.period_state import FINAL, audit_log, get_period
from tests.conftest import Clock, current_period, make_district
from tests.test_period_cycle import vn

COORDINATOR = "Trần Thị Hoa (Phòng Nội vụ)"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    return result.exit_code, result.output


def log_entries(config, *args: str) -> list[dict]:
    code, out = run("period", "log", *args, "--json", "--config", str(config))
    assert code == 0, out
    return json.loads(out)


def writable(path) -> bool:
    return bool(os.stat(path).st_mode & stat.S_IWUSR)


def master_progress(ws, period: str, unit: str) -> dict:
    wb = openpyxl.load_workbook(ws.config.root / ws.archive.master(period)["ref"])
    rows = [list(r) for r in wb[PROGRESS_TAB].iter_rows(values_only=True)]
    return next(dict(zip(rows[0], r, strict=True)) for r in rows[1:] if r[0] == unit)


@pytest.fixture
def closed_s1(tmp_path):
    """2022S1 filled and synced on 10/06/2022, then 2022S2 opened on 25/06/2022: the
    returned workspace looks at 2022S2, 2022S1 is final and locked."""
    clock = Clock(vn("2022-06-10"))
    ws = make_district(tmp_path / "district", clock=clock)
    sync_once(ws)
    clock.now = vn("2022-06-25")
    s2 = open_period(ws, "2022S2", actor=COORDINATOR)
    sync_once(s2)
    yield s2, clock
    ws.close()


# -- 1. the first period's opening is logged ---------------------------------------------------


def test_init_logs_the_first_opening_once(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    period = current_period()
    args = ["init", str(tmp_path / "ws"), "--units", str(units), "--period", period,
            "--by", COORDINATOR]
    code, out = run(*args)
    assert code == 0, out
    config = tmp_path / "ws" / "cchc-sync.toml"
    (entry,) = log_entries(config)
    assert (entry["action"], entry["period"], entry["actor"]) == ("open", period, COORDINATOR)
    assert "12 đơn vị" in entry["detail"]
    opened = dt.datetime.fromisoformat(entry["at"])
    assert abs(dt.datetime.now(dt.UTC) - opened) < dt.timedelta(minutes=5)
    code, out = run("period", "log", "--config", str(config))
    assert "Mở kỳ" in out and COORDINATOR in out and "Chưa có thao tác nào" not in out
    # init re-run to finish an interrupted one: still one opening.
    assert run(*args)[0] == 0
    assert [e["action"] for e in log_entries(config)] == ["open"]


# -- 7. a backfill -----------------------------------------------------------------------------


def test_init_for_a_period_past_its_lock_day_warns_and_proposes_no_auto_lock(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    code, out = run("init", str(tmp_path / "old"), "--units", str(units), "--period", "2019S1")
    assert code == 0, out
    assert "đã qua ngày khoá (20/06/2019)" in out and "auto_lock = false" in out
    assert "--backfill" in out

    # With --backfill: auto_lock off, no warning, and the first sync locks nothing.
    code, out = run("init", str(tmp_path / "backfill"), "--units", str(units),
                    "--period", "2019S1", "--backfill")
    assert code == 0, out
    assert "auto_lock" not in out
    config = tmp_path / "backfill" / "cchc-sync.toml"
    assert load_config(config).auto_lock is False
    assert run("sync", "--config", str(config))[0] == 0
    ws = open_workspace(load_config(config))
    try:
        sheets = ws.archive.sheets("2019S1")
        assert sheets and all(writable(ws.config.root / s.ref) for s in sheets.values())
        assert get_period(ws.archive, "2019S1").state != FINAL
    finally:
        ws.close()

    # A period still open for entry: no warning.
    code, out = run("init", str(tmp_path / "now"), "--units", str(units),
                    "--period", current_period())
    assert code == 0 and "auto_lock" not in out


# -- 3. --period on status, findings and export ------------------------------------------------


def test_status_findings_export_of_an_earlier_period(closed_s1):
    s2, _ = closed_s1
    config = str(s2.config.path)
    code, out = run("status", "--json", "--config", config)
    assert code == 0
    # 2022S2 just opened: nobody signed off yet (carried rows make some "entering").
    assert not any(u["state"] == "submitted" for u in json.loads(out))
    code, out = run("status", "--json", "--period", "2022s1", "--config", config)
    assert code == 0, out
    old = {u["unit"]: u for u in json.loads(out)}
    assert len(old) == 12 and old["VP"]["state"] == "submitted" and old["VP"]["read_only"]
    code, out = run("status", "--period", "2022S1", "--config", config)
    assert code == 0 and out.startswith("Kỳ 2022S1")

    code, out = run("findings", "--json", "--period", "2022S1", "--config", config)
    assert code == 0
    found = json.loads(out)
    assert found and len(found) == len(s2.archive.open_findings("2022S1"))
    code, out = run("findings", "--json", "--config", config)
    current = json.loads(out)
    assert len(current) == len(s2.archive.open_findings("2022S2")) and current != found

    code, out = run("export", "--table", "tthc", "--json", "--period", "2022S1",
                    "--config", config)
    assert code == 0
    rows = json.loads(out)
    assert rows and {r["period"] for r in rows} == {"2022S1"}
    code, out = run("export", "--table", "tthc", "--json", "--config", config)
    assert {r["period"] for r in json.loads(out)} <= {"2022S2"}

    for command in (["status"], ["findings"], ["export", "--table", "tthc"]):
        code, out = run(*command, "--period", "2019S1", "--config", config)
        assert code == 2 and out.count("\n") == 1
        assert "Kỳ 2019S1 chưa có trong kho lưu trữ" in out and "2022S1, 2022S2" in out
    code, out = run("status", "--period", "2022X9", "--config", config)
    assert code == 2


# -- 5. approve needs a sign-off; unapprove; reopen refused while approved -----------------------


def test_approve_unapprove_and_reopen(closed_s1):
    s2, _ = closed_s1
    config = str(s2.config.path)
    # TCKH is still entering its figures in the demo district.
    code, out = run("approve", "2022S1", "--unit", "TCKH", "--by", COORDINATOR,
                    "--config", config)
    assert code == 2 and "chưa báo \"Hoàn thành\"" in out and "--force --reason" in out
    code, out = run("approve", "2022S1", "--unit", "TCKH", "--force", "--config", config)
    assert code == 2 and "--reason" in out
    code, out = run("approve", "2022S1", "--unit", "TCKH", "--force", "--reason",
                    "Đơn vị gửi văn bản giấy, đã đối chiếu", "--by", COORDINATOR,
                    "--config", config)
    assert code == 0, out
    forced = [e for e in log_entries(config, "2022S1") if e["action"] == "approve"]
    assert forced[-1]["unit"] == "TCKH" and forced[-1]["actor"] == COORDINATOR
    assert "Đơn vị gửi văn bản giấy, đã đối chiếu" in forced[-1]["detail"]

    code, out = run("approve", "2022S1", "--unit", "VP", "--by", COORDINATOR,
                    "--config", config)
    assert code == 0, out
    until = (dt.date.today() + dt.timedelta(days=5)).isoformat()
    code, out = run("period", "reopen", "2022S1", "--unit", "VP", "--until", until,
                    "--config", config)
    assert code == 2 and out.count("\n") == 1
    assert "cchc-sync unapprove 2022S1 --unit VP" in out
    assert not any(e["action"] == "reopen" for e in log_entries(config, "2022S1"))
    status = {u["unit"]: u for u in json.loads(run(
        "status", "--json", "--period", "2022S1", "--config", config)[1])}
    assert status["VP"]["approved_by"] == COORDINATOR

    code, out = run("unapprove", "2022S1", "--unit", "VP", "--config", config)
    assert code == 2  # --reason is required
    code, out = run("unapprove", "2022S1", "--unit", "NV", "--reason", "x", "--config", config)
    assert code == 2 and "chưa được phê duyệt" in out
    code, out = run("unapprove", "2022S1", "--unit", "VP", "--reason",
                    "Số liệu TTHC cần sửa", "--by", "Lê Văn Nam", "--config", config)
    assert code == 0, out
    (entry,) = [e for e in log_entries(config, "2022S1") if e["action"] == "unapprove"]
    assert entry["actor"] == "Lê Văn Nam" and "Số liệu TTHC cần sửa" in entry["detail"]
    assert COORDINATOR in entry["detail"]
    status = {u["unit"]: u for u in json.loads(run(
        "status", "--json", "--period", "2022S1", "--config", config)[1])}
    assert status["VP"]["approved_at"] is None and status["VP"]["read_only"]
    code, out = run("period", "log", "2022S1", "--config", config)
    assert "Bỏ phê duyệt" in out

    code, out = run("period", "reopen", "2022S1", "--unit", "VP", "--until", until,
                    "--config", config)
    assert code == 0, out
    actions = [e["action"] for e in log_entries(config, "2022S1") if e["unit"] == "VP"]
    assert actions[-4:-1] == ["approve", "unapprove", "reopen"] and actions[-1] == "unlock"


# -- 2. a closed period's master follows its workflow state ------------------------------------


def cycle_said(ws, clock, caplog) -> list[str]:
    clock.tick(10)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="cchc_sync"):
        sync_once(ws)
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("master 2022S1")]


def test_approving_a_unit_of_a_closed_period_rebuilds_its_master(closed_s1, caplog):
    s2, clock = closed_s1
    config = str(s2.config.path)
    s1 = s2.for_period("2022S1")
    cycle_said(s2, clock, caplog)
    said = cycle_said(s2, clock, caplog)
    assert not any("rebuilt, " in m for m in said)  # nothing of 2022S1 changed: not rebuilt
    assert master_progress(s1, "2022S1", "VP")["Phê duyệt"] is None

    assert run("approve", "2022S1", "--unit", "VP", "--by", COORDINATOR,
               "--config", config)[0] == 0
    said = cycle_said(s2, clock, caplog)
    assert any("rebuilt, written" in m for m in said)
    assert master_progress(s1, "2022S1", "VP")["Phê duyệt"].endswith(f"({COORDINATOR})")
    assert not any("rebuilt, " in m for m in cycle_said(s2, clock, caplog))

    assert run("unapprove", "2022S1", "--unit", "VP", "--reason", "Cần sửa",
               "--config", config)[0] == 0
    assert any("rebuilt, written" in m for m in cycle_said(s2, clock, caplog))
    assert master_progress(s1, "2022S1", "VP")["Phê duyệt"] is None
    # The current period's activity does not rebuild the old master.
    clock.now = vn("2022-07-20")
    fill_demo_workbooks(s2)
    said = cycle_said(s2, clock, caplog)
    assert not any("rebuilt, " in m for m in said)
    audit = {(e["action"], e["unit"]) for e in audit_log(s2.archive, "2022S1")}
    assert ("approve", "VP") in audit and ("unapprove", "VP") in audit
