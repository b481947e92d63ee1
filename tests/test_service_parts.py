"""The service's parts on their own: archive lock, sd_notify, health and watchdog, metrics,
[service] settings, the key delivered by systemd, and the unit file itself."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cchc_sync.app import metrics
from cchc_sync.app.service import (
    ArchiveBusy,
    Health,
    Notifier,
    Watchdog,
    acquire_archive_lock,
    hold_archive_lock,
    load_service_settings,
    lock_path,
    read_holder,
)
from cchc_sync.domain.config import ConfigError, load_config
from cchc_sync.sources.base import SourceError
from tests.conftest import HANG_GUARD, wait_until

ROOT = Path(__file__).resolve().parent.parent
UNIT_FILE = ROOT / "systemd" / "cchc-sync.service"

# -- one process per archive ----------------------------------------------------------------


def test_a_second_lock_on_one_archive_is_refused_with_the_holder(tmp_path):
    archive = tmp_path / "cchc-sync.sqlite"
    with hold_archive_lock(archive, "run") as lock:
        assert lock.path == lock_path(archive) == tmp_path / "cchc-sync.sqlite.lock"
        holder = read_holder(lock.path)
        assert (holder.pid, holder.role) == (os.getpid(), "run")
        with pytest.raises(ArchiveBusy) as exc:
            acquire_archive_lock(archive, "run")
        message = str(exc.value)
        assert "\n" not in message
        assert f"run, PID {os.getpid()}" in message
        assert "one daemon per archive" in message
        # `sync` while the daemon runs: refused, saying the daemon already syncs.
        started = time.monotonic()
        with pytest.raises(ArchiveBusy, match="already syncs this archive on schedule"):
            acquire_archive_lock(archive, "sync", wait=0.3)
        # It kept trying for its `wait` (a lower bound: load only adds to it), then gave
        # up (the upper bound is only a hang guard).
        assert 0.3 <= time.monotonic() - started < HANG_GUARD
        assert isinstance(exc.value, SourceError)  # the CLI makes it one line, exit 1
    # Released: the next one gets it; the stale file is harmless.
    with hold_archive_lock(archive, "sync"):
        assert read_holder(lock_path(archive)).role == "sync"


def test_the_daemon_waits_for_a_one_off_sync_but_not_for_another_daemon(tmp_path):
    archive = tmp_path / "a.sqlite"
    sync_lock = acquire_archive_lock(archive, "sync")
    releasing = threading.Event()

    def sync_finishes() -> None:
        releasing.set()  # before the release: the daemon can only get the lock after it
        sync_lock.release()

    threading.Timer(0.5, sync_finishes).start()
    with hold_archive_lock(archive, "run", wait_for_sync=HANG_GUARD):
        assert releasing.is_set()  # it waited for the sync to finish
        started = time.monotonic()
        with pytest.raises(ArchiveBusy):
            acquire_archive_lock(archive, "run", wait_for_sync=HANG_GUARD)
        # A daemon holds it: no waiting (waiting would take the whole hang guard).
        assert time.monotonic() - started < HANG_GUARD


def test_the_lock_dies_with_its_process_even_on_kill_9(tmp_path):
    archive = tmp_path / "a.sqlite"
    code = (
        "import sys, time; from cchc_sync.app.service import acquire_archive_lock; "
        f"acquire_archive_lock({str(archive)!r}, 'run'); print('locked', flush=True); "
        "time.sleep(60)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        with pytest.raises(ArchiveBusy, match=f"PID {proc.pid}"):
            acquire_archive_lock(archive, "run")
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    with hold_archive_lock(archive, "run"):
        pass


# -- sd_notify ------------------------------------------------------------------------------


def _datagram_socket(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2)
    return sock


def test_notifier_speaks_to_an_abstract_socket_and_keeps_status_on_one_line():
    name = f"cchc-sync-test-{os.getpid()}-{time.monotonic_ns()}"
    sock = _datagram_socket("\0" + name)
    try:
        notifier = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "30000000"})
        assert notifier.enabled and notifier.watchdog_interval == 15
        assert notifier.ready("started")
        assert sock.recv(4096) == b"READY=1\nSTATUS=started"
        notifier.status("line one\nline two")
        assert sock.recv(4096).decode() == "STATUS=line one line two"
        notifier.watchdog()
        assert sock.recv(4096) == b"WATCHDOG=1"
        notifier.stopping()
        assert sock.recv(4096) == b"STOPPING=1"
        notifier.close()
    finally:
        sock.close()


def test_notifier_without_systemd_does_nothing_and_a_foreign_watchdog_is_ignored(tmp_path):
    quiet = Notifier({})
    assert not quiet.enabled and quiet.watchdog_interval is None
    assert quiet.ready() is False
    other_pid = Notifier({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "1000000",
                          "WATCHDOG_PID": str(os.getpid() + 1)})
    assert other_pid.watchdog_interval is None
    # A socket that went away: logged once, never raised.
    gone = Notifier({"NOTIFY_SOCKET": str(tmp_path / "missing")})
    assert gone.status("x") is False and gone.status("y") is False


# -- health and watchdog --------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_health_needs_a_live_scheduler_loop_and_a_moving_cycle():
    clock = FakeClock()
    health = Health(tick_seconds=10, stall_seconds=600, clock=clock)
    assert health.healthy()
    clock.now += 30
    assert health.healthy()  # within 3 ticks + 5 s
    clock.now += 10
    assert not health.healthy() and "scheduler loop" in health.reason
    health.loop_beat()
    assert health.healthy()
    health.cycle_started()
    for _ in range(5):  # a long cycle that passes unit boundaries stays healthy
        clock.now += 500
        health.loop_beat()
        health.cycle_beat()
        assert health.healthy()
    clock.now += 601
    health.loop_beat()
    assert not health.healthy() and "no progress" in health.reason
    health.cycle_finished()
    assert health.healthy()


class RecordingNotifier(Notifier):
    def __init__(self) -> None:
        super().__init__({})
        self.sent: list[dict] = []

    def notify(self, **fields) -> bool:
        self.sent.append(fields)
        return True


def test_watchdog_pings_only_while_healthy():
    notifier = RecordingNotifier()
    healthy = threading.Event()
    healthy.set()
    checks: list[bool] = []  # what the watchdog saw at each of its checks

    class Switch(Health):
        def healthy(self) -> bool:
            ok = healthy.is_set()
            self.reason = "" if ok else "scheduler loop silent for 99 s"
            checks.append(ok)
            return ok

    dog = Watchdog(notifier, Switch(tick_seconds=1, stall_seconds=1), interval=0.02).start()
    try:
        wait_until(lambda: dog.pings >= 3, "pings while healthy")
        healthy.clear()
        # The watchdog's checks, not time: once it has seen "unhealthy", every ping of an
        # earlier check is counted; ten more unhealthy checks add none.
        seen = len(checks)
        wait_until(lambda: False in checks[seen:], "a check that sees the stall")
        frozen = dog.pings
        unhealthy = checks.count(False)
        wait_until(lambda: checks.count(False) >= unhealthy + 10, "ten more checks")
        assert dog.pings == frozen
        healthy.set()
        wait_until(lambda: dog.pings > frozen, "pings once healthy again")
    finally:
        dog.close()
    assert all(m == {"WATCHDOG": 1} for m in notifier.sent)


# -- metrics --------------------------------------------------------------------------------


def test_metrics_registry_renders_prometheus_text_and_counts_across_threads():
    reg = metrics.Registry()
    reg.describe("cchc_sync_api_requests_total", "counter", "Requests by kind.")
    threads = [
        threading.Thread(target=lambda: [metrics.count_request("values.batchGet", reg)
                                         for _ in range(1000)])
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    metrics.count_status(429, reg)
    metrics.count_status(429, reg)
    reg.set("odd", 1.5, label='a"b\\c\nd')
    text = reg.render()
    assert "# HELP cchc_sync_api_requests_total Requests by kind." in text
    assert "# TYPE cchc_sync_api_requests_total counter" in text
    assert 'cchc_sync_api_requests_total{kind="values.batchGet"} 4000' in text
    assert 'cchc_sync_api_responses_total{status="429"} 2' in text
    assert 'odd{label="a\\"b\\\\c\\nd"} 1.5' in text
    assert reg.value("cchc_sync_api_responses_total", status=429) == 2
    with pytest.raises(ValueError):
        reg.inc("x", -1)


def test_metrics_server_binds_loopback_only(tmp_path):
    server = metrics.MetricsServer(0, lambda: False, metrics.Registry()).start()
    try:
        host, port = server.address
        assert host == "127.0.0.1"
        import urllib.error
        import urllib.request

        with pytest.raises(urllib.error.HTTPError) as exc:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5)
        assert exc.value.code == 503
    finally:
        server.close()


# -- settings and credentials ---------------------------------------------------------------


def _config(tmp_path: Path, extra: str = "", google: str = "") -> Path:
    path = tmp_path / "cchc-sync.toml"
    path.write_text(
        '[workspace]\nperiod = "2022S1"\nunits = "units.csv"\n'
        f"[google]\n{google}\n{extra}\n",
        encoding="utf-8",
    )
    return path


def test_service_settings_default_off_and_reject_nonsense(tmp_path):
    settings = load_service_settings(load_config(_config(tmp_path)))
    assert (settings.metrics_port, settings.stall_minutes, settings.stop_timeout) == (0, 30, 8)
    good = load_config(_config(tmp_path, "[service]\nmetrics_port = 9464\nstall_minutes = 5"))
    assert load_service_settings(good).metrics_port == 9464
    for bad in ("metrics_port = 70000", "metrics_port = 'x'", "stall_minutes = 0",
                "stop_timeout = 120"):
        with pytest.raises(ConfigError, match=r"\[service\]"):
            load_service_settings(load_config(_config(tmp_path, f"[service]\n{bad}")))


def test_key_from_systemd_credentials(tmp_path, monkeypatch):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "google-key").write_text("{}")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    braced = 'credentials = "${CREDENTIALS_DIRECTORY}/google-key"'
    assert load_config(_config(tmp_path, google=braced)).google.credentials == (
        creds / "google-key")
    bare = 'credentials = "$CREDENTIALS_DIRECTORY/google-key"'
    assert load_config(_config(tmp_path, google=bare)).google.credentials == creds / "google-key"
    # Empty: the credential systemd delivered.
    assert load_config(_config(tmp_path)).google.credentials == creds / "google-key"
    # A path of one's own still wins, relative to the config file.
    own = load_config(_config(tmp_path, google='credentials = "keys/sa.json"'))
    assert own.google.credentials == tmp_path / "keys" / "sa.json"
    # No key delivered: nothing to fall back to.
    (creds / "google-key").unlink()
    assert load_config(_config(tmp_path)).google.credentials is None
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(ConfigError, match="CREDENTIALS_DIRECTORY"):
        load_config(_config(tmp_path, google=braced))
    assert load_config(_config(tmp_path)).google.credentials is None


# -- the unit file --------------------------------------------------------------------------

needs_systemd_analyze = pytest.mark.skipif(
    shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed"
)


@needs_systemd_analyze
def test_unit_scores_2_or_lower_in_systemd_analyze_security():
    out = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", str(UNIT_FILE)],
        capture_output=True, text=True, timeout=60,
    )
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", out.stdout + out.stderr)
    assert match, out.stdout + out.stderr
    score = float(match.group(1))
    print(f"systemd-analyze security: {score}")
    assert score <= 2.0, out.stdout


@needs_systemd_analyze
def test_unit_verifies_clean(tmp_path):
    # verify insists that ExecStart's binary exists: check a copy whose ExecStart points at
    # this environment's cchc-sync (the shipped file says /opt/cchc-sync/bin/cchc-sync).
    text = UNIT_FILE.read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=/opt/cchc-sync/bin/cchc-sync run$", text, re.MULTILINE)
    binary = shutil.which("cchc-sync") or str(Path(sys.executable).with_name("cchc-sync"))
    assert Path(binary).exists()
    copy = tmp_path / "cchc-sync.service"
    copy.write_text(
        text.replace("ExecStart=/opt/cchc-sync/bin/cchc-sync", f"ExecStart={binary}"),
        encoding="utf-8",
    )
    out = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.strip() == "" and out.stderr.strip() == "", out.stdout + out.stderr


def test_unit_has_the_service_contract():
    text = UNIT_FILE.read_text(encoding="utf-8")
    settings = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key.strip(), []).append(value.strip())
    assert settings["Type"] == ["notify"]
    assert settings["Restart"] == ["on-failure"]
    assert int(settings["WatchdogSec"][0]) > 0
    assert settings["DynamicUser"] == ["yes"]
    assert settings["StateDirectory"] == ["cchc-sync"]
    assert settings["ProtectSystem"] == ["strict"]
    assert settings["CapabilityBoundingSet"] == [""]
    assert settings["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "@system-service" in settings["SystemCallFilter"]
    assert settings["LoadCredential"] == ["google-key:/etc/cchc-sync/key.json"]
    # SIGTERM's 10 s fit inside systemd's stop timeout.
    assert int(settings["TimeoutStopSec"][0]) > 10


def test_a_cycle_that_ignores_the_stop_cannot_hold_the_process_past_stop_timeout(tmp_path):
    # Events, not a wall-clock bound that load could break: the cycle would sleep for an
    # hour and say so when it wakes, so a process that exits at all (within the generous
    # hang guard) did not wait for it; the warning says it gave up after stop_timeout.
    script = (
        "import logging, sys, time\n"
        "from cchc_sync.app.daemon import run_forever\n"
        "from cchc_sync.app.service import ServiceSettings\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "def cycle(control):\n"
        "    print('cycle running', flush=True)\n"
        "    time.sleep(3600)  # a call that never checks should_stop\n"
        "    print('cycle finished', flush=True)\n"
        "run_forever(cycle, 10, settings=ServiceSettings(stop_timeout=1.0))\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "cycle running"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=600) == 0
        elapsed = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    out, err = proc.communicate()
    assert "cycle finished" not in out  # it did not wait for the cycle
    # It did wait stop_timeout first (a lower bound: a busy machine only adds to it).
    assert elapsed >= 1.0, err
    signalled = err.index("received SIGTERM")
    assert err.index("did not finish within 1 s") > signalled, err
