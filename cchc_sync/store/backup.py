"""Rolling online backups of the archive, its integrity check, and putting a backup back.

When: after every cycle that finished and moved the archive's change counter
(`data_version`: rows, findings, sheet states, periods, unit states). An idle cycle takes
none, so on a quiet day the newest backup is the state of the last change. Chosen over
"once a day" because what a restore loses is what changed after the backup it restores:
per changed cycle, that is at most one cycle of reading, and the next cycle reads those
sheets again. The price is one copy of the file per changed cycle (a district's archive
is a few MB: milliseconds).

How: SQLite's online backup API (`Connection.backup`: a consistent copy while the daemon
has the archive open, WAL included) into `<archive>.backups/`, written as `.partial`,
switched to a single file (journal_mode=DELETE), checked with `quick_check`, then renamed.
Only after a backup passes its check are the oldest ones removed, keeping the newest N
(`[archive] backups = N`): an archive damaged in a page no query touched yet never rolls
the good copies out. Each name carries the change counter it was taken at.

A damaged archive is never deleted: restoring writes the backup beside the archive first,
then moves the old file (and its -wal and -shm) aside to `<archive>.damaged-<time>` (or
`.replaced-<time>` when it was whole), then renames the copy in place.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

BACKUP_SUFFIX = ".backups"
_NAME = re.compile(r"-(\d{8}T\d{6}Z)-v(\d+)\.sqlite$")
_DAMAGE_CODES = frozenset({11, 26})
"""SQLITE_CORRUPT, SQLITE_NOTADB: the file is not (or no longer) an SQLite database."""


class ArchiveDamaged(sqlite3.DatabaseError):
    """The archive file is not a usable database. Its message is the one line a person
    reads: which file, and how to recover."""

    def __init__(self, path: Path, detail: str):
        self.path, self.detail = Path(path), detail
        newest = newest_good_backup(self.path)
        how = (f"khôi phục bản sao gần nhất ({newest.name}) bằng `cchc-sync archive restore`"
               if newest else
               f"không có bản sao lưu nào dùng được trong {backup_dir(self.path)}; hãy chép "
               "lại tệp từ bản sao của máy chủ rồi chạy `cchc-sync archive restore --from "
               "<tệp>`")
        super().__init__(
            f"Kho lưu trữ {self.path} bị hỏng hoặc không phải cơ sở dữ liệu SQLite "
            f"({detail}); {how}")


class BackupUnusable(Exception):
    """No whole backup to restore, or the file named is not one (exit 1 at the CLI)."""


def is_damage(exc: BaseException) -> bool:
    """Whether an SQLite error says the file itself is broken (not a query, not a lock)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(exc, sqlite3.DatabaseError) and code is not None and (
        code & 0xFF) in _DAMAGE_CODES


def backup_dir(archive: Path) -> Path:
    return archive.with_name(archive.name + BACKUP_SUFFIX)


def _order(path: Path) -> tuple[str, int]:
    match = _NAME.search(path.name)
    assert match is not None
    return match.group(1), int(match.group(2))


def backups(archive: Path) -> list[Path]:
    """The archive's backups, newest first."""
    folder = backup_dir(archive)
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if _NAME.search(p.name)), key=_order,
                  reverse=True)


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def take_backup(db: sqlite3.Connection, archive: Path, version: int, keep: int,
                now: dt.datetime) -> Path | None:
    """Copy the open archive `db` (at change counter `version`) into a new backup unless
    the newest backup already holds that version; keep the newest `keep`. None when no
    backup was taken (keep 0: backups off). Raises ArchiveDamaged when the copy fails
    its check (the older backups are then all kept)."""
    if keep <= 0:
        return None
    existing = backups(archive)
    if existing and _order(existing[0])[1] == version:
        return None
    folder = backup_dir(archive)
    folder.mkdir(exist_ok=True)
    target = folder / f"{archive.stem}-{_stamp(now)}-v{version}.sqlite"
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    copy = sqlite3.connect(partial)
    try:
        db.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        verdict = [r[0] for r in copy.execute("PRAGMA quick_check")]
    finally:
        copy.close()
    if verdict != ["ok"]:
        partial.unlink(missing_ok=True)
        raise ArchiveDamaged(archive, "; ".join(verdict[:3]))
    # The archive's own mode: a backup holds the same e-mails and figures.
    with contextlib.suppress(OSError):
        os.chmod(partial, archive.stat().st_mode & 0o666)
    # A backup appears whole or not at all: a crash mid-copy leaves only a .partial.
    os.replace(partial, target)
    for old in backups(archive)[keep:]:
        old.unlink(missing_ok=True)
    return target


@dataclass(frozen=True, kw_only=True, slots=True)
class ArchiveHealth:
    path: Path
    problems: tuple[str, ...]
    schema_version: int | None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_archive(path: Path) -> ArchiveHealth:
    """SQLite's integrity_check and the schema version of one archive file, read only."""
    if not path.is_file():
        return ArchiveHealth(path=path, problems=("tệp không tồn tại",), schema_version=None)
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return ArchiveHealth(path=path, problems=(str(exc),), schema_version=None)
    try:
        problems = tuple(r[0] for r in db.execute("PRAGMA integrity_check") if r[0] != "ok")
        version = None
        with contextlib.suppress(sqlite3.Error):
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = int(row[0]) if row else None
        if version is None and not problems:
            problems = ("không có phiên bản lược đồ: không phải kho lưu trữ của cchc-sync",)
        return ArchiveHealth(path=path, problems=problems, schema_version=version)
    except sqlite3.DatabaseError as exc:
        return ArchiveHealth(path=path, problems=(str(exc),), schema_version=None)
    finally:
        db.close()


def newest_good_backup(archive: Path) -> Path | None:
    for candidate in backups(archive):
        if check_archive(candidate).ok:
            return candidate
    return None


def restore_archive(archive: Path, source: Path, now: dt.datetime) -> Path | None:
    """Put the backup `source` in place of `archive`. The copy is written beside the
    archive before anything is moved (a full disk leaves the archive as it was); the file
    it replaces and its -wal and -shm are moved aside, never deleted. Returns where the
    replaced file went (None when there was none)."""
    partial = archive.with_name(archive.name + ".restoring")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()
    with open(partial, "rb+") as fh:
        os.fsync(fh.fileno())
    moved = None
    if archive.exists():
        kind = "replaced" if check_archive(archive).ok else "damaged"
        moved = archive.with_name(f"{archive.name}.{kind}-{_stamp(now)}")
        os.replace(archive, moved)
    for suffix in ("-wal", "-shm"):
        companion = archive.with_name(archive.name + suffix)
        if companion.exists():
            os.replace(companion, (moved or archive).with_name(
                (moved or archive).name + suffix + (".old" if moved is None else "")))
    os.replace(partial, archive)
    return moved
