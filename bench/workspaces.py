"""Building a filled workspace of N synthetic units, on the fake Google APIs or on local
workbooks, and opening it as the daemon would (a fresh process state, its own backend).

**Google.** `init_workspace` runs as in production (config, archive, master, one sheet per
unit registered in the archive) with a backend whose `create_unit_sheet` is the real one
for the first unit only: that sheet, made by the real requests (files.create, the
batchUpdate with tabs, formats, validation, protections, metadata, the permission), is
copied inside the fake for every other unit (bench.fake_server), so 5,000 sheets cost
seconds instead of 15,000 HTTP requests. Each copy gets its own Drive file in the folder,
the unit's e-mail as writer and its own "_cchc" unit code and name; then each unit's
content is typed in as a clerk would (USER_ENTERED, one edit per tab). What differs from a
sheet made by the real requests: the instructions tab names the first unit.

**Local.** `init_workspace` as in production, with the backend's own `create_unit_sheet`
given each unit's content as its starting rows (`prefill`, the path carried-forward rows
take): one openpyxl workbook built and saved per unit, values stored as a clerk's typing
stores them (text stays text, numbers and dates take the column's format).
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench.synth as synth
from bench.fakeproc import FakeProcess
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace, open_workspace
from cchc_sync.domain.config import Config, GoogleSettings, load_config
from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import Prefill, SheetRef
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.sources.xlsx.backend import LocalBackend
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key

NAME = "tỉnh Mẫu Sơn"
COORDINATOR = "phongnoivu@example.gov.vn"
DATA_ROWS = 30
"""Formatted rows per multi-row table on Google (the demo's value; production's default,
500, only makes the fake store more formatted cells: it reads and writes the same)."""
FAST = 1_000_000
"""The fake has no quota: the limiter never waits. Time at Google's quota is computed."""
HTTP_TIMEOUT = 900.0
"""Seconds to wait for an answer (production: 30). At 5,000 units the fake needs longer
than 30 s to apply the master's batchUpdate (~100 MB); with 30 s the write times out, is
retried six times and the master is never written. docs/benchmarks.md says so."""


START = dt.datetime(2022, 6, 10, 2, 0, tzinfo=dt.UTC)
"""The bench's time when it starts: inside its period's window."""


class Clock:
    """The bench's time: the real clock moved back to START when the bench starts, and ten
    minutes on at each cycle. The fake Google stamps its files with the same time (moved
    with it: `on_shift`) and the bench dates the workbooks it writes by it, so a sheet's
    modification time is believable to the cycle as in service: after the cycle's previous
    look, not in its future. (With file times of today against a clock in 2022 every read
    sheet's time was refused, logged and audited, once per unit and cycle.)"""

    def __init__(self, on_shift: Callable[[dt.timedelta], None] | None = None) -> None:
        self.shift = START - dt.datetime.now(dt.UTC)
        self._on_shift = on_shift
        if on_shift is not None:
            on_shift(self.shift)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.shift

    def tick(self, minutes: float = 10) -> None:
        step = dt.timedelta(minutes=minutes)
        self.shift += step
        if self._on_shift is not None:
            self._on_shift(step)

    def date_file(self, path: Path) -> None:
        """Give a file the bench's time as its modification time (a person saved it now)."""
        stamp = self().timestamp()
        os.utime(path, (stamp, stamp))


@dataclass
class Bench:
    """A filled workspace, opened with a fresh backend, and how to edit its sheets."""

    kind: str
    ws: Workspace
    units: list[synth.SynthUnit]
    clock: Clock
    fake: FakeProcess | None = None
    setup_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def sheet(self, code: str) -> str:
        return self.ws.archive.sheets(self.ws.period.code)[code].ref

    def close(self) -> None:
        self.ws.close()
        if self.fake is not None:
            self.fake.stop()


class SeedingBackend(GoogleBackend):
    """The real GoogleBackend, except that unit sheets after the first are copies of the
    first made inside the fake, and every sheet gets its unit's content typed in."""

    def __init__(self, client: Any, *, fake: FakeProcess, synth_units: dict[str, Any],
                 seed: int, **settings: Any) -> None:
        super().__init__(client, **settings)
        self._fake = fake
        self._synth = synth_units
        self._seed = seed
        self._snapshot: str | None = None

    def create_unit_sheet(self, unit: Unit, period: Period, templates: TemplateSet,
                          prefill: Prefill | None = None) -> SheetRef:
        info = self._synth[unit.code]
        if self._snapshot is None:
            ref = super().create_unit_sheet(unit, period, templates, prefill)
            self._snapshot = self._fake.call("snapshot", source=ref.ref)["id"]
            self._fake.call("seed", unit=info, seed=self._seed, file_id=ref.ref)
            return ref
        name = f"CCHC {period.code} - {unit.name} ({unit.code})"
        file_id = self._fake.call("seed", unit=info, seed=self._seed, source=self._snapshot,
                                  folder=self.drive.folder_id, name=name)["id"]
        return self.maker.ref(file_id)


def _registry(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    path = root / "units-source.csv"
    path.write_text(synth.registry_csv(n), encoding="utf-8")
    return path


def google_bench(root: Path, n: int, *, latency_ms: float = 0.0, seed: int = synth.SEED
                 ) -> Bench:
    import time

    started = time.perf_counter()
    units = synth.units(n)
    fake = FakeProcess(latency_ms=0.0)  # seeding at full speed; latency set afterwards
    try:
        def shift_fake(step: dt.timedelta) -> None:
            fake.call("shift_time", ms=round(step.total_seconds() * 1000))

        clock = Clock(on_shift=shift_fake)
        key = root / "service-account.json"
        root.mkdir(parents=True, exist_ok=True)
        info = make_service_account_key(key, fake.token_uri, DEFAULT_EMAIL)
        fake.call("register_key", info=info)
        folder = fake.create_shared_drive_folder(DEFAULT_EMAIL)
        google = GoogleSettings(credentials=key, folder=folder, endpoint=fake.url,
                                coordinators=(COORDINATOR,), reads_per_minute=FAST,
                                writes_per_minute=FAST)
        by_code = {u.code: {"index": u.index, "code": u.code, "name": u.name,
                            "level": u.level, "email": u.email} for u in units}

        def factory(config: Config) -> GoogleBackend:
            return SeedingBackend.from_config(config, data_rows=DATA_ROWS, fake=fake,
                                              synth_units=by_code, seed=seed)

        ws = init_workspace(root / "ws", units_csv=_registry(root, n), period=synth.PERIOD,
                            backend="google", name=NAME, google=google,
                            backend_factory=factory)
        ws.close()
        if latency_ms:
            fake._control("POST", "faults", {"latency_ms": latency_ms})
        config = load_config(root / "ws" / "cchc-sync.toml")
        # A fresh backend, as the daemon starts with: nothing cached from init.
        backend = GoogleBackend.from_config(config, data_rows=DATA_ROWS)
        backend.transport.set_timeout(HTTP_TIMEOUT)
        ws = open_workspace(config, backend=backend, clock=clock)
    except BaseException:
        fake.stop()
        raise
    return Bench(kind="google", ws=ws, units=units, clock=clock, fake=fake,
                 setup_seconds=time.perf_counter() - started)


class PrefillingBackend(LocalBackend):
    """The real LocalBackend; each unit's workbook is made with its content as prefill."""

    def __init__(self, root: Path, synth_units: dict[str, synth.SynthUnit], seed: int):
        super().__init__(root)
        self._synth = synth_units
        self._seed = seed

    def create_unit_sheet(self, unit: Unit, period: Period, templates: TemplateSet,
                          prefill: Prefill | None = None) -> SheetRef:
        rows = synth.unit_rows(self._synth[unit.code], self._seed)
        return super().create_unit_sheet(unit, period, templates, rows)


def local_bench(root: Path, n: int, *, seed: int = synth.SEED) -> Bench:
    import time

    started = time.perf_counter()
    units = synth.units(n)
    by_code = {u.code: u for u in units}
    clock = Clock()
    ws = init_workspace(root / "ws", units_csv=_registry(root, n), period=synth.PERIOD,
                        name=NAME,
                        backend_factory=lambda c: PrefillingBackend(c.root, by_code, seed))
    for sheet in ws.archive.sheets(ws.period.code).values():
        clock.date_file(ws.config.root / sheet.ref)  # the clerks' typing, in bench time
    ws.close()
    config = load_config(root / "ws" / "cchc-sync.toml")
    ws = open_workspace(config, backend=LocalBackend(config.root), clock=clock)
    return Bench(kind="local", ws=ws, units=units, clock=clock,
                 setup_seconds=time.perf_counter() - started)
