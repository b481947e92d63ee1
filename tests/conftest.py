"""Shared fixtures: a real workspace on real .xlsx files and a real SQLite archive."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from cchc_sync.demo import fill_demo_workbooks
from cchc_sync.demo_data import DISTRICT, PERIOD, UNITS_CSV
from cchc_sync.initialise import init_workspace
from cchc_sync.pipeline import Workspace


class Clock:
    """A controllable clock: tests patch time, not our classes."""

    def __init__(self, start: dt.datetime | None = None):
        self.now = start or dt.datetime(2022, 6, 10, 2, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, minutes: float = 10) -> None:
        self.now += dt.timedelta(minutes=minutes)


def make_district(root: Path, *, fill: bool = True, style: int | None = None,
                  clock: Clock | None = None) -> Workspace:
    """The sample district in `root`: init, optionally filled as clerks would."""
    root.mkdir(parents=True, exist_ok=True)
    units = root / "units-source.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    ws = init_workspace(root, units_csv=units, period=PERIOD, name=DISTRICT)
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
