"""An idle cycle does not rebuild the master; anything the master shows that changes does,
and the master is then what a full rebuild gives.

Real archive, real workbooks, the tests' Clock. A skip is seen in the master file (bytes and
mtime untouched) and in publish's debug line; a rebuild in that line and, when the content
changed, in the file."""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sqlite3

import openpyxl
import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.pipeline import open_workspace, sync_once
from cchc_sync.app.publishing import master_book
from cchc_sync.app.workflow import approve_unit, reopen_unit
from cchc_sync.domain import telemetry
from cchc_sync.domain.config import load_config
from cchc_sync.publish.master import PROGRESS_TAB, SUMMARY_TAB
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.xlsx.backend import LocalBackend
from cchc_sync.store.archive import _UNWATCHED, _WATCHED, Archive
from cchc_sync.store.period_state import FINAL, get_period
from cchc_sync.testing.typist import set_cell
from tests.conftest import make_district

# Where publish.unit_progress, compute_figures and build_master read the archive (rows,
# their positions and explanations, findings, sheet states, periods, unit states; the
# registry's units; the layouts that go with each read).
MASTER_TABLES = ("findings", "late_edits", "layouts", "periods", "row_positions",
                 "row_versions", "sheets", "unit_states", "units")
SKIPPED = "inputs unchanged since it was written, not rebuilt"
REBUILT = "rebuilt, "
RENDERED = "cchc_sync_master_rows_rendered_total"


def vn(day: str, hour: int = 9) -> dt.datetime:
    """A moment in Vietnamese local time, as UTC."""
    d = dt.date.fromisoformat(day)
    return dt.datetime(d.year, d.month, d.day, hour, tzinfo=dt.UTC) - dt.timedelta(hours=7)


def master_path(ws):
    return ws.config.root / ws.archive.master(ws.period.code)["ref"]


def sheet_path(ws, unit):
    return ws.config.root / ws.archive.sheets(ws.period.code)[unit].ref


def file_state(path):
    st = os.stat(path)
    return st.st_mtime_ns, path.read_bytes()


def cycle(ws, clock, caplog, minutes: float = 10):
    """One cycle ten minutes on; returns its result and what publish said of the master."""
    clock.tick(minutes)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="cchc_sync"):
        result = sync_once(ws)
    said = [r.getMessage() for r in caplog.records
            if r.getMessage().startswith(f"master {ws.period.code}: ")]
    return result, said


def skipped(said) -> bool:
    return any(SKIPPED in m for m in said) and not any(REBUILT in m for m in said)


def rebuilt(said) -> bool:
    return any(REBUILT in m for m in said) and not any(SKIPPED in m for m in said)


def cells(path):
    wb = openpyxl.load_workbook(path)
    try:
        return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in wb.worksheets}
    finally:
        wb.close()


def assert_fresh(ws, tmp_path):
    """The master as stored equals a full rebuild from the archive now: its fingerprint and,
    cell by cell, the file the backend writes for that rebuild."""
    period = ws.period.code
    fresh = master_book(ws, ws.current_rows(period), ws.archive.open_findings(period))
    assert ws.archive.master(period)["book_hash"] == fresh.fingerprint()
    out = tmp_path / "fresh"
    out.mkdir(exist_ok=True)
    assert LocalBackend(out).write_master(SheetRef(ref="fresh.xlsx"), fresh)
    assert cells(master_path(ws)) == cells(out / "fresh.xlsx")


def progress_line(ws, unit):
    rows = cells(master_path(ws))[PROGRESS_TAB]
    header = rows[0]
    return next(dict(zip(header, r, strict=True)) for r in rows[1:] if r[0] == unit)


@pytest.fixture
def synced(tmp_path, clock):
    """The district after its first cycle and one idle cycle (a copy of one built once per
    test process; test_the_first_cycle_rebuilds_and_the_next_skips shows what those two
    cycles do)."""
    ws = make_district(tmp_path / "district", clock=clock, cycles=2)
    yield ws
    ws.close()


def test_the_first_cycle_rebuilds_and_the_next_skips(district, clock, caplog):
    first, said = cycle(district, clock, caplog)
    assert first.master_written and rebuilt(said)
    second, said = cycle(district, clock, caplog)
    assert skipped(said) and not second.master_written


# -- nothing changed ---------------------------------------------------------------------


def test_an_idle_cycle_does_not_rebuild_the_master(synced, clock, caplog, tmp_path):
    ws = synced
    before = file_state(master_path(ws))
    key = ws.archive.master("2022S1")["inputs_key"]
    version = ws.archive.data_version()
    for _ in range(3):
        result, said = cycle(ws, clock, caplog)
        assert skipped(said), said
        assert not result.master_written
        # No row was loaded, yet the cycle counts them all (in SQL).
        assert result.rows == len(ws.archive.current_rows("2022S1")) > 0
    assert file_state(master_path(ws)) == before
    assert ws.archive.master("2022S1")["inputs_key"] == key
    assert ws.archive.data_version() == version
    # `status` (a workspace opened beside the daemon's, the registry saved again) changes
    # nothing the master shows: the next cycle still skips.
    out = CliRunner().invoke(cli, ["status", "--config", str(ws.config.path)])
    assert out.exit_code == 0, out.output
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)
    # Control: with the recorded inputs forgotten the same cycle rebuilds (the debug line
    # tells the two apart), finds the book unchanged and leaves the file alone.
    ws.archive.set_master_inputs("2022S1", None)
    result, said = cycle(ws, clock, caplog)
    assert rebuilt(said) and "master 2022S1: rebuilt, unchanged" in said
    assert not result.master_written and file_state(master_path(ws)) == before
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)
    assert_fresh(ws, tmp_path)


def test_bookkeeping_writes_do_not_move_the_data_version(synced):
    ws = synced
    version = ws.archive.data_version()
    sheet = ws.archive.sheets("2022S1")["VP"]
    ws.archive.update_sheet("2022S1", "VP", token="other", read_at="2022-06-10T03:00:00+00:00",
                            flags_hash="x", flags_written_at="2022-06-10T03:00:00+00:00")
    ws.archive.update_sheet("2022S1", "VP", reachable=int(sheet.reachable), reason=sheet.reason)
    ws.archive.save_units("2022S1", ws.units)
    ws.archive.db.execute("UPDATE row_versions SET last_seen = 'later'")
    ws.archive.db.execute("UPDATE findings SET last_seen_run = 99")
    assert ws.archive.data_version() == version
    # ... and anything watched does.
    ws.archive.update_sheet("2022S1", "VP", reason="x")
    assert ws.archive.data_version() == version + 1


# -- each kind of input change rebuilds ----------------------------------------------------


def test_a_row_edited_rebuilds_the_master(synced, clock, caplog, tmp_path):
    ws = synced
    before = file_state(master_path(ws))
    set_cell(sheet_path(ws, "XA_PH"), "Đào tạo, bồi dưỡng", 2, "Số lượt người", 987)
    rendered = telemetry.REGISTRY.value(RENDERED, backend="local") or 0.0
    result, said = cycle(ws, clock, caplog)
    assert result.units_read == 1 and result.rows_changed >= 1
    assert rebuilt(said) and result.master_written
    # Only the unit's rows were rendered anew (its block, its line, the totals that moved;
    # test_local_master_incremental counts them exactly), not the master's ~200 rows.
    assert 0 < telemetry.REGISTRY.value(RENDERED, backend="local") - rendered < 10
    assert file_state(master_path(ws)) != before
    tab = cells(master_path(ws))["Đào tạo, bồi dưỡng"]
    column = tab[0].index("Số lượt người")
    assert [r[column] for r in tab[1:] if r[0] == "XA_PH"][0] == 987
    assert_fresh(ws, tmp_path)
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)


def _row_citing(path, tab, number):
    sheet = openpyxl.load_workbook(path)[tab]
    header = [c.value for c in sheet[1]]
    col = header.index("Số, ký hiệu")
    return next(i for i, r in enumerate(sheet.iter_rows(values_only=True), start=1)
                if r[col] == number)


def test_a_finding_changed_by_another_unit_rebuilds_the_master(synced, clock, caplog, tmp_path):
    ws = synced
    # XA_HT and VP cite 175/KH-UBND with different dates: an error in both units.
    assert progress_line(ws, "XA_HT")["Số lỗi"] == 1
    xa_ht = sheet_path(ws, "XA_HT")
    xa_ht_before = file_state(xa_ht)
    vp = sheet_path(ws, "VP")
    row = _row_citing(vp, "Văn bản chỉ đạo", "175/KH-UBND")
    set_cell(vp, "Văn bản chỉ đạo", row, "Ngày ban hành", "10/01/2022")
    result, said = cycle(ws, clock, caplog)
    assert result.units_read == 1  # VP only: XA_HT's sheet did not change
    assert rebuilt(said) and result.master_written
    assert not [f for f in ws.archive.open_findings("2022S1", "XA_HT")
                if f.rule == "van_ban.so-hai-ngay"]
    assert progress_line(ws, "XA_HT")["Số lỗi"] == 0
    assert_fresh(ws, tmp_path)
    assert file_state(xa_ht)[1] != xa_ht_before[1]  # its flags were cleared, too


def test_findings_changed_alone_rebuild_the_master(synced, clock, caplog, tmp_path):
    """Findings are watched in their own right, not only through the rows behind them."""
    ws = synced
    assert progress_line(ws, "XA_HT")["Số lỗi"] == 1
    version = ws.archive.data_version()
    run = ws.archive.start_run("2022S1")
    ws.archive.replace_findings("2022S1", "cross", [], run)  # rows untouched
    assert ws.archive.data_version() > version
    result, said = cycle(ws, clock, caplog)
    assert result.units_read == 0
    assert rebuilt(said) and result.master_written
    assert progress_line(ws, "XA_HT")["Số lỗi"] == 0
    assert_fresh(ws, tmp_path)


def test_a_unit_becoming_unreachable_and_back_rebuilds_the_master(synced, clock, caplog,
                                                                  tmp_path):
    ws = synced
    path = sheet_path(ws, "XA_TH")
    away = path.with_name("away.xlsx")
    shutil.move(path, away)
    result, said = cycle(ws, clock, caplog)
    assert result.units_unreachable == ["XA_TH"]
    assert rebuilt(said) and result.master_written
    assert progress_line(ws, "XA_TH")["Kết nối"].startswith("Không truy cập được")
    assert_fresh(ws, tmp_path)
    # Still away, for the same reason: nothing new to show.
    result, said = cycle(ws, clock, caplog)
    assert result.units_unreachable == ["XA_TH"] and skipped(said)
    shutil.move(away, path)
    result, said = cycle(ws, clock, caplog)
    assert not result.units_unreachable and result.units_read == 0
    assert rebuilt(said) and result.master_written
    assert progress_line(ws, "XA_TH")["Kết nối"] == "Được"
    assert_fresh(ws, tmp_path)


def test_the_date_passing_the_deadline_and_the_lock_day_rebuilds_the_master(
        synced, clock, caplog, tmp_path):
    ws = synced
    before = file_state(master_path(ws))
    # A new day (after the deadline, 17/06): rebuilt, though nothing it shows changed.
    clock.now = vn("2022-06-18")
    result, said = cycle(ws, clock, caplog, minutes=0)
    assert "master 2022S1: rebuilt, unchanged" in said and not result.master_written
    assert file_state(master_path(ws)) == before
    # A clerk signs off late that day: shown late.
    set_cell(sheet_path(ws, "TT_SM"), "Thông tin", 2, "Trạng thái", "Hoàn thành")
    result, said = cycle(ws, clock, caplog)
    assert rebuilt(said) and result.master_written
    assert progress_line(ws, "TT_SM")["Đúng hạn"] == "Trễ hạn"
    assert_fresh(ws, tmp_path)
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)
    # The lock day: the cycle rebuilds for the date, then locks every sheet at its end;
    # the next cycle shows the locks.
    clock.now = vn("2022-06-20")
    _, said = cycle(ws, clock, caplog, minutes=0)
    assert rebuilt(said)
    assert get_period(ws.archive, "2022S1").state == FINAL
    result, said = cycle(ws, clock, caplog)
    assert rebuilt(said) and result.master_written
    assert {progress_line(ws, u.code)["Khoá"] for u in ws.units} == {"Chỉ xem"}
    assert_fresh(ws, tmp_path)
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)


def test_a_unit_reopened_or_approved_rebuilds_the_master(synced, clock, caplog, tmp_path):
    ws = synced
    clock.now = vn("2022-06-20")
    cycle(ws, clock, caplog, minutes=0)  # locks everything at its end
    cycle(ws, clock, caplog)
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)
    reopen_unit(ws, "2022S1", "XA_TH", dt.date(2022, 6, 30), actor="Điều phối")
    result, said = cycle(ws, clock, caplog)
    assert rebuilt(said) and result.master_written
    line = progress_line(ws, "XA_TH")
    assert line["Mở lại đến"] == "30/06/2022" and line["Khoá"] is None
    assert_fresh(ws, tmp_path)
    _, said = cycle(ws, clock, caplog)
    assert skipped(said)
    approve_unit(ws, "2022S1", "VP", actor="Điều phối")
    result, said = cycle(ws, clock, caplog)
    assert rebuilt(said) and result.master_written
    assert progress_line(ws, "VP")["Phê duyệt"].endswith("(Điều phối)")
    assert_fresh(ws, tmp_path)


def _reopen(ws, clock):
    """What the daemon does each cycle: the workspace opened again from its config."""
    ws.close()
    return open_workspace(load_config(ws.config.path), clock=clock)


def test_units_csv_changed_rebuilds_the_master(synced, clock, caplog, tmp_path):
    ws = synced
    units_file = ws.config.units_file
    text = units_file.read_text(encoding="utf-8")
    units_file.write_text(text.replace("UBND xã Tân Hòa", "UBND xã Tân Hòa Mới"),
                          encoding="utf-8")
    ws = _reopen(ws, clock)
    try:
        result, said = cycle(ws, clock, caplog)
        assert result.units_read == 0
        assert rebuilt(said) and result.master_written
        assert progress_line(ws, "XA_TH")["Tên đơn vị"] == "UBND xã Tân Hòa Mới"
        assert_fresh(ws, tmp_path)
        _, said = cycle(ws, clock, caplog)
        assert skipped(said)
        # A unit added: its sheet is made and it shows in the master.
        units_file.write_text(units_file.read_text(encoding="utf-8")
                              + "XA_MOI,UBND xã Mới,xa,,xamoi@example.gov.vn\n",
                              encoding="utf-8")
        ws = _reopen(ws, clock)
        result, said = cycle(ws, clock, caplog)
        assert rebuilt(said) and result.master_written
        assert progress_line(ws, "XA_MOI")["Trạng thái"] == "Chưa bắt đầu"
        assert_fresh(ws, tmp_path)
    finally:
        ws.close()


def test_the_config_name_changed_rebuilds_the_master(synced, clock, caplog, tmp_path):
    ws = synced
    path = ws.config.path
    text = path.read_text(encoding="utf-8")
    assert 'name = "huyện Sông Mây"' in text
    path.write_text(text.replace('name = "huyện Sông Mây"', 'name = "huyện Sông Mới"'),
                    encoding="utf-8")
    ws = _reopen(ws, clock)
    try:
        result, said = cycle(ws, clock, caplog)
        assert rebuilt(said) and result.master_written
        assert "Toàn huyện Sông Mới" in cells(master_path(ws))[SUMMARY_TAB][0]
        assert_fresh(ws, tmp_path)
    finally:
        ws.close()


def test_a_master_not_written_is_rebuilt_next_cycle(synced, clock, caplog, tmp_path):
    """Open in Excel: the inputs are not recorded, so the next cycle writes it."""
    ws = synced
    path = master_path(ws)
    before = file_state(path)
    lock = path.with_name(f"~${path.name}")
    lock.write_text("", encoding="utf-8")
    set_cell(sheet_path(ws, "XA_PH"), "Đào tạo, bồi dưỡng", 2, "Số lượt người", 55)
    result, said = cycle(ws, clock, caplog)
    assert said == ["master 2022S1: rebuilt, not written"] and not result.master_written
    assert file_state(path) == before
    lock.unlink()
    result, said = cycle(ws, clock, caplog)
    assert result.units_read == 0
    assert rebuilt(said) and result.master_written
    assert_fresh(ws, tmp_path)


# -- the counter in the archive --------------------------------------------------------------


def test_every_column_of_a_watched_table_is_watched_or_left_out_on_purpose(tmp_path):
    a = Archive(tmp_path / "a.sqlite")
    assert sorted(_WATCHED) == sorted(MASTER_TABLES)
    for table, watched in _WATCHED.items():
        columns = {r[1] for r in a.db.execute(f"PRAGMA table_info({table})")}
        assert columns == set(watched) | set(_UNWATCHED.get(table, ())), table
        assert not set(watched) & set(_UNWATCHED.get(table, ()))
    triggers = {r[0] for r in a.db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    assert len(triggers) == 3 * len(_WATCHED)


def test_an_archive_from_before_the_counter_gets_it(tmp_path):
    """Schema 2 as released: the counter, its triggers and masters.inputs_key are added on
    open, the data kept; nothing recorded means the first cycle rebuilds."""
    path = tmp_path / "v2.sqlite"
    a = Archive(path)
    for (name,) in a.db.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
        a.db.execute(f"DROP TRIGGER {name}")
    a.db.execute("DROP TABLE data_version")
    a.db.execute("ALTER TABLE masters DROP COLUMN inputs_key")
    a.db.execute("INSERT INTO masters (period, backend, ref, book_hash) "
                 "VALUES ('2022S1', 'local', 'm.xlsx', 'h')")
    a.close()
    db = sqlite3.connect(path)
    assert "data_version" not in {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type='table'")}
    db.close()
    a = Archive(path)
    assert a.schema_version() == 2
    assert a.data_version() == 0
    master = a.master("2022S1")
    assert master["book_hash"] == "h" and master["inputs_key"] is None
    a.register_sheet("2022S1", "XA", "local", "xa.xlsx", "", "1")
    assert a.data_version() == 1
    a.close()
    with Archive(path) as again:  # opened again: nothing added twice
        assert again.data_version() == 1
        assert again.db.execute("SELECT COUNT(*) FROM data_version").fetchone()[0] == 1


def test_an_explanation_typed_alone_rebuilds_the_master(synced, clock, caplog, tmp_path):
    """No value changed (no new row version), only the row's explanation."""
    ws = synced
    versions = len(ws.archive.row_versions("2022S1"))
    set_cell(sheet_path(ws, "XA_TH"), "Đào tạo, bồi dưỡng", 2, "Giải trình", "Học trực tuyến")
    result, said = cycle(ws, clock, caplog)
    assert result.units_read == 1 and result.rows_changed == 0
    assert len(ws.archive.row_versions("2022S1")) == versions
    assert rebuilt(said) and result.master_written
    tab = cells(master_path(ws))["Đào tạo, bồi dưỡng"]
    column = tab[0].index("Giải trình")
    assert "Học trực tuyến" in [r[column] for r in tab[1:] if r[0] == "XA_TH"]
    assert_fresh(ws, tmp_path)


@pytest.mark.parametrize("table", MASTER_TABLES)
def test_any_write_to_a_watched_column_moves_the_data_version(synced, table):
    """Whoever writes (this software, another command, an older cchc-sync, by hand): every
    watched column changed, a row deleted, a row inserted."""
    ws = synced
    db = ws.archive.db
    if table == "unit_states":
        db.execute("INSERT INTO unit_states (period, unit) VALUES ('2022S1', 'VP')")
    if table == "late_edits":
        db.execute("INSERT INTO late_edits (period, unit, noticed_at) VALUES ('2022S1', 'VP', 'x')")
    (rowid,) = db.execute(f"SELECT MIN(rowid) FROM {table}").fetchone()
    assert rowid is not None, table
    for column in _WATCHED[table]:
        version = ws.archive.data_version()
        db.execute(f"UPDATE {table} SET {column} = CASE WHEN {column} IS NULL THEN 'x' "
                   f"ELSE {column} || '1' END WHERE rowid = ?", (rowid,))
        assert ws.archive.data_version() == version + 1, (table, column)
    row = db.execute(f"SELECT * FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
    version = ws.archive.data_version()
    db.execute(f"DELETE FROM {table} WHERE rowid = ?", (rowid,))
    assert ws.archive.data_version() == version + 1
    db.execute(f"INSERT INTO {table} VALUES ({', '.join('?' * len(row))})", tuple(row))
    assert ws.archive.data_version() == version + 2
