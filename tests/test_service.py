"""The service: one daemon per archive, systemd notifications, watchdog, metrics, SIGTERM.

Real processes: `cchc-sync run` started with a real AF_UNIX datagram socket as
NOTIFY_SOCKET (what systemd gives a Type=notify service), scraped over real HTTP, stopped
with real signals.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.service import RUN_WAITS_FOR_SYNC
from cchc_sync.domain.records import Severity
from cchc_sync.store.archive import Archive
from cchc_sync.testing.typist import type_rows
from tests import cli_process
from tests.conftest import HANG_GUARD, make_district, wait_until


class NotifySocket:
    """What systemd listens on: a datagram socket; every message is kept with its time."""

    def __init__(self) -> None:
        # sun_path holds 108 bytes: pytest's tmp_path can be longer than that.
        self._dir = tempfile.mkdtemp(prefix="cchc-n", dir="/tmp")
        self.path = os.path.join(self._dir, "notify")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(self.path)
        self._sock.settimeout(0.1)
        self.messages: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._collect, daemon=True)
        self._thread.start()

    def _collect(self) -> None:
        while not self._stop.is_set():
            try:
                data = self._sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.messages.append((time.monotonic(), data.decode("utf-8")))

    def texts(self) -> list[str]:
        with self._lock:
            return [m for _, m in self.messages]

    def wait_for(self, pattern: str, timeout: float = HANG_GUARD) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                for when, text in self.messages:
                    if re.search(pattern, text, re.MULTILINE):
                        return when, text
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} never notified; got {self.texts()}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()
        os.unlink(self.path)
        os.rmdir(self._dir)


@pytest.fixture
def notify_socket():
    sock = NotifySocket()
    yield sock
    sock.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _configure(config: Path, *, interval: float = 0.02, service: str = "") -> None:
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"interval_minutes = [\d.]+", f"interval_minutes = {interval}", text)
    # The sample period (2022) is long past: keep its sheets editable under the real clock.
    text = text.replace("auto_lock = true", "auto_lock = false")
    if service:
        text += f"\n[service]\n{service}\n"
    config.write_text(text, encoding="utf-8")


def _start(config: Path, log: Path, **env: str) -> cli_process.Popen:
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
    environ.pop("CREDENTIALS_DIRECTORY", None)
    with log.open("w") as out:
        return cli_process.Popen(
            ["run", "--config", str(config)],
            stdout=out, stderr=subprocess.STDOUT, env=environ,
        )


def _scrape(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as resp:
            return resp.status, resp.read().decode("utf-8")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8")


def _samples(exposition: str) -> dict[str, float]:
    out = {}
    for line in exposition.splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            out[name] = float(value)
    return out


def test_daemon_notifies_systemd_serves_metrics_and_refuses_a_second_daemon(
    tmp_path, notify_socket
):
    ws = make_district(tmp_path / "d")
    config = ws.config.path
    ws.close()
    port = _free_port()
    _configure(config, service=f"metrics_port = {port}")
    log = tmp_path / "daemon.log"
    # WatchdogSec=0.6 s: a ping every 0.3 s.
    proc = _start(config, log, NOTIFY_SOCKET=notify_socket.path, WATCHDOG_USEC="600000")
    try:
        ready_at, _ = notify_socket.wait_for(r"^READY=1$")
        cycle_at, status = notify_socket.wait_for(r"^STATUS=cycle: read 12/12 units")
        assert ready_at <= cycle_at
        # STATUS is the cycle's log line, one line.
        assert re.search(r"\d+ rows .*\d+ errors, \d+ warnings.* s$", status)
        # "unit i/n" while the first cycle reads.
        assert any(re.match(r"STATUS=.* \d+/12$", t) for t in notify_socket.texts())

        def watchdog_pings() -> list[float]:
            return [when for when, text in list(notify_socket.messages)
                    if text == "WATCHDOG=1"]

        wait_until(lambda: len(watchdog_pings()) >= 3, "three watchdog pings")
        pings = watchdog_pings()
        assert min(pings) >= ready_at  # pings start once the service is ready

        status_code, body = _scrape(port, "/healthz")
        assert (status_code, body) == (200, "ok\n")
        status_code, exposition = _scrape(port, "/metrics")
        assert status_code == 200
        samples = _samples(exposition)
        assert samples["cchc_sync_units"] == 12
        assert samples["cchc_sync_units_read_total"] >= 12
        assert samples["cchc_sync_cycles_total"] >= 1
        assert samples["cchc_sync_up"] == 1
        # The last cycle's duration in seconds: one a cycle line reported (to 0.01 s).
        logged = [float(d) for d in re.findall(r"cycle: read .* ([\d.]+) s$",
                                                log.read_text(), re.MULTILINE)]
        duration = samples["cchc_sync_cycle_duration_seconds"]
        assert duration > 0 and any(abs(duration - d) <= 0.006 for d in logged), (
            duration, logged)
        with Archive(config.parent / "cchc-sync.sqlite") as archive:
            findings = archive.open_findings("2022S1")
        errors = sum(1 for f in findings if f.severity is Severity.ERROR)
        assert samples["cchc_sync_open_errors"] == errors > 0
        assert samples["cchc_sync_units_unreachable"] == 0
        assert "# TYPE cchc_sync_api_requests_total counter" in exposition
        assert _scrape(port, "/other")[0] == 404

        # A second daemon on the same archive: one clear line, exit 1, nothing touched.
        # It does not wait, as it would for a one-off sync (RUN_WAITS_FOR_SYNC, a minute:
        # far more than starting Python takes, even on a busy machine).
        started = time.monotonic()
        second = cli_process.run(
            ["run", "--config", str(config)],
            capture_output=True, text=True, timeout=HANG_GUARD,
            env={k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"},
        )
        assert time.monotonic() - started < RUN_WAITS_FOR_SYNC
        assert second.returncode == 1
        lines = second.stderr.strip().splitlines()
        assert len(lines) == 1, second.stderr
        assert f"PID {proc.pid}" in lines[0]
        assert "one daemon per archive" in lines[0] and "mỗi kho chỉ chạy một daemon" in lines[0]
        assert proc.poll() is None

        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=HANG_GUARD) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    texts = notify_socket.texts()
    stopping = next(i for i, t in enumerate(texts) if t.startswith("STOPPING=1"))
    assert "WATCHDOG=1" not in texts[stopping + 1:]
    assert "Traceback" not in log.read_text()


def _many_units(root: Path, count: int):
    root.mkdir(parents=True)
    csv = root / "units-source.csv"
    csv.write_text(
        "ma,ten,cap\n" + "".join(f"X{i:03d},UBND xã Số {i},xa\n" for i in range(count)),
        encoding="utf-8",
    )
    return init_workspace(root, units_csv=csv, period="2022S1", name="huyện Thử")


def test_sigterm_mid_cycle_finishes_the_unit_and_stops_cleanly(tmp_path, notify_socket):
    """SIGTERM between units: the unit at hand is finished, the rest is left for the next
    cycle, what was read is archived, and the process exits 0 by the clean path. Events,
    not a wall clock: stop_timeout (the hard exit, tested on its own in test_service_parts)
    is set to its maximum here so a busy machine cannot turn this into that path."""
    units = 60
    ws = _many_units(tmp_path / "many", units)
    sheets = ws.archive.sheets("2022S1")
    for code in ("X000", "X030", "X059"):
        type_rows(ws.config.root / sheets[code].ref, {"Đào tạo, bồi dưỡng": [
            {"Nội dung đào tạo, bồi dưỡng": "Tập huấn", "Số lượt người": 12}]})
    config = ws.config.path
    ws.close()
    _configure(config, interval=10, service="stop_timeout = 60")
    log = tmp_path / "daemon.log"
    proc = _start(config, log, NOTIFY_SOCKET=notify_socket.path)
    try:
        notify_socket.wait_for(rf"^STATUS=\S.* 20/{units}$")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=HANG_GUARD) == 0
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    print(f"SIGTERM at unit 20/{units}: exited in {elapsed:.2f} s")
    # In this order: the signal, the stop between units, the clean end.
    signalled = text.index("received SIGTERM")
    assert text.index("stop requested") > signalled
    assert text.index("daemon stopped") > text.index("stop requested")
    assert "Traceback" not in text and "did not finish" not in text
    # The unit at hand was finished and archived; the rest wait for the next cycle.
    db = sqlite3.connect(config.parent / "cchc-sync.sqlite")
    read = db.execute("SELECT COUNT(*) FROM sheets WHERE read_at IS NOT NULL").fetchone()[0]
    db.close()
    # "20/60" is announced as unit 20 comes up, before the stop check that precedes its
    # read: 19 units are done by then, and the 20th is read only if the signal came
    # after that check. Either way the daemon's own count of what is left is exact.
    left = int(re.search(r"stop requested: (\d+) units left", text).group(1))
    assert 19 <= read < units and read == units - left
    # The next cycle reads exactly the units the stopped one left, and loses nothing.
    done = cli_process.run(
        ["sync", "--config", str(config)],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert f"{units - read}/{units}" in done.stdout + done.stderr
    db = sqlite3.connect(config.parent / "cchc-sync.sqlite")
    assert db.execute("SELECT COUNT(*) FROM sheets WHERE read_at IS NULL").fetchone()[0] == 0
    trainings = db.execute(
        "SELECT COUNT(*) FROM row_versions WHERE tbl = 'dao_tao' AND deleted = 0"
    ).fetchone()[0]
    db.close()
    assert trainings == 3
