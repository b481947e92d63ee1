"""Shared fixtures: a real workspace on real .xlsx files and a real SQLite archive."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cchc_sync.app.demo import fill_demo_workbooks
from cchc_sync.app.demo_data import DISTRICT, PERIOD, UNITS_CSV
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace
from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.periods import half_year_containing


class Clock:
    """A controllable clock: tests patch time, not our classes."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or dt.datetime(2022, 6, 10, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, minutes: float = 10) -> None:
        self.now += dt.timedelta(minutes=minutes)


HANG_GUARD = 300.0
"""Seconds a test waits for an event before calling it a hang. Tests wait for events (a
log line, a notification, a row in the archive), never for a time to pass; this bound
only stops a broken test from waiting forever, so it is minutes above what any single
step takes, even on a machine shared with other jobs."""


def wait_until(condition: Callable[[], object], what: str, *, poll: float = 0.01,
               timeout: float = HANG_GUARD) -> object:
    """Poll `condition` until it returns something true and return that; AssertionError
    naming `what` if it never does within the hang guard."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g} s")
        time.sleep(poll)


def current_period() -> str:
    """The half-year under way in Vietnam today (for real processes on the real clock)."""
    return half_year_containing(dt.datetime.now(VIETNAM).date())


def make_district(root: Path, *, fill: bool = True, style: int | None = None,
                  clock: Clock | None = None, period: str = PERIOD) -> Workspace:
    """The sample district in `root`: init, optionally filled as clerks would. Tests on the
    default period 2022S1 pass a Clock in June 2022; real processes use current_period()."""
    root.mkdir(parents=True, exist_ok=True)
    units = root / "units-source.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(root, units_csv=units, period=period, name=DISTRICT)
    if clock is not None:
        ws.clock = clock
    if fill:
        fill_demo_workbooks(ws, style=style)
    return ws


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def district(tmp_path, clock):
    ws = make_district(tmp_path / "district", clock=clock)
    yield ws
    ws.close()


def synced_copy(template: Path, root: Path, clock: Clock) -> Workspace:
    """A copy of a district made and synced once (`template`, archive closed), opened in
    `root`: a cycle's worth of CPU saved per test that only needs a synced district. The
    copy keeps file times, so its first cycle reads nothing."""
    import shutil

    from cchc_sync.app.pipeline import open_workspace
    from cchc_sync.domain.config import load_config

    shutil.copytree(template, root, symlinks=True)
    return open_workspace(load_config(root / "cchc-sync.toml"), clock=clock)


@pytest.fixture(scope="module")
def synced_template(tmp_path_factory) -> Path:
    """The sample district, filled and synced once per test module (see synced_copy)."""
    from cchc_sync.app.pipeline import sync_once

    root = tmp_path_factory.mktemp("synced") / "d"
    ws = make_district(root, clock=Clock())
    sync_once(ws)
    ws.close()
    return root
