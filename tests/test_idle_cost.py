"""An idle local cycle costs the same per unit at any size (issue 17): no per-unit step may
walk all N units (Workspace.units_by_code once rebuilt a dict of every unit on each read,
once per unit, making the idle cycle quadratic).

The cost is counted, not timed: the Python lines the cycle executes (sys.settrace "line"
events, one per line and per loop iteration, comprehensions included), which does not move
with the machine's load. Workbooks are real files (one made by the backend, copied for the
other units: an idle cycle only stats them) and their tokens are those of the files, so
the cycle finds nothing changed. SQL is not Python lines: the second test counts SQLite's
own steps, so that an idle cycle cannot go back to walking every row version.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.xlsx.backend import LocalBackend
from cchc_sync.sources.xlsx.common import file_token
from tests.conftest import Clock

SIZES = (20, 40, 60)
"""Units in three views of one workspace, in equal steps."""


class CopyingBackend(LocalBackend):
    """The real LocalBackend; every unit's workbook after the first is a copy of it."""

    first: Path | None = None

    def create_unit_sheet(self, unit, period, templates, prefill=None):
        if self.first is None:
            ref = super().create_unit_sheet(unit, period, templates, prefill)
            self.first = self.sheet_path(ref)
            return ref
        path = self.unit_path(unit, period)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self.first, path)
        return self._ref(path)


def _workspace(root: Path, n: int):
    units_csv = root / "units.csv"
    root.mkdir(parents=True)
    units_csv.write_text("ma,ten,cap,cha,email\n" + "".join(
        f"U{i:04d},Xã Số {i},xa,,\n" for i in range(n)), encoding="utf-8")
    ws = init_workspace(root / "ws", units_csv=units_csv, period="2022S1", name="tỉnh Thử",
                        backend_factory=lambda c: CopyingBackend(c.root))
    ws.clock = Clock()
    period = ws.period.code
    for code, sheet in ws.archive.sheets(period).items():
        token = file_token(ws.backend.sheet_path(sheet).stat())
        ws.archive.update_sheet(period, code, token=token)
    return ws


def _idle_lines(ws) -> int:
    """Lines executed by an idle cycle of `ws` (after one untraced cycle, which writes
    the master for these units)."""
    first = sync_once(ws)
    assert first.units_read == 0 and first.units_total == len(ws.units)
    ws.clock.tick()
    lines = 0

    def trace(frame, event, arg):
        nonlocal lines
        if event == "line":
            lines += 1
        return trace

    sys.settrace(trace)
    try:
        result = sync_once(ws)
    finally:
        sys.settrace(None)
    assert result.units_read == 0 and not result.master_written
    return lines


def test_the_idle_cycle_grows_linearly_with_the_units(tmp_path):
    ws = _workspace(tmp_path / "province", SIZES[-1])
    try:
        # The same workspace seen with fewer of its units (the registry shrunk): what does
        # not depend on the registry (the archive's sheet list) is the same in each.
        lines = [_idle_lines(dataclasses.replace(ws, units=ws.units[:n])) for n in SIZES]
    finally:
        ws.close()
    print(f"idle cycle: {dict(zip(SIZES, lines, strict=True))} lines by units")
    # Equal steps of units: a linear cycle adds the same lines per step; work that walks
    # all units once per unit (n² lines) makes the second step cost about 1,600 lines more
    # than the first.
    first_step, second_step = lines[1] - lines[0], lines[2] - lines[1]
    assert first_step > 0
    assert abs(second_step - first_step) < 200


def test_an_idle_cycle_does_not_walk_the_row_versions(tmp_path, clock, synced_template):
    """Counted in SQLite's own steps (a progress handler every 100 virtual-machine
    instructions: deterministic, not timed): a whole idle cycle does less SQL work than
    counting the current rows once. The cycle's summary names the row count; counting it
    in SQL every idle cycle was half an idle cycle's CPU at 1,000 units, growing with the
    rows, where this cycle has nothing to read (Archive.count_current_rows remembers it at
    the change counter's value)."""
    from cchc_sync.store.row_store import RowStore
    from tests.conftest import synced_copy

    ws = synced_copy(synced_template, tmp_path / "d", clock)
    try:
        first = sync_once(ws)  # the copy's first cycle: nothing to read
        db, steps = ws.archive.db, 0

        def step() -> int:
            nonlocal steps
            steps += 1
            return 0

        db.set_progress_handler(step, 100)
        try:
            clock.tick()
            result = sync_once(ws)
            idle, steps = steps, 0
            rows = RowStore.count_current_rows(ws.archive, ws.period.code)  # uncached
            one_count = steps
        finally:
            db.set_progress_handler(None, 100)
    finally:
        ws.close()
    assert first.units_read == 0 and result.units_read == 0 and not result.master_written
    assert result.rows == rows > 100
    print(f"idle cycle: {idle} steps of 100 SQLite instructions; one row count: {one_count}")
    assert 0 < idle < one_count, (idle, one_count)
