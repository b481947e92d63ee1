"""The benchmark code (bench/) runs end to end at a tiny scale, so it cannot rot unnoticed.

The request budget itself (cold, echo, idle and k changed at N = 12 and N = 200) is asserted
by tests/test_google_budget.py; this only checks that the bench still measures and reports:
its instrumentation reaches into the pipeline, the backends and the fake, which other
changes may move.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if not (ROOT / "bench").is_dir():  # an installed package without the source tree
    pytest.skip("bench/ is not here", allow_module_level=True)
sys.path.insert(0, str(ROOT))

from bench import report, scale  # noqa: E402
from cchc_sync.app import pipeline  # noqa: E402
from cchc_sync.sources.google import reader as google  # noqa: E402
from cchc_sync.sources.google import transport as google_http  # noqa: E402

UNITS = 6


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    originals = (pipeline.check_unit, google.read_table, google_http.GoogleTransport.request)
    out = {}
    for backend in ("google", "local"):
        out[f"{backend}/{UNITS}"] = scale.run(
            backend, UNITS, latency_ms=0, workdir=tmp_path_factory.mktemp(backend),
            naive=backend == "google")
    # Every timer and hook the cycles installed is gone again.
    assert (pipeline.check_unit, google.read_table,
            google_http.GoogleTransport.request) == originals
    return out


def test_google_cycles_are_measured(results):
    r = results[f"google/{UNITS}"]
    cycles = r["cycles"]
    assert cycles["cold"]["units_read"] == UNITS and cycles["cold"]["master_written"]
    assert cycles["cold"]["rows_changed"] == UNITS * 40
    assert cycles["idle"]["reads"] + cycles["idle"]["writes"] >= 1
    assert cycles["changed"]["k"] == 1 and cycles["changed"]["units_read"] == 1
    stages = cycles["cold"]["stages"]
    assert stages["check_unit"]["calls"] == UNITS and stages["read_table"]["calls"] > 0
    assert stages["record_rows"]["calls"] == UNITS
    assert cycles["cold"]["bodies"]["master_count"] == 1
    assert r["floor"]["payloads"] == UNITS and r["floor"]["json_loads_cpu"] > 0
    assert r["pipeline_profile"]["rows"] == UNITS * 40
    assert r["naive"]["per_unit"] == 2 + 9
    assert r["untrusted_times"] == 0  # the fake's clock moves with the bench's


def test_local_cycles_are_measured(results):
    r = results[f"local/{UNITS}"]
    assert r["cycles"]["cold"]["units_read"] == UNITS
    assert r["cycles"]["idle"]["units_read"] == 0
    assert r["cycles"]["changed"]["units_read"] == 1
    assert r["untrusted_times"] == 0  # the bench dates the workbooks it writes by its clock
    assert r["peak_rss_mb"] > 0
    floors = r["floors"]
    assert floors["workbooks"] == floors["sample"] == UNITS
    assert floors["openpyxl_cpu"] > 0 and floors["calamine_cpu"] > 0 and floors["stat_cpu"] > 0


def test_both_backends_see_the_same_content(results):
    """The bench types the same synthetic content into sheets and workbooks."""
    google, local = (results[f"{b}/{UNITS}"]["cycles"]["cold"] for b in ("google", "local"))
    assert (google["rows"], google["errors"], google["warnings"]) == \
        (local["rows"], local["errors"], local["warnings"])


def test_the_report_is_written_from_them(results):
    entries = {}
    for key, r in results.items():
        entries[key] = {**r, "date": "today", "command": "python -m bench", "loadavg": [1.0, 1.0],
                        "process_seconds": 1.0}
    run = {"date": "today", "command": "python -m bench", "seconds": 12.0,
           "plan": list(entries), "machine": {
               "cpu": "CPU", "cores": 2, "memory": "1 GiB", "python": "3", "implementation": "C",
               "os": "Linux", "packages": {"gspread": "6"}, "commit": "abc"}}
    text = report.render({"python -m bench": run}, entries)
    assert text.startswith("# Benchmarks")
    assert "`python -m bench` under 10 min" in text
    for section in ("## Targets", "## Requests per cycle", "## At Google's quota",
                    "## Time per cycle", "## Memory", "## Where the time goes", "## Method"):
        assert section in text
    assert f"| idle cycle: 1 request | google {UNITS} |" in text
    assert "## Issue 17 goals, as ratios within one run" in text
    assert f"× the openpyxl read floor | local {UNITS} |" in text
    assert "× python-calamine" in text and "× `json.loads`" in text
