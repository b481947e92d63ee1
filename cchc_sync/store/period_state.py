"""Periods, per-unit reopen and approval, and the audit log, as the archive keeps them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from cchc_sync.domain.records import Period
from cchc_sync.store.archive import Archive

OPEN = "open"
FINAL = "final"


@dataclass(frozen=True, kw_only=True, slots=True)
class PeriodRecord:
    code: str
    start: dt.date
    end: dt.date
    deadline: dt.date
    """Last day a unit may sign off on time."""
    lock_at: dt.date
    """From this day on, unit sheets are read-only (deadline plus grace)."""
    state: str
    """"open" or "final"."""
    opened_at: str | None = None
    closed_at: str | None = None

    @property
    def period(self) -> Period:
        return Period(code=self.code, start=self.start, end=self.end)


@dataclass(frozen=True, kw_only=True, slots=True)
class UnitState:
    unit: str
    reopen_until: dt.date | None = None
    """The unit may edit until the end of this day, whatever the period's state."""
    approved_at: str | None = None
    approved_by: str | None = None
    read_only: bool = False
    """Whether the unit's sheet is read-only now."""


def ensure_period(
    archive: Archive, period: Period, *, deadline_days: int, lock_grace_days: int, now: str
) -> PeriodRecord:
    """Record a period the first time it is seen; later calls return it unchanged."""
    existing = get_period(archive, period.code)
    if existing is not None:
        return existing
    deadline = period.end + dt.timedelta(days=deadline_days)
    lock_at = deadline + dt.timedelta(days=lock_grace_days + 1)
    archive.db.execute(
        "INSERT INTO periods (code, start, end_, deadline, lock_at, state, opened_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (period.code, period.start.isoformat(), period.end.isoformat(), deadline.isoformat(),
         lock_at.isoformat(), OPEN, now),
    )
    created = get_period(archive, period.code)
    assert created is not None  # inserted just above, on the same connection
    return created


def get_period(archive: Archive, code: str) -> PeriodRecord | None:
    r = archive.db.execute("SELECT * FROM periods WHERE code = ?", (code,)).fetchone()
    if r is None:
        return None
    return PeriodRecord(
        code=r["code"],
        start=dt.date.fromisoformat(r["start"]),
        end=dt.date.fromisoformat(r["end_"]),
        deadline=dt.date.fromisoformat(r["deadline"]),
        lock_at=dt.date.fromisoformat(r["lock_at"]),
        state=r["state"],
        opened_at=r["opened_at"],
        closed_at=r["closed_at"],
    )


def periods(archive: Archive) -> list[PeriodRecord]:
    codes = [r[0] for r in archive.db.execute("SELECT code FROM periods ORDER BY start")]
    return [p for p in (get_period(archive, c) for c in codes) if p is not None]


def set_period_state(archive: Archive, code: str, state: str, now: str) -> None:
    archive.db.execute(
        "UPDATE periods SET state = ?, closed_at = ? WHERE code = ?",
        (state, now if state == FINAL else None, code),
    )


def unit_states(archive: Archive, period: str) -> dict[str, UnitState]:
    rows = archive.db.execute("SELECT * FROM unit_states WHERE period = ?", (period,))
    return {
        r["unit"]: UnitState(
            unit=r["unit"],
            reopen_until=dt.date.fromisoformat(r["reopen_until"]) if r["reopen_until"] else None,
            approved_at=r["approved_at"],
            approved_by=r["approved_by"],
            read_only=bool(r["read_only"]),
        )
        for r in rows
    }


def set_unit_state(archive: Archive, period: str, unit: str, **fields: object) -> None:
    archive.db.execute(
        "INSERT INTO unit_states (period, unit) VALUES (?, ?) ON CONFLICT DO NOTHING",
        (period, unit),
    )
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        archive.db.execute(
            f"UPDATE unit_states SET {sets} WHERE period = ? AND unit = ?",
            (*fields.values(), period, unit),
        )


def record_audit(
    archive: Archive, *, at: str, actor: str, action: str, period: str | None,
    unit: str | None = None, detail: str = "",
) -> None:
    """Append to the audit log: who did what, when (open, close, reopen, approve, lock)."""
    archive.db.execute(
        "INSERT INTO audit (at, actor, action, period, unit, detail) VALUES (?, ?, ?, ?, ?, ?)",
        (at, actor, action, period, unit, detail),
    )


def reopened_until(archive: Archive, today: dt.date, *, exclude: str) -> list[str]:
    """Periods other than `exclude` with a unit reopened until `today` or later and not
    approved since."""
    rows = archive.db.execute(
        "SELECT DISTINCT period FROM unit_states WHERE reopen_until >= ? AND approved_at IS NULL "
        "AND period != ? ORDER BY period",
        (today.isoformat(), exclude),
    )
    return [r[0] for r in rows]


def final_periods_with_unlocked_sheets(archive: Archive, *, exclude: str) -> list[str]:
    """Final periods other than `exclude` with a sheet not locked yet."""
    rows = archive.db.execute(
        "SELECT DISTINCT s.period FROM sheets s JOIN periods p ON p.code = s.period "
        "LEFT JOIN unit_states u ON u.period = s.period AND u.unit = s.unit "
        "WHERE p.state = 'final' AND s.period != ? AND COALESCE(u.read_only, 0) = 0 "
        "ORDER BY s.period",
        (exclude,),
    )
    return [r[0] for r in rows]


def has_audit(archive: Archive, *, action: str, period: str, unit: str | None = None) -> bool:
    """Whether the audit log already holds this action (init is re-run: log it once)."""
    row = archive.db.execute(
        "SELECT 1 FROM audit WHERE action = ? AND period = ? AND unit IS ? LIMIT 1",
        (action, period, unit),
    ).fetchone()
    return row is not None


def clear_approval(archive: Archive, period: str, unit: str) -> None:
    set_unit_state(archive, period, unit, approved_at=None, approved_by=None)


def periods_with_master(archive: Archive) -> list[str]:
    return [r[0] for r in archive.db.execute("SELECT period FROM masters ORDER BY period")]


def period_workflow_state(archive: Archive, code: str) -> list:
    """The period's workflow state as plain data: its record (dates, open or final) and
    every unit's reopen, approval and lock. Part of the master's skip key, so any change
    to it rebuilds that period's master, open or closed."""
    period = archive.db.execute(
        "SELECT code, start, end_, deadline, lock_at, state, opened_at, closed_at "
        "FROM periods WHERE code = ?", (code,)).fetchone()
    units = archive.db.execute(
        "SELECT * FROM unit_states WHERE period = ? ORDER BY unit", (code,)).fetchall()
    return [list(period) if period else None, [list(r) for r in units]]


def period_data_marker(archive: Archive, code: str) -> list:
    """What a closed period's master is built from, in a few aggregate numbers and its
    sheets' states: rows, findings, sheets and units of this period only. Unlike the
    archive-wide data_version it stays put while other periods change, so an old master
    is not rebuilt at every cycle of the current period."""
    aggregates = [
        "SELECT COUNT(*), MAX(id) FROM row_versions WHERE period = ?",
        "SELECT COUNT(*), MAX(id), COUNT(closed_run), GROUP_CONCAT(explained) FROM findings "
        "WHERE period = ?",
        "SELECT COUNT(*), GROUP_CONCAT(sheet_row || ':' || COALESCE(explanation, '')) "
        "FROM row_positions WHERE period = ?",
        "SELECT COUNT(*), GROUP_CONCAT(code || name || level || parent) FROM units "
        "WHERE period = ?",
        "SELECT COUNT(*), GROUP_CONCAT(unit || COALESCE(modified_at, '') || noticed_at) "
        "FROM late_edits WHERE period = ?",
    ]
    sheets = archive.db.execute(
        "SELECT unit, ref, url, content_hash, modified_at, checked_at, reachable, reason "
        "FROM sheets WHERE period = ? ORDER BY unit", (code,)).fetchall()
    return [*(list(archive.db.execute(q, (code,)).fetchone()) for q in aggregates),
            [list(r) for r in sheets]]


@dataclass(frozen=True, kw_only=True, slots=True)
class LateEdit:
    """An edit saved into a locked sheet: noticed, not archived."""

    unit: str
    modified_at: str | None
    """The sheet's modification time, as the backend reports it."""
    noticed_at: str
    content_hash: str | None


def late_edits(archive: Archive, period: str) -> dict[str, LateEdit]:
    rows = archive.db.execute("SELECT * FROM late_edits WHERE period = ?", (period,))
    return {r["unit"]: LateEdit(unit=r["unit"], modified_at=r["modified_at"],
                                noticed_at=r["noticed_at"], content_hash=r["content_hash"])
            for r in rows}


def record_late_edit(archive: Archive, period: str, unit: str, *, modified_at: str | None,
                     noticed_at: str, content_hash: str) -> None:
    archive.db.execute(
        "INSERT INTO late_edits (period, unit, modified_at, noticed_at, content_hash) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (period, unit) DO UPDATE SET "
        "modified_at = excluded.modified_at, noticed_at = excluded.noticed_at, "
        "content_hash = excluded.content_hash",
        (period, unit, modified_at, noticed_at, content_hash),
    )


def forget_late_edit(archive: Archive, period: str, unit: str) -> None:
    archive.db.execute("DELETE FROM late_edits WHERE period = ? AND unit = ?", (period, unit))


def record_sheet_read(archive: Archive, period: str, unit: str, *, run_id: int, read_at: str,
                      modified_at: str | None, modified_by: str | None) -> None:
    """A read whose content was archived: when, the sheet's time, who saved it."""
    archive.db.execute(
        "INSERT OR REPLACE INTO sheet_reads (period, unit, run_id, read_at, modified_at, "
        "modified_by) VALUES (?, ?, ?, ?, ?, ?)",
        (period, unit, run_id, read_at, modified_at, modified_by),
    )


def swap_last_scan(archive: Archive, now: str) -> str | None:
    """When the previous cycle listed the sheets (None: never); records `now` for the next.
    A sheet listed unchanged then was changed after it."""
    row = archive.db.execute("SELECT value FROM meta WHERE key = 'last_scan_at'").fetchone()
    archive.db.execute("INSERT OR REPLACE INTO meta VALUES ('last_scan_at', ?)", (now,))
    return row[0] if row else None


def row_history(archive: Archive, period: str, unit: str, table: str,
                row_key: str | None = None) -> list[dict]:
    """Every version of the unit's rows of one table (or of one row), oldest first, with
    the cycle that saw it and who saved that version where the backend told."""
    query = (
        "SELECT v.row_key, v.version, v.data, v.deleted, v.first_seen, v.last_seen, v.run_id, "
        "v.source_modified_at, r.modified_by FROM row_versions v LEFT JOIN sheet_reads r "
        "ON r.period = v.period AND r.unit = v.unit AND r.run_id = v.run_id "
        "WHERE v.period = ? AND v.unit = ? AND v.tbl = ?")
    params: tuple = (period, unit, table)
    if row_key is not None:
        query += " AND v.row_key = ?"
        params += (row_key,)
    return [dict(r) for r in archive.db.execute(query + " ORDER BY v.row_key, v.version",
                                                params)]


def audit_log(archive: Archive, period: str | None = None) -> list[dict]:
    query = "SELECT at, actor, action, period, unit, detail FROM audit"
    params: tuple = ()
    if period:
        query += " WHERE period = ?"
        params = (period,)
    return [dict(r) for r in archive.db.execute(query + " ORDER BY id", params)]
