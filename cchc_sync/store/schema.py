"""The archive's SQLite schema: tables, migrations between versions, and the change
counter the master's skip relies on (archive.py uses them; nothing else should)."""

from __future__ import annotations

from collections.abc import Iterator

SCHEMA_VERSION = 2

# runs.status: a cycle under way, done, stopped by its own error, or left unfinished by a
# process that ended mid-cycle (found by the next process that takes the archive's lock).
RUN_RUNNING = "running"
RUN_OK = "ok"
RUN_FAILED = "failed"
RUN_INTERRUPTED = "interrupted"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    units_read INTEGER DEFAULT 0,
    rows_changed INTEGER DEFAULT 0,
    errors INTEGER DEFAULT 0,
    warnings INTEGER DEFAULT 0,
    status TEXT DEFAULT 'running',
    message TEXT DEFAULT ''
);
CREATE TABLE IF NOT EXISTS units (
    period TEXT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL, level TEXT NOT NULL,
    parent TEXT DEFAULT '', emails TEXT DEFAULT '', extra TEXT DEFAULT '{}',
    PRIMARY KEY (period, code)
);
CREATE TABLE IF NOT EXISTS sheets (
    period TEXT NOT NULL, unit TEXT NOT NULL,
    backend TEXT NOT NULL, ref TEXT NOT NULL, url TEXT DEFAULT '',
    template_version TEXT,
    token TEXT,                -- change token of the last read (or of our own last write)
    content_hash TEXT,         -- hash of the cells last read: an echo of our write is no edit
    modified_at TEXT,          -- last modification of the sheet, as the backend reports it
    read_at TEXT,              -- last time its cells were read
    checked_at TEXT,           -- last time its content changed and was checked
    reachable INTEGER DEFAULT 1,
    reason TEXT DEFAULT '',
    flags_hash TEXT,           -- fingerprint of the flags last written
    flags_written_at TEXT,
    PRIMARY KEY (period, unit)
);
CREATE TABLE IF NOT EXISTS masters (
    period TEXT PRIMARY KEY, backend TEXT NOT NULL, ref TEXT NOT NULL, url TEXT DEFAULT '',
    book_hash TEXT, written_at TEXT
);
CREATE TABLE IF NOT EXISTS row_versions (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL, unit TEXT NOT NULL, tbl TEXT NOT NULL, row_key TEXT NOT NULL,
    version INTEGER NOT NULL,
    data TEXT,                 -- JSON of the normalised values, NULL for a tombstone
    deleted INTEGER NOT NULL DEFAULT 0,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL,
    run_id INTEGER,
    UNIQUE (period, unit, tbl, row_key, version)
);
-- Archives before 2026-12 also had row_versions_current on (period, unit, tbl, row_key):
-- the UNIQUE index above starts with the same columns and serves every query it served, and
-- a second index cost every row version written one more b-tree insert. An older cchc-sync
-- that opens the archive recreates it (IF NOT EXISTS), harmlessly.
DROP INDEX IF EXISTS row_versions_current;
CREATE TABLE IF NOT EXISTS row_positions (
    period TEXT NOT NULL, unit TEXT NOT NULL, tbl TEXT NOT NULL, row_key TEXT NOT NULL,
    sheet_row INTEGER, explanation TEXT,
    PRIMARY KEY (period, unit, tbl, row_key)
);
CREATE TABLE IF NOT EXISTS layouts (
    period TEXT NOT NULL, unit TEXT NOT NULL, tbl TEXT NOT NULL, layout TEXT NOT NULL,
    PRIMARY KEY (period, unit, tbl)
);
CREATE TABLE IF NOT EXISTS findings (
    id INTEGER PRIMARY KEY,
    period TEXT NOT NULL, unit TEXT NOT NULL, source TEXT NOT NULL,  -- 'unit' | 'cross'
    tbl TEXT, row_key TEXT, sheet_row INTEGER, col TEXT,
    rule TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL, value TEXT,
    explained TEXT,
    first_seen_run INTEGER, last_seen_run INTEGER, closed_run INTEGER
);
CREATE INDEX IF NOT EXISTS findings_open ON findings (period, unit, closed_run);
CREATE TABLE IF NOT EXISTS read_bases (
    -- What the backend's flag write needs from the sheet's latest read (sources.ReadBasis,
    -- JSON), kept here so a restart between read and write changes nothing. Added without
    -- a schema version: an older archive gets the table when opened, an older cchc-sync
    -- ignores it (its flag write then works as before bases were kept).
    period TEXT NOT NULL, unit TEXT NOT NULL, basis TEXT NOT NULL,
    PRIMARY KEY (period, unit)
);
-- An edit saved into a locked sheet: noticed (not archived), shown to the coordinator, taken
-- in if the unit is reopened (the row goes when the sheet is unlocked). Additive: an older
-- cchc-sync ignores it.
CREATE TABLE IF NOT EXISTS late_edits (
    period TEXT NOT NULL, unit TEXT NOT NULL,
    modified_at TEXT,          -- the sheet's modification time as the backend reports it
    noticed_at TEXT NOT NULL,  -- when the software noticed it
    content_hash TEXT,         -- the content seen, so one edit is logged once
    PRIMARY KEY (period, unit)
);
-- Every read of a sheet whose content changed (the cycle it was archived in), with who
-- saved that version where the backend knows: `cchc-sync history`. Additive.
CREATE TABLE IF NOT EXISTS sheet_reads (
    period TEXT NOT NULL, unit TEXT NOT NULL, run_id INTEGER NOT NULL,
    read_at TEXT NOT NULL,
    modified_at TEXT,          -- the sheet's modification time, when believed
    modified_by TEXT,          -- Drive's lastModifyingUser, or the file's owner locally
    PRIMARY KEY (period, unit, run_id)
);
"""


# Each step brings an archive from the version before to its own; never edit a released
# step, add one.
_MIGRATIONS: dict[int, tuple[str, ...]] = {
    2: (
        # Periods, their deadlines and state; per-unit reopen and approval; the audit log.
        """CREATE TABLE periods (
            code TEXT PRIMARY KEY, start TEXT NOT NULL, end_ TEXT NOT NULL,
            deadline TEXT NOT NULL, lock_at TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'open',          -- 'open' | 'final'
            opened_at TEXT, closed_at TEXT
        )""",
        """CREATE TABLE unit_states (
            period TEXT NOT NULL, unit TEXT NOT NULL,
            reopen_until TEXT,            -- ISO date: editable until the end of that day
            approved_at TEXT, approved_by TEXT,
            read_only INTEGER NOT NULL DEFAULT 0,   -- what the sheet is now
            PRIMARY KEY (period, unit)
        )""",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY, at TEXT NOT NULL, actor TEXT NOT NULL,
            action TEXT NOT NULL, period TEXT, unit TEXT, detail TEXT DEFAULT ''
        )""",
        # When the sheet itself says it was modified, for the version first seen then.
        "ALTER TABLE row_versions ADD COLUMN source_modified_at TEXT",
        # The content hash at which the software last repaired its own parts of a sheet
        # (a deleted "Kiểm tra" tab): at most one repair per content, never a write loop.
        "ALTER TABLE sheets ADD COLUMN repaired_for TEXT",
    ),
}


# What the master shows is read from these tables. Every change to them moves one counter,
# `data_version.n`, so a cycle can tell in one query that the master's inputs are as they
# were when it was last written (publish.write_master). Triggers live in the file, so a
# write by any code (period_state, an older cchc-sync) moves the counter too. Each table
# lists the columns watched for UPDATE (OLD IS NOT NEW); _UNWATCHED are the columns left
# out on purpose: bookkeeping the master never shows, written on cycles where nothing else
# changed (a re-read of an unchanged row, a read token, a flag fingerprint). Every column
# of these tables is in exactly one of the two (tests/test_master_skip.py checks it):
# a column added later must be placed, and a watched one needs its trigger recreated.
_WATCHED: dict[str, tuple[str, ...]] = {
    "row_versions": ("period", "unit", "tbl", "row_key", "version", "data", "deleted",
                     "first_seen", "run_id", "source_modified_at"),
    "row_positions": ("period", "unit", "tbl", "row_key", "sheet_row", "explanation"),
    "layouts": ("period", "unit", "tbl", "layout"),
    "findings": ("period", "unit", "source", "tbl", "row_key", "sheet_row", "col", "rule",
                 "severity", "message", "value", "explained", "first_seen_run", "closed_run"),
    "sheets": ("period", "unit", "backend", "ref", "url", "template_version", "content_hash",
               "modified_at", "checked_at", "reachable", "reason", "repaired_for"),
    "units": ("period", "code", "name", "level", "parent", "emails", "extra"),
    "periods": ("code", "start", "end_", "deadline", "lock_at", "state", "opened_at",
                "closed_at"),
    "unit_states": ("period", "unit", "reopen_until", "approved_at", "approved_by",
                    "read_only"),
    "late_edits": ("period", "unit", "modified_at", "noticed_at", "content_hash"),
}
_UNWATCHED: dict[str, tuple[str, ...]] = {
    "row_versions": ("id", "last_seen"),
    "findings": ("id", "last_seen_run"),
    "sheets": ("token", "read_at", "flags_hash", "flags_written_at"),
}


def _change_counter() -> Iterator[str]:
    """The counter and its triggers; idempotent, run at every open. Additive only (an
    older cchc-sync reads and writes such an archive unchanged, and its writes still move
    the counter), so the schema version stays."""
    yield ("CREATE TABLE IF NOT EXISTS data_version "
           "(id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL)")
    yield "INSERT OR IGNORE INTO data_version VALUES (1, 0)"
    bump = "UPDATE data_version SET n = n + 1 WHERE id = 1;"
    for table, columns in _WATCHED.items():
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
        yield (f"CREATE TRIGGER IF NOT EXISTS {table}_insert_counts AFTER INSERT ON {table} "
               f"BEGIN {bump} END")
        yield (f"CREATE TRIGGER IF NOT EXISTS {table}_delete_counts AFTER DELETE ON {table} "
               f"BEGIN {bump} END")
        yield (f"CREATE TRIGGER IF NOT EXISTS {table}_update_counts AFTER UPDATE ON {table} "
               f"WHEN {changed} BEGIN {bump} END")
