"""The benchmark command: ``python -m bench [--scales 50,200] [--backend google,local]
[--latency-ms 0] [--out docs/benchmarks.md] [--results bench/results.json] [--fresh]``
(from the repository root).

Runs each backend at each scale in a process of its own (``python -m bench.scale``), keeps
the raw figures in ``--results`` (JSON, one entry per backend and scale) and writes
``--out`` from them (bench.report). Entries of earlier runs for a backend and scale this
run did not measure are kept, with their own date and command, unless ``--fresh``; so a
long measurement (``--backend local --scales 5000``) can be added to the default run's.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime as dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import bench.report as report

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCALES = (50, 200, 500, 5000)
DEFAULT_BACKENDS = ("google", "local")
GOOGLE_DEFAULT_MAX = 200
"""Without --scales, the Google backend runs up to this scale: 500 units took 11 minutes
of the default run's 12.4 on the shared machine (2026-12-05), past the 10 minutes the whole
command has; 500 and 5,000 are commands of their own, kept beside the default's figures."""
LOCAL_DEFAULT_MAX = 200
"""Without --scales, the local backend runs up to this scale too (500 units: 11 minutes on
the shared machine, 5 of them making the workbooks)."""
COST = {"google": 1.0, "local": 2.0}
"""Relative seconds per unit of a measurement, to start the longest first."""
PACKAGES = ("cchc-sync", "gspread", "google-auth", "requests", "openpyxl", "pandas", "numpy")


def machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "-"
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "cchc_sync"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        if dirty:
            commit += " + uncommitted changes to cchc_sync/"
    except (OSError, subprocess.CalledProcessError):
        commit = "(not a git checkout)"
    memory = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return {
        "cpu": model, "cores": os.cpu_count(), "memory": memory,
        "python": platform.python_version(), "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}", "packages": versions,
        "commit": commit,
    }


def loadavg() -> float | None:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run_scale(backend: str, n: int, latency_ms: float, naive: bool, profile: bool
              ) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cchc-bench-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "bench.scale", "--backend", backend, "--units", str(n),
               "--latency-ms", str(latency_ms), "--workdir", str(Path(tmp) / "w"),
               "--json-out", str(out)]
        if naive:
            cmd.append("--naive")
        if profile:
            cmd.append("--profile")
        load_before = loadavg()
        started = time.perf_counter()
        subprocess.run(cmd, cwd=ROOT, check=True)
        result = json.loads(out.read_text(encoding="utf-8"))
        result["process_seconds"] = round(time.perf_counter() - started, 1)
        result["loadavg"] = [load_before, loadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Requests, time and memory of sync cycles at several scales; writes "
                    "docs/benchmarks.md.")
    parser.add_argument("--scales", help="comma-separated unit counts (default: 50,200 on "
                        "both; 500 and 5,000 only when asked for)")
    parser.add_argument("--backend", default=",".join(DEFAULT_BACKENDS),
                        help="google, local or both (default: google,local)")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="latency the fake Google adds to every request (default 0)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--fresh", action="store_true",
                        help="forget the entries of earlier runs")
    parser.add_argument("--serial", action="store_true",
                        help="one measurement at a time (default: two side by side)")
    parser.add_argument("--render-only", action="store_true",
                        help="measure nothing: write --out again from --results")
    args = parser.parse_args(argv)
    backends = [b.strip() for b in args.backend.split(",") if b.strip()]
    if not backends or any(b not in DEFAULT_BACKENDS for b in backends):
        parser.error("--backend: google, local or google,local")
    explicit = args.scales is not None
    scales = sorted({int(s) for s in args.scales.split(",")}) if explicit else \
        list(DEFAULT_SCALES)
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python -m bench", *([shlex.join(given)] if given else [])])
    info = machine()
    date = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    results: dict[str, Any] = {}
    runs: dict[str, Any] = {}
    if args.results.exists() and (args.render_only or not args.fresh):
        stored = json.loads(args.results.read_text(encoding="utf-8"))
        results, runs = stored.get("entries", {}), stored.get("runs", {})
        if not runs and "last_run" in stored:  # the first format: one run
            runs = {stored["last_run"]["command"]: stored["last_run"]}
    if args.render_only:
        if not runs:
            parser.error(f"--render-only: no runs in {args.results}")
        args.out.write_text(report.render(runs, results), encoding="utf-8")
        print(f"bench: wrote {args.out} from {args.results}", file=sys.stderr)
        return 0
    started = time.perf_counter()
    plan = [(b, n) for b in backends for n in scales
            if explicit or n <= (LOCAL_DEFAULT_MAX if b == "local" else GOOGLE_DEFAULT_MAX)]
    smallest_google = min((n for b, n in plan if b == "google"), default=None)
    largest_google = max((n for b, n in plan if b == "google"), default=None)
    lock = threading.Lock()

    def measure(job: tuple[str, int]) -> None:
        backend, units = job
        print(f"bench: {backend} × {units} units ...", file=sys.stderr, flush=True)
        result = run_scale(backend, units, args.latency_ms,
                           naive=backend == "google" and units == smallest_google,
                           profile=backend == "google" and units == largest_google)
        result.update(date=date, command=command, machine=info)
        with lock:
            results[f"{backend}/{units}"] = result
        print(f"bench: {backend} × {units} units done in {result['process_seconds']} s",
              file=sys.stderr, flush=True)

    # Longest first, on two lanes: the 5,000-unit Google run takes most of the time; the
    # others share the second core meanwhile (a Google cycle and its fake take turns, one
    # request at a time, so together they keep about one core busy).
    jobs = sorted(plan, key=lambda job: job[1] * COST[job[0]], reverse=True)
    with concurrent.futures.ThreadPoolExecutor(max_workers=1 if args.serial else 2) as pool:
        for done in [pool.submit(measure, job) for job in jobs]:
            done.result()
    total = round(time.perf_counter() - started, 1)
    run = {"date": date, "command": command, "machine": info, "seconds": total,
           "plan": [f"{b}/{n}" for b, n in plan], "parallel": not args.serial}
    args.results.parent.mkdir(parents=True, exist_ok=True)
    runs[command] = run
    # A run whose measurements were all made again by later runs is history.
    runs = {c: r for c, r in runs.items()
            if any(results.get(k, {}).get("date") == r["date"] for k in r["plan"])}
    args.results.write_text(json.dumps({"runs": runs, "entries": results},
                                       ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    args.out.write_text(report.render(runs, results), encoding="utf-8")
    print(f"bench: {len(plan)} runs in {total} s; wrote {args.out} and {args.results}",
          file=sys.stderr)
    return 0
