"""One backend at one scale, in a process of its own (so its peak RSS is its own):
``python -m bench.scale --backend google|local --units N [--latency-ms L] [--naive]
[--profile] [--workdir DIR] [--json-out FILE]``.

Builds a filled workspace (bench.workspaces), then runs the cycles a daemon would:

1. **cold** — every sheet new to the archive: read, check, archive, flag, master;
2. **echo** — Google only: the software's own flag writes moved each Drive version on, so
   each sheet is read once more (its content hash is unchanged: no check, no write);
3. **idle** — nothing changed;
4. **changed** — k = 1 % of the units (at least one) had a clerk change who prepared the
   report ("Người lập biểu");
5. **changed echo** and **idle again**.

For each: wall and CPU time (`time.process_time`, this process: the fake runs in its own),
the fake's request counts (reads = GET, writes = the rest; OAuth token requests aside),
and where the time went (bench.stages). After the cycles: peak RSS so far; the JSON
decode floor (`json.loads` over the very batchGet answers the cold cycle decoded); a
cProfile of normalise + validate + merge on a sample of those answers (``--profile``); and,
with ``--naive``, the requests of a plain gspread loop reading every tab of every unit.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import pstats
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import bench.synth as synth
from bench.stages import Capture, Stages
from bench.workspaces import Bench, google_bench, local_bench
from cchc_sync.app.pipeline import sync_once
from cchc_sync.checks.validate import check_unit
from cchc_sync.domain.records import UnitRead
from cchc_sync.sources.google.read import read_meta, read_table
from cchc_sync.store.archive import Archive

PROFILE_SAMPLE = 300
"""Units whose captured payloads are profiled through check_unit + record_rows."""
CHANGED_SIGNER = "Phạm Văn Sửa"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_cycle(b: Bench, stages: Stages | None = None, capture: Capture | None = None
              ) -> dict[str, Any]:
    if b.fake is not None:
        b.fake.reset_stats()
    b.clock.tick()
    stages = stages or Stages()
    with stages.active(b.ws, capture):
        wall, cpu = time.perf_counter(), time.process_time()
        result = sync_once(b.ws)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out: dict[str, Any] = {
        "wall": round(wall, 3), "cpu": round(cpu, 3), "units_read": result.units_read,
        "flags_written": result.flags_written, "flags_pending": len(result.flags_pending),
        "master_written": result.master_written, "rows": result.rows,
        "rows_changed": result.rows_changed, "errors": result.errors,
        "warnings": result.warnings, "unreachable": len(result.units_unreachable),
        "stages": stages.result(), "bodies": stages.request_bodies(),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }
    if b.fake is not None:
        reads, writes, by_kind = b.fake.counts()
        out.update(reads=reads, writes=writes, by_kind=by_kind)
    return out


def change_units(b: Bench, k: int) -> list[str]:
    """A clerk in each of k units, spread over the registry, changes the signer's name."""
    step = max(1, len(b.units) // k)
    chosen = [u for u in b.units[::step]][:k]
    for u in chosen:
        if b.fake is not None:
            b.fake.edit(b.sheet(u.code), "Thông tin", "A2", [[CHANGED_SIGNER]],
                        user=u.email)
        else:
            from cchc_sync.testing.typist import set_cell

            path = b.ws.config.root / b.sheet(u.code)
            set_cell(path, "Thông tin", 2, "Người lập biểu", CHANGED_SIGNER)
            b.clock.date_file(path)
    return [u.code for u in chosen]


FLOOR_SAMPLE = 50
"""Workbooks read for the local read floors (the per-workbook figure times N is reported)."""


def read_floors(b: Bench, sample: int = FLOOR_SAMPLE) -> dict[str, Any]:
    """CPU seconds for N workbooks with nothing of ours: every cell value of every tab by
    openpyxl read-only (the library the backend reads with) and by python-calamine (a Rust
    reader), on a sample scaled to N; and one os.stat per workbook (all N, best of 5)."""
    from openpyxl import load_workbook

    paths = [b.ws.config.root / s.ref for s in b.ws.archive.sheets(b.ws.period.code).values()]
    chosen = paths[:: max(1, len(paths) // sample)][:sample]
    scale = len(paths) / len(chosen)
    out: dict[str, Any] = {"workbooks": len(paths), "sample": len(chosen)}
    cpu = time.process_time()
    for path in chosen:
        wb = load_workbook(path, read_only=True, data_only=True)
        for ws in wb.worksheets:
            for _ in ws.iter_rows(values_only=True):
                pass
        wb.close()
    out["openpyxl_cpu"] = round((time.process_time() - cpu) * scale, 3)
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        out["calamine_cpu"] = None
    else:
        cpu = time.process_time()
        for path in chosen:
            book = CalamineWorkbook.from_path(str(path))
            for name in book.sheet_names:
                book.get_sheet_by_name(name).to_python()
        out["calamine_cpu"] = round((time.process_time() - cpu) * scale, 3)
    best = float("inf")
    for _ in range(5):
        cpu = time.process_time()
        for path in paths:
            os.stat(path)
        best = min(best, time.process_time() - cpu)
    out["stat_cpu"] = round(best, 5)
    return out


def decode_floor(capture: Capture, repeats: int = 5) -> dict[str, Any]:
    """json.loads over every captured batchGet answer: the best of `repeats` passes, in
    wall and in CPU (this thread's) time."""
    payloads = [data for _, data in capture.payloads()]
    cells = 0
    for data in payloads:  # filled cells below the header of the template tabs
        ranges = json.loads(data).get("valueRanges", [])[:-1]  # the last one is "_cchc"
        cells += sum(sum(1 for v in row if v != "") for vr in ranges
                     for row in vr.get("values", [])[1:])
    best_wall = best_cpu = float("inf")
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.thread_time()
        for data in payloads:
            json.loads(data)
        best_cpu = min(best_cpu, time.thread_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return {"payloads": len(payloads), "bytes": sum(len(p) for p in payloads), "cells": cells,
            "json_loads": round(best_wall, 5), "json_loads_cpu": round(best_cpu, 5),
            "repeats": repeats}


def profile_pipeline(b: Bench, capture: Capture, workdir: Path, sample: int = PROFILE_SAMPLE
                     ) -> dict[str, Any]:
    """normalise + validate + merge of the first `sample` captured payloads under cProfile,
    into a scratch archive: the functions taking the most time (own time)."""
    ws = b.ws
    by_ref = {s.ref: code for code, s in ws.archive.sheets(ws.period.code).items()}
    units = ws.units_by_code
    specs = list(ws.templates.tables.values())
    reads: list[UnitRead] = []
    for sid, data in capture.payloads():
        if len(reads) >= sample:
            break
        ranges = json.loads(data).get("valueRanges", [])
        tables = {spec.key: read_table(spec, vr.get("values", []))
                  for spec, vr in zip(specs, ranges, strict=False)}
        meta = read_meta(ranges[len(specs)].get("values") if len(ranges) > len(specs) else None)
        reads.append(UnitRead(unit=by_ref[sid], tables=tables,
                              template_version=meta.get("template_version")))
    scratch = Archive(workdir / "profile.sqlite")
    run_id = scratch.start_run(ws.period.code)
    profiler = cProfile.Profile()
    rows = 0
    profiler.enable()
    for read in reads:
        check = check_unit(read, ws.templates, ws.period, units[read.unit].level)
        layouts = {t: raw.layout for t, raw in read.tables.items()}
        scratch.record_rows(ws.period.code, read.unit, check.rows, layouts, run_id)
        rows += sum(len(r) for r in check.rows.values())
    profiler.disable()
    scratch.close()
    stats = pstats.Stats(profiler)
    total = stats.total_tt  # type: ignore[attr-defined]
    top = []
    for (filename, line, func), (_cc, ncalls, tottime, cumtime, _callers) in sorted(
            stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:15]:  # type: ignore
        top.append({"function": _where(filename, line, func), "calls": ncalls,
                    "own": round(tottime, 4), "cumulative": round(cumtime, 4),
                    "share": round(tottime / total, 4) if total else 0})
    return {"units": len(reads), "rows": rows, "total": round(total, 4), "top": top}


def _where(filename: str, line: int, func: str) -> str:
    if filename == "~":
        return func
    path = Path(filename)
    parts = path.parts
    for anchor in ("cchc_sync", "site-packages"):
        if anchor in parts:
            rest = parts[parts.index(anchor) + (1 if anchor == "site-packages" else 0):]
            return f"{'/'.join(rest)}:{line}({func})"
    return f"{path.name}:{line}({func})"


def naive_loop(b: Bench, key_file: Path) -> dict[str, Any]:
    """The baseline: a plain gspread loop that opens every unit's spreadsheet and reads
    every template tab, every cycle (what a script without change detection does)."""
    from cchc_sync.sources.google.client import READONLY_DRIVE_SCOPES, build_gspread_client

    assert b.fake is not None
    gc_client = build_gspread_client(key_file, endpoint=b.fake.url,
                                     scopes=READONLY_DRIVE_SCOPES)
    tabs = {spec.tab for spec in b.ws.templates.tables.values()}
    b.fake.reset_stats()
    start = time.perf_counter()
    for u in b.units:
        sh = gc_client.open_by_key(b.sheet(u.code))
        for worksheet in sh.worksheets():
            if worksheet.title in tabs:
                worksheet.get_all_values()
    wall = time.perf_counter() - start
    reads, writes, by_kind = b.fake.counts()
    return {"units": len(b.units), "reads": reads, "writes": writes, "by_kind": by_kind,
            "per_unit": reads / len(b.units), "template_tabs": len(tabs),
            "wall": round(wall, 3)}


def run(backend: str, n: int, *, latency_ms: float, workdir: Path, naive: bool,
        profile: bool = True) -> dict[str, Any]:
    started = time.perf_counter()
    if backend == "google":
        b = google_bench(workdir, n, latency_ms=latency_ms)
    else:
        b = local_bench(workdir, n)
    out: dict[str, Any] = {
        "backend": backend, "units": n, "latency_ms": latency_ms if backend == "google" else None,
        "rows_per_unit": synth.ROWS_PER_UNIT, "setup_seconds": round(b.setup_seconds, 2),
        "peak_rss_after_setup_mb": round(peak_rss_mb(), 1),
    }
    capture = Capture() if backend == "google" else None
    try:
        gc.collect()
        if backend == "local":
            out["floors"] = read_floors(b)
        cycles: dict[str, Any] = {}
        cycles["cold"] = run_cycle(b, capture=capture)
        if backend == "google":
            cycles["echo"] = run_cycle(b)
        cycles["idle"] = run_cycle(b)
        k = max(1, n // 100)
        changed = change_units(b, k)
        cycles["changed"] = {"k": k, **run_cycle(b)}
        if backend == "google":
            cycles["changed_echo"] = run_cycle(b)
        cycles["idle_again"] = run_cycle(b)
        out["cycles"] = cycles
        out["changed_units"] = changed[:5]
        # File times the cycles refused (bench time and file times out of step): 0.
        out["untrusted_times"] = b.ws.archive.db.execute(
            "SELECT COUNT(*) FROM audit WHERE action = 'untrusted-time'").fetchone()[0]
        out["peak_rss_mb"] = round(peak_rss_mb(), 1)
        if capture is not None:
            out["floor"] = decode_floor(capture)
            if profile:
                out["pipeline_profile"] = profile_pipeline(b, capture, workdir)
        if naive and backend == "google":
            out["naive"] = naive_loop(b, workdir / "service-account.json")
        if b.fake is not None:
            out["fake_peak_rss_mb"] = round(b.fake.peak_rss_mb(), 1)
    finally:
        if capture is not None:
            capture.close()
        b.close()
    out["total_seconds"] = round(time.perf_counter() - started, 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="One backend at one scale (see bench/).")
    parser.add_argument("--backend", choices=("google", "local"), required=True)
    parser.add_argument("--units", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--naive", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile normalise + validate + merge after the cycles")
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--json-out", type=Path)
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cchc-bench-"))
    try:
        result = run(args.backend, args.units, latency_ms=args.latency_ms, workdir=workdir,
                     naive=args.naive, profile=args.profile)
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    text = json.dumps(result, ensure_ascii=False, indent=1)
    if args.json_out:
        args.json_out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # Skip freeing gigabytes of objects one by one at exit (minutes at 5,000 units).
    os._exit(code)
