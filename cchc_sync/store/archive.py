"""The archive: every row version ever seen, runs, findings and sheet state, in SQLite.

The archive is the source of truth: the master, the flags and the report are rebuilt from
it. Row versions are append-only, keyed by (period, unit, table, row key); a row that
disappears from a sheet becomes a tombstone version, never a loss.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cchc_sync.domain.records import Finding, Severity, Unit
from cchc_sync.store.backup import ArchiveDamaged, is_damage
from cchc_sync.store.row_store import RowStore, now_stamp
from cchc_sync.store.schema import (  # noqa: F401  (re-exported: the archive's constants)
    _MIGRATIONS,
    _SCHEMA,
    _UNWATCHED,
    _WATCHED,
    RUN_FAILED,
    RUN_INTERRUPTED,
    RUN_OK,
    RUN_RUNNING,
    SCHEMA_VERSION,
    _change_counter,
)


class ArchiveError(Exception):
    """The archive cannot be used (newer schema, unreadable file)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SheetState:
    unit: str
    backend: str
    ref: str
    url: str
    template_version: str | None
    token: str | None
    content_hash: str | None
    modified_at: str | None
    read_at: str | None
    checked_at: str | None
    reachable: bool
    reason: str
    flags_hash: str | None
    repaired_for: str | None = None


class Archive(RowStore):
    """One SQLite file. Safe to reopen at any time; every cycle commits as it goes."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        # period -> (data_version, number of current rows) at that version: count_current_rows
        self._row_counts: dict[str, tuple[int, int]] = {}
        # period -> (PRAGMA data_version, its sheet states): sheets()
        self._sheets_known: dict[str, tuple[int, dict[str, SheetState]]] = {}
        try:
            # WAL: readers (status, findings, export) never block the daemon's writes.
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            self.db.close()
            if is_damage(exc):
                # Overwritten or cut short: one line naming the file and the way back.
                raise ArchiveDamaged(self.path, str(exc)) from None
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            # What was remembered inside the transaction is undone with it (the change
            # counter too: its next values will name other contents).
            self._sheets_known.clear()
            self._row_counts.clear()
            raise
        else:
            self.db.execute("COMMIT")

    def _migrate(self) -> None:
        with self.transaction() as db:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            current = int(row[0]) if row else 1
            if current > SCHEMA_VERSION:
                raise ArchiveError(
                    f"{self.path}: archive schema {current} is newer than this cchc-sync "
                    f"({SCHEMA_VERSION}); upgrade cchc-sync"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _MIGRATIONS[version]:
                    db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            for statement in _change_counter():
                db.execute(statement)
            # The inputs the master was last written from (publish.write_master).
            # And the shape of what it shows (Backend.update_master: what the next write
            # compares with, to write only the difference).
            master_columns = {r[1] for r in db.execute("PRAGMA table_info(masters)")}
            if "inputs_key" not in master_columns:
                db.execute("ALTER TABLE masters ADD COLUMN inputs_key TEXT")
            if "shape" not in master_columns:
                db.execute("ALTER TABLE masters ADD COLUMN shape TEXT")

    def schema_version(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        return int(row[0])

    # --- runs --------------------------------------------------------------------------

    def start_run(self, period: str) -> int:
        """A new run in state `running` (RUN_RUNNING) until finish_run."""
        cur = self.db.execute(
            "INSERT INTO runs (period, started_at) VALUES (?, ?)", (period, now_stamp())
        )
        return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, *, status: str = RUN_OK, message: str = "", **counts: int
    ) -> None:
        sets = ", ".join(f"{k} = ?" for k in counts)
        self.db.execute(
            f"UPDATE runs SET finished_at = ?, status = ?, message = ?{', ' if sets else ''}{sets} "
            "WHERE id = ?",
            (now_stamp(), status, message, *counts.values(), run_id),
        )

    def interrupt_running_runs(self) -> list[int]:
        """Mark every run still `running` as `interrupted`; returns their ids.

        Only for the holder of the archive's lock (service.acquire_archive_lock), right
        after taking it: one writer at a time means a run still `running` then belongs to
        a process that ended mid-cycle (kill -9, a crash, the stop timeout). finished_at
        stays NULL (when the process ended is unknown); the message says when it was
        noticed."""
        return self._close_running_runs(
            RUN_INTERRUPTED,
            f"the process ended before the cycle finished; noticed at {now_stamp()}",
            finished_at=None,
        )

    def fail_running_runs(self, message: str) -> list[int]:
        """Mark every run still `running` as `failed` now, with `message` (the lock holder,
        when its own cycle raised: the run in flight can only be that cycle's)."""
        return self._close_running_runs(RUN_FAILED, message, finished_at=now_stamp())

    def _close_running_runs(
        self, status: str, message: str, *, finished_at: str | None
    ) -> list[int]:
        with self.transaction() as db:
            ids = [r[0] for r in db.execute(
                "SELECT id FROM runs WHERE status = ? ORDER BY id", (RUN_RUNNING,))]
            if ids:
                db.execute(
                    "UPDATE runs SET status = ?, message = ?, finished_at = ? WHERE status = ?",
                    (status, message, finished_at, RUN_RUNNING),
                )
        return ids

    def last_run(self) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM runs ORDER BY id DESC LIMIT 1").fetchone()

    # --- units and sheets --------------------------------------------------------------

    def save_units(self, period: str, units: Iterable[Unit]) -> None:
        with self.transaction() as db:
            for u in units:
                db.execute(
                    "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (period, code) DO "
                    "UPDATE SET name=excluded.name, level=excluded.level, parent=excluded.parent,"
                    " emails=excluded.emails, extra=excluded.extra",
                    (
                        period, u.code, u.name, u.level, u.parent, ";".join(u.emails),
                        json.dumps(u.extra, ensure_ascii=False),
                    ),
                )

    def units(self, period: str) -> list[Unit]:
        rows = self.db.execute(
            "SELECT * FROM units WHERE period = ? ORDER BY rowid", (period,)
        ).fetchall()
        return [
            Unit(
                code=r["code"], name=r["name"], level=r["level"], parent=r["parent"],
                emails=tuple(e for e in r["emails"].split(";") if e),
                extra=json.loads(r["extra"] or "{}"),
            )
            for r in rows
        ]

    def register_sheet(
        self, period: str, unit: str, backend: str, ref: str, url: str,
        template_version: str | None,
    ) -> None:
        self._sheets_known.pop(period, None)
        self.db.execute(
            "INSERT INTO sheets (period, unit, backend, ref, url, template_version) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (period, unit) DO UPDATE SET "
            "backend=excluded.backend, ref=excluded.ref, url=excluded.url, "
            "template_version=excluded.template_version",
            (period, unit, backend, ref, url, template_version),
        )

    def sheets(self, period: str) -> dict[str, SheetState]:
        """Every sheet state of the period, by unit (a new dict at each call)."""
        # A cycle asks for them six times or more, each over every unit: the states are kept
        # until this connection writes a sheet (register_sheet, update_sheet: the only
        # writes to the table) or another connection commits anything (SQLite's own
        # `PRAGMA data_version` moves then).
        stamp = self._foreign_commits()
        known = self._sheets_known.get(period)
        if known is None or known[0] != stamp:
            known = self._sheets_known[period] = (stamp, self._read_sheets(period))
        return dict(known[1])

    def _foreign_commits(self) -> int:
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def _read_sheets(self, period: str) -> dict[str, SheetState]:
        # Columns by position, not by name through sqlite3.Row (the name lookups cost more
        # than the query).
        cursor = self.db.execute(
            "SELECT unit, backend, ref, url, template_version, token, content_hash, "
            "modified_at, read_at, checked_at, reachable, reason, flags_hash, repaired_for "
            "FROM sheets WHERE period = ?", (period,))
        cursor.row_factory = None
        return {
            unit: SheetState(
                unit=unit, backend=backend, ref=ref, url=url, template_version=version,
                token=token, content_hash=content, modified_at=modified, read_at=read,
                checked_at=checked, reachable=bool(reachable), reason=reason,
                flags_hash=flags, repaired_for=repaired,
            )
            for (unit, backend, ref, url, version, token, content, modified, read, checked,
                 reachable, reason, flags, repaired) in cursor
        }

    def update_sheet(self, period: str, unit: str, **fields: Any) -> None:
        if not fields:
            return
        sets = ", ".join(f"{k} = ?" for k in fields)
        self._sheets_known.pop(period, None)
        self.db.execute(
            f"UPDATE sheets SET {sets} WHERE period = ? AND unit = ?",
            (*fields.values(), period, unit),
        )

    def keep_basis(self, period: str, unit: str, basis: str | None) -> None:
        """The ReadBasis (as JSON) of the unit's sheet's latest read; None forgets it."""
        if basis is None:
            self.db.execute("DELETE FROM read_bases WHERE period = ? AND unit = ?",
                            (period, unit))
            return
        self.db.execute("INSERT OR REPLACE INTO read_bases VALUES (?, ?, ?)",
                        (period, unit, basis))

    def basis(self, period: str, unit: str) -> str | None:
        """The ReadBasis JSON `keep_basis` stored for the unit's sheet, if any."""
        row = self.db.execute("SELECT basis FROM read_bases WHERE period = ? AND unit = ?",
                              (period, unit)).fetchone()
        return None if row is None else str(row[0])

    def register_master(self, period: str, backend: str, ref: str, url: str) -> None:
        self.db.execute(
            "INSERT INTO masters (period, backend, ref, url) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (period) DO UPDATE SET backend=excluded.backend, ref=excluded.ref, "
            "url=excluded.url, shape=NULL",
            (period, backend, ref, url),
        )

    def master(self, period: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM masters WHERE period = ?", (period,)).fetchone()

    def set_master_hash(self, period: str, book_hash: str, inputs_key: str | None = None,
                        shape: str | None = None) -> None:
        """The master was written with this fingerprint, from these inputs (None: not
        known, so the next cycle rebuilds it), and shows this shape (None: not known, so
        the next write is a whole one)."""
        self.db.execute(
            "UPDATE masters SET book_hash = ?, inputs_key = ?, shape = ?, written_at = ? "
            "WHERE period = ?",
            (book_hash, inputs_key, shape or None, now_stamp(), period),
        )

    def master_write_begins(self, period: str) -> None:
        """What the master shows is unknown until set_master_hash says what was written."""
        self.db.execute("UPDATE masters SET book_hash = NULL, inputs_key = NULL, shape = NULL "
                        "WHERE period = ?", (period,))

    def forget_master_shape(self, period: str) -> None:
        """A master write that may or may not have landed: the next one writes it whole."""
        self.db.execute("UPDATE masters SET shape = NULL WHERE period = ?", (period,))

    def set_master_inputs(self, period: str, inputs_key: str | None) -> None:
        """The master as written is what these inputs give (rebuilt, found unchanged)."""
        self.db.execute(
            "UPDATE masters SET inputs_key = ? WHERE period = ?", (inputs_key, period)
        )

    def data_version(self) -> int:
        """A number that moves whenever anything the master shows changes in the archive
        (rows, positions, findings, sheet states, units, periods, unit states)."""
        return int(self.db.execute("SELECT n FROM data_version WHERE id = 1").fetchone()[0])

    def count_current_rows(self, period: str) -> int:
        """RowStore.count_current_rows, remembered at the archive's data_version: every
        change to row_versions moves it (its triggers, also for another process's writes),
        so an unmoved version proves the count unchanged. An idle cycle asks for it, and
        counting the current rows in SQL grew with the rows (half an idle cycle's CPU)."""
        version = self.data_version()
        known = self._row_counts.get(period)
        if known is not None and known[0] == version:
            return known[1]
        count = super().count_current_rows(period)
        self._row_counts[period] = (version, count)
        return count

    def remember_row_count(self, period: str, count: int) -> None:
        """The caller knows `count` is the period's number of current rows now (it loaded
        them, and no row changed since): kept for count_current_rows."""
        self._row_counts[period] = (self.data_version(), count)

    # --- findings ----------------------------------------------------------------------

    def replace_findings(
        self, period: str, source: str, findings: Iterable[Finding], run_id: int,
        units: Iterable[str] | None = None,
    ) -> set[str]:
        """Make `findings` the open findings of `source` ('unit' or 'cross') for the given
        units (all units when None). Unchanged findings keep their first run; vanished ones
        are closed. Returns the units whose open findings changed."""
        findings = list(findings)
        scope = set(units) if units is not None else None
        changed: set[str] = set()
        with self.transaction() as db:
            query = "SELECT * FROM findings WHERE period = ? AND source = ? AND closed_run IS NULL"
            params: list[Any] = [period, source]
            if scope is not None and len(scope) <= 500:
                # One unit re-checked must not read every open finding of the period.
                query += f" AND unit IN ({','.join('?' * len(scope))})"
                params += sorted(scope)
            open_rows = [
                r for r in db.execute(query, params)
                if scope is None or r["unit"] in scope
            ]
            current = {_row_identity(r): r for r in open_rows}
            incoming: dict[tuple, Finding] = {}
            for f in findings:
                incoming.setdefault(f.identity(), f)
            for ident, row in current.items():
                if ident not in incoming:
                    db.execute(
                        "UPDATE findings SET closed_run = ? WHERE id = ?", (run_id, row["id"])
                    )
                    changed.add(row["unit"])
            for ident, f in incoming.items():
                row = current.get(ident)
                value = json.dumps(f.value, ensure_ascii=False, default=str)
                if row is None:
                    db.execute(
                        "INSERT INTO findings (period, unit, source, tbl, row_key, sheet_row, col,"
                        " rule, severity, message, value, explained, first_seen_run, "
                        "last_seen_run) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (
                            period, f.unit, source, f.table, f.row_key, f.row, f.column, f.rule,
                            str(f.severity), f.message, value, f.explained, run_id, run_id,
                        ),
                    )
                    changed.add(f.unit)
                else:
                    if (row["sheet_row"], row["explained"], row["value"]) != (
                        f.row, f.explained, value
                    ):
                        changed.add(f.unit)
                    db.execute(
                        "UPDATE findings SET last_seen_run = ?, sheet_row = ?, explained = ?, "
                        "value = ? WHERE id = ?",
                        (run_id, f.row, f.explained, value, row["id"]),
                    )
        return changed

    def open_findings(self, period: str, unit: str | None = None) -> list[Finding]:
        params: list[Any] = [period]
        extra = ""
        if unit is not None:
            extra = "AND unit = ?"
            params.append(unit)
        rows = self.db.execute(
            "SELECT * FROM findings WHERE period = ? AND closed_run IS NULL "
            f"{extra} ORDER BY unit, severity, tbl, sheet_row, col, id",
            params,
        ).fetchall()
        return [
            Finding(
                rule=r["rule"], severity=Severity(r["severity"]), message=r["message"],
                unit=r["unit"], table=r["tbl"] or "", row=r["sheet_row"], column=r["col"],
                value=json.loads(r["value"]) if r["value"] else None, row_key=r["row_key"],
                explained=r["explained"],
            )
            for r in rows
        ]


def _row_identity(r: sqlite3.Row) -> tuple:
    return (r["unit"], r["tbl"] or "", r["row_key"], r["col"], r["rule"], r["message"])
