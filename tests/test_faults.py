"""The fault matrix on Google: the daemon as a real process (`cchc-sync run`) against the
fake Google APIs (in this process, over real HTTP), with the fake's fault injection.

In every case the daemon keeps running, says what happened in its log (one line per
event, no traceback) and, for a unit it cannot reach, in "Tiến độ" and `status`; and the
next healthy cycle converges to exactly the master a fault-free run gives on the same
data (a fresh workspace holding the final data, synced once without faults), timestamps
and sheet addresses aside.

The harness here (sites, the daemon process, master comparison) is shared with
test_faults_archive.py, test_crash.py and test_concurrent_edits.py.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.demo import EXPLANATION_KEY
from cchc_sync.app.demo_data import DISTRICT, UNITS_CSV, demo_rows
from cchc_sync.app.demo_google import type_table
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace, sync_once
from cchc_sync.domain.config import GoogleSettings
from cchc_sync.domain.registry import load_units
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key
from cchc_sync.testing.typist import type_rows
from tests import cli_process
from tests.conftest import HANG_GUARD, current_period
from tests.contract.districts import dump_values

SUBSET = ("VP", "TNMT", "XA_HT", "XA_LT")
"""Four of the sample district's units: a document number two of them date differently
(a cross-unit error), a broken identity and a broken rate: every kind of finding, fast."""

FAST = 100_000  # the fake has no quota
INTERVAL = 0.01  # minutes: a cycle every 0.6 s
TIMEOUT = HANG_GUARD  # a wait for a log line that never comes is a hang, not a slow machine

SCALED_SLEEP = (
    "import time as _time\n"
    "_real_sleep = _time.sleep\n"
    "_time.sleep = lambda seconds: _real_sleep(seconds / 50)\n"
)
"""Prelude of a Google daemon: every time.sleep takes a fiftieth of its time (patched
before cchc_sync is imported, so GoogleTransport's default sleep is this one). The retry
layer computes and logs its real waits (Retry-After honoured, backoff doubling); CI does
not sit through a 30 % storm's minutes of backoff. The fake's latency is not scaled."""

VOLATILE = {"Thời điểm nộp", "Sửa lần cuối", "Kiểm tra lần cuối", "Bảng tính", "Mở bảng tính"}
"""Columns of "Tiến độ" that hold times or addresses, different in any two runs."""


# -- the data -------------------------------------------------------------------------------


def subset_csv(codes: tuple[str, ...] = SUBSET) -> str:
    lines = UNITS_CSV.strip().splitlines()
    return "\n".join([lines[0], *(ln for ln in lines[1:] if ln.split(",")[0] in codes)]) + "\n"


def sample_rows(ws: Workspace) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """The sample district's figures for the units of `ws` (made for all twelve, so the
    deliberate mistakes are where they always are)."""
    tmp = ws.config.root / ".all-units.csv"
    tmp.write_text(UNITS_CSV, encoding="utf-8")
    every = [(u.code, u.name, u.level) for u in load_units(tmp)]
    tmp.unlink()
    rows = demo_rows(every, year=ws.period.end.year)
    return {u.code: rows[u.code] for u in ws.units}


@dataclass(frozen=True)
class Edit:
    """What a clerk types: a value under a column title in one row of one tab."""

    unit: str
    tab: str
    row: int
    title: str
    value: Any


EDITS = [
    # who prepared the report (content changes, findings do not)
    Edit("VP", "Thông tin", 2, "Người lập biểu", "Lê Văn Tám"),
    # XA_LT corrects the total that broke two identities
    Edit("XA_LT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận", 3069),
    # TNMT breaks another total
    Edit("TNMT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận", 1),
    Edit("XA_HT", "Thông tin", 2, "Người lập biểu", "Trần Thị Hoa"),
    Edit("XA_LT", "Thông tin", 2, "Người lập biểu", "Phạm Văn Đồng"),
    Edit("TNMT", "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận", 2),
]


# -- sites: a workspace on either backend ---------------------------------------------------


class GoogleSite:
    """A workspace on the in-process fake, its sheets filled as clerks would; the archive
    is closed again so a daemon process can take it."""

    kind = "google"

    def __init__(self, root: Path, codes: tuple[str, ...] = SUBSET, fake: FakeGoogle | None = None):
        root.mkdir(parents=True, exist_ok=True)
        (root / "units-source.csv").write_text(subset_csv(codes), encoding="utf-8")
        self.own_fake = fake is None
        self.fake = fake or FakeGoogle().start()
        key = root / "service-account.json"
        self.fake.register_key(make_service_account_key(key, self.fake.token_uri))
        folder = self.fake.create_shared_drive_folder(DEFAULT_EMAIL)
        google = GoogleSettings(credentials=key, folder=folder, endpoint=self.fake.url,
                                coordinators=("phongnoivu@example.gov.vn",),
                                reads_per_minute=FAST, writes_per_minute=FAST)
        ws = init_workspace(root, units_csv=root / "units-source.csv", period=current_period(),
                            backend="google", name=DISTRICT, google=google,
                            backend_factory=lambda c: GoogleBackend.from_config(c, data_rows=10))
        try:
            self.config = ws.config.path
            self.root = ws.config.root
            self.period = ws.period.code
            self.sheets = {code: s.ref for code, s in ws.archive.sheets(self.period).items()}
            self.master_ref = ws.archive.master(self.period)["ref"]
            sheets = ws.archive.sheets(self.period)
            for code, tables in sample_rows(ws).items():
                for table_key, rows in tables.items():
                    type_table(self.fake, sheets[code].ref, ws.templates.table(table_key), rows)
        finally:
            ws.close()

    def close(self) -> None:
        if self.own_fake:
            self.fake.stop()
        assert not self.fake.errors, self.fake.errors[0]

    def open(self) -> Workspace:
        from cchc_sync.app.pipeline import open_workspace
        from cchc_sync.domain.config import load_config

        return open_workspace(load_config(self.config))

    def apply(self, edit: Edit) -> None:
        sid = self.sheets[edit.unit]
        rows = dump_values(self.fake.spreadsheet(sid))[edit.tab]
        col = rows[0].index(edit.title) + 1
        letter = openpyxl.utils.get_column_letter(col)
        value = "'" + edit.value if isinstance(edit.value, str) else edit.value
        if value is None:
            value = ""  # the clerk clears the cell
        self.fake.edit_cells(sid, edit.tab, f"{letter}{edit.row}", [[value]])

    def master(self) -> dict[str, list[list[Any]]]:
        return dump_values(self.fake.spreadsheet(self.master_ref))


_BUILT_LOCAL_SITES: dict[tuple, Path] = {}
"""One built LocalSite per (units, period) and worker process, copied for each test."""


class LocalSite:
    """A local workspace (folder of .xlsx), filled as clerks would; archive closed.

    Built once per worker (init and typing five workbooks cost about a second of CPU)
    and copied for every further site: the config and the archive's refs are relative
    to the folder; only the archive's display URLs (absolute paths) are moved along."""

    kind = "local"

    def __init__(self, root: Path, codes: tuple[str, ...] = SUBSET):
        key = (codes, current_period())
        built = _BUILT_LOCAL_SITES.get(key)
        if built is None or not built.exists():
            where = Path(tempfile.mkdtemp(prefix="cchc-localsite-"))
            atexit.register(shutil.rmtree, where, ignore_errors=True)
            built = where / "site"
            self._build(built, codes)
            _BUILT_LOCAL_SITES[key] = built
        root.mkdir(parents=True, exist_ok=True)
        shutil.copytree(built, root, dirs_exist_ok=True)
        old, new = str(built.resolve()), str(root.resolve())
        db = sqlite3.connect(root / "cchc-sync.sqlite")
        try:
            for table in ("sheets", "masters"):
                db.execute(f"UPDATE {table} SET url = ? || substr(url, ?) WHERE url LIKE ?",
                           (new, len(old) + 1, old + "%"))
            db.commit()
        finally:
            db.close()
        self.config = root / "cchc-sync.toml"  # what init_workspace writes
        self.root = root
        self.period = key[1]
        ws = self.open()
        try:
            sheets = ws.archive.sheets(self.period)
            self.sheets = {code: root / s.ref for code, s in sheets.items()}
            self.master_path = root / ws.archive.master(self.period)["ref"]
        finally:
            ws.close()

    @staticmethod
    def _build(root: Path, codes: tuple[str, ...]) -> None:
        root.mkdir(parents=True, exist_ok=True)
        (root / "units-source.csv").write_text(subset_csv(codes), encoding="utf-8")
        ws = init_workspace(root, units_csv=root / "units-source.csv", period=current_period(),
                            name=DISTRICT)
        try:
            period = ws.period.code
            sheets = ws.archive.sheets(period)
            for code, tables in sample_rows(ws).items():
                by_tab = {}
                for table_key, rows in tables.items():
                    spec = ws.templates.table(table_key)
                    by_tab[spec.tab] = [
                        {("Giải trình" if k == EXPLANATION_KEY else spec.column(k).title): v
                         for k, v in row.items()}
                        for row in rows
                    ]
                type_rows(ws.config.root / sheets[code].ref, by_tab)
        finally:
            ws.close()

    def close(self) -> None:
        pass

    def open(self) -> Workspace:
        from cchc_sync.app.pipeline import open_workspace
        from cchc_sync.domain.config import load_config

        return open_workspace(load_config(self.config))

    def apply(self, edit: Edit, *, like_excel: bool = False) -> None:
        """Type and save. like_excel: hold Excel's lock file while editing and save through
        a temporary file, as Excel does (what a daemon running meanwhile sees)."""
        path = self.sheets[edit.unit]
        lock = path.with_name("~$" + path.name)
        if like_excel:
            lock.write_bytes(b"clerk")
            time.sleep(0.2)
            tmp = path.with_name("~tmp-" + path.name)
            tmp.write_bytes(path.read_bytes())
            type_rows(tmp, {edit.tab: [{edit.title: edit.value}]}, start_row=edit.row)
            os.replace(tmp, path)
            time.sleep(0.2)
            lock.unlink()
        else:
            type_rows(path, {edit.tab: [{edit.title: edit.value}]}, start_row=edit.row)

    def master(self) -> dict[str, list[list[Any]]]:
        wb = openpyxl.load_workbook(self.master_path)
        return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in wb.worksheets}


# -- what "the same master" means ----------------------------------------------------------


def comparable(master: dict[str, list[list[Any]]]) -> dict[str, list[tuple]]:
    """The master without times and sheet addresses: rows as tuples, blanks dropped at the
    end, numbers as rounded floats (Sheets and xlsx store them differently)."""

    def plain(v: Any) -> Any:
        if isinstance(v, bool) or v is None:
            return v
        if isinstance(v, int | float):
            return round(float(v), 6)
        if isinstance(v, dt.datetime | dt.date):
            return v.isoformat()
        return None if v == "" else v

    out: dict[str, list[tuple]] = {}
    for tab, rows in master.items():
        if not rows:
            out[tab] = []
            continue
        header = list(rows[0])
        drop = {i for i, h in enumerate(header) if h in VOLATILE}
        clean = []
        for row in rows:
            cells = [plain(v) for i, v in enumerate(row) if i not in drop]
            while cells and cells[-1] is None:
                cells.pop()
            clean.append(tuple(cells))
        while clean and not clean[-1]:
            clean.pop()
        out[tab] = clean
    return out


def progress_rows(master: dict[str, list[list[Any]]]) -> dict[str, dict[str, Any]]:
    """"Tiến độ" by unit code: {column title: value}."""
    rows = master["Tiến độ"]
    header = rows[0]
    return {row[0]: dict(zip(header, row, strict=False)) for row in rows[1:] if row and row[0]
            and row[0] in SUBSET}


def reference_master(tmp: Path, kind: str, edits: list[Edit],
                     codes: tuple[str, ...] = SUBSET) -> dict[str, list[tuple]]:
    """The master a fault-free run gives on the final data: a fresh site, the same edits,
    one in-process cycle."""
    site = (GoogleSite if kind == "google" else LocalSite)(tmp, codes)
    try:
        for edit in edits:
            site.apply(edit)
        ws = site.open()
        try:
            sync_once(ws)
        finally:
            ws.close()
        return comparable(site.master())
    finally:
        site.close()


def assert_same_master(got: dict[str, list[list[Any]]], want: dict[str, list[tuple]]) -> None:
    got_c = comparable(got)
    assert list(got_c) == list(want)
    for tab in want:
        assert got_c[tab] == want[tab], tab


# -- the daemon as a process ----------------------------------------------------------------


CYCLE_LINE = re.compile(r"cycle: read (\d+)/(\d+) units.*")


def configure(config: Path, *, interval: float = INTERVAL, archive: Path | None = None,
              extra: str = "") -> None:
    text = config.read_text(encoding="utf-8")
    text = re.sub(r"interval_minutes = [\d.]+", f"interval_minutes = {interval}", text)
    if archive is not None:
        text = text.replace('archive = "cchc-sync.sqlite"', f'archive = "{archive}"')
    config.write_text(text + extra, encoding="utf-8")


class Daemon:
    """`cchc-sync run` in its own process, its log in a file."""

    def __init__(self, config: Path, log: Path, *, python_prelude: str = "") -> None:
        self.config = config
        self.log = log
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("NOTIFY_SOCKET", None)
        env.pop("CREDENTIALS_DIRECTORY", None)
        self.mark = 0
        with log.open("a") as out:
            self.mark = out.tell()
            # A prelude patches time before cchc_sync is imported (e.g. scaled sleeps).
            self.proc = cli_process.Popen(["run", "--config", str(config)], stdout=out,
                                          stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True, prelude=python_prelude)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[self.mark:]

    def cycles(self) -> list[str]:
        return [m.group(0) for m in CYCLE_LINE.finditer(self.text())]

    def wait_for(self, pattern: str, timeout: float = TIMEOUT, after: int = 0) -> re.Match:
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern, re.MULTILINE)
        while time.monotonic() < deadline:
            found = regex.search(self.text(), after)
            if found:
                return found
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}):\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"{pattern!r} not logged within {timeout} s:\n{self.text()}")

    def wait_cycles(self, count: int, timeout: float = TIMEOUT) -> list[str]:
        """Wait until `count` more cycle lines than now are logged; returns the new ones."""
        start = len(self.cycles())
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            lines = self.cycles()
            if len(lines) >= start + count:
                return lines[start:]
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited ({self.proc.returncode}):\n{self.text()}")
            time.sleep(0.05)
        raise AssertionError(f"{count} cycles not logged within {timeout} s:\n{self.text()}")

    def settle(self, timeout: float = TIMEOUT, unreachable: int = 0) -> str:
        """Wait for an idle cycle (nothing read, nothing written) after a full one: the
        sheets and the master have converged with the archive. The cycle in flight (its
        scan may predate the caller's last edit) does not count."""
        deadline = time.monotonic() + timeout
        self.wait_cycles(1, timeout=timeout)
        while time.monotonic() < deadline:
            line = self.wait_cycles(1, timeout=max(1.0, deadline - time.monotonic()))[-1]
            if ("read 0/" in line and "flags written 0" in line and "master unchanged" in line
                    and f" {unreachable} unreachable" in line):
                return line
        raise AssertionError(f"never settled:\n{self.text()}")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=TIMEOUT)


def assert_clean_log(text: str) -> None:
    """No traceback, nothing the daemon did not mean to say."""
    assert "Traceback" not in text, text
    assert "maximum number of running instances" not in text, text


def status_json(config: Path) -> dict[str, dict[str, Any]]:
    """`cchc-sync status --json`, next to the running daemon (WAL: readers never wait)."""
    out = CliRunner().invoke(cli, ["status", "--json", "--config", str(config)])
    assert out.exit_code == 0, out.output
    return {item["unit"]: item for item in json.loads(out.output)}


@pytest.fixture(scope="module")
def full_reference(tmp_path_factory) -> dict[str, list[tuple]]:
    """The fault-free master after every edit of EDITS: where each test ends."""
    return reference_master(tmp_path_factory.mktemp("reference"), "google", EDITS)


def finish_edits(site: GoogleSite, done: list[Edit]) -> None:
    """Type the edits of EDITS a test did not make, in order, so it ends on the data of
    the shared reference (each edit overwrites one cell: the last one typed wins)."""
    for edit in EDITS:
        if edit not in done:
            site.apply(edit)


@pytest.fixture
def google_site(tmp_path):
    site = GoogleSite(tmp_path / "site")
    configure(site.config)
    yield site
    site.close()


def run_phases(site: GoogleSite, daemon: Daemon, phases: list[tuple[dict, list[Edit]]],
               cycles_per_phase: int = 2) -> None:
    """For each phase: set the faults, make its edits, let `cycles_per_phase` whole cycles
    run under those faults (the first may have started before), then clear them."""
    for faults, edits in phases:
        site.fake.set_faults(**faults)
        for edit in edits:
            site.apply(edit)
        daemon.wait_cycles(cycles_per_phase + 1)
        site.fake.clear_faults()


# -- the faults -----------------------------------------------------------------------------


def test_30_percent_of_requests_failing_429_500_503_for_whole_cycles(google_site, tmp_path,
                                                                     full_reference):
    site, want = google_site, full_reference
    daemon = Daemon(site.config, tmp_path / "daemon.log", python_prelude=SCALED_SLEEP)
    try:
        # The cold cycle (every sheet read, every flag and the master written) under 429s,
        # then each status for whole cycles with edits to read, flag and publish.
        site.fake.set_faults(status=429, rate=0.3, retry_after=1, seed=1)
        daemon.wait_cycles(1)
        run_phases(site, daemon, [
            ({"status": 429, "rate": 0.3, "retry_after": 1, "seed": 2}, EDITS[:2]),
            ({"status": 500, "rate": 0.3, "seed": 3}, EDITS[2:4]),
            ({"status": 503, "rate": 0.3, "seed": 4}, EDITS[4:]),
        ], cycles_per_phase=1)
        daemon.settle()
        assert daemon.alive()
        assert_same_master(site.master(), want)
    finally:
        daemon.stop()
    text = daemon.text()
    assert_clean_log(text)
    for status in ("429", "500", "503"):  # Sheets: RESOURCE_EXHAUSTED…; Drive: rateLimitExceeded…
        assert re.search(rf"Google API \S+: {status} \w+; retry \d/6 in \d+\.\d s", text), status
    # No unit was given up on: 30 % never fails seven times in a row here.
    assert all(" 0 unreachable" in line for line in daemon.cycles())


def test_google_down_for_whole_cycles(google_site, tmp_path, full_reference):
    """Drive's listing down: the cycle stops (one line), nothing is touched. Sheets' reads
    down: the unit is unreachable, with the reason, in "Tiến độ" and `status`; the others
    and the master go on. Then Google comes back."""
    site, want = google_site, full_reference
    daemon = Daemon(site.config, tmp_path / "daemon.log", python_prelude=SCALED_SLEEP)
    try:
        daemon.settle()
        site.fake.set_faults(status=503, kinds=["GET drive.files.list"])
        site.apply(EDITS[0])
        daemon.wait_for(r"cycle failed: Google Drive không trả lời: máy chủ Google lỗi tạm thời "
                        r"\(503\), đã thử 7 lần; the next cycle runs as scheduled$")
        site.fake.set_faults(status=503, kinds=["GET values.batchGet"])
        # The listing works again: VP's edit is seen, its read fails seven times.
        line = daemon.wait_for(r"cycle: read 0/4 units.* 1 unreachable.*master written").group(0)
        assert "VP" not in line
        progress = progress_rows(site.master())
        assert progress["VP"]["Kết nối"].startswith("Không truy cập được: Google chưa trả lời "
                                                     "khi đọc bảng tính")
        assert progress["XA_LT"]["Kết nối"] == "Được"
        status = status_json(site.config)
        assert status["VP"]["reachable"] is False
        assert "Google chưa trả lời" in status["VP"]["reason"]
        site.fake.clear_faults()
        finish_edits(site, EDITS[:1])
        daemon.settle()
        assert_same_master(site.master(), want)
        assert daemon.alive()
    finally:
        daemon.stop()
    text = daemon.text()
    assert_clean_log(text)
    # The unit's one line names the 503 and the seven attempts (the wording is Google
    # helper's: "máy chủ Google lỗi tạm thời (503), đã thử 7 lần").
    assert re.search(r"WARNING cchc_sync: unit VP unreachable: .*503.*7 lần.*$", text,
                     re.MULTILINE)


def test_two_second_latency(google_site, tmp_path, full_reference):
    site, want = google_site, full_reference
    daemon = Daemon(site.config, tmp_path / "daemon.log", python_prelude=SCALED_SLEEP)
    try:
        daemon.settle()
        site.fake.set_faults(latency_ms=2000)
        site.apply(EDITS[0])
        started = time.monotonic()
        line = daemon.wait_for(r"cycle: read 1/4 units.*master written, ([\d.]+) s$")
        slow = time.monotonic() - started
        site.fake.clear_faults()
        # listing, batchGet, listing before the flags, flag write, master: 5 requests
        assert float(line.group(1)) >= 5 * 2.0
        finish_edits(site, EDITS[:1])
        daemon.settle()
        assert_same_master(site.master(), want)
        assert daemon.alive()
    finally:
        daemon.stop()
    print(f"\nedit read, flagged and published under 2 s latency in {slow:.1f} s")
    assert_clean_log(daemon.text())
    assert "unreachable" not in daemon.text().replace(" 0 unreachable", "")


def test_connection_resets(google_site, tmp_path, full_reference):
    site, want = google_site, full_reference
    daemon = Daemon(site.config, tmp_path / "daemon.log", python_prelude=SCALED_SLEEP)
    try:
        site.fake.set_faults(reset_connection_rate=0.1, seed=7)
        daemon.wait_cycles(1)
        run_phases(site, daemon, [
            ({"reset_connection_rate": 0.1, "seed": 8}, EDITS[:3]),
            ({"reset_connection_rate": 0.1, "seed": 9}, EDITS[3:]),
        ])
        daemon.settle()
        assert_same_master(site.master(), want)
        assert daemon.alive()
    finally:
        daemon.stop()
    text = daemon.text()
    assert_clean_log(text)
    assert re.search(r"Google API \S+: ConnectionError; retry \d/6 in \d+\.\d s$", text,
                     re.MULTILINE)
    assert all(" 0 unreachable" in line for line in daemon.cycles())


def test_token_endpoint_failing(google_site, tmp_path, full_reference):
    """The token expires while the token endpoint answers 500 (google-auth retries it
    itself, then the transport does), then 400 (a revoked key): whole cycles fail with one
    line each and nothing is touched; when the endpoint is back, the edits made meanwhile
    are read."""
    site, want = google_site, full_reference
    daemon = Daemon(site.config, tmp_path / "daemon.log", python_prelude=SCALED_SLEEP)
    try:
        daemon.settle()
        for status, pattern in [
            (500, r"cycle failed: Google Drive không trả lời: máy chủ cấp quyền truy cập của "
                  r"Google không trả lời, đã thử 7 lần; the next cycle runs as scheduled$"),
            (400, r"cycle failed: Không lấy được mã truy cập của tài khoản dịch vụ: .*; hãy "
                  r"kiểm tra tệp khoá \(credentials\); the next cycle runs as scheduled$"),
        ]:
            site.fake.set_faults(token_status=status)
            site.fake.expire_tokens()
            daemon.wait_for(pattern, after=len(daemon.text()))
        site.apply(EDITS[0])
        site.fake.clear_faults()
        finish_edits(site, EDITS[:1])
        daemon.settle()
        assert_same_master(site.master(), want)
        assert daemon.alive()
    finally:
        daemon.stop()
    text = daemon.text()
    assert_clean_log(text)
    assert "Bearer" not in text and "ya29" not in text


def test_unit_sheets_unshared_or_deleted_mid_cycle(google_site, tmp_path):
    """After the cycle's listing and before their reads, one unit's sheet is unshared and
    another's deleted: both are unreachable, with the reason, in the log, "Tiến độ" and
    `status`; the others sync. Shared again, the first converges; the deleted one keeps
    every row it had in the master."""
    site = google_site
    unshared = Edit("XA_HT", "Thông tin", 2, "Người lập biểu", "Ai Đó")
    # The deleted sheet's last edit is never read: the reference does not have it.
    want = reference_master(tmp_path / "reference", "google", [EDITS[2], unshared])
    daemon = Daemon(site.config, tmp_path / "daemon.log", python_prelude=SCALED_SLEEP)
    try:
        daemon.settle()
        # Events, not the fake's latency: the three edits land just before a cycle's
        # listing is served (so it lists all three), and the unshare and the delete just
        # before that cycle's first read of one of them (after the listing, before the
        # reads of the two).
        edited = [EDITS[2], unshared, Edit("XA_LT", "Thông tin", 2, "Người lập biểu", "Ai Khác")]
        sids = {site.sheets[e.unit] for e in edited}
        listed = threading.Event()

        def clerks_and_owner(kind: str, path: str) -> None:
            if not listed.is_set():
                if kind == "GET drive.files.list":
                    for edit in edited:
                        site.apply(edit)
                    listed.set()
            elif any(sid in path for sid in sids):
                remove()
                site.fake.unshare(site.sheets["XA_HT"])
                site.fake.delete(site.sheets["XA_LT"])

        remove = site.fake.on_request(clerks_and_owner)
        daemon.wait_for(r"cycle: read 1/4 units.* 2 unreachable.*master written")
        progress = progress_rows(site.master())
        assert progress["XA_HT"]["Kết nối"].startswith("Không truy cập được: Bảng tính")
        assert "chưa chia sẻ cho tài khoản dịch vụ" in progress["XA_HT"]["Kết nối"]
        assert "đã bị xoá" in progress["XA_LT"]["Kết nối"]
        assert progress["TNMT"]["Kết nối"] == "Được"
        status = status_json(site.config)
        assert not status["XA_HT"]["reachable"] and not status["XA_LT"]["reachable"]
        # Shared again: read, with the edit made before it was unshared.
        site.fake.share(site.sheets["XA_HT"], DEFAULT_EMAIL)
        daemon.settle(unreachable=1)
        got = comparable(site.master())
        assert daemon.alive()
    finally:
        daemon.stop()
    text = daemon.text()
    assert_clean_log(text)
    assert re.search(r"WARNING cchc_sync: unit XA_HT unreachable: Bảng tính \S+ chưa chia sẻ "
                     r"cho tài khoản dịch vụ", text)
    assert re.search(r"WARNING cchc_sync: unit XA_LT unreachable: Bảng tính \S+ không còn: "
                     r"đã bị xoá", text)
    # Everything equals the fault-free master but the deleted unit's connection cell.
    head = list(want["Tiến độ"][0])
    col = head.index("Kết nối")
    for tab in want:
        rows = got[tab]
        if tab == "Tiến độ":
            rows = [r[:col] + ("Được",) + r[col + 1:] if r and r[0] == "XA_LT" else r
                    for r in rows]
        assert rows == want[tab], tab


def test_registry_or_configuration_broken_while_the_daemon_runs(tmp_path):
    """An administrator saves a broken units.csv, then a broken cchc-sync.toml: each cycle
    meanwhile fails in one line naming the file and what is wrong; fixed, the next cycle
    goes on (local backend: the fault is the same for both)."""
    site = LocalSite(tmp_path / "site")
    configure(site.config)
    units = site.root / "units.csv"
    good_units, good_config = units.read_text("utf-8"), site.config.read_text("utf-8")
    daemon = Daemon(site.config, tmp_path / "daemon.log")
    try:
        daemon.settle()
        units.write_text("ma,ten\nVP,Văn phòng\n", encoding="utf-8")
        daemon.wait_for(r"ERROR cchc_sync: cycle failed: \S+units\.csv: thiếu cột cap .*; "
                        r"the next cycle runs as scheduled$")
        units.write_text(good_units, encoding="utf-8")
        site.config.write_text(good_config + "\n[broken\n", encoding="utf-8")
        daemon.wait_for(r"ERROR cchc_sync: cycle failed: \S+cchc-sync\.toml: "
                        r"tệp cấu hình sai cú pháp TOML.*; "
                        r"the next cycle runs as scheduled$")
        site.config.write_text(good_config, encoding="utf-8")
        daemon.settle()
        assert daemon.alive()
    finally:
        daemon.stop()
    assert_clean_log(daemon.text())
