"""A broken archive and its way back, with real files and real `cchc-sync` processes.

An archive overwritten with text or cut short gives every command one Vietnamese line
(exit 1) naming the file and how to recover, never a traceback; a cycle that changed
something leaves a rolling SQLite online backup (`[archive] backups = N`), an idle one
none; `cchc-sync archive check` tells whole from damaged (exit 0/1) and `cchc-sync archive
restore` puts the newest whole backup back, keeping the damaged file, and refuses while
the daemon holds the archive. A key path that is a directory, a FIFO or unreadable is one
line, too (sync, run, doctor).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.cli_archive import restore_text
from cchc_sync.app.pipeline import sync_once
from cchc_sync.app.service import acquire_archive_lock
from cchc_sync.domain.config import DEFAULT_BACKUPS, ConfigError, load_config, render_config
from cchc_sync.store.backup import backups, check_archive
from cchc_sync.testing.typist import type_rows
from tests import cli_process
from tests.conftest import synced_copy

NOT_A_DATABASE = "đây không phải cơ sở dữ liệu\n"


def cchc(*args: str | Path) -> subprocess.CompletedProcess:
    return cli_process.run([*map(str, args)],
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def invoke(*args: str | Path):
    """The same command in this process (click's runner): for the variants of a failure
    whose path through a real process the test beside it already shows."""
    return CliRunner().invoke(cli, list(map(str, args)), catch_exceptions=False)


def one_line(done) -> str:
    """The only line on stderr (a finished process or a click runner's result)."""
    assert "Traceback" not in done.stderr, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    return lines[0]


def exit_code(done) -> int:
    return done.returncode if hasattr(done, "returncode") else done.exit_code


@pytest.fixture
def site(synced_template, tmp_path):
    """A copy of the synced district (archive, its one backup, workbooks); the config
    names its archive relative to itself, so the copy is self-contained."""
    root = tmp_path / "d"
    shutil.copytree(synced_template, root, symlinks=True)
    return root


def damage(archive: Path, how: str) -> None:
    if how == "text":
        archive.write_text(NOT_A_DATABASE, encoding="utf-8")
    else:
        os.truncate(archive, archive.stat().st_size // 2)
    for suffix in ("-wal", "-shm"):
        archive.with_name(archive.name + suffix).unlink(missing_ok=True)


def test_a_changed_cycle_leaves_a_backup_an_idle_one_none_and_n_are_kept(
        synced_template, tmp_path, clock):
    ws = synced_copy(synced_template, tmp_path / "d", clock)
    try:
        archive = ws.config.archive_file
        first = backups(archive)  # the template's first cycle took one
        assert len(first) == 1
        health = check_archive(first[0])
        assert health.ok and health.schema_version == ws.archive.schema_version()
        with sqlite3.connect(first[0]) as copy:
            assert copy.execute("SELECT COUNT(*) FROM row_versions").fetchone()[0] == \
                ws.archive.db.execute("SELECT COUNT(*) FROM row_versions").fetchone()[0]
            # One self-contained file, not a WAL database needing its -wal beside it.
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"

        clock.tick()
        assert sync_once(ws).units_read == 0
        assert backups(archive) == first  # idle: no new copy

        ws.config = dataclasses.replace(ws.config, archive_backups=2)
        sheet = ws.config.root / ws.archive.sheets(ws.period.code)["XA_AB"].ref
        for people in ("3", "4"):
            clock.tick()
            type_rows(sheet, {"Đào tạo, bồi dưỡng": [
                {"Nội dung đào tạo, bồi dưỡng": "Tập huấn", "Số lượt người": people}]})
            assert sync_once(ws).rows_changed > 0
        kept = backups(archive)
        assert len(kept) == 2 and first[0] not in kept  # N kept, the oldest rolled out
        assert all(check_archive(b).ok for b in kept)
        with sqlite3.connect(kept[0]) as newest:  # it holds the last cycle's versions
            assert newest.execute("SELECT COUNT(*) FROM row_versions").fetchone()[0] == \
                ws.archive.db.execute("SELECT COUNT(*) FROM row_versions").fetchone()[0]

        ws.config = dataclasses.replace(ws.config, archive_backups=0)
        clock.tick()
        type_rows(sheet, {"Đào tạo, bồi dưỡng": [
            {"Nội dung đào tạo, bồi dưỡng": "Tập huấn", "Số lượt người": "6"}]})
        assert sync_once(ws).rows_changed > 0
        assert backups(archive) == kept  # backups = 0: none taken, none removed

        # Restore skips a damaged newest backup for the newest whole one.
        kept[0].write_bytes(kept[0].read_bytes()[:4096])
        ws.close()
        said = restore_text(ws.config, None, now=clock())
        assert kept[1].name in said
        assert check_archive(archive).ok
        replaced = [p for p in archive.parent.glob("cchc-sync.sqlite.replaced-*")
                    if not p.name.endswith(("-wal", "-shm"))]
        assert len(replaced) == 1 and check_archive(replaced[0]).ok  # whole: kept too
    finally:
        ws.close()


def test_the_config_init_writes_names_backups_and_a_bad_value_is_refused(tmp_path):
    text = render_config(name="x", period="2022S1", units_file="units.csv", backend="local",
                         level_order=[], level_names={})
    assert "[archive]" in text and f"backups = {DEFAULT_BACKUPS}" in text
    config = tmp_path / "cchc-sync.toml"
    config.write_text(text, encoding="utf-8")
    assert load_config(config).archive_backups == DEFAULT_BACKUPS == 7
    config.write_text(text.replace("backups = 7", "backups = 0"), encoding="utf-8")
    assert load_config(config).archive_backups == 0
    for bad in ("backups = -1", "backups = \"3\"", "backups = 7\nbackup = 2"):
        config.write_text(text.replace("backups = 7", bad), encoding="utf-8")
        with pytest.raises(ConfigError, match=r"\[archive\]"):
            load_config(config)


@pytest.mark.parametrize("how", ["text", "truncated"])
def test_every_command_says_one_line_for_a_broken_archive(site, how):
    config = site / "cchc-sync.toml"
    archive = site / "cchc-sync.sqlite"
    damage(archive, how)
    broken = archive.read_bytes()
    # Real processes for the one-off cycle and the daemon; the rest in this process.
    real = [["sync"], ["run"]] if how == "text" else [["status"]]
    here = [["status"], ["findings"], ["period", "log"]] if how == "text" else [["sync"]]
    for command in real + here:
        run = cchc if command in real else invoke
        done = run("-q", *command, "--config", config)
        assert exit_code(done) == 1, (command, done.stderr)
        line = one_line(done)
        assert str(archive) in line and "bị hỏng" in line, (command, line)
        assert "cchc-sync archive restore" in line and "cchc-sync-2022" in line, (command, line)
    check = cchc("archive", "check", "--config", config) if how == "text" else invoke(
        "archive", "check", "--config", config)
    assert exit_code(check) == 1 and not check.stderr, check.stderr
    assert "bị hỏng" in check.stdout and "cchc-sync archive restore" in check.stdout
    doctor = invoke("doctor", "--config", config)
    assert doctor.exit_code == 1 and "bị hỏng" in doctor.stdout
    assert "archive restore" in doctor.stdout and "cchc-sync-2022" in doctor.stdout
    assert archive.read_bytes() == broken  # nothing wrote into the damaged file


def test_restore_puts_the_newest_whole_backup_back_and_keeps_the_damaged_file(site):
    config = site / "cchc-sync.toml"
    archive = site / "cchc-sync.sqlite"
    before = invoke("status", "--json", "--config", config)
    damage(archive, "text")

    done = cchc("archive", "restore", "--latest", "--config", config)
    assert done.returncode == 0, done.stderr
    assert "Đã khôi phục kho lưu trữ" in done.stdout and "damaged-" in done.stdout
    kept = list(site.glob("cchc-sync.sqlite.damaged-*"))
    assert [p.read_text(encoding="utf-8") for p in kept] == [NOT_A_DATABASE]

    check = cchc("archive", "check", "--config", config)
    assert check.returncode == 0 and "nguyên vẹn" in check.stdout, check.stdout
    after = invoke("status", "--json", "--config", config)
    assert after.exit_code == 0, after.stderr
    assert after.stdout == before.stdout  # the backup was taken after that very cycle


def test_restore_refuses_while_the_daemon_holds_the_archive(site):
    config = site / "cchc-sync.toml"
    archive = site / "cchc-sync.sqlite"
    damage(archive, "text")
    lock = acquire_archive_lock(archive, "run")  # the lock `cchc-sync run` holds
    try:
        done = cchc("archive", "restore", "--config", config)
    finally:
        lock.release()
    assert done.returncode == 1
    assert "đang được một tiến trình cchc-sync khác dùng" in one_line(done)
    assert archive.read_text(encoding="utf-8") == NOT_A_DATABASE
    assert not list(site.glob("cchc-sync.sqlite.damaged-*"))


def test_restore_refuses_a_damaged_file_and_a_missing_backup(site, tmp_path):
    config = site / "cchc-sync.toml"
    archive = site / "cchc-sync.sqlite"
    junk = tmp_path / "junk.sqlite"
    junk.write_text("<html>not a backup</html>", encoding="utf-8")
    before = archive.stat().st_ino

    def untouched() -> bool:  # the same file, nothing moved aside
        return archive.stat().st_ino == before and not [
            p for p in site.iterdir() if ".replaced-" in p.name or ".damaged-" in p.name]

    done = invoke("archive", "restore", "--from", junk, "--config", config)
    assert done.exit_code == 1
    assert str(junk) in one_line(done) and "không dùng được" in one_line(done)
    assert untouched()

    shutil.rmtree(site / "cchc-sync.sqlite.backups")
    done = invoke("archive", "restore", "--config", config)
    assert done.exit_code == 1 and "không có bản sao lưu nào" in one_line(done)
    assert untouched()
    both = invoke("archive", "restore", "--latest", "--from", junk, "--config", config)
    assert both.exit_code == 2


@pytest.mark.parametrize("kind", ["directory", "fifo", "unreadable"])
def test_a_key_path_that_is_not_a_readable_file_is_one_line(site, tmp_path, kind):
    key = tmp_path / "key"
    if kind == "directory":
        key.mkdir()
    elif kind == "fifo":
        os.mkfifo(key, 0o600)  # opening it to read would wait forever
    else:
        # A regular file, mode 0600, that even root cannot read (EIO): what an unreadable
        # key is for a daemon that does not run as root.
        key = Path("/proc/self/mem")
    config = site / "cchc-sync.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace('kind = "local"', 'kind = "google"').replace(
        'credentials = ""', f'credentials = "{key}"')
    config.write_text(text, encoding="utf-8")
    expected = {"directory": "là một thư mục", "fifo": "không phải tệp thường",
                "unreadable": "không đọc được tệp khoá"}[kind]
    # The daemon in a real process once; sync and doctor in this one.
    runs = [(cchc, ["-q", "run"])] if kind == "directory" else [(invoke, ["-q", "run"])]
    for run, command in [*runs, (invoke, ["-q", "sync"])]:
        done = run(*command, "--config", config)
        assert exit_code(done) == 1, (command, done.stderr)
        line = one_line(done)
        assert str(key) in line and expected in line, (command, line)
    doctor = invoke("doctor", "--config", config)
    assert doctor.exit_code == 1, doctor.stdout
    assert expected in doctor.stdout.lower(), doctor.stdout
