"""`run`: the same cycle as `sync`, on a schedule, until SIGTERM or SIGINT.

APScheduler 3.x with one instance at a time and coalescing: a slow cycle is never run
twice at once, and missed runs collapse into one instead of a burst.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger("cchc_sync")


def run_forever(
    cycle: Callable[[threading.Event], object],
    interval_minutes: float,
    stop: threading.Event | None = None,
) -> None:
    """Call cycle(stop_event) now and then every interval until a stop signal.

    The cycle receives the stop event so it can finish the unit at hand and return early.
    """
    stop = stop or threading.Event()
    scheduler = BlockingScheduler(
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone="UTC",
    )

    running = threading.Lock()

    def guarded() -> None:
        if stop.is_set():
            return
        with running:
            try:
                cycle(stop)
            except Exception:  # a failed cycle is logged; the daemon keeps its schedule
                log.exception("cycle failed; the next one will run as scheduled")

    def on_signal(signum, _frame) -> None:
        log.info("received %s: finishing the current unit, then stopping",
                 signal.Signals(signum).name)
        stop.set()
        # wait=False: shutdown from a signal handler must not block the main loop; the
        # running job sees the stop event and returns between units.
        scheduler.shutdown(wait=False)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    scheduler.add_job(
        guarded,
        IntervalTrigger(minutes=interval_minutes),
        id="sync",
        next_run_time=dt.datetime.now(dt.UTC),
    )
    log.info("daemon started: a cycle every %g min", interval_minutes)
    try:
        scheduler.start()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    # The scheduler returns at once on shutdown; the cycle in flight finishes its unit.
    with running:
        pass
    log.info("daemon stopped")
