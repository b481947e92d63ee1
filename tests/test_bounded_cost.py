"""Bounded cost for any file: a zip bomb, a formula filled down to row 1,048,576, a tab of
too many rows, a read that takes too long, a column of garbage. Each is one clear reason
or finding for that unit, the rest of the cycle goes on, and memory stays bounded.

The workbooks are real .xlsx files, their parts written by streaming (so the test itself
stays small); the bomb's cycle runs in a real process whose peak memory is measured.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cchc_sync.app.pipeline import sync_once
from cchc_sync.checks.caps import SUMMARY_RULE
from cchc_sync.domain.config import ConfigError, ReadLimits, load_config
from cchc_sync.domain.templates import load_template_set
from cchc_sync.sources.xlsx.backend import LocalBackend
from cchc_sync.sources.xlsx.limits import RowBudget
from cchc_sync.sources.xlsx.read import read_workbook
from tests.conftest import synced_copy

ROOT = Path(__file__).resolve().parent.parent
TRAINING = "Đào tạo, bồi dưỡng"
MB = 1024 * 1024
BOMB_MB = 320
"""The bomb's inflated size: about 0.5 MB stored, more than the cycle's whole memory bound
(inflating it even once would show in the peak), 5x the default limit."""
PEAK_MB = 250
"""Peak memory of a whole cycle of the district in one process (docs/reliability.md)."""


def _path(ws, unit):
    return ws.config.root / ws.archive.sheets(ws.period.code)[unit].ref


def _reason(ws, unit):
    state = ws.archive.sheets(ws.period.code)[unit]
    assert not state.reachable
    return state.reason


def _with_limits(ws, **limits):
    new = ReadLimits(**{**dataclasses.asdict(ws.config.limits), **limits})
    return dataclasses.replace(
        ws, config=dataclasses.replace(ws.config, limits=new),
        backend=LocalBackend(ws.config.root, limits=new),
    )


def _rewrite(path: Path, edit) -> None:
    """Copy the workbook part by part, letting `edit(name, data, zout)` write each part."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED,
                                                       compresslevel=1) as zout:
        for info in zin.infolist():
            edit(info, zin.read(info.filename), zout)
    tmp.replace(path)


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    # Fastest: the test makes big parts (the attribute is compress_level from Python 3.13).
    setattr(info, "compress_level" if hasattr(info, "compress_level") else "_compresslevel", 1)
    return info


def _sheet_part(path: Path, title: str) -> str:
    wb = openpyxl.load_workbook(path, read_only=True)
    index = wb.sheetnames.index(title) + 1
    wb.close()
    return f"xl/worksheets/sheet{index}.xml"


def _fill_down(path: Path, first: int, last: int, *, value_at: int | None = None) -> None:
    """Rows `first`..`last` of the training tab get a formula whose cached result is empty
    (=IF(A5="","",1) filled down, as a clerk's fill-down leaves it), streamed into the part.
    With `value_at`, that row holds a typed figure instead."""
    part = _sheet_part(path, TRAINING)

    def edit(info, data, zout):
        if info.filename != part:
            zout.writestr(info, data)
            return
        head, tail = data.split(b"</sheetData>")
        head = head.replace(b"<sheetData/>", b"<sheetData>")
        with zout.open(_deflated(info.filename), "w", force_zip64=True) as out:
            out.write(head)
            chunk = []
            for r in range(first, last + 1):
                if r == value_at:
                    chunk.append(f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>Lớp cuối</t>'
                                 f'</is></c><c r="B{r}"><v>7</v></c></row>')
                else:
                    chunk.append(f'<row r="{r}"><c r="B{r}" t="str"><f>IF(A{r}="","",1)</f>'
                                 "<v></v></c></row>")
                if len(chunk) == 10_000:
                    out.write("".join(chunk).encode())
                    chunk = []
            out.write("".join(chunk).encode())
            out.write(b"</sheetData>" + tail)

    _rewrite(path, edit)


@pytest.fixture
def ws(tmp_path, clock, synced_template):
    ws = synced_copy(synced_template, tmp_path / "d", clock)
    yield ws
    ws.close()


def test_a_formula_filled_down_to_the_last_row_is_refused_before_it_costs(ws, clock):
    path = _path(ws, "TP")
    _fill_down(path, 5, 1_048_576)
    assert path.stat().st_size < 25 * MB  # small stored, big once unzipped
    rows_before = ws.archive.current_rows(ws.period.code, unit="TP")
    clock.tick()
    result = sync_once(ws)
    assert result.units_unreachable == ["TP"]
    assert "kéo tới cuối trang" in _reason(ws, "TP")
    assert ws.archive.current_rows(ws.period.code, unit="TP") == rows_before
    assert result.master_written  # the rest of the cycle went on
    versions = ws.archive.db.execute("SELECT COUNT(*) FROM row_versions").fetchone()[0]
    assert versions < 1_000  # not a million row versions


def test_trailing_rows_that_hold_no_value_cost_nothing(ws, clock):
    path = _path(ws, "TP")
    _fill_down(path, 5, 6_000)
    templates = load_template_set()
    calls = []
    budget = RowBudget(ReadLimits(), clock=lambda: calls.append(1) or 0.0)
    tables, _, _ = read_workbook(path, templates, budget)
    assert len(tables["dao_tao"].rows) == 3  # the demo's own rows, nothing else
    # The read of the tab stopped after the run of 1,000 rows holding nothing.
    assert budget.rows_seen < 1_100
    clock.tick()
    result = sync_once(ws)
    assert "TP" not in result.units_unreachable and result.units_read == 1


_FRESH_CHILD = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""
"""Run the command given after the file name in a child of this small interpreter and write
the child's peak RSS to that file. A process exec'd straight from the test process carries
the test process's own peak in ru_maxrss (Linux keeps the old memory's high-water mark
across exec): after a 50,000-row test in the same worker it measured the worker, ~450 MB."""


def test_a_zip_bomb_is_refused_without_inflating_it_and_memory_stays_bounded(ws, clock):
    path = _path(ws, "NV")

    def edit(info, data, zout):
        zout.writestr(info, data)
        if info.filename == "[Content_Types].xml":
            with zout.open(_deflated("xl/media/bom.bin"), "w", force_zip64=True) as out:
                block = bytes(MB)
                for _ in range(BOMB_MB):
                    out.write(block)

    _rewrite(path, edit)
    assert path.stat().st_size < 5 * MB
    clock.tick()
    ws.archive.close()
    peak = ws.config.root / "peak-rss"
    proc = subprocess.run(
        [sys.executable, "-c", _FRESH_CHILD, str(peak),
         "-m", "cchc_sync", "-q", "sync", "--config", str(ws.config.path)],
        cwd=ROOT, capture_output=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()
    peak_mb = int(peak.read_text()) / 1024  # kilobytes on Linux
    print(f"zip bomb: cycle peak RSS {peak_mb:.0f} MB")
    assert peak_mb < PEAK_MB < BOMB_MB
    from cchc_sync.store.archive import Archive  # a fresh look at what the process wrote

    archive = Archive(ws.config.archive_file)
    try:
        state = archive.sheets(ws.period.code)["NV"]
        assert not state.reachable and "quá lớn khi mở ra" in state.reason
        assert archive.sheets(ws.period.code)["TP"].reachable
    finally:
        archive.close()


def test_a_tab_of_too_many_rows_is_one_reason(ws, clock):
    path = _path(ws, "TP")
    wb = openpyxl.load_workbook(path)
    for i in range(150):
        wb[TRAINING].append([f"Lớp {i}", 3])
    wb.save(path)
    small = _with_limits(ws, max_rows_per_tab=100)
    clock.tick()
    result = sync_once(small)
    assert result.units_unreachable == ["TP"]
    assert "hơn 100 dòng có số liệu" in _reason(ws, "TP")


def test_a_read_past_the_units_time_waits_for_the_next_cycle(ws, clock):
    path = _path(ws, "TP")
    wb = openpyxl.load_workbook(path)
    for i in range(1_100):  # past RowBudget.CHECK_EVERY rows: the clock is looked at
        wb[TRAINING].append([f"Lớp {i}", 3])
    wb.save(path)
    clock.tick()
    result = sync_once(_with_limits(ws, max_seconds_per_unit=0))
    assert result.units_unreachable == ["TP"]
    assert "lượt sau" in _reason(ws, "TP")
    clock.tick()
    result = sync_once(ws)  # the default limit: read now (its token was not kept)
    assert result.units_read == 1 and not result.units_unreachable
    assert len([r for r in ws.archive.current_rows(ws.period.code, unit="TP")
                if r.table == "dao_tao"]) == 3 + 1_100


def test_a_column_of_garbage_gives_the_first_findings_and_one_summary(ws, clock):
    path = _path(ws, "TP")
    wb = openpyxl.load_workbook(path)
    for i in range(300):
        wb[TRAINING].append([f"Lớp {i}", "nhiều"])
    wb.save(path)
    clock.tick()
    sync_once(_with_limits(ws, max_findings_per_tab=50))
    found = [f for f in ws.archive.open_findings(ws.period.code, "TP") if f.table == "dao_tao"]
    summary = [f for f in found if f.rule == SUMMARY_RULE]
    assert len(found) == 51 and len(summary) == 1
    assert summary[0].value == 250 and "250 lỗi" in summary[0].message


def test_limits_are_read_from_the_config_and_a_bad_one_is_refused(ws):
    text = ws.config.path.read_text(encoding="utf-8")
    assert "[limits]" in text  # init writes the section, with the defaults and comments
    line = re.search(r"^max_rows_per_tab = .*$", text, re.M).group(0)
    ws.config.path.write_text(text.replace(line, "max_rows_per_tab = 500"), encoding="utf-8")
    assert load_config(ws.config.path).limits.max_rows_per_tab == 500
    ws.config.path.write_text(text.replace(line, "max_rows_per_tab = -1"), encoding="utf-8")
    with pytest.raises(ConfigError, match="max_rows_per_tab"):
        load_config(ws.config.path)
