"""`run`: the same cycle as `sync`, on a schedule, until SIGTERM or SIGINT.

APScheduler 3.x with one instance at a time and coalescing: a slow cycle is never run
twice at once, and missed runs collapse into one instead of a burst.

Around the loop: one daemon per archive (a file lock), systemd's notification protocol
(READY=1 once the scheduler runs, STATUS=<the last cycle line>, WATCHDOG=1 while the loop
is healthy, STOPPING=1 on a signal), and optional /metrics and /healthz on a loopback port.
SIGTERM lets the unit at hand finish (the pipeline checks between units), then the cycle
archives and flags what it read; if that takes longer than `stop_timeout` the process
exits anyway — every write is a SQLite transaction or an atomic file replace, so nothing
is left half-written and the next start resumes.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

from cchc_sync.app import metrics
from cchc_sync.app.pipeline import CycleResult, make_backend, open_workspace, sync_once
from cchc_sync.app.service import (
    RUN_WAITS_FOR_SYNC,
    Health,
    Notifier,
    ServiceSettings,
    Watchdog,
    acquire_archive_lock,
    load_service_settings,
)
from cchc_sync.domain.config import ConfigError, load_config
from cchc_sync.domain.registry import RegistryError
from cchc_sync.sources.base import SourceError
from cchc_sync.store.archive import ArchiveError
from cchc_sync.store.backup import ArchiveDamaged

log = logging.getLogger("cchc_sync")
T = TypeVar("T")

IDLE_TICK_SECONDS = 10.0
"""How often the scheduler proves its loop alive when no watchdog asks for more."""


class ArchiveUnavailable(Exception):
    """The archive could not be opened or written (disk full, read-only, damaged): the
    cycle stops; whatever it read but could not record is read again by the next one."""


# Failures of the world, not of the software: one log line each, no traceback. Each
# message already says what is wrong and where (Google, the archive's disk, a config or
# registry edited badly while the daemon runs).
ONE_LINE_FAILURES = (
    SourceError, ArchiveUnavailable, ArchiveError, ArchiveDamaged, ConfigError, RegistryError,
)

# SQLite's primary result codes that mean the file or its disk, not a query: SQLITE_PERM,
# BUSY, LOCKED, NOMEM, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, NOTADB.
_ARCHIVE_FAULTS = frozenset({3, 5, 6, 7, 8, 10, 11, 13, 14, 26})


def archive_failure(path: Path, exc: sqlite3.Error) -> ArchiveUnavailable | None:
    """The one-line explanation of an SQLite error that comes from the archive's file or
    disk (None for anything else: a bug keeps its traceback). Says how much space is left
    and whether the file and its folder can be written, so "disk I/O error" or "unable to
    open database file" point at the cause."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None or code & 0xFF not in _ARCHIVE_FAULTS:
        return None
    facts = [str(exc)]
    with contextlib.suppress(OSError):
        facts.append(f"{shutil.disk_usage(path.parent).free / 2**20:.1f} MiB free on its disk")
    try:
        os.close(os.open(path, os.O_WRONLY))  # opens, writes nothing
    except FileNotFoundError:
        pass
    except OSError as err:
        facts.append(f"the file cannot be written: {err.strerror}")
    try:
        with tempfile.TemporaryFile(dir=path.parent):
            pass
    except OSError as err:
        facts.append(f"its folder takes no new file: {err.strerror}")
    return ArchiveUnavailable(
        f"the archive {path} could not be written ({'; '.join(facts)}); what this cycle "
        "read but did not record is read again by the next cycle"
    )


class _SkippedRunFilter(logging.Filter):
    """APScheduler warns at every interval that passes while a cycle still runs; with one
    instance and coalescing that is the intended behaviour (the cycle line gives the
    duration), not news: drop it."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances" not in str(record.msg)


class CycleControl:
    """What the daemon hands each cycle: a stop check and a progress wrapper that also
    tell the watchdog the cycle is moving, and show "unit i/n" in systemctl status."""

    def __init__(self, stop: threading.Event, health: Health, notifier: Notifier) -> None:
        self.stop = stop
        self._health = health
        self._notifier = notifier

    def should_stop(self) -> bool:
        self._health.cycle_beat()
        return self.stop.is_set()

    def progress(self, items: Iterable[T], label: str) -> Iterator[T]:
        items = list(items)
        total = len(items)
        for index, item in enumerate(items, start=1):
            self._health.cycle_beat()
            self._notifier.status(f"{label} {index}/{total}")
            yield item


Cycle = Callable[[CycleControl], Any]


def run_forever(
    cycle: Cycle,
    interval_minutes: float,
    stop: threading.Event | None = None,
    *,
    notifier: Notifier | None = None,
    settings: ServiceSettings | None = None,
    registry: metrics.Registry | None = None,
) -> None:
    """Call cycle(control) now and then every interval until a stop signal.

    The cycle passes control.should_stop and control.progress to sync_once, so it can
    finish the unit at hand and return early. Its result (a CycleResult) feeds the
    metrics and systemd's STATUS line.
    """
    stop = stop or threading.Event()
    notifier = notifier or Notifier()
    settings = settings or ServiceSettings()
    registry = registry or metrics.REGISTRY
    ping = notifier.watchdog_interval
    tick = max(0.2, min(IDLE_TICK_SECONDS, ping)) if ping else IDLE_TICK_SECONDS
    health = Health(tick_seconds=tick, stall_seconds=settings.stall_minutes * 60)
    control = CycleControl(stop, health, notifier)
    scheduler = BlockingScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )
    running = threading.Lock()
    watchdogs: list[Watchdog] = []

    def guarded() -> None:
        if stop.is_set():
            return
        with running:
            if stop.is_set():  # the signal came while this job waited for its turn
                return
            health.cycle_started()
            try:
                result = cycle(control)
            except ONE_LINE_FAILURES as exc:
                log.error("cycle failed: %s; the next cycle runs as scheduled", exc)
                metrics.observe_failure(registry)
                notifier.status(f"cycle failed: {exc}; next one as scheduled")
            except Exception as exc:  # a failed cycle is logged; the daemon keeps its schedule
                log.exception("cycle failed; the next one will run as scheduled")
                metrics.observe_failure(registry)
                notifier.status(f"cycle failed: {type(exc).__name__}; next one as scheduled")
            else:
                if result is not None and hasattr(result, "log_line"):
                    metrics.observe_cycle(result, registry)
                    notifier.status(result.log_line())
            finally:
                health.cycle_finished()

    # The signal handler only writes the signal's number into a pipe; a thread does the
    # stopping. The handler runs on the main thread wherever the signal interrupts it,
    # and the scheduler's shutdown takes the thread pool's lock, which the main loop
    # holds while it submits the next job: shutting down from the handler deadlocked
    # there (more often the busier the machine). From its own thread the shutdown waits
    # until that submission is done.
    wake_read, wake_write = os.pipe()

    def on_signal(signum: int, _frame: object) -> None:
        os.write(wake_write, bytes([signum]))

    def stop_on_signal() -> None:
        signum = os.read(wake_read, 1)
        if not signum:  # the pipe closed: run_forever is over without a signal
            return
        log.info("received %s: finishing the current unit, then stopping",
                 signal.Signals(signum[0]).name)
        stop.set()
        for watchdog in watchdogs:
            watchdog.stop()  # systemd disarms the watchdog once it is stopping us
        notifier.stopping("stopping: finishing the current unit")
        scheduler_up.wait()  # a signal before the scheduler runs stops it once it does
        # wait=False: the running job sees the stop event and returns between units.
        with contextlib.suppress(SchedulerNotRunningError):
            scheduler.shutdown(wait=False)

    scheduler_up = threading.Event()  # also set once run_forever ends, to free the stopper

    def on_started(_event: object) -> None:
        notifier.ready(f"started: a cycle every {interval_minutes:g} min; first cycle running")
        if ping and not stop.is_set():
            watchdogs.append(Watchdog(notifier, health, ping).start())
        scheduler_up.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    skipped = _SkippedRunFilter()
    logging.getLogger("apscheduler.scheduler").addFilter(skipped)
    scheduler.add_listener(on_started, EVENT_SCHEDULER_STARTED)
    scheduler.add_job(
        guarded,
        IntervalTrigger(minutes=interval_minutes),
        id="sync",
        next_run_time=dt.datetime.now(dt.UTC),
    )
    # The loop's own heartbeat: it only runs while the scheduler and its workers do.
    scheduler.add_job(health.loop_beat, IntervalTrigger(seconds=tick), id="tick")
    server = _start_metrics(settings, health, registry)
    stopper = threading.Thread(target=stop_on_signal, name="cchc-stop", daemon=True)
    stopper.start()
    log.info("daemon started: a cycle every %g min", interval_minutes)
    try:
        scheduler.start()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        logging.getLogger("apscheduler.scheduler").removeFilter(skipped)
        scheduler_up.set()
        os.close(wake_write)  # ends the stopper if no signal came
        stopper.join()
        os.close(wake_read)
    # The scheduler returns at once on shutdown; the cycle in flight finishes its unit.
    finished = running.acquire(timeout=settings.stop_timeout)
    for watchdog in watchdogs:
        watchdog.close()
    if server:
        server.close()
    if not finished:
        log.warning(
            "the cycle did not finish within %g s of the stop signal; exiting now (every "
            "write is atomic: the next start re-reads what this cycle did not finish)",
            settings.stop_timeout,
        )
        _hard_exit()
    running.release()
    log.info("daemon stopped")
    notifier.close()


def _start_metrics(
    settings: ServiceSettings, health: Health, registry: metrics.Registry
) -> metrics.MetricsServer | None:
    if not settings.metrics_port:
        return None
    try:
        server = metrics.MetricsServer(settings.metrics_port, health.healthy, registry).start()
    except OSError as exc:
        # Metrics are optional: a taken port must not stop the collection.
        log.error("metrics: cannot listen on 127.0.0.1:%d: %s; continuing without /metrics",
                  settings.metrics_port, exc)
        return None
    host, port = server.address
    log.info("metrics: http://%s:%d/metrics and /healthz", host, port)
    return server


def _hard_exit() -> None:
    """Leave now, although a worker thread is still busy (a normal exit would join it)."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _close_failed_run(ws: Any, exc: Exception) -> None:
    """The run of a cycle that raised becomes `failed` (not `running` until the next start).
    The daemon holds the archive's lock, so the only run in flight is that cycle's. An
    archive that cannot be written keeps it `running`; the next start marks it
    `interrupted`."""
    with contextlib.suppress(sqlite3.Error):
        ws.archive.fail_running_runs(f"{type(exc).__name__}: {_one_line(str(exc))}")


def _one_line(text: str, limit: int = 500) -> str:
    return " ".join(text.split())[:limit]


def serve(config_file: str | None) -> None:
    """The whole `cchc-sync run`: lock the archive, check the workspace, loop until a signal.

    Raises ArchiveBusy (another daemon holds this archive) and the usual configuration
    errors before anything is read or written.
    """
    config = load_config(config_file)
    settings = load_service_settings(config)
    # The lock comes first: two daemons on one archive would write every flag twice.
    lock = acquire_archive_lock(config.archive_file, "run", wait_for_sync=RUN_WAITS_FOR_SYNC)
    try:
        backend = make_backend(config)  # kept across cycles: one client, one token
        open_workspace(config, backend=backend).close()  # a bad config fails now, not later

        def cycle(control: CycleControl) -> CycleResult:
            # Each cycle opens the workspace afresh in the scheduler's thread (SQLite objects
            # stay in their thread) and re-reads units.csv, so registry edits need no restart.
            try:
                ws = open_workspace(load_config(config_file), backend=backend)
                try:
                    return sync_once(ws, progress=control.progress,
                                     should_stop=control.should_stop)
                except Exception as exc:
                    _close_failed_run(ws, exc)
                    raise
                finally:
                    ws.close()
            except sqlite3.Error as exc:
                failure = archive_failure(config.archive_file, exc)
                if failure is None:
                    raise
                raise failure from None

        run_forever(cycle, config.interval_minutes, settings=settings)
    finally:
        lock.release()
