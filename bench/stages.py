"""Where a cycle's time goes, without a profiler's overhead: the functions a cycle is made of
are wrapped, for the duration of one cycle, by timers that add up their inclusive wall and
CPU time (this thread's) and their calls. Nothing in the package is edited: module
attributes and instance attributes are swapped and put back.

Also captures every `values.batchGet` answer's bytes as they arrive (into a temporary file,
so they take no memory), for the JSON-decode floor measured after the cycles on exactly the
payloads the cycle decoded.
"""

from __future__ import annotations

import inspect
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from cchc_sync.app import pipeline
from cchc_sync.app import publishing as publish
from cchc_sync.sources.google import master_write as google_master_write
from cchc_sync.sources.google import reader as google_reader
from cchc_sync.sources.xlsx import read as xlsx_read

# (stage id, parent stage id or "", label). The order is the report's.
STAGES: list[tuple[str, str, str]] = [
    ("scan", "", "`Backend.scan` (Drive listing / stat of every file)"),
    ("read_unit", "", "`Backend.read_unit` (one unit's sheet → RawTables)"),
    ("read_table", "read_unit", "`read_table` (cells → RawTable: header match, formats)"),
    ("content_hash", "", "`pipeline.content_hash`"),
    ("check_unit", "", "`validate.check_unit` (normalise + validate)"),
    ("record_rows", "", "`Archive.record_rows` (merge into the archive)"),
    ("replace_findings", "", "`Archive.replace_findings`"),
    ("update_sheet", "", "`Archive.update_sheet`"),
    ("current_rows", "", "`Archive.current_rows`"),
    ("cross", "", "`checks.suite.cross_unit_findings`"),
    ("history", "", "`checks.suite.history_findings`"),
    ("write_flags", "", "`publish.write_flags` (all units)"),
    ("plan_flags", "write_flags", "`flags.plan_flags`"),
    ("backend_flags", "write_flags", "`Backend.write_flags`"),
    ("write_master", "", "`publish.write_master`"),
    ("figures", "write_master", "`figures.compute_figures`"),
    ("build_master", "write_master", "`master.build_master` (pandas)"),
    ("progress", "write_master", "`publish.unit_progress`"),
    ("master_requests", "write_master",
     "`google_master.master_batches` (the master's batchUpdate bodies)"),
    ("backend_master", "write_master", "`Backend.update_master`"),
    ("http", "", "`GoogleTransport.request` (HTTP, JSON encode and decode, waiting)"),
]


@dataclass
class Timer:
    calls: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    rss_growth: float = 0.0
    """MB by which the process's peak RSS rose during the calls."""


# Called thousands of times per cycle with no memory of their own worth tracking.
_NO_RSS = {"read_table", "update_sheet", "content_hash"}


def _peak_kib() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


@dataclass
class Capture:
    """batchGet answers captured during a cycle: (spreadsheet id, offset, length) into a
    temporary file."""

    file: Any = field(default_factory=lambda: tempfile.TemporaryFile())  # noqa: SIM115
    index: list[tuple[str, int, int]] = field(default_factory=list)
    size: int = 0

    def add(self, sid: str, data: bytes) -> None:
        self.index.append((sid, self.size, len(data)))
        self.file.write(data)
        self.size += len(data)

    def payloads(self) -> Iterator[tuple[str, bytes]]:
        self.file.flush()
        for sid, offset, length in self.index:
            self.file.seek(offset)
            yield sid, self.file.read(length)

    def close(self) -> None:
        self.file.close()


def _timed_steps(gen: Iterator[Any], timer: Timer, peak: Callable[[], int]) -> Iterator[Any]:
    while True:
        r = peak()
        w, c = time.perf_counter(), time.thread_time()
        try:
            item = next(gen)
        except StopIteration:
            return
        finally:
            timer.wall += time.perf_counter() - w
            timer.cpu += time.thread_time() - c
            timer.rss_growth += (peak() - r) / 1024
        yield item


class Stages:
    def __init__(self) -> None:
        self.timers: dict[str, Timer] = {key: Timer() for key, _, _ in STAGES}
        self.bodies: dict[str, int] = {}
        self._undo: list[Callable[[], None]] = []

    def _wrap(self, owner: Any, name: str, key: str) -> None:
        original = getattr(owner, name)
        timer = self.timers[key]
        peak = (lambda: 0) if key in _NO_RSS else _peak_kib

        def timed(*args: Any, **kwargs: Any) -> Any:
            r = peak()
            w, c = time.perf_counter(), time.thread_time()
            try:
                result = original(*args, **kwargs)
            finally:
                timer.calls += 1
                timer.wall += time.perf_counter() - w
                timer.cpu += time.thread_time() - c
                timer.rss_growth += (peak() - r) / 1024
            if inspect.isgenerator(result):
                # A generator (master_batches) does its work as it is consumed: each step
                # is timed, the consumer's work between steps (sending a part) is not.
                return _timed_steps(result, timer, peak)
            return result

        own = name in vars(owner)  # a module's function, or an instance's own attribute
        setattr(owner, name, timed)

        def undo() -> None:
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)  # the class's method shows through again

        self._undo.append(undo)

    @contextmanager
    def active(self, ws: Any, capture: Capture | None = None) -> Iterator[Stages]:
        try:
            self._install(ws, capture)
            yield self
        finally:
            for undo in reversed(self._undo):
                undo()
            self._undo.clear()

    def _install(self, ws: Any, capture: Capture | None) -> None:
        backend, archive = ws.backend, ws.archive
        self._wrap(backend, "scan", "scan")
        self._wrap(backend, "read_unit", "read_unit")
        self._wrap(pipeline, "content_hash", "content_hash")
        self._wrap(pipeline, "check_unit", "check_unit")
        for name in ("record_rows", "replace_findings", "update_sheet", "current_rows"):
            self._wrap(archive, name, name)
        self._wrap(pipeline, "cross_unit_findings", "cross")
        self._wrap(pipeline, "history_findings", "history")
        self._wrap(pipeline, "write_flags", "write_flags")
        self._wrap(publish, "plan_flags", "plan_flags")
        self._wrap(backend, "write_flags", "backend_flags")
        self._wrap(pipeline, "write_master", "write_master")
        self._wrap(publish, "compute_figures", "figures")
        self._wrap(publish, "build_master", "build_master")
        self._wrap(publish, "unit_progress", "progress")
        self._wrap(backend, "update_master", "backend_master")
        if backend.kind == "local":
            self._wrap(xlsx_read, "read_table", "read_table")
        if backend.kind == "google":
            self._wrap(google_reader, "read_table", "read_table")
            self._wrap(google_master_write, "master_batches", "master_requests")
            self._wrap(backend.transport, "request", "http")
            master = ws.archive.master(ws.period.code)
            self._watch_http(backend.transport, capture, master["ref"] if master else "")

    def _watch_http(self, transport: Any, capture: Capture | None, master_ref: str) -> None:
        """Record request body sizes (the master's batchUpdate, flag writes) and, with a
        capture, the bytes of every batchGet answer. Every request, gspread's methods'
        included, goes through the transport's `request` (timed above)."""
        timed = transport.request
        bodies = self.bodies

        def watched(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            response = timed(method, url, *args, **kwargs)
            data = response.request.body  # the bytes sent, as the transport encoded them
            if url.endswith(":batchUpdate") and data:
                kind = "master" if url.endswith(f"/{master_ref}:batchUpdate") else "flags"
                bodies[f"{kind}_max"] = max(bodies.get(f"{kind}_max", 0), len(data))
                bodies[f"{kind}_total"] = bodies.get(f"{kind}_total", 0) + len(data)
                bodies[f"{kind}_count"] = bodies.get(f"{kind}_count", 0) + 1
            if capture is not None and url.endswith("/values:batchGet"):
                capture.add(url.rsplit("/", 2)[-2], response.content)
            return response

        transport.request = watched
        self._undo.append(lambda: setattr(transport, "request", timed))

    def result(self) -> dict[str, dict[str, float]]:
        return {key: {"calls": t.calls, "wall": round(t.wall, 4), "cpu": round(t.cpu, 4),
                      "rss_growth_mb": round(t.rss_growth, 1)}
                for key, t in self.timers.items() if t.calls}

    def request_bodies(self) -> dict[str, int]:
        """Bytes sent in batchUpdate bodies: master_max/_total/_count, flags_max/..."""
        return dict(self.bodies)
