"""docs/benchmarks.md from the measurements (bench/results.json): every figure in it comes
from a run; the prose around the figures says what they mean and, for a target missed,
where the time or memory goes (from the same run's stage timings and profile) and what
change would fix it."""

from __future__ import annotations

import math
from typing import Any

import bench.synth as synth
from bench.goals import goals_section
from bench.stages import STAGES
from bench.workspaces import DATA_ROWS, HTTP_TIMEOUT

GOOGLE_PER_MINUTE = 60
"""Sheets API quota per user (a service account is one user), reads and writes each."""
PROJECT_PER_MINUTE = 300
"""Sheets API quota per project, reads and writes each."""
PAYLOAD_LIMIT = 10 * 1024 * 1024
"""Google refuses a request body above 10,485,760 bytes ("Request payload size exceeds the
limit: 10485760 bytes.", as reported in scrt-hq/psgsuite#62)."""
DRIVE_PAGE = 1000
TARGET_MINUTES = 5
RUN_MINUTES = 10
CPU_TARGET = 60.0
LOCAL_CPU_TARGET = 120.0
"""Issue 17: a 5,000-unit cold cycle in seconds of CPU, Google (fake latency 0) and local."""
RSS_TARGET = 500.0
RATIO_TARGET = 5.0
TEMPLATE_TABS = 9

CYCLE_NAMES = {
    "cold": "cold cycle", "echo": "echo cycle, re-reading what the cold cycle's flags touched",
    "idle": "idle cycle", "changed": "1 % changed cycle", "changed_echo": "its echo",
    "idle_again": "idle again",
}


# -- formatting ---------------------------------------------------------------------------


def n(value: float | int | None) -> str:
    if value is None:
        return "–"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def sec(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f} s"
    if value >= 10:
        return f"{value:.1f} s"
    if value >= 0.1:
        return f"{value:.2f} s"
    return f"{value * 1000:.1f} ms"


def mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} MB"


def mib_bytes(value: float | None) -> str:
    return "–" if value is None else f"{value / 1024 / 1024:,.1f} MiB"


def mark(ok: bool | None) -> str:
    return "–" if ok is None else ("**met**" if ok else "**not met**")


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _entries(results: dict[str, Any], backend: str) -> list[dict[str, Any]]:
    return sorted((r for k, r in results.items() if k.startswith(backend + "/")),
                  key=lambda r: r["units"])


def _requests(c: dict[str, Any] | None) -> int | None:
    return None if c is None or "reads" not in c else c["reads"] + c["writes"]


def _rw(c: dict[str, Any] | None) -> str:
    if c is None or "reads" not in c:
        return "–"
    return f"{n(c['reads'])} r + {n(c['writes'])} w"


def _pipeline(r: dict[str, Any]) -> dict[str, Any]:
    """CPU seconds of the pipeline stages in the cold cycle, and the floor's."""
    st = r["cycles"]["cold"]["stages"]
    check = st.get("check_unit", {}).get("cpu", 0.0)
    merge = st.get("record_rows", {}).get("cpu", 0.0)
    rows = r["cycles"]["cold"]["rows_changed"]
    out: dict[str, Any] = {"check": check, "merge": merge, "time": check + merge, "rows": rows,
                           "rows_per_s": rows / (check + merge) if check + merge else None,
                           "read_table": st.get("read_table", {}).get("cpu")}
    floor = r.get("floor")
    if floor and floor.get("json_loads_cpu"):
        out["floor"] = floor["json_loads_cpu"]
        out["bytes"] = floor["bytes"]
        out["ratio"] = (check + merge) / out["floor"]
        if out["read_table"] is not None:
            out["ratio_read"] = (check + merge + out["read_table"]) / out["floor"]
    return out


def _pages(units: int) -> int:
    return max(1, math.ceil(units / DRIVE_PAGE))


def _google_minutes(reads: int, writes: int, accounts: int = 1) -> float:
    """Minutes at the per-user quota, reads then writes (a cycle reads, then writes)."""
    per = GOOGLE_PER_MINUTE * accounts
    return reads / per + writes / per


# -- sections -----------------------------------------------------------------------------


DEFAULT_COMMAND = "python -m bench"


def render(runs: dict[str, dict[str, Any]], results: dict[str, Any]) -> str:
    """runs: command -> its last run (date, seconds, plan, machine); results: the entries,
    "backend/units" -> measurement."""
    run = max(runs.values(), key=lambda r: r["date"])
    default = runs.get(DEFAULT_COMMAND)
    google, local = _entries(results, "google"), _entries(results, "local")
    parts = [_head(runs, results), _machine(run, results), _targets(default, google, local),
             goals_section(google, local, _pipeline),
             _requests_section(google), _quota(google), _times(google, local),
             _pipeline_section(google, local), _memory(google, local),
             _where(google, local), _profile(google), _misses(default, google, local),
             _method(), _header_note()]
    return "\n\n".join(p.strip() for p in parts if p) + "\n"


def _head(runs: dict[str, dict[str, Any]], results: dict[str, Any]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "_Generated by `bench/` from its measurements (raw figures: `bench/results.json`); "
        "do not edit by hand, re-run the command._",
        "",
        "```",
        f"{DEFAULT_COMMAND:36} # 50 and 200 units on both backends, from the repository root",
        "python -m bench --scales 500                    # the issue 17 goals at 500 (~12 min)",
        "python -m bench --scales 50,500 --backend google --latency-ms 200",
        "python -m bench --backend local --scales 5000   # the long ones, kept beside the rest",
        "python -m bench --backend google --scales 5000",
        "```",
        "",
        "Runs behind this page (each measurement below is from the last run that made it):",
        "",
    ]
    for command, r in sorted(runs.items(), key=lambda kv: kv[1]["date"]):
        plan = [k for k in r["plan"] if results.get(k, {}).get("date") == r["date"]]
        if not plan:
            continue
        lines.append(f"- `{command}` on {r['date']} at commit `{r['machine']['commit']}`: "
                     f"{', '.join(plan)} in {r['seconds'] / 60:.1f} min.")
    return "\n".join(lines)


def _machine(run: dict[str, Any], results: dict[str, Any]) -> str:
    m = run["machine"]
    packages = ", ".join(f"{k} {v}" for k, v in m["packages"].items())
    loads = [f"{k}: {'/'.join(f'{x:.1f}' for x in r['loadavg'] if x is not None)}"
             for k, r in sorted(results.items(), key=lambda kv: (kv[0].split('/')[0],
                                                                  kv[1]['units']))
             if r.get("loadavg")]
    return "\n".join([
        "## Machine",
        "",
        table(["CPU", "cores", "memory", "Python", "OS"],
              [[m["cpu"], m["cores"], m["memory"], f"{m['implementation']} {m['python']}",
                m["os"]]]),
        "",
        f"Packages: {packages}.",
        "",
        "One-minute load average before/after each measurement (above the core count, other "
        "work shared the machine and wall times are longer than alone; CPU times are this "
        "process's own and move much less): " + "; ".join(loads) + ".",
    ])


def _targets(default: dict[str, Any] | None, google: list[dict], local: list[dict]
             ) -> str:
    rows: list[list[Any]] = []
    for r in google:
        idle = [r["cycles"][k] for k in ("idle", "idle_again")]
        worst = max(_requests(c) or 0 for c in idle)
        rows.append(["idle cycle: 1 request", f"google {n(r['units'])}",
                     f"{n(worst)} request{'s' if worst != 1 else ''}", mark(worst == 1)])
    for r in google:
        cold, units = r["cycles"]["cold"], r["units"]
        rows.append(["cold cycle ≤ N + 3 reads", f"google {n(units)}",
                     f"{n(cold['reads'])} reads (N + {n(cold['reads'] - units)})",
                     mark(cold["reads"] <= units + 3)])
    for r in google:
        p = _pipeline(r)
        if "ratio" in p:
            rows.append([f"normalise + validate + merge ≤ {RATIO_TARGET:.0f}× `json.loads`",
                         f"google {n(r['units'])}", f"{p['ratio']:,.0f}×",
                         mark(p["ratio"] <= RATIO_TARGET)])
    big = [r for r in google if r["units"] >= 5000]
    for r in big:
        cold = r["cycles"]["cold"]
        latency = r.get("latency_ms") or 0
        rows.append([f"{n(r['units'])}-unit cold cycle < {CPU_TARGET:.0f} s CPU, fake latency 0",
                     f"google {n(r['units'])}" + (f" (latency {latency:g} ms)" if latency else ""),
                     f"{sec(cold['cpu'])} CPU ({sec(cold['wall'])} wall)",
                     mark(cold["cpu"] < CPU_TARGET) if not latency else "– (latency ≠ 0)"])
    if not big:
        rows.append([f"5,000-unit cold cycle < {CPU_TARGET:.0f} s CPU", "google 5,000",
                     "not measured", "–"])
    big_local = [r for r in local if r["units"] >= 5000]
    for r in big_local:
        cold = r["cycles"]["cold"]
        rows.append([f"{n(r['units'])}-unit cold cycle < {LOCAL_CPU_TARGET:.0f} s CPU",
                     f"local {n(r['units'])}", f"{sec(cold['cpu'])} CPU ({sec(cold['wall'])} wall)",
                     mark(cold["cpu"] < LOCAL_CPU_TARGET)])
    if not big_local:
        rows.append([f"5,000-unit cold cycle < {LOCAL_CPU_TARGET:.0f} s CPU", "local 5,000",
                     "not measured", "–"])
    for r in [x for x in google + local if x["units"] >= 5000]:
        rows.append([f"peak RSS < {RSS_TARGET:.0f} MB at 5,000 units",
                     f"{r['backend']} {n(r['units'])}", mb(r["peak_rss_mb"]),
                     mark(r["peak_rss_mb"] < RSS_TARGET)])
    if not any(x["units"] >= 5000 for x in local):
        rows.append([f"peak RSS < {RSS_TARGET:.0f} MB at 5,000 units", "local 5,000",
                     "not measured yet (see *Time per cycle*)", "–"])
    for r in google:
        bodies = r["cycles"]["cold"].get("bodies", {})
        master = bodies.get("master_max")
        if master:
            parts = bodies.get("master_count", 1)
            figure = mib_bytes(master) + (f", the largest of {parts} requests ("
                                          f"{mib_bytes(bodies.get('master_total'))} in all)"
                                          if parts > 1 else "")
            rows.append(["(found) master batchUpdate within Google's 10 MiB request limit",
                         f"google {n(r['units'])}", figure, mark(master <= PAYLOAD_LIMIT)])
    if default is not None:
        minutes = default["seconds"] / 60
        rows.append([f"`{DEFAULT_COMMAND}` under {RUN_MINUTES} min", ", ".join(default["plan"]),
                     f"{minutes:.1f} min", mark(minutes < RUN_MINUTES)])
    return "## Targets\n\n" + table(["target", "where", "figure", ""], rows)


def _requests_section(google: list[dict]) -> str:
    if not google:
        return ""
    naive = next((r["naive"] for r in google if r.get("naive")), None)
    header = ["units", "cold", "echo", "idle", "1 % changed (k)", "its echo", "idle again",
              "naive loop, every cycle"]
    rows = []
    for r in google:
        c = r["cycles"]
        units = r["units"]
        naive_cell = "–"
        if naive:
            naive_cell = f"{n(round(naive['per_unit'] * units))} r"
            if naive["units"] == units:
                naive_cell += " (measured)"
        rows.append([n(units), _rw(c["cold"]), _rw(c.get("echo")), _rw(c["idle"]),
                     f"{_rw(c['changed'])} (k = {c['changed']['k']})", _rw(c.get("changed_echo")),
                     _rw(c["idle_again"]), naive_cell])
    kinds = []
    for r in google:
        by_kind = r["cycles"]["cold"]["by_kind"]
        kinds.append([n(r["units"]), ", ".join(f"{k} {v:,}" for k, v in sorted(by_kind.items()))])
    text = [
        "## Requests per cycle (fake Google)",
        "",
        "Counted by the fake (every Sheets and Drive request that reached it; OAuth token "
        "requests aside): r = reads (GET), w = writes (everything else). The echo is the "
        "one re-read each of the software's own flag writes costs in the next cycle (Drive's "
        "`version` moved on; the content hash is unchanged, so nothing is checked or "
        "written).",
        "",
        table(header, rows),
        "",
        "Cold cycle by kind: " + "; ".join(f"{u} units: {k}" for u, k in kinds) + ".",
    ]
    if naive:
        text += [
            "",
            f"**Naive baseline**: a plain gspread loop that, every cycle, opens each unit's "
            f"spreadsheet (`open_by_key`: 1 metadata read), lists its tabs (`worksheets()`: "
            f"1) and reads each of the {naive['template_tabs']} template tabs "
            f"(`get_all_values()`: 1 each). Run against the fake at {n(naive['units'])} "
            f"units: {n(naive['reads'])} reads = {naive['per_unit']:g} per unit "
            f"({', '.join(f'{k} {v:,}' for k, v in sorted(naive['by_kind'].items()))}); "
            f"the other scales are that per-unit count × N (the loop does the same for every "
            f"unit: 2 + {TEMPLATE_TABS} template tabs), whether anything changed or not — "
            f"and it writes nothing back.",
        ]
    return "\n".join(text)


def _quota(google: list[dict]) -> str:
    if not google:
        return ""
    rows = []
    for r in google:
        c = r["cycles"]
        cold_r = c["cold"]["reads"] + c["echo"]["reads"]
        cold_w = c["cold"]["writes"] + c["echo"]["writes"]
        ch_r = c["changed"]["reads"] + c["changed_echo"]["reads"]
        ch_w = c["changed"]["writes"] + c["changed_echo"]["writes"]
        naive = next((x["naive"] for x in google if x.get("naive")), None)
        naive_cell = "–"
        if naive:
            naive_cell = f"{naive['per_unit'] * r['units'] / GOOGLE_PER_MINUTE:,.1f} min"
        rows.append([n(r["units"]), f"{_google_minutes(cold_r, cold_w):,.1f} min",
                     f"{_google_minutes(c['idle']['reads'], c['idle']['writes']):,.2f} min",
                     f"{_google_minutes(ch_r, ch_w):,.1f} min", naive_cell])
    text = [
        "## At Google's quota (computed from the counts above)",
        "",
        f"Google allows {GOOGLE_PER_MINUTE} read and {GOOGLE_PER_MINUTE} write requests a "
        f"minute per user — a service account is one user — and {PROJECT_PER_MINUTE} of each "
        "per project. The backend's limiter keeps a rolling minute per kind, and a cycle "
        "reads first, then writes, so a cycle of R reads and W writes takes about "
        f"R/{GOOGLE_PER_MINUTE} + W/{GOOGLE_PER_MINUTE} minutes (the first "
        f"{GOOGLE_PER_MINUTE} of each kind in an empty window go at once, so small cycles "
        "take only the API's latency, ~0.1–0.5 s a request, one at a time). Cold and 1 % "
        "include the echo cycle that follows them.",
        "",
        table(["units", "cold + echo", "idle", "1 % changed + echo", "naive loop, per cycle"],
              rows),
    ]
    big = next((r for r in reversed(google) if r["units"] >= 5000), None)
    if big:
        c = big["cycles"]
        k = c["changed"]["k"]
        one_r, one_w = c["changed"]["reads"], c["changed"]["writes"]
        reads = one_r + c["changed_echo"]["reads"]
        writes = one_w + c["changed_echo"]["writes"]
        needed = max(1, math.ceil((reads + writes) / (GOOGLE_PER_MINUTE * TARGET_MINUTES)))
        cold_r = c["cold"]["reads"] + c["echo"]["reads"]
        cold_w = c["cold"]["writes"] + c["echo"]["writes"]
        cold_needed = math.ceil((cold_r + cold_w) / (GOOGLE_PER_MINUTE * TARGET_MINUTES))
        per_project = PROJECT_PER_MINUTE // GOOGLE_PER_MINUTE
        text += [
            "",
            f"**Service accounts for a {n(big['units'])}-unit cycle with 1 % changed under "
            f"{TARGET_MINUTES} minutes: {needed}.** The cycle ({k} units changed) costs "
            f"{n(one_r)} reads and {n(one_w)} writes, "
            f"{_google_minutes(one_r, one_w):.1f} min at one account's steady rate; with the "
            f"echo it causes in the next cycle, {n(reads)} and {n(writes)}, "
            f"{_google_minutes(reads, writes):.1f} min — both less with the burst of "
            f"{GOOGLE_PER_MINUTE} an empty window allows. S accounts used in parallel divide "
            f"the time by S, so S ≥ (R + W) / ({GOOGLE_PER_MINUTE} × {TARGET_MINUTES}). The "
            f"cold cycle and its echo ({n(cold_r)} reads, {n(cold_w)} writes) would need "
            f"{cold_needed} accounts for {TARGET_MINUTES} minutes and, since a project allows "
            f"{PROJECT_PER_MINUTE} a minute of each kind ({per_project} accounts' worth), "
            f"{math.ceil(cold_needed / per_project)} Cloud projects; with one account it takes "
            f"{_google_minutes(cold_r, cold_w):,.0f} minutes, once per period, paced by the "
            "daemon's limiter.",
            "",
            "**The backend supports one service account.** `[google] credentials` is one key "
            "file; `GoogleBackend` holds one gspread client and one `GoogleTransport` with one "
            "pair of limiters, and sends one request at a time. Several accounts would take: "
            "`credentials` as a list; one transport (client + limiters) per key; unit sheets "
            "spread over the accounts (every account can read every sheet when the folder is "
            "shared with all of them; writes then come from several editors, so each account "
            "must be an editor of the protected ranges, i.e. listed in `editors.users` at "
            "creation); a worker thread per account, because one thread at Google's latency "
            "sends only ~120–300 requests a minute; the one Drive listing per cycle kept on "
            f"one account; at most {per_project} accounts per Cloud project.",
        ]
    return "\n".join(text)


def _times(google: list[dict], local: list[dict]) -> str:
    rows = []
    for r in google + local:
        c = r["cycles"]
        latency = f" ({r['latency_ms']:g} ms)" if r.get("latency_ms") else ""
        echo = c.get("echo")
        rows.append([
            f"{r['backend']}{latency}", n(r["units"]), sec(r["setup_seconds"]),
            f"{sec(c['cold']['wall'])} / {sec(c['cold']['cpu'])}",
            f"{sec(echo['wall'])} / {sec(echo['cpu'])}" if echo else "–",
            f"{sec(c['idle']['wall'])} / {sec(c['idle']['cpu'])}",
            f"{sec(c['changed']['wall'])} / {sec(c['changed']['cpu'])}",
            "/".join(f"{x:.1f}" for x in r.get("loadavg", []) if x is not None) or "–",
        ])
    extrapolated = _extrapolated_local(local)
    text = [
        "## Time per cycle: wall / CPU",
        "",
        "CPU is `time.process_time()` of the process running the cycle (the fake runs in a "
        "process of its own, as Google would); with the fake's latency at 0, wall minus CPU "
        "is mostly time spent waiting for the fake to do Google's work. Setup: building the "
        "filled workspace (not part of any cycle). Unless `--serial`, two measurements run "
        "side by side, the longest first (a Google cycle and its fake take turns, one request "
        "at a time, about one core between them), so wall times include some sharing of the "
        "two cores; see the load averages.",
        "",
        table(["backend", "units", "setup", "cold", "echo", "idle", "1 % changed", "load avg"],
              rows),
    ]
    if extrapolated:
        text += ["", extrapolated]
    return "\n".join(text)


def _extrapolated_local(local: list[dict]) -> str:
    if not local or any(r["units"] >= 5000 for r in local):
        return ""
    base = local[-1]
    factor = 5000 / base["units"]
    cold = base["cycles"]["cold"]
    return (f"Local at 5,000 units is not run by the default command: the cold cycle reads "
            f"and rewrites every workbook through openpyxl (see *Where the time goes*). "
            f"Linear from {n(base['units'])} units (×{factor:,.0f}): a cold cycle of "
            f"~{sec(cold['wall'] * factor)} wall, ~{sec(cold['cpu'] * factor)} CPU — an "
            f"estimate, not a measurement; `python -m bench --backend local --scales 5000` "
            f"measures it (about as long, plus the setup) and keeps it in this page.")


def _pipeline_section(google: list[dict], local: list[dict]) -> str:
    rows = []
    for r in google + local:
        p = _pipeline(r)
        rows.append([
            r["backend"], n(r["units"]), n(p["rows"]), sec(p["check"]), sec(p["merge"]),
            n(round(p["rows_per_s"])) if p["rows_per_s"] else "–",
            mib_bytes(p.get("bytes")), sec(p.get("floor")) if "floor" in p else "–",
            f"{p['ratio']:,.0f}×" if "ratio" in p else "–",
            sec(p["read_table"]) if p.get("read_table") is not None else "–",
            f"{p['ratio_read']:,.0f}×" if "ratio_read" in p else "–",
        ])
    return "\n".join([
        "## Normalise + validate + merge, and the JSON-decode floor",
        "",
        "Measured inside the cold cycle (every unit's rows are new): `check_unit` (normalise "
        "+ validate) and `Archive.record_rows` (merge into the archive), their CPU time "
        "(this thread's: steadier than wall time on a shared machine) summed over all units; "
        "rows per second of CPU through both. The floor: `json.loads` over the very "
        "`values.batchGet` answers the cold cycle decoded (captured as they arrived, decoded "
        "again after the cycles, CPU time, best of 5). `read_table` (values → RawTable: "
        "header matching, cell formats) is shown beside it; it is the backend's reading, not "
        "part of the ratio's numerator, so the second ratio adds it.",
        "",
        table(["backend", "units", "rows", "check_unit", "record_rows", "rows/s", "payloads",
               "json.loads", "ratio", "read_table", "ratio incl. read_table"], rows),
    ])


def _memory(google: list[dict], local: list[dict]) -> str:
    rows = []
    for r in google + local:
        c = r["cycles"]
        growth = _rss_growth(r)
        rows.append([r["backend"], n(r["units"]), mb(r["peak_rss_after_setup_mb"]),
                     mb(c["cold"]["peak_rss_mb"]), mb(r["peak_rss_mb"]),
                     mb(r.get("fake_peak_rss_mb")), growth])
    return "\n".join([
        "## Memory",
        "",
        "Peak RSS (`ru_maxrss`) of the process running the cycles: after the setup, after the "
        "cold cycle, after all cycles (before the floor and profile, which come after); the "
        "fake's own process beside it. *Raised by*: the stages during which the high-water "
        "mark rose, with how much (inclusive: a stage inside another counts in both).",
        "",
        table(["backend", "units", "after setup", "after cold", "peak (all cycles)",
               "fake's process", "raised by (cold cycle)"], rows),
    ])


def _peak_cycle(r: dict[str, Any]) -> str:
    """The first cycle whose end saw the run's peak RSS (the cold one when none says)."""
    peak = r.get("peak_rss_mb", 0)
    for name, c in r["cycles"].items():
        if c.get("peak_rss_mb", 0) >= peak:
            return name
    return "cold"


def _rss_growth(r: dict[str, Any], cycle: str = "cold") -> str:
    stages = r["cycles"][cycle]["stages"]
    grown = sorted(((v.get("rss_growth_mb", 0), k) for k, v in stages.items()
                    if v.get("rss_growth_mb", 0) >= 5), reverse=True)
    labels = {k: label.split("`")[1] if "`" in label else k for k, _, label in STAGES}
    return ", ".join(f"{labels[k]} +{g:,.0f} MB" for g, k in grown[:5]) or "–"


def _stage_table(cycle: dict[str, Any]) -> str:
    stages = cycle["stages"]
    rows = []
    for key, parent, label in STAGES:
        st = stages.get(key)
        if not st:
            continue
        rows.append([("&nbsp;&nbsp;&nbsp;↳ " if parent else "") + label, n(st["calls"]),
                     sec(st["wall"]), f"{st['wall'] / cycle['wall']:.0%}" if cycle["wall"] else "–",
                     sec(st["cpu"]), f"{st['cpu'] / cycle['cpu']:.0%}" if cycle["cpu"] else "–"])
    return table(["stage (inclusive)", "calls", "wall", "of wall", "CPU", "of CPU"], rows)


def _where(google: list[dict], local: list[dict]) -> str:
    text = ["## Where the time goes",
            "",
            "Each cycle's functions are timed in place (inclusive wall and this thread's CPU, "
            "summed over calls; no profiler, so the cycle runs at full speed). Rows marked ↳ "
            "are inside the row above them. Shares are of the whole cycle."]
    for entries in (google, local):
        if not entries:
            continue
        r = entries[-1]
        for name in ("cold", "echo", "idle", "changed"):
            c = r["cycles"].get(name)
            if c is None:
                continue
            text += ["", f"### {r['backend']}, {n(r['units'])} units, {CYCLE_NAMES[name]} "
                     f"({sec(c['wall'])} wall, {sec(c['cpu'])} CPU)", "", _stage_table(c)]
    return "\n".join(text)


def _profile(google: list[dict]) -> str:
    r = next((x for x in reversed(google) if x.get("pipeline_profile")), None)
    if r is None:
        return ""
    p = r["pipeline_profile"]
    rows = [[f"`{t['function']}`", n(t["calls"]), sec(t["own"]), f"{t['share']:.0%}",
             sec(t["cumulative"])] for t in p["top"]]
    return "\n".join([
        "## Profile of normalise + validate + merge",
        "",
        f"cProfile of `check_unit` + `Archive.record_rows` on {n(p['units'])} units' captured "
        f"payloads ({n(p['rows'])} rows) at the {n(r['units'])}-unit scale, into a scratch "
        f"archive: {sec(p['total'])} under the profiler. The functions with the most own "
        "time:",
        "",
        table(["function", "calls", "own time", "share", "cumulative"], rows),
    ])


# -- misses ---------------------------------------------------------------------------------


FIXES = {
    "read_table": "`sheet_layout.find_header` tries each of the first 10 rows of every tab "
                  "as the header (`layout.match_header`), and `match_header` folds every "
                  "cell and every template title with `normalise.fold` on each call, for "
                  "every unit, although the titles are the same in thousands of sheets: "
                  "memoising `fold` (an `lru_cache` for short strings) or `match_header` (on "
                  "the tuple of header cells), and folding the template titles once per "
                  "template set, removes most of it — in both backends, whose readers share "
                  "`find_header`",
    "check_unit": "`check_unit` reads each row through column readers compiled once per "
                  "table (`checks/row_cells.py`: a plain int within its count column's "
                  "bounds is its value; a text or int read clean once in a column comes "
                  "from a memo, with no `Parsed` or `Finding`; tests/test_row_cells.py holds "
                  "them to `normalise_cell`), over the per-cell fast paths and the "
                  "per-process caches of text readings and document numbers "
                  "(tests/test_normalise_fast_paths.py); what is left is the first reading "
                  "of each distinct value (every unit's own document numbers and dates, "
                  "numbers typed with separators as text through babel's strict parse: most "
                  "of a small run, where few values repeat yet) and, per row, a `TypedRow` "
                  "and its key; the row checks run as one loop per check over a table's "
                  "rows (`RowCheck.rows_to_check`, operands resolved once; "
                  "tests/test_row_checks_loop.py holds it to `check_row` on every row)",
    "record_rows": "`Archive.record_rows` sends versions, positions and layouts with "
                   "`executemany`, encodes each row with one C JSON encoder built once, and "
                   "no longer updates a second index that repeated the UNIQUE one; what is "
                   "left is SQLite's own work per row — a row version and a position, each "
                   "a table and an index b-tree insert plus the change counter's trigger, "
                   "7–9 µs a row with bare `executemany` on this machine, the positions "
                   "(a second table, rewritten for every row read) about half of that — "
                   "and a commit per unit; fewer b-trees per row means a schema change",
    "current_rows": "`publish.write_flags` calls `Archive.current_rows(unit=…)`, "
                    "`layouts` and `open_findings` once per unit it flags: one query per "
                    "table for all units, grouped in memory, instead",
    "write_master": "when any input of the master moved, the book is computed again from "
                    "every current row (`publish.write_master`: figures, the pandas book, its "
                    "fingerprint); the local backend then renders only the rows of the "
                    "blocks that changed (`xlsx/master_update.py`) but still compresses the "
                    "whole zip again: computing figures and tabs per changed unit would "
                    "make the rest O(k) too",
    "master_requests": "the master's parts (`google_master.master_batches`, a generator: "
                       "one part alive at a time) are assembled from the rows' JSON the "
                       "shape spooled (`master_spool.py`: each row's CellData made and "
                       "encoded once, in `update_master`'s shape); ~50 bytes a cell. RAW "
                       "`values.batchUpdate` rows would be fewer bytes but cannot share an "
                       "atomic request with the row inserts and deletes "
                       "(`master_update.py`)",
    "http": "`GoogleTransport.request`'s own CPU: requests/urllib3/google-auth per call "
            "(two calls a unit: preparing the request and its URL, the connection pool), "
            "`json.dumps` of each body and decoding each answer once (compact: "
            "`prettyPrint=false`); a lighter HTTP client than requests' Session would "
            "shrink it",
    "backend_flags": "one batchUpdate per unit, most of it the fake's own work",
    "read_unit": "one batchGet per unit, most of it waiting for the fake",
    "progress": "`publish.unit_progress` runs one query per submitted unit (`_signoff_time`)",
}


def _top_stages(c: dict[str, Any], key: str = "cpu", count: int = 4) -> list[tuple[str, float]]:
    leaves = {"read_table", "check_unit", "record_rows", "current_rows", "content_hash",
              "plan_flags", "figures", "build_master", "progress", "master_requests", "scan",
              "replace_findings", "update_sheet", "cross", "history", "http"}
    stages = c["stages"]
    out = [(k, v[key]) for k, v in stages.items() if k in leaves]
    return sorted(out, key=lambda kv: kv[1], reverse=True)[:count]


def _misses(default: dict[str, Any] | None, google: list[dict], local: list[dict]) -> str:
    labels = {k: label for k, _, label in STAGES}
    text = ["## Targets missed: where it goes, what would fix it"]
    for r in google:
        units = r["units"]
        idle = max(_requests(r["cycles"][k]) or 0 for k in ("idle", "idle_again"))
        pages = r["cycles"]["idle"]["by_kind"].get("GET drive.files.list", 0)
        if idle > 1:
            text += ["", f"**Idle cycle at {n(units)} units: {idle} requests.** Drive lists at "
                     f"most {DRIVE_PAGE:,} files a page; the folder holds {n(units)} unit sheets "
                     f"and the master ({pages} pages here). A folder of more than one page is "
                     "listed whole every 15 minutes (`DriveFolder.listing`); in between, only "
                     "the files modified since 10 minutes before the newest `modifiedTime` "
                     "seen: one page while fewer than 1,000 sheets changed in those minutes. "
                     "The bench runs its cycles back to back, so the idle cycle comes minutes "
                     "after the cold cycle's flag writes touched every sheet: they are all "
                     "still recent, and the listing is whole again. In service (a cycle every "
                     "few minutes, sheets changing now and then) it is one request; "
                     "`tests/test_google_big_folder.py` asserts it with 1,013 files. Beyond: "
                     "Drive's changes feed (`changes.list`: 1 request when nothing changed, at "
                     "any N; the fake would need it)."]
        cold = r["cycles"]["cold"]
        if cold["reads"] > units + 3:
            listings = cold["by_kind"].get("GET drive.files.list", 0)
            text += ["", f"**Cold cycle at {n(units)} units: {n(cold['reads'])} reads, N + "
                     f"{cold['reads'] - units}.** Two listings a cycle (the scan, then the one "
                     "before the first flag write that checks nobody edited since the read), "
                     f"{listings} pages in all; the first is whole (no earlier listing in "
                     "this process), the second asks only for recent changes, which in a cold "
                     "cycle are every sheet (just written). A later cycle's listings are one page "
                     "each (above). The same two listings make the 1 % cycle "
                     f"{n(r['cycles']['changed']['reads'])} reads for k = "
                     f"{r['cycles']['changed']['k']} (issue 3's budget: k + 3)."]
    big = next((r for r in reversed(google) if r["units"] >= 5000), None)
    ratios = [(_pipeline(r), r) for r in google]
    ratios = [(p, r) for p, r in ratios if p.get("ratio", 0) > RATIO_TARGET]
    if ratios:
        p, r = ratios[-1]
        cells = _cells_per_row(r)
        top = r.get("pipeline_profile", {}).get("top", [])[:5]
        text += ["", f"**Normalise + validate + merge: {p['ratio']:,.0f}× the JSON-decode "
                 f"floor at {n(r['units'])} units** ({sec(p['time'])} against "
                 f"{sec(p['floor'])} for {mib_bytes(p['bytes'])} of payloads): `json.loads` "
                 f"is C and decodes ~{p['bytes'] / p['floor'] / 1e6:,.0f} MB/s; the pipeline "
                 f"handles {n(round(p['rows_per_s']))} rows/s, about "
                 f"{1e6 / p['rows_per_s'] / cells:,.0f} µs per cell (~{cells:.0f} cells a "
                 f"row), in Python: of it, `check_unit` {sec(p['check'])} and `record_rows` "
                 f"{sec(p['merge'])}. The profile above shows where: "
                 + "; ".join(f"`{t['function']}` {t['share']:.0%}" for t in top)
                 + ". Fixes, by size: " + "; ".join(FIXES[k] for k in ("check_unit",
                                                                        "record_rows"))
                 + f". {RATIO_TARGET:.0f}× a C JSON parser is out of reach for per-cell "
                 "normalisation in Python: the fixes shrink the numerator by a factor, not "
                 "by the two orders of magnitude between them."]
    if big and big["cycles"]["cold"]["cpu"] >= CPU_TARGET and not big.get("latency_ms"):
        c = big["cycles"]["cold"]
        tops = _top_stages(c)
        echo = big["cycles"].get("echo")
        text += ["", f"**{n(big['units'])}-unit cold cycle: {sec(c['cpu'])} CPU (target "
                 f"{CPU_TARGET:.0f} s).** Per unit {c['cpu'] / big['units'] * 1000:,.1f} ms. "
                 "The largest stages (own work, CPU): "
                 + "; ".join(f"{labels[k]} {sec(v)} ({v / c['cpu']:.0%})" for k, v in tops)
                 + ". Fixes: " + "; ".join(FIXES[k] for k, _ in tops if k in FIXES) + "."
                 + (f" The echo cycle that follows re-reads every sheet for another "
                    f"{sec(echo['cpu'])} CPU, most of it `read_table` again "
                    f"({sec(echo['stages'].get('read_table', {}).get('cpu'))})."
                    if echo and echo.get("reads", 0) > big["units"] // 2 else "")
                 + _load_note(big)]
    for r in [x for x in google + local if x["units"] >= 5000]:
        if r["peak_rss_mb"] >= RSS_TARGET:
            cycle = _peak_cycle(r)
            text += ["", f"**Peak RSS at {n(r['units'])} units ({r['backend']}): "
                     f"{mb(r['peak_rss_mb'])}**, reached in the {CYCLE_NAMES[cycle]} (after "
                     f"the cold cycle: {mb(r['cycles']['cold']['peak_rss_mb'])}). Raised there "
                     f"by: {_rss_growth(r, cycle)}. " + _memory_fix(r, cycle)]
    over = [(r, r["cycles"]["cold"]["bodies"]["master_max"]) for r in google
            if r["cycles"]["cold"].get("bodies", {}).get("master_max", 0) > PAYLOAD_LIMIT]
    if over:
        sizes = ", ".join(f"{mib_bytes(size)} at {n(r['units'])} units" for r, size in over)
        r, size = over[-1]
        text += ["", f"**The master's batchUpdate is over Google's request limit: {sizes}** "
                 f"({size / r['units'] / 1024:,.1f} KB per unit at {synth.ROWS_PER_UNIT} rows "
                 "each), measured " + ", ".join(f"at commit `{x['machine'].get('commit', '?')}`"
                                                for x, _ in over)
                 + ". Google refuses a request body over 10 MiB (400 \"Request payload "
                 "size exceeds the limit: 10485760 bytes\", as reported in "
                 "scrt-hq/psgsuite#62), and so does the fake now. Since then the master goes "
                 "in parts within a budget (`master_request_bytes`, 2 MB: "
                 "`google_master.master_batches`, docs/google-backend.md), into hidden tabs "
                 "swapped in by one small batchUpdate; re-run this scale to measure it. "
                 "Further: the rows as `values.batchUpdate` RAW values (a few bytes a cell "
                 "instead of a CellData object) would make the parts fewer."]
    minutes = default["seconds"] / 60 if default else 0
    if default and minutes >= RUN_MINUTES:
        slow = sorted(((r.get("process_seconds", 0), f"{r['backend']}/{n(r['units'])}")
                       for r in google + local if r.get("date") == default["date"]),
                      reverse=True)
        text += ["", f"**`{DEFAULT_COMMAND}` took {minutes:.1f} min.** By measurement: "
                 + ", ".join(f"{k} {sec(s)}" for s, k in slow[:4]) + ". "
                 + _bench_time_note(google)]
    if len(text) == 1:
        text += ["", "None."]
    return "\n".join(text)


def _load_note(r: dict[str, Any]) -> str:
    """Why a CPU time measured on a busy machine reads higher than on a quiet one."""
    load = [x for x in r.get("loadavg") or [] if x is not None]
    cores = (r.get("machine") or {}).get("cores") or 0
    if not load or not cores or max(load) <= cores:
        return ""
    return (f" This run shared the machine (load {max(load):.1f} on {cores} cores, the cold "
            f"cycle {sec(r['cycles']['cold']['wall'])} of wall): the two cores are two "
            "threads of one, so a process's CPU time grows with the other work beside it "
            "(docs/testing.md measures 1.6× for the same test); compare the stages' shares "
            "rather than their seconds with a run on a quiet machine.")


def _cells_per_row(r: dict[str, Any]) -> float:
    floor = r.get("floor") or {}
    rows = r["cycles"]["cold"]["rows_changed"] or 1
    # Columns per template row, on average over the synthetic content (see bench/synth.py).
    return max(1.0, floor.get("cells", 0) / rows) if floor.get("cells") else 7.0


def _memory_fix(r: dict[str, Any], cycle: str = "cold") -> str:
    stages = r["cycles"][cycle]["stages"]
    out = []
    if stages.get("current_rows", {}).get("rss_growth_mb", 0) >= 50:
        out.append("`Archive.current_rows` holds every current row of the period as a "
                   "`CurrentRow` with its values decoded from JSON (here "
                   f"{n(r['cycles']['cold']['rows'])} rows; streamed off the cursor into one "
                   "list, keys and short texts interned) for the cross-unit rules, the "
                   "figures and the master at once: computing the figures and the "
                   "cross-unit checks in SQL, or over rows streamed per table, bounds it")
    if r["backend"] == "google":
        if stages.get("backend_master", {}).get("rss_growth_mb", 0) >= 50:
            out.append("the master: `master.build_master` makes a pandas book of every "
                       "current row; its parts are made one at a time as they are sent "
                       "(`google_master.master_batches`)")
    elif stages.get("backend_master", {}).get("rss_growth_mb", 0) >= 50 and cycle != "cold":
        out.append("the local master's incremental write (`xlsx/master_update.py`): it "
                   "reads the master last written from disk to copy the rows of the blocks "
                   "that did not change, and the rendered and copied XML of a tab is held "
                   "while the new zip is written; a cycle that renders the whole master "
                   "(the cold one) stays lower. Streaming each tab's rows from the old zip "
                   "into the new one would bound it")
    elif stages.get("write_master", {}).get("rss_growth_mb", 0) >= 50:
        out.append("the local master's pandas book holds every current row again, and each "
                   "tab's XML is rendered in memory before it goes into the zip")
    return ("Where: " + "; ".join(out) + ".") if out else ""


def _bench_time_note(google: list[dict]) -> str:
    big = next((r for r in reversed(google) if r["units"] >= 5000), None)
    if big is None:
        return ""
    c = big["cycles"]
    waited = sum(c[k]["wall"] - c[k]["cpu"] for k in c)
    return (f"At {n(big['units'])} units the cycles waited {sec(waited)} for the fake (wall "
            f"minus CPU): the fake applies each flag write's batchUpdate cell by cell in "
            f"Python (colour and format normalisation of each repeatCell cell, a copy of the "
            f"spreadsheet per batchUpdate), tens of milliseconds a unit — Google's side of "
            f"the work, which a real cycle spends at Google and at its quota instead.")


def _method() -> str:
    return "\n".join([
        "## Method",
        "",
        f"- **Units** (`bench/synth.py`): a registry of N units on two levels (one in "
        f"{synth.DEPARTMENT_EVERY} a provincial department, the rest communes), each filling "
        f"every tab with {synth.ROWS_PER_UNIT} rows: 8 fields of procedures, 2 online-service "
        "rows, one-stop shop, digital signatures, 6 staffing rows, 6 courses, 14 documents "
        "(12 of its own, 2 provincial ones every unit cites with the same date), ISO, sign-off. "
        "Three typing styles as in the demo district (stored numbers and dates; Vietnamese "
        "grouping as text in decomposed Unicode; long text dates), and one unit in "
        f"{synth.MISTAKE_EVERY} with one of the mistakes clerks make. Period "
        f"{synth.PERIOD}, a clock inside its window.",
        "- **Google**: the fake Google APIs (`cchc_sync.testing.fake_google`) run in their own "
        "process (`bench/fake_server.py`), reached over HTTP by the real gspread and "
        "google-auth, so the cycle's CPU time and RSS are the daemon's alone. `init` runs as "
        "in production, but only the first unit's sheet is made by the real requests; it is "
        "copied inside the fake for the other units (own Drive file in the folder, the unit's "
        "e-mail as writer, its own `_cchc` unit code and name), then each unit's content is "
        "typed in as a clerk types (USER_ENTERED, one edit per tab, each bumping Drive's "
        f"version). Tabs are formatted for {DATA_ROWS} data rows (production: 500; it only "
        "changes how many formatted cells the fake stores). The limiter is set out of the way "
        "(the fake has no quota; time at Google's quota is computed above). The HTTP timeout "
        f"is {HTTP_TIMEOUT:.0f} s instead of 30 s: with 30 s, the 5,000-unit master write "
        "times out on the fake, is retried six times and never lands, and every later cycle "
        "tries again. Each unit's sheet is a copy of the first (`Spreadsheet.clone`): it "
        "shares the cells its typing leaves alone, as copies of a sheet do in the fake.",
        "- **Local**: `init` as in production; each workbook is made by the backend's own "
        "`create_unit_sheet` with the unit's rows as starting rows (the carried-forward "
        "path), stored as a clerk's typing stores them. The changes of the 1 % cycle are made "
        "with `cchc_sync.testing.typist.set_cell`.",
        "- **Cycles**: `sync_once` on a workspace opened afresh after setup (a new backend, "
        "nothing cached), each cycle 10 minutes after the previous on the bench's clock: the "
        "real clock set back into the period's window when the bench starts, moved ten "
        "minutes on at each cycle; the fake's clock moves with it and the workbooks the bench "
        "writes are dated by it, so file times are believable as in service (no cycle "
        "refuses one: `untrusted_times` in the results). "
        "Each backend and scale runs in its own process (`python -m bench.scale`), so its "
        "peak RSS is its own.",
        "- **Counting**: the fake's own counters, reset before each cycle.",
        "- **Timing inside a cycle** (`bench/stages.py`): the pipeline's functions are "
        "wrapped for the cycle's duration (module and instance attributes swapped and put "
        "back; no file of the package is changed); the same wrapper records request body "
        "sizes and captures batchGet answers for the floor.",
    ])


def _header_note() -> str:
    """Figures measured by hand (not by `python -m bench`): kept here so that re-rendering
    the page keeps them."""
    return "\n".join([
        "## Note: header matching fast path (measured by hand, 2026-11-26)",
        "",
        "Not from `python -m bench` (the tables above predate it): timeit micro-benchmarks "
        "(best of 7 × 1,000 calls), one pass over synth units' tabs and one bench run each, "
        "on this machine while shared (load 1.5–3), the package at `88fa2d8` (before) and "
        "`6ff50cc` (after). "
        "`sheet_layout.find_header` now stops at a row that matches every column the table "
        "can match and memoises text header rows (`header_memo`: LRU of 512 by table, row "
        "number and cells); the template titles are folded once per table "
        "(`layout.header_keys`). Results are unchanged (`tests/test_header_fast_path.py` "
        "compares them with the former matcher).",
        "",
        table(["what", "before", "after"], [
            ["`find_header`, the template header on row 1 (10 rows given)", "64 µs", "2.1 µs"],
            ["`find_header`, the template header on row 3", "61 µs", "3.3 µs"],
            ["`find_header`, one title renamed (every row scored)", "69 µs", "40 µs"],
            ["`google_read.read_table`, 12-row tthc tab, template header", "168 µs", "103 µs"],
            ["`google_read.read_table` over 5,000 synth units' 9 tabs (45,000 calls), CPU",
             "2.60 s", "1.57 s"],
            ["the same over 1,000 units, `fold`'s cache emptied before each call (as "
             "`check_unit` churns it)", "125 µs a call", "33 µs a call"],
            ["`xlsx_read._raw_row`, per cell (half the rows with missing cells)", "1,021 ns",
             "890 ns"],
            ["`xlsx_read.read_table`, real unit tabs (openpyxl's parsing is most of it)",
             "585 µs", "565 µs"],
            ["`python -m bench --backend google --scales 500`: `read_table` CPU, cold / echo "
             "cycle", "0.58 s / 0.53 s", "0.34 s / 0.38 s"],
        ]),
    ])
