"""`cchc-sync run` as a real process: cycles on schedule, picks up edits, stops on signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time

import pytest

from cchc_sync.testing.typist import type_rows
from tests import cli_process
from tests.conftest import HANG_GUARD, current_period, make_district


def _wait_for(proc_log, pattern, timeout=HANG_GUARD):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = proc_log.read_text(encoding="utf-8", errors="replace")
        if re.search(pattern, text):
            return text
        time.sleep(0.1)
    raise AssertionError(f"{pattern!r} not in log:\n{proc_log.read_text()}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_daemon_runs_cycles_and_stops_cleanly(tmp_path, sig):
    ws = make_district(tmp_path / "d", period=current_period())
    config = ws.config.path
    text = config.read_text(encoding="utf-8")
    # stop_timeout at its maximum: the clean stop is what this test is about, and a busy
    # machine must not turn it into the hard exit (tested on its own in test_service_parts).
    config.write_text(text.replace("interval_minutes = 10", "interval_minutes = 0.02")
                      + "\n[service]\nstop_timeout = 60\n", encoding="utf-8")
    ws.close()
    log = tmp_path / "daemon.log"
    with log.open("w") as out:
        proc = cli_process.Popen(
            ["run", "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    try:
        _wait_for(log, r"cycle: read 12/12 units")
        # An edit made while the daemon runs is picked up by a later cycle.
        path = tmp_path / "d" / "don-vi" / current_period()
        workbook = next(path.glob("XA_AB-*.xlsx"))
        type_rows(workbook, {"Đào tạo, bồi dưỡng": [
            {"Nội dung đào tạo, bồi dưỡng": "Tập huấn", "Số lượt người": "1,5"}]})
        _wait_for(log, r"cycle: read 1/12 units")
        # Idle cycles read nothing.
        _wait_for(log, r"cycle: read 0/12 units")
        proc.send_signal(sig)
        assert proc.wait(timeout=HANG_GUARD) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert "daemon stopped" in text and "did not finish" not in text
    assert text.index("daemon stopped") > text.index(f"received {sig.name}")
    assert "Traceback" not in text
    # One log line per cycle, with units, rows, errors, warnings and duration.
    line = next(ln for ln in text.splitlines() if "cycle: read 1/12" in ln)
    assert re.search(r"\d+ rows .*\d+ errors, \d+ warnings.* s$", line)
