"""Shared fixtures: a real workspace on real .xlsx files and a real SQLite archive."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import resource
import shutil
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cchc_sync.app.demo import fill_demo_workbooks
from cchc_sync.app.demo_data import DISTRICT, PERIOD, UNITS_CSV
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace, open_workspace, sync_once
from cchc_sync.domain.clock import VIETNAM, utcnow
from cchc_sync.domain.config import DEFAULT_CONFIG_NAME, load_config
from cchc_sync.domain.periods import half_year_containing
from tests import shared_builds


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


def _built_district(fill: bool, style: int | None, period: str, cycles: int,
                    units_csv: str, successors_csv: str | None) -> tuple[Path, dt.datetime]:
    """The folder of the district of these arguments, built once per test run
    (tests/shared_builds.py: `init` writes a dozen workbooks with openpyxl and a first cycle
    flags them, seconds of CPU each, and most tests start from the same few states), and the
    time of its last cycle. Tests get copies (file times kept), opened afresh."""

    def build(root: Path) -> dt.datetime:
        units = root / "units-source.csv"
        units.write_text(units_csv, encoding="utf-8")
        init = {}
        if successors_csv:
            init["successors_csv"] = root / "successors-source.csv"
            init["successors_csv"].write_text(successors_csv, encoding="utf-8")
        ws = init_workspace(root, units_csv=units, period=period, name=DISTRICT, **init)
        ws.clock = clock = Clock()
        if fill:
            fill_demo_workbooks(ws, style=style)
        for _ in range(cycles):
            clock.tick()
            sync_once(ws)
        ws.close()
        return clock.now

    key = (fill, style, period, cycles, units_csv, successors_csv)
    return shared_builds.built("local", key, build)


def make_district(root: Path, *, fill: bool = True, style: int | None = None,
                  clock: Clock | None = None, period: str = PERIOD,
                  cycles: int = 0, units_csv: str = UNITS_CSV,
                  successors_csv: str | None = None) -> Workspace:
    """The sample district (or one of `units_csv`, with `successors_csv`) in `root`: init,
    optionally filled as clerks would, after `cycles` cycles ten minutes apart (a copy of one
    built once per test process; `clock` is set to the time of the last cycle). Tests on the
    default period 2022S1 pass a Clock in June 2022; real processes use current_period().

    Before any cycle, the archive's links to the sheets and the master are made this
    copy's, as `init` in `root` would have made them. (After cycles they stay the built
    district's: a changed link would change the next cycle's master.)"""
    built, now = _built_district(fill, style, period, cycles, units_csv, successors_csv)
    shutil.copytree(built, root, symlinks=True, dirs_exist_ok=True)
    if clock is not None and cycles:
        clock.now = now
    config = load_config(root / DEFAULT_CONFIG_NAME)
    if not cycles:
        _relink(config.archive_file, built, root)
    return open_workspace(config, clock=clock if clock is not None else utcnow)


def _relink(archive: Path, built: Path, root: Path) -> None:
    was, now = str(built.resolve()), str(root.resolve())
    with contextlib.closing(sqlite3.connect(archive)) as db, db:
        for table in ("sheets", "masters"):
            db.execute(f"UPDATE {table} SET url = replace(url, ?, ?)", (was, now))


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
    shutil.copytree(template, root, symlinks=True)
    return open_workspace(load_config(root / DEFAULT_CONFIG_NAME), clock=clock)


@pytest.fixture(scope="module")
def synced_template(tmp_path_factory) -> Path:
    """The sample district, filled and synced once per test module (see synced_copy)."""
    root = tmp_path_factory.mktemp("synced") / "d"
    ws = make_district(root, clock=Clock())
    sync_once(ws)
    ws.close()
    return root


# -- CPU per test (CCHC_TEST_CPU=path): wall-clock durations mean little on a busy machine,
# the CPU a test costs (its own and its subprocesses') does not depend on the load.
_CPU_LOG = os.environ.get("CCHC_TEST_CPU")


def _cpu_now() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    if not _CPU_LOG:
        yield
        return
    start = _cpu_now()
    yield
    with open(_CPU_LOG, "a", encoding="utf-8") as log:
        log.write(f"{_cpu_now() - start:.3f}\t{item.nodeid}\n")


def pytest_configure(config) -> None:
    """The pytest process that starts the workers (or runs the tests itself) makes the run's
    folder of built districts before any worker starts (tests/shared_builds.py)."""
    if not hasattr(config, "workerinput"):
        config.cchc_builds = shared_builds.start_run()


def pytest_unconfigure(config) -> None:
    if getattr(config, "cchc_builds", None) is not None:
        shared_builds.end_run(config.cchc_builds)


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto` (pyproject's addopts): two workers per core. A third of a worker's time is
    spent waiting — for a daemon's next cycle line, a forked command, LibreOffice, the fake
    API's thread — and a second worker per core fills it: on two cores, 4 workers ran the
    suite in 210 s where 2 took 255–265 s and 6 took 274 s (more builds, more contention).
    See docs/testing.md."""
    return 2 * len(os.sched_getaffinity(0))
