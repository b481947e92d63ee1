"""The archive's disk full or read-only, for real: a tiny tmpfs filled to the last byte, and
an immutable archive and folder (`chattr +i`: root ignores file modes, not that).

The daemon runs as a process (`cchc-sync run`, local backend: the archive does not care
which backend fed it). While the archive cannot be written every cycle fails with one log
line that says so — how much space is left, whether the file or its folder can be written —
and the next cycles retry; once the disk has room again the first cycle converges to the
master a fault-free run gives. A disk that fills in the middle of a cycle (in-process,
filled between two units) loses nothing either: what was committed stays, what was not is
read again.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from cchc_sync.app.pipeline import sync_once
from tests.test_faults import (
    EDITS,
    Daemon,
    LocalSite,
    assert_clean_log,
    assert_same_master,
    comparable,
    configure,
    reference_master,
)

ROOT = os.geteuid() == 0


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "4m") -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    if not ROOT:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk refuses another byte."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * size)
    finally:
        os.close(fd)
    assert shutil.disk_usage(disk).free < 4096
    return filler


def move_archive(site: LocalSite, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "cchc-sync.sqlite"
    shutil.move(site.root / "cchc-sync.sqlite", target)
    configure(site.config, archive=target)
    return target


@pytest.fixture(scope="module")
def want(tmp_path_factory) -> dict[str, list[tuple]]:
    """The fault-free master after the first three edits."""
    return reference_master(tmp_path_factory.mktemp("reference"), "local", EDITS[:3])


def test_archive_disk_full(tmp_path, want):
    site = LocalSite(tmp_path / "site")
    with tmpfs(tmp_path / "disk") as disk:
        move_archive(site, disk)
        daemon = Daemon(site.config, tmp_path / "daemon.log")
        try:
            daemon.settle()
            filler = fill(disk)
            mark = len(daemon.text())
            for edit in EDITS[:3]:
                site.apply(edit, like_excel=True)
            failure = (r"ERROR cchc_sync: cycle failed: the archive \S+cchc-sync\.sqlite could "
                       r"not be written \((?:disk I/O error|database or disk is full); "
                       r"0\.\d MiB free on its disk\); what this cycle read but did not record is "
                       r"read again by the next cycle; the next cycle runs as scheduled$")
            first = daemon.wait_for(failure, after=mark)
            daemon.wait_for(failure, after=first.end())  # and the next cycle retries
            assert daemon.alive()
            filler.unlink()
            daemon.settle()
            assert_same_master(site.master(), want)
        finally:
            daemon.stop()
    assert_clean_log(daemon.text())


def _immutable(paths: list[Path], on: bool) -> None:
    for path in paths:
        if path.exists():
            subprocess.run(["chattr", "+i" if on else "-i", str(path)], check=True,
                           capture_output=True)


def test_archive_read_only(tmp_path, want):
    site = LocalSite(tmp_path / "site")
    folder = tmp_path / "site" / "state"
    archive = move_archive(site, folder)
    daemon = Daemon(site.config, tmp_path / "daemon.log")
    frozen: list[Path] = []
    try:
        daemon.settle()
        if ROOT:
            # Root ignores modes: make the file and its folder immutable instead.
            frozen = [archive, folder]
            try:
                _immutable(frozen, True)
            except subprocess.CalledProcessError as exc:
                pytest.skip(f"chattr +i does not work here: {exc.stderr}")
            reason = "Operation not permitted"
        else:
            archive.chmod(0o444)
            folder.chmod(0o555)
            reason = "Permission denied"
        mark = len(daemon.text())
        for edit in EDITS[:3]:
            site.apply(edit, like_excel=True)
        failure = (r"ERROR cchc_sync: cycle failed: the archive \S+cchc-sync\.sqlite could not "
                   r"be written \([^;]+; [\d.]+ MiB free on its disk; the file cannot be "
                   rf"written: {reason}; its folder takes no new file: {reason}\); what this "
                   r"cycle read but did not record is read again by the next cycle; the next "
                   r"cycle runs as scheduled$")
        first = daemon.wait_for(failure, after=mark)
        daemon.wait_for(failure, after=first.end())
        assert daemon.alive()
        if ROOT:
            _immutable(frozen, False)
            frozen = []
        else:
            folder.chmod(0o755)
            archive.chmod(0o644)
        daemon.settle()
        assert_same_master(site.master(), want)
    finally:
        _immutable(frozen, False)
        daemon.stop()
    assert_clean_log(daemon.text())


def test_disk_full_between_two_units_of_a_cycle_loses_nothing(tmp_path, want):
    """In-process: the disk fills right after the first unit of a cycle is archived."""
    site = LocalSite(tmp_path / "site")
    for edit in EDITS[:3]:
        site.apply(edit)
    with tmpfs(tmp_path / "disk") as disk:
        move_archive(site, disk)
        ws = site.open()
        filled: list[Path] = []

        def fill_after_first(items, label):
            for index, item in enumerate(items):
                if index == 1:
                    filled.append(fill(disk))
                yield item

        try:
            with pytest.raises(sqlite3.OperationalError) as caught:
                sync_once(ws, progress=fill_after_first)
            # The error says what happened (not a failed ROLLBACK hiding it).
            assert caught.value.sqlite_errorname in ("SQLITE_FULL", "SQLITE_IOERR_WRITE"), \
                caught.value
            ws.close()
            filled[0].unlink()
            ws = site.open()
            first = {r["unit"] for r in ws.archive.db.execute(
                "SELECT DISTINCT unit FROM row_versions")}
            assert len(first) == 1  # the unit archived before the disk filled
            result = sync_once(ws)
            assert result.units_read == 3  # the other three, read again
            versions = ws.archive.db.execute(
                "SELECT period, unit, tbl, row_key, version, COUNT(*) FROM row_versions "
                "GROUP BY 1, 2, 3, 4, 5 HAVING COUNT(*) > 1").fetchall()
            assert versions == []
            assert ws.archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            ws.close()
        assert comparable(site.master()) == want
