"""The goals of issue 17, each as a ratio of two figures measured in the same run (the
machine is shared: absolute times move with its load, ratios within one run much less)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

OPENPYXL_FLOOR_TARGET = 2.0
"""Local cold cycle CPU at most this many times openpyxl's read-only floor."""
CHANGED_CPU_TARGET = 0.5
"""Local cycle with 1 unit (of 500) changed: CPU seconds."""
GOOGLE_CHANGED_WALL_TARGET = 60.0
PIPELINE_RATIO_TARGET = 20.0
"""normalise + validate + merge over json.loads of the same answers."""
PER_CELL_TARGET_US = 3.0
IDLE_STAT_TARGET = 40.0
"""Local idle cycle CPU over one os.stat per workbook."""


def _n(value: float | int) -> str:
    return f"{value:,.0f}"


def _s(value: float) -> str:
    return f"{value:,.2f} s" if value < 10 else f"{value:,.1f} s"


def _mark(ok: bool) -> str:
    return "**met**" if ok else "**not met**"


def goals_section(google: list[dict[str, Any]], local: list[dict[str, Any]],
                  pipeline: Callable[[dict[str, Any]], dict[str, Any]]) -> str:
    rows: list[list[str]] = []
    for r in local:
        cold, floors = r["cycles"]["cold"], r.get("floors")
        where = f"local {_n(r['units'])}"
        if floors:
            ratio = cold["cpu"] / floors["openpyxl_cpu"]
            figure = (f"{_s(cold['cpu'])} CPU = {ratio:.1f}× openpyxl read-only "
                      f"({_s(floors['openpyxl_cpu'])})")
            if floors.get("calamine_cpu"):
                figure += (f", {cold['cpu'] / floors['calamine_cpu']:.0f}× python-calamine "
                           f"({_s(floors['calamine_cpu'])})")
            rows.append([f"cold cycle ≤ {OPENPYXL_FLOOR_TARGET:g}× the openpyxl read floor",
                         where, figure, _mark(ratio <= OPENPYXL_FLOOR_TARGET)])
    for r in local:
        changed, cold = r["cycles"]["changed"], r["cycles"]["cold"]
        per_500 = changed["cpu"]
        rows.append([f"1 % changed: ≤ {CHANGED_CPU_TARGET:g} s CPU per changed unit at 500 "
                     "(k = 1)", f"local {_n(r['units'])}",
                     f"{_s(per_500)} CPU for k = {changed['k']} "
                     f"({changed['cpu'] / cold['cpu']:.1%} of the cold cycle)",
                     _mark(changed["cpu"] / changed["k"] <= CHANGED_CPU_TARGET)])
    for r in local:
        floors = r.get("floors")
        idle = min(r["cycles"]["idle"]["cpu"], r["cycles"]["idle_again"]["cpu"])
        if floors and floors.get("stat_cpu"):
            ratio = idle / floors["stat_cpu"]
            rows.append([f"idle cycle ≤ {IDLE_STAT_TARGET:g}× one `os.stat` per workbook",
                         f"local {_n(r['units'])}",
                         f"{idle * 1000:,.0f} ms = {ratio:,.0f}× ({floors['stat_cpu'] * 1000:.1f}"
                         " ms of stat)", _mark(ratio <= IDLE_STAT_TARGET)])
    for r in google:
        changed, cold = r["cycles"]["changed"], r["cycles"]["cold"]
        beyond = changed["writes"] - changed["k"]
        rows.append([f"1 % changed: < {GOOGLE_CHANGED_WALL_TARGET:g} s wall, master writes "
                     "O(k)", f"google {_n(r['units'])}",
                     f"{_s(changed['wall'])} wall for k = {changed['k']} "
                     f"({changed['wall'] / cold['wall']:.1%} of the cold cycle); "
                     f"{_n(beyond)} writes beyond one per changed unit (cold: "
                     f"{_n(cold['writes'] - r['units'])})",
                     _mark(changed["wall"] < GOOGLE_CHANGED_WALL_TARGET
                           and beyond <= max(2, changed["k"]))])
    for r in google:
        p = pipeline(r)
        floor = r.get("floor") or {}
        if "ratio" in p and floor.get("cells"):
            per_cell = p["time"] / floor["cells"] * 1e6
            rows.append([f"normalise + validate + merge ≤ {PIPELINE_RATIO_TARGET:g}× "
                         f"`json.loads` (≤ {PER_CELL_TARGET_US:g} µs a cell)",
                         f"google {_n(r['units'])}",
                         f"{p['ratio']:,.0f}×, {per_cell:.1f} µs a cell",
                         _mark(p["ratio"] <= PIPELINE_RATIO_TARGET)])
    for r in google:
        echo = r["cycles"].get("echo")
        if echo is not None:
            rows.append(["no re-read of a sheet only we wrote (the echo cycle)",
                         f"google {_n(r['units'])}", f"{_n(echo['reads'])} reads",
                         _mark(echo["reads"] <= 1 + r["units"] // 1000)])
    if not rows:
        return ""
    head = (
        "## Issue 17 goals, as ratios within one run\n\n"
        "The machine these figures come from is shared (2 cores, other jobs running: see the "
        "load averages above), so absolute times are longer than on a quiet machine; each "
        "ratio divides two figures measured in the same process of the same run, under the "
        "same load. The local read floors read every cell value of a sample of "
        "the workbooks (50, scaled to N) before the cold cycle: openpyxl in read-only mode "
        "(the library the backend reads with) and python-calamine (a Rust reader); the stat "
        "floor is one `os.stat` per workbook (best of 5).\n\n"
    )
    body = "| goal | where | figure |  |\n|---|---|---|---|\n" + "\n".join(
        "| " + " | ".join(row) + " |" for row in rows)
    return head + body
