"""``python -m cchc_sync.testing.fake_google`` as a real process: prints its URL, serves,
stops on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]


def test_runs_alone_and_stops_on_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-m", "cchc_sync.testing.fake_google", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert requests.get(f"{url}/_fake/health", timeout=5).json()["ok"] is True
        got = requests.get(f"{url}/drive/v3/files", timeout=5)
        assert got.status_code == 401  # a token is required, as with Google
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
