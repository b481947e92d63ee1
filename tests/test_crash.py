"""`kill -9` of the daemon at random moments (seeded), over at least 20 cycles.

Clerks edit between the daemon's lives (a batch of edits while it is down); the daemon is
started, killed with SIGKILL after a random delay — while it starts, reads, archives, writes
flags or the master, or idles — and started again. A reference workspace gets the same
batches, each synced once in-process without faults: its `row_versions` are what the
edits must produce.

After every kill: SQLite's `integrity_check` is "ok"; every (period, unit, table, row key,
version) is unique, versions run 1..n without gaps, no two consecutive versions of a row
are equal, and what the archive holds is a prefix of what the reference holds (never a
version the edits did not produce). A new batch is made only once the previous one is
fully archived, so every state of every row is seen: at the end the row versions equal the
reference's exactly (data, tombstones and numbering; times aside), and so do the current
rows, the master and the flags in the units' status columns.
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from pathlib import Path

import openpyxl

from cchc_sync.app.pipeline import sync_once
from tests.contract.districts import dump_values
from tests.test_faults import (
    SCALED_SLEEP,
    SUBSET,
    Daemon,
    Edit,
    GoogleSite,
    LocalSite,
    assert_clean_log,
    comparable,
    configure,
)

SEED = 20240605
STATUS_TITLE = "Kết quả kiểm tra"
TRAINING_TAB = "Đào tạo, bồi dưỡng"


def versions(db_path: Path) -> list[tuple]:
    """(unit, table, row key, version, data, deleted) of every row version, in order."""
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [tuple(r) for r in db.execute(
            "SELECT unit, tbl, row_key, version, data, deleted FROM row_versions "
            "ORDER BY unit, tbl, row_key, version")]
    finally:
        db.close()


def check_after_kill(db_path: Path, reference: list[tuple]) -> None:
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        dupes = db.execute(
            "SELECT period, unit, tbl, row_key, version FROM row_versions "
            "GROUP BY 1, 2, 3, 4, 5 HAVING COUNT(*) > 1").fetchall()
        assert dupes == []
    finally:
        db.close()
    got = versions(db_path)
    by_key: dict[tuple, list[tuple]] = {}
    for row in got:
        by_key.setdefault(row[:3], []).append(row)
    want_by_key: dict[tuple, list[tuple]] = {}
    for row in reference:
        want_by_key.setdefault(row[:3], []).append(row)
    for key, rows in by_key.items():
        assert [r[3] for r in rows] == list(range(1, len(rows) + 1)), key  # no gap
        for a, b in zip(rows, rows[1:], strict=False):
            assert (a[4], a[5]) != (b[4], b[5]), key  # no duplicate version
        # Only versions the edits produced, in their order.
        assert rows == want_by_key.get(key, [])[: len(rows)], key


def status_columns(site) -> dict[tuple[str, str], list]:
    """The status column of every table tab of every unit (what the clerk sees)."""
    out = {}
    for code in SUBSET:
        if site.kind == "local":
            wb = openpyxl.load_workbook(site.sheets[code])
            tabs = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)]
                    for ws in wb.worksheets}
        else:
            tabs = dump_values(site.fake.spreadsheet(site.sheets[code]))
        for title, rows in tabs.items():
            if rows and STATUS_TITLE in rows[0]:
                col = list(rows[0]).index(STATUS_TITLE)
                out[(code, title)] = [r[col] if len(r) > col else None for r in rows[1:]
                                      if any(v not in (None, "") for v in r)]
    return out


class Clerks:
    """Random, seeded edits: signers, totals, sign-off state, training rows added and
    cleared (tombstones)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.trainings: dict[str, list[int]] = {code: [] for code in SUBSET}
        self.next_row = 20

    def batch(self) -> list[Edit]:
        rng = self.rng
        edits = []
        for _ in range(rng.randint(1, 3)):
            unit = rng.choice(SUBSET)
            kind = rng.choice(["signer", "total", "state", "add", "add", "clear"])
            if kind == "signer":
                edits.append(Edit(unit, "Thông tin", 2, "Người lập biểu",
                                  rng.choice(["Lê Văn Tám", "Trần Thị Hoa", "Đỗ Minh Châu",
                                              "Nguyễn Ánh Dương"])))
            elif kind == "total":
                edits.append(Edit(unit, "Giải quyết TTHC", 2, "Tổng số hồ sơ tiếp nhận",
                                  rng.randint(1, 5000)))
            elif kind == "state":
                edits.append(Edit(unit, "Thông tin", 2, "Trạng thái",
                                  rng.choice(["Hoàn thành", "Đang nhập"])))
            elif kind == "add" or not self.trainings[unit]:
                row = self.next_row
                self.next_row += 1
                self.trainings[unit].append(row)
                edits.append(Edit(unit, TRAINING_TAB, row, "Nội dung đào tạo, bồi dưỡng",
                                  f"Tập huấn chuyên đề {row}"))
                edits.append(Edit(unit, TRAINING_TAB, row, "Số lượt người", rng.randint(1, 90)))
            else:
                row = self.trainings[unit].pop(rng.randrange(len(self.trainings[unit])))
                edits.append(Edit(unit, TRAINING_TAB, row, "Nội dung đào tạo, bồi dưỡng", None))
                edits.append(Edit(unit, TRAINING_TAB, row, "Số lượt người", None))
        return edits


def kill_loop(tmp_path: Path, site, reference, *, min_cycles: int, min_kills: int,
              prelude: str = "") -> None:
    rng = random.Random(SEED)
    configure(site.config)
    ref_ws = reference.open()
    log = tmp_path / "daemon.log"
    archive = site.root / "cchc-sync.sqlite"
    clerks = Clerks(rng)

    def reference_batch(edits: list[Edit]) -> list[tuple]:
        for edit in edits:
            reference.apply(edit)
        sync_once(ref_ws)
        return versions(reference.root / "cchc-sync.sqlite")

    want = reference_batch([])
    cycles = kills = lives = stalled = 0
    pending = True  # the first batch: the clerks' initial figures
    moments = []
    try:
        while cycles < min_cycles or kills < min_kills:
            lives += 1
            assert lives < 60, "too many lives"
            if not pending:
                edits = clerks.batch()
                for edit in edits:
                    site.apply(edit)
                want = reference_batch(edits)
            before = versions(archive)
            daemon = Daemon(site.config, log, python_prelude=prelude)
            # The first cycle starts with the scheduler: most kills land in its work
            # (reading, archiving, flags, master), some in later idle cycles.
            daemon.wait_for(r"daemon started")
            if stalled >= 2:
                # Two lives in a row killed before a cycle ended (a busy machine makes a
                # cycle slower than the random delays): this one is killed in a later
                # cycle, after an event, so the loop always moves on.
                daemon.wait_cycles(1)
            delay = rng.uniform(0, 0.6) if rng.random() < 0.5 else rng.uniform(0.6, 3.0)
            time.sleep(delay)
            daemon.proc.send_signal(signal.SIGKILL)
            daemon.proc.wait(timeout=10)
            kills += 1
            done = daemon.cycles()
            cycles += len(done)
            stalled = 0 if done else stalled + 1
            check_after_kill(archive, want)
            assert_clean_log(daemon.text())
            after = versions(archive)
            pending = after != want  # the batch not fully archived yet
            archived = "all" if not pending else "none" if after == before else "part"
            moments.append((round(delay, 2), len(done), archived))
        # A last life without a kill: everything converges.
        daemon = Daemon(site.config, log, python_prelude=prelude)
        try:
            daemon.settle()
        finally:
            assert daemon.stop() == 0
        check_after_kill(archive, want)
        assert versions(archive) == want
        site_ws, ref_rows = site.open(), None
        try:
            ref_rows = {(r.unit, r.table, r.key): (r.values, r.sheet_row)
                        for r in ref_ws.archive.current_rows(ref_ws.period.code)}
            got_rows = {(r.unit, r.table, r.key): (r.values, r.sheet_row)
                        for r in site_ws.archive.current_rows(site_ws.period.code)}
        finally:
            site_ws.close()
        assert got_rows == ref_rows
        assert comparable(site.master()) == comparable(reference.master())
        assert status_columns(site) == status_columns(reference)
        leftovers = sorted(p.name for p in site.root.rglob(".*.tmp"))
    finally:
        ref_ws.close()
    print(f"\n{site.kind}: {kills} kills over {cycles} completed cycles in {lives} lives; "
          f"{len(want)} row versions; temp files left by killed writes: {leftovers}")
    print("kills (s after start, cycles completed, batch archived):", json.dumps(moments))


def test_kill_9_at_random_moments_over_20_cycles(tmp_path):
    site = LocalSite(tmp_path / "site")
    reference = LocalSite(tmp_path / "reference")
    kill_loop(tmp_path, site, reference, min_cycles=20, min_kills=12)


def test_kill_9_on_google(tmp_path):
    """The same on the Google backend (fewer lives: each costs a process start). A kill
    can land while a request is in flight: Google (the fake) may complete a flag or
    master write the archive never hears of; it is rewritten, never doubled."""
    site = GoogleSite(tmp_path / "site")
    reference = GoogleSite(tmp_path / "reference")
    try:
        kill_loop(tmp_path, site, reference, min_cycles=8, min_kills=8, prelude=SCALED_SLEEP)
    finally:
        site.close()
        reference.close()
