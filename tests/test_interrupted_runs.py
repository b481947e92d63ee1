"""`runs` rows of cycles that never finished: a process killed mid-cycle leaves its run
`running`; the next process that takes the archive's lock (`run` or `sync`) marks it
`interrupted` (finished_at NULL: when the process ended is unknown) and says so in one log
line. A cycle that fails inside a daemon that keeps running is marked `failed` at once.

Real processes, killed with SIGKILL while the archive shows their cycle `running`.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
from pathlib import Path

from cchc_sync.app.service import close_interrupted_runs, hold_archive_lock
from cchc_sync.store.archive import Archive
from tests import cli_process
from tests.conftest import HANG_GUARD, wait_until
from tests.test_faults import EDITS, Daemon, LocalSite, configure

MARKED = re.compile(r"WARNING cchc_sync: (\d+) cycle\(s\) left unfinished by an earlier "
                    r"process .*marked interrupted")


def runs(archive: Path) -> list[dict]:
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in db.execute("SELECT * FROM runs ORDER BY id")]
    finally:
        db.close()


def refuse_new_versions(archive: Path) -> None:
    """A trigger stands in for a fault after a run started: new row versions fail."""
    db = sqlite3.connect(archive)
    db.execute("CREATE TRIGGER refuse BEFORE INSERT ON row_versions "
               "BEGIN SELECT RAISE(ABORT, 'test: no new versions'); END")
    db.commit()
    db.close()


def running(archive: Path) -> list[int]:
    return [r["id"] for r in runs(archive) if r["status"] == "running"]


def kill_mid_cycle(start, archive: Path, site: LocalSite, lives: int = 6) -> list[int]:
    """Start a process (start() -> Popen) that syncs, SIGKILL it as soon as the archive
    shows a cycle `running`; returns the ids left `running`. A kill that lands just after
    the cycle finished leaves nothing, and a one-off sync may even finish before its
    `running` row is seen (the watcher is just slower on a busy machine): a clerk edits,
    and the next life tries again."""
    ended = []  # exit codes of lives that ended before a kill: shown if none landed
    for life in range(lives):
        site.apply(EDITS[life % len(EDITS)])  # something to read: a cycle of real work
        before = {r["id"] for r in runs(archive)}
        proc = start()
        try:
            wait_until(lambda before=before, proc=proc: (set(running(archive)) - before
                                                          or proc.poll() is not None),
                       "a cycle running", poll=0.005)
            if proc.poll() is not None:
                ended.append(proc.returncode)
                continue
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=HANG_GUARD)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=HANG_GUARD)
        left = running(archive)
        if left:
            return left
    raise AssertionError(f"no kill landed mid-cycle in {lives} lives; "
                         f"exit codes of those that ended first: {ended}")


def test_a_daemon_killed_mid_cycle_leaves_no_running_run_after_restart(tmp_path):
    site = LocalSite(tmp_path / "site")
    configure(site.config)
    archive = site.root / "cchc-sync.sqlite"
    log = tmp_path / "daemon.log"

    killed = kill_mid_cycle(lambda: Daemon(site.config, log).proc, archive, site)
    assert killed  # the state the fix is about: a dead process's run shows `running`
    before = max(r["id"] for r in runs(archive))

    daemon = Daemon(site.config, log)
    try:
        daemon.settle()
        # While it runs, the only run `running` can be its own cycle in flight.
        assert all(i > before for i in running(archive))
        assert len(running(archive)) <= 1
        by_id = {r["id"]: r for r in runs(archive)}
        for run_id in killed:
            assert by_id[run_id]["status"] == "interrupted"
            assert by_id[run_id]["finished_at"] is None  # when it ended is unknown
            assert "noticed at" in by_id[run_id]["message"]
        marked = MARKED.findall(daemon.text())
        assert marked == [str(len(killed))], daemon.text()  # one line, at the start
    finally:
        assert daemon.stop() == 0
    assert running(archive) == []
    after = [r for r in runs(archive) if r["id"] > before]
    assert after and {r["status"] for r in after} == {"ok"}
    assert "Traceback" not in log.read_text()


def test_a_sync_killed_mid_cycle_is_marked_by_the_next_sync(tmp_path):
    site = LocalSite(tmp_path / "site")
    archive = site.root / "cchc-sync.sqlite"
    # -v: a plain `sync` prints no log lines; the administrator asks for them.
    argv = ["sync", "-v", "--config", str(site.config)]

    def start() -> cli_process.Popen:
        return cli_process.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    killed = kill_mid_cycle(start, archive, site)
    done = cli_process.run(argv, capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stderr
    assert MARKED.findall(done.stderr) == [str(len(killed))], done.stderr
    assert running(archive) == []
    statuses = {r["id"]: r["status"] for r in runs(archive)}
    assert {statuses[i] for i in killed} == {"interrupted"}
    assert statuses[max(statuses)] == "ok"  # the new sync's own run


def test_a_cycle_that_fails_in_a_running_daemon_is_marked_failed(tmp_path):
    """The archive refuses new row versions (a trigger stands in for a fault after the
    run started): the cycle raises, the daemon keeps its schedule, the run is `failed`."""
    site = LocalSite(tmp_path / "site")
    configure(site.config)
    archive = site.root / "cchc-sync.sqlite"
    refuse_new_versions(archive)
    daemon = Daemon(site.config, tmp_path / "daemon.log")
    try:
        daemon.wait_for(r"cycle failed")
        wait_until(lambda: any(r["status"] == "failed" for r in runs(archive)),
                   "the failed cycle's run marked failed")
        assert daemon.alive()
        failed = next(r for r in runs(archive) if r["status"] == "failed")
        assert failed["finished_at"] is not None
        assert "test: no new versions" in failed["message"]
        db = sqlite3.connect(archive)
        db.execute("DROP TRIGGER refuse")
        db.commit()
        db.close()
        daemon.settle()
    finally:
        assert daemon.stop() == 0
    assert running(archive) == []
    assert not MARKED.search(daemon.text())  # nothing was left for a next start


def test_marking_needs_an_archive_and_logs_once(tmp_path, caplog):
    missing = tmp_path / "none.sqlite"
    with hold_archive_lock(missing, "sync"):
        pass
    assert not missing.exists()  # taking the lock never creates an archive

    path = tmp_path / "a.sqlite"
    with Archive(path) as a:
        first = a.start_run("2022S1")
        a.finish_run(first)
        left = [a.start_run("2022S1"), a.start_run("2022S2")]
    with caplog.at_level(logging.WARNING, logger="cchc_sync"):
        assert close_interrupted_runs(path) == left
        assert close_interrupted_runs(path) == []
    assert len(caplog.records) == 1
    assert "2 cycle(s) left unfinished" in caplog.records[0].getMessage()
    with Archive(path) as a:
        rows = a.db.execute("SELECT id, status, finished_at FROM runs ORDER BY id").fetchall()
    assert [tuple(r)[:2] for r in rows] == [
        (first, "ok"), (left[0], "interrupted"), (left[1], "interrupted")]
    assert rows[1]["finished_at"] is None


def test_a_one_off_sync_whose_cycle_fails_marks_its_run_failed(tmp_path):
    """The pipeline closes its own run when the cycle raises, so a `sync` by hand leaves
    no `running` run behind for the next start to find."""
    site = LocalSite(tmp_path / "site")
    archive = site.root / "cchc-sync.sqlite"
    refuse_new_versions(archive)
    # -v: a plain `sync` prints no log lines; the administrator asks for them.
    argv = ["sync", "-v", "--config", str(site.config)]
    done = cli_process.run(argv, capture_output=True, text=True, timeout=HANG_GUARD)
    assert done.returncode != 0
    assert running(archive) == []
    last = runs(archive)[-1]
    assert last["status"] == "failed" and last["finished_at"] is not None
    assert "test: no new versions" in last["message"]
