"""The process-wide counters and gauges, with their Prometheus text rendering.

A lower layer than the app: backends count their API traffic here (sources may not import
the app), and the daemon's `/metrics` endpoint (app/metrics.py) serves the same registry.
No dependency: counters and gauges with labels are all the daemon needs::

    from cchc_sync.domain import telemetry
    telemetry.count_request("values.batchGet")   # one API request of that kind
    telemetry.count_status(429)                  # the API answered 429 (quota)

Names follow Prometheus conventions: ``cchc_sync_`` prefix, ``_total`` for counters,
``_seconds`` for durations.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

Labels = tuple[tuple[str, str], ...]


class Registry:
    """Counters and gauges by (name, labels). Every method is safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._kinds: dict[str, str] = {}
        self._help: dict[str, str] = {}
        self._values: dict[str, dict[Labels, float]] = {}

    def describe(self, name: str, kind: str, help_text: str) -> None:
        """Declare a metric (kind "counter" or "gauge") so it is listed even before use."""
        if kind not in ("counter", "gauge"):
            raise ValueError(f"unknown metric kind {kind!r}")
        with self._lock:
            self._kinds[name] = kind
            self._help[name] = help_text
            self._values.setdefault(name, {})

    def inc(self, name: str, amount: float = 1.0, **labels: object) -> None:
        """Add to a counter (declared as a counter on first use if unknown)."""
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = _labels(labels)
        with self._lock:
            self._kinds.setdefault(name, "counter")
            series = self._values.setdefault(name, {})
            series[key] = series.get(key, 0.0) + amount

    def set(self, name: str, value: float, **labels: object) -> None:
        """Set a gauge (declared as a gauge on first use if unknown)."""
        key = _labels(labels)
        with self._lock:
            self._kinds.setdefault(name, "gauge")
            self._values.setdefault(name, {})[key] = float(value)

    def value(self, name: str, **labels: object) -> float | None:
        """The current value of one series (None when never set)."""
        with self._lock:
            return self._values.get(name, {}).get(_labels(labels))

    def reset(self) -> None:
        """Forget every value (tests)."""
        with self._lock:
            self._values = {name: {} for name in self._kinds}

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        with self._lock:
            snapshot = {name: dict(series) for name, series in self._values.items()}
            kinds = dict(self._kinds)
            helps = dict(self._help)
        lines: list[str] = []
        for name in sorted(snapshot):
            if name in helps:
                lines.append(f"# HELP {name} {_escape_help(helps[name])}")
            lines.append(f"# TYPE {name} {kinds.get(name, 'untyped')}")
            for labels, value in sorted(snapshot[name].items()):
                lines.append(f"{name}{_render_labels(labels)} {_number(value)}")
        return "\n".join(lines) + "\n"


def _labels(labels: dict[str, object]) -> Labels:
    return tuple(sorted((str(k), str(v)) for k, v in labels.items()))


def _render_labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape_label(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


REGISTRY = Registry()
"""The process-wide registry the daemon serves."""

_DECLARED = (
    ("cchc_sync_up", "gauge", "1 while the daemon's scheduler loop is healthy, else 0."),
    ("cchc_sync_cycles_total", "counter", "Poll cycles finished."),
    ("cchc_sync_cycle_failures_total", "counter", "Poll cycles that failed with an exception."),
    ("cchc_sync_cycle_duration_seconds", "gauge", "Duration of the last poll cycle."),
    ("cchc_sync_last_cycle_timestamp_seconds", "gauge",
     "Unix time the last poll cycle finished."),
    ("cchc_sync_units", "gauge", "Units in the registry at the last cycle."),
    ("cchc_sync_units_read", "gauge", "Units whose sheet was read in the last cycle."),
    ("cchc_sync_units_read_total", "counter", "Unit sheets read since the daemon started."),
    ("cchc_sync_units_unreachable", "gauge", "Units whose sheet could not be reached."),
    ("cchc_sync_rows", "gauge", "Current rows in the archive for the period."),
    ("cchc_sync_open_errors", "gauge", "Open findings of severity error."),
    ("cchc_sync_open_warnings", "gauge", "Open findings of severity warning."),
    ("cchc_sync_flags_pending", "gauge", "Units whose flags wait for the next cycle."),
    ("cchc_sync_api_requests_total", "counter", "Requests to the Google APIs, by kind."),
    ("cchc_sync_api_responses_total", "counter",
     "Google API responses by HTTP status, as the backend reports them (429 = quota)."),
    ("cchc_sync_master_rows_rendered_total", "counter",
     "Master data rows rendered anew (local backend: rows of unchanged blocks are copied)."),
)


def _declare(registry: Registry) -> None:
    for name, kind, help_text in _DECLARED:
        registry.describe(name, kind, help_text)


_declare(REGISTRY)


def count_request(kind: str, registry: Registry | None = None) -> None:
    """One API request of `kind` (e.g. "values.batchGet", "drive.files.list")."""
    (registry or REGISTRY).inc("cchc_sync_api_requests_total", kind=kind)


def count_status(status: int, registry: Registry | None = None) -> None:
    """One API response with HTTP `status` worth counting (429, 5xx)."""
    (registry or REGISTRY).inc("cchc_sync_api_responses_total", status=int(status))


def observe_cycle(result: Any, registry: Registry | None = None) -> None:
    """Record a finished cycle (a pipeline.CycleResult)."""
    r = registry or REGISTRY
    r.inc("cchc_sync_cycles_total")
    r.set("cchc_sync_cycle_duration_seconds", round(float(result.duration), 6))
    r.set("cchc_sync_last_cycle_timestamp_seconds", round(time.time(), 3))
    r.set("cchc_sync_units", result.units_total)
    r.set("cchc_sync_units_read", result.units_read)
    r.inc("cchc_sync_units_read_total", result.units_read)
    r.set("cchc_sync_units_unreachable", len(result.units_unreachable))
    r.set("cchc_sync_rows", result.rows)
    r.set("cchc_sync_open_errors", result.errors)
    r.set("cchc_sync_open_warnings", result.warnings)
    r.set("cchc_sync_flags_pending", len(result.flags_pending))


def observe_failure(registry: Registry | None = None) -> None:
    (registry or REGISTRY).inc("cchc_sync_cycle_failures_total")
