"""What running as a system service needs, without a new dependency: one daemon per archive
(a file lock), the systemd notification protocol (READY, STATUS, WATCHDOG, STOPPING), a
health view of the scheduler loop for the watchdog and /healthz, and the ``[service]``
settings of cchc-sync.toml.

The lock is ``fcntl.flock`` on ``<archive>.lock`` next to the archive. The kernel drops it
when the process ends, however it ends (``kill -9`` included), so a stale lock file is
harmless and is never deleted: deleting it would let two processes lock two different files.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import socket
import sqlite3
import threading
import time
import tomllib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from cchc_sync.domain.config import Config, ConfigError
from cchc_sync.sources.base import SourceError
from cchc_sync.store.archive import Archive, ArchiveError

log = logging.getLogger("cchc_sync")

RUN_WAITS_FOR_SYNC = 60.0
"""Seconds `run` waits for a one-off `sync` that holds the lock (it ends by itself)."""
SYNC_LOCK_WAIT = 10.0
"""Seconds `sync` waits for the lock before refusing (another `sync` may be finishing)."""


class ArchiveBusy(SourceError):
    """Another cchc-sync process holds the archive's lock (exit code 1 at the CLI)."""


# -- one process per archive -------------------------------------------------------------


def lock_path(archive_file: str | os.PathLike) -> Path:
    """``/var/lib/cchc-sync/cchc-sync.sqlite`` -> ``.../cchc-sync.sqlite.lock``."""
    archive = Path(archive_file)
    return archive.with_name(archive.name + ".lock")


@dataclass(frozen=True, kw_only=True, slots=True)
class LockHolder:
    pid: int | None
    """Process id written by the holder (None when the file is empty or unreadable)."""
    role: str
    """"run" (the daemon) or "sync" (one cycle)."""
    since: str
    """When it took the lock (ISO 8601, UTC)."""


class ArchiveLock:
    """An exclusive lock on one archive, held until release() or the process ends."""

    def __init__(self, path: Path, fd: int, role: str) -> None:
        self.path = path
        self.role = role
        self._fd: int | None = fd

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        if self._fd is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        os.close(self._fd)
        self._fd = None

    def __enter__(self) -> ArchiveLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(path: Path) -> LockHolder:
    """Who holds (or last held) the lock, from the file's one line "PID ROLE SINCE"."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    parts = text.split()
    pid = int(parts[0]) if parts and parts[0].isdigit() else None
    role = parts[1] if len(parts) > 1 else "?"
    since = parts[2] if len(parts) > 2 else ""
    return LockHolder(pid=pid, role=role, since=since)


def acquire_archive_lock(
    archive_file: str | os.PathLike,
    role: str,
    *,
    wait: float = 0.0,
    wait_for_sync: float = 0.0,
    poll: float = 0.2,
) -> ArchiveLock:
    """Take the archive's exclusive lock for `role` ("run" or "sync").

    wait: seconds to keep trying whoever holds it. wait_for_sync: seconds to keep trying
    while the holder is a one-off `sync` (the daemon waits for one to finish, but never
    for another daemon). Raises ArchiveBusy with a one-line, bilingual message.

    Once it holds the lock, marks the runs an earlier holder left `running` as
    `interrupted` (close_interrupted_runs).
    """
    path = lock_path(archive_file)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise SourceError(
            f"không mở được tệp khoá {path} / cannot open lock file {path}: {exc.strerror}"
        ) from None
    started = time.monotonic()
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            holder = read_holder(path)
            limit = max(wait, wait_for_sync if holder.role == "sync" else 0.0)
            if time.monotonic() - started >= limit:
                os.close(fd)
                raise ArchiveBusy(_busy_message(Path(archive_file), holder, role)) from None
            time.sleep(poll)
        except OSError as exc:
            os.close(fd)
            raise SourceError(
                f"không khoá được {path} / cannot lock {path}: {exc.strerror}"
            ) from None
    since = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()} {role} {since}\n".encode(), 0)
    lock = ArchiveLock(path, fd, role)
    try:
        close_interrupted_runs(Path(archive_file))
    except BaseException:
        lock.release()
        raise
    return lock


def close_interrupted_runs(archive_file: Path) -> list[int]:
    """Mark the runs an earlier process left `running` as `interrupted` (see
    Archive.interrupt_running_runs); one log line when there were any. Called by the
    lock's new holder: no other process can be mid-cycle on this archive.

    Housekeeping only: an archive that does not exist yet is skipped, and one that cannot
    be opened or written is left to the workspace opening that follows, which reports it
    (the runs are marked by the next process that can)."""
    if not archive_file.exists():
        return []
    try:
        with Archive(archive_file) as archive:
            ids = archive.interrupt_running_runs()
    except (ArchiveError, sqlite3.Error) as exc:
        log.debug("runs left running not marked interrupted yet: %s", exc)
        return []
    if ids:
        log.warning(
            "%d cycle(s) left unfinished by an earlier process (killed or crashed mid-cycle;"
            " run id %s) marked interrupted in the archive; their units are read again as"
            " usual", len(ids), ", ".join(map(str, ids)),
        )
    return ids


def _busy_message(archive: Path, holder: LockHolder, role: str) -> str:
    who = f"{holder.role}, PID {holder.pid}" if holder.pid else holder.role
    if holder.role == "run" and role == "sync":
        return (
            f"kho lưu trữ {archive} đang do daemon cchc-sync ({who}) đồng bộ theo lịch; "
            "không cần chạy sync lúc này / the daemon already syncs this archive on schedule "
            "(systemctl status cchc-sync; stop it first to sync by hand)"
        )
    return (
        f"kho lưu trữ {archive} đang được một tiến trình cchc-sync khác dùng ({who}); mỗi kho "
        "chỉ chạy một daemon / archive in use by another cchc-sync process: one daemon per "
        "archive (stop the other one first: systemctl stop cchc-sync)"
    )


@contextlib.contextmanager
def hold_archive_lock(
    archive_file: str | os.PathLike, role: str, **kwargs: float
) -> Iterator[ArchiveLock]:
    """``with hold_archive_lock(config.archive_file, "sync", wait=SYNC_LOCK_WAIT): ...``"""
    lock = acquire_archive_lock(archive_file, role, **kwargs)
    try:
        yield lock
    finally:
        lock.release()


# -- the systemd notification protocol ----------------------------------------------------


class Notifier:
    """sd_notify(3) without libsystemd: datagrams to $NOTIFY_SOCKET.

    Does nothing when NOTIFY_SOCKET is unset (not run by systemd with Type=notify). A
    failed send is logged once and never stops the daemon.
    """

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        self._address: str | None = None
        if address.startswith("@"):
            self._address = "\0" + address[1:]  # Linux abstract namespace
        elif address.startswith("/"):
            self._address = address
        self._socket: socket.socket | None = None
        self._lock = threading.Lock()
        self._warned = False
        self.watchdog_usec = 0
        usec = env.get("WATCHDOG_USEC", "")
        owner = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not owner or owner == str(os.getpid())):
            self.watchdog_usec = int(usec)

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval(self) -> float | None:
        """Seconds between pings (half of WatchdogSec), None when no watchdog is set."""
        if not self.enabled or not self.watchdog_usec:
            return None
        return self.watchdog_usec / 2 / 1_000_000

    def notify(self, **fields: str | int) -> bool:
        """Send KEY=value lines, e.g. notify(READY=1, STATUS="..."). True when sent."""
        if self._address is None or not fields:
            return False
        message = "\n".join(f"{k}={_one_line(str(v))}" for k, v in fields.items())
        with self._lock:
            try:
                if self._socket is None:
                    self._socket = socket.socket(
                        socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC
                    )
                self._socket.sendto(message.encode("utf-8"), self._address)
                return True
            except OSError as exc:
                if not self._warned:
                    log.warning("cannot notify systemd at NOTIFY_SOCKET: %s", exc)
                    self._warned = True
                return False

    def ready(self, status: str = "") -> bool:
        return self.notify(READY=1, **({"STATUS": status} if status else {}))

    def status(self, text: str) -> bool:
        return self.notify(STATUS=text)

    def watchdog(self) -> bool:
        return self.notify(WATCHDOG=1)

    def stopping(self, status: str = "") -> bool:
        return self.notify(STOPPING=1, **({"STATUS": status} if status else {}))

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None


def _one_line(text: str) -> str:
    return " ".join(text.split())[:1000]


# -- health: is the scheduler loop alive, is the cycle moving ------------------------------


class Health:
    """The daemon's liveness, as the watchdog and /healthz see it.

    Healthy means: the scheduler's own tick job ran recently (its loop and its worker
    threads are alive) and the cycle in flight, if any, passed a unit boundary within
    `stall_seconds` (a cycle hung on a dead connection stops the pings, and systemd
    restarts the service).
    """

    def __init__(
        self,
        tick_seconds: float,
        stall_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tick_seconds = tick_seconds
        self.stall_seconds = stall_seconds
        self._clock = clock
        self._lock = threading.Lock()
        now = clock()
        self._loop_beat = now
        self._cycle_beat: float | None = None
        self.reason = ""

    @property
    def loop_grace(self) -> float:
        """How stale the tick may be before the loop counts as stuck."""
        return 3 * self.tick_seconds + 5

    def loop_beat(self) -> None:
        with self._lock:
            self._loop_beat = self._clock()

    def cycle_started(self) -> None:
        with self._lock:
            self._cycle_beat = self._clock()

    def cycle_beat(self) -> None:
        with self._lock:
            if self._cycle_beat is not None:
                self._cycle_beat = self._clock()

    def cycle_finished(self) -> None:
        with self._lock:
            self._cycle_beat = None

    def healthy(self) -> bool:
        with self._lock:
            now = self._clock()
            if now - self._loop_beat > self.loop_grace:
                self.reason = f"scheduler loop silent for {now - self._loop_beat:.0f} s"
                return False
            if self._cycle_beat is not None and now - self._cycle_beat > self.stall_seconds:
                self.reason = f"cycle made no progress for {now - self._cycle_beat:.0f} s"
                return False
            self.reason = ""
            return True


class Watchdog:
    """A thread that sends WATCHDOG=1 every `interval` seconds, but only while healthy."""

    def __init__(self, notifier: Notifier, health: Health, interval: float) -> None:
        self._notifier = notifier
        self._health = health
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cchc-watchdog", daemon=True)
        self.pings = 0

    def start(self) -> Watchdog:
        self._thread.start()
        return self

    def _run(self) -> None:
        silent = False
        while not self._stop.is_set():
            if self._health.healthy():
                if silent:
                    log.warning("watchdog: healthy again; pings resume")
                    silent = False
                if self._notifier.watchdog():
                    self.pings += 1
            elif not silent:
                log.error("watchdog: not pinging systemd: %s", self._health.reason)
                silent = True
            self._stop.wait(self._interval)

    def stop(self) -> None:
        """No more pings (safe from a signal handler: it does not wait)."""
        self._stop.set()

    def close(self) -> None:
        self.stop()
        self._thread.join(timeout=5)


# -- [service] settings --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class ServiceSettings:
    metrics_port: int = 0
    """Loopback port for /metrics and /healthz; 0 disables them."""
    stall_minutes: float = 30.0
    """A cycle that passes no unit boundary for this long counts as hung (watchdog)."""
    stop_timeout: float = 8.0
    """Seconds SIGTERM waits for the unit at hand before the process exits regardless."""


def load_service_settings(config: Config) -> ServiceSettings:
    """The ``[service]`` table of the config file (all keys optional)."""
    try:
        data = tomllib.loads(config.path.read_text(encoding="utf-8")).get("service", {})
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{config.path}: cannot read [service]: {exc}") from None
    where = f"{config.path}: [service]"
    try:
        port = int(data.get("metrics_port", 0))
        stall = float(data.get("stall_minutes", 30))
        stop_timeout = float(data.get("stop_timeout", 8))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"{where} metrics_port must be 0 (off) or a port 1-65535")
    if stall <= 0:
        raise ConfigError(f"{where} stall_minutes must be positive")
    if not 0 < stop_timeout <= 60:
        raise ConfigError(f"{where} stop_timeout must be between 0 and 60 seconds")
    return ServiceSettings(metrics_port=port, stall_minutes=stall, stop_timeout=stop_timeout)
