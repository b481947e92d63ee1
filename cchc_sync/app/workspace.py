"""The workspace: everything a command needs, opened from one config file.

Config, templates, the current period and its units, the archive and the backend. Every
app module takes a `Workspace`; nothing below the app knows it (checks, store and publish
get plain values).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

from cchc_sync.checks.suite import bind_checks
from cchc_sync.domain.clock import utcnow
from cchc_sync.domain.config import Config
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import CurrentRow, Period, Unit
from cchc_sync.domain.registry import active_units, load_successions, load_units
from cchc_sync.domain.templates import TemplateSet, load_template_set
from cchc_sync.publish.figures import ordered_levels
from cchc_sync.sources.base import Backend
from cchc_sync.sources.xlsx.backend import LocalBackend
from cchc_sync.store.archive import Archive
from cchc_sync.store.row_values import with_dates

__all__ = [
    "Progress", "Workspace", "create_missing_sheets", "expected_units", "make_backend",
    "no_progress", "open_workspace", "utcnow",
]

log = logging.getLogger("cchc_sync")
T = TypeVar("T")
Progress = Callable[[Iterable[T], str], Iterator[T]]


def no_progress(items: Iterable[T], label: str) -> Iterator[T]:
    yield from items


@dataclass(kw_only=True)
class Workspace:
    """Everything a command needs, opened from one config file."""

    config: Config
    templates: TemplateSet
    period: Period
    archive: Archive
    backend: Backend
    units: list[Unit]
    clock: Callable[[], dt.datetime] = utcnow

    @property
    def units_by_code(self) -> dict[str, Unit]:
        # Built once per units list: the cycle asks once per unit, and rebuilding the dict
        # each time made an idle cycle quadratic in the number of units (issue 17).
        return self._per_units("units_by_code", lambda: {u.code: u for u in self.units})

    @property
    def levels(self) -> list[str]:
        return list(self._per_units(
            "levels", lambda: ordered_levels(self.units, self.config.level_order)
        ))

    def _per_units(self, name: str, build: Callable[[], T]) -> T:
        """A value derived from `units` only, kept until `units` is replaced (a new list;
        nothing grows the list in place)."""
        cache = self.__dict__.setdefault("_derived", {})
        key = (id(self.units), len(self.units))
        if cache.get("key") != key:
            cache.clear()
            cache["key"] = key
        if name not in cache:
            cache[name] = build()
        return cache[name]

    def for_period(self, code: str) -> Workspace:
        """The same workspace looking at another period (its own units and window)."""
        if code == self.period.code:
            return self
        period = parse_period(code, self.config.cutoff_day, self.config.calendar_periods)
        units = self.archive.units(code) or expected_units(self.config, period)
        return dataclasses.replace(self, period=period, units=units)

    def current_rows(self, period: str | None = None) -> list[CurrentRow]:
        """The archive's current rows of `period` (default: the workspace's), date columns
        as `datetime.date`: the form every stage after validation works with (the checks,
        the master, the report). The archive keeps dates as ISO text; `with_dates` is the
        one place that turns them back."""
        # Streamed from the cursor: the archive's rows and the dated ones are never two
        # whole lists at once.
        rows = self.archive.iter_current_rows(period or self.period.code)
        return with_dates(rows, self.templates)

    def close(self) -> None:
        self.archive.close()


def make_backend(config: Config) -> Backend:
    if config.backend == "local":
        return LocalBackend(config.root, limits=config.limits)
    # Imported only when configured: the Google backend pulls in gspread, google-auth and
    # requests, which a local workspace never needs at start-up. Not a cycle (sources
    # import nothing of the app).
    from cchc_sync.sources.google.backend import GoogleBackend  # noqa: PLC0415

    return GoogleBackend.from_config(config)


def expected_units(config: Config, period: Period) -> list[Unit]:
    """The registry's units that exist at the end of the period (mergers and splits
    applied through the successor mapping)."""
    registry = load_units(config.units_file)
    successions = load_successions(config.successors_file, registry)
    return active_units(registry, successions, period.end)


def open_workspace(
    config: Config, backend: Backend | None = None, clock: Callable[[], dt.datetime] = utcnow
) -> Workspace:
    templates = load_template_set(config.templates_dir)
    bind_checks(templates)  # a rule of unknown kind or with a wrong parameter stops here
    period = parse_period(config.period, config.cutoff_day, config.calendar_periods)
    units = expected_units(config, period)
    archive = Archive(config.archive_file)
    # The registry is re-read at every open: units added to units.csv join the current
    # period (their sheets are made by the next cycle).
    archive.save_units(period.code, units)
    return Workspace(
        config=config,
        templates=templates,
        period=period,
        archive=archive,
        backend=backend or make_backend(config),
        units=units,
        clock=clock,
    )


def create_missing_sheets(
    ws: Workspace, progress: Progress = no_progress, prefill: dict | None = None
) -> int:
    """Create each expected unit's sheet and the master where they do not exist yet."""
    period = ws.period.code
    existing = ws.archive.sheets(period)
    missing = [u for u in ws.units if u.code not in existing]
    for unit in progress(missing, "Tạo bảng tính cho đơn vị"):
        ref = ws.backend.create_unit_sheet(
            unit, ws.period, ws.templates, (prefill or {}).get(unit.code)
        )
        ws.archive.register_sheet(
            period, unit.code, ws.backend.kind, ref.ref, ref.url, ws.templates.version
        )
    if ws.archive.master(period) is None:
        title = " ".join(f"Tổng hợp CCHC {ws.config.name} kỳ {period}".split())
        ref = ws.backend.create_master(title, ws.period)
        ws.archive.register_master(period, ws.backend.kind, ref.ref, ref.url)
    if missing:
        log.info("%d unit sheets created for %s", len(missing), period)
    return len(missing)
