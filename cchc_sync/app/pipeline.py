"""One poll cycle: scan, read what changed, check, archive, cross-check, flag, master.

`sync_once` is the whole product's heartbeat; the daemon only calls it on a schedule.
Normalising, validating and merging never know which backend fed them.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cchc_sync.app.earlier_periods import earlier_periods
from cchc_sync.app.publishing import unit_progress, write_flags, write_master
from cchc_sync.app.sheet_watch import (
    believed_modified_time,
    content_hash,
    locked_sheets_to_watch,
    watch_locked_sheets,
)
from cchc_sync.app.workflow import (
    apply_locks,
    period_record,
    periods_to_lock,
    readable_units,
    refresh_closed_masters,
    reopened_periods,
)
from cchc_sync.app.workspace import (
    Progress,
    Workspace,
    create_missing_sheets,
    expected_units,
    make_backend,
    no_progress,
    open_workspace,
    utcnow,
)
from cchc_sync.checks.base import CheckSettings
from cchc_sync.checks.caps import cap_findings
from cchc_sync.checks.suite import cross_unit_findings, history_findings
from cchc_sync.checks.validate import check_unit
from cchc_sync.domain.records import Finding, Severity, UnitRead
from cchc_sync.sources.base import ScanEntry, ScanState, SheetRef, UnitUnreachable
from cchc_sync.sources.identity import identity_problem
from cchc_sync.store.archive import RUN_FAILED
from cchc_sync.store.backup import ArchiveDamaged, take_backup
from cchc_sync.store.period_state import record_sheet_read, swap_last_scan, unit_states

# The workspace names are re-exported: `from cchc_sync.app.pipeline import Workspace,
# open_workspace, sync_once` is how scripts and tests have always opened a cycle.
__all__ = [
    "CycleResult", "Progress", "Workspace", "create_missing_sheets", "expected_units",
    "make_backend", "no_progress", "open_workspace", "sync_once", "unit_progress", "utcnow",
]

log = logging.getLogger("cchc_sync")


@dataclass(kw_only=True)
class CycleResult:
    units_total: int = 0
    units_read: int = 0
    units_unreachable: list[str] = field(default_factory=list)
    rows: int = 0
    rows_changed: int = 0
    errors: int = 0
    warnings: int = 0
    flags_written: int = 0
    flags_pending: list[str] = field(default_factory=list)
    master_written: bool = False
    period: str = ""
    period_closed: bool = False
    """The current period is final: its locked sheets are not read."""
    lock_day: dt.date | None = None
    units_locked: int = 0
    late_edits: list[str] = field(default_factory=list)
    """"PERIOD/UNIT" of edits noticed in locked sheets this cycle (not archived)."""
    relocked: list[str] = field(default_factory=list)
    """"PERIOD/UNIT" of sheets whose lock was undone by hand, locked again."""
    previous_scan_at: str | None = None
    """When the cycle before listed the sheets: a change found now was saved after it."""
    duration: float = 0.0

    def log_line(self) -> str:
        return (
            f"cycle: read {self.units_read}/{self.units_total} units, {self.rows} rows "
            f"({self.rows_changed} changed), {self.errors} errors, {self.warnings} warnings, "
            f"{len(self.units_unreachable)} unreachable, flags written {self.flags_written}, "
            f"master {'written' if self.master_written else 'unchanged'}, "
            f"{self.duration:.2f} s"
        )




def _template_version_findings(ws: Workspace, read: UnitRead) -> list[Finding]:
    if read.template_version in (None, ws.templates.version):
        return []
    return [
        Finding(
            rule="sheet.template-version",
            severity=Severity.WARNING,
            unit=read.unit,
            message=(
                f"Bảng tính được tạo từ mẫu phiên bản {read.template_version}, khác phiên bản "
                f"đang dùng ({ws.templates.version}). Hãy liên hệ bộ phận tổng hợp để nhận "
                "bảng tính theo mẫu mới."
            ),
            value=read.template_version,
        )
    ]


def sync_once(
    ws: Workspace,
    progress: Progress = no_progress,
    should_stop: Callable[[], bool] = lambda: False,
) -> CycleResult:
    """One poll cycle. Findings are not failures; an unreachable unit does not stop others.

    Reads the current period, and earlier periods where a unit was reopened, in one scan.
    should_stop is checked between units: a stop request finishes the unit at hand, then
    archives, flags and writes the master for what was read, and returns.
    """
    started = time.monotonic()
    result = CycleResult()
    run_id = ws.archive.start_run(ws.period.code)
    try:
        _cycle(ws, run_id, result, progress, should_stop)
    except Exception as exc:
        # The run says the cycle failed (a `sync` by hand as well as the daemon's); an
        # archive that cannot be written keeps it `running`, and the next holder of the
        # lock marks it `interrupted`.
        with contextlib.suppress(sqlite3.Error):
            ws.archive.finish_run(run_id, status=RUN_FAILED,
                                  message=" ".join(f"{type(exc).__name__}: {exc}".split())[:500])
        raise
    result.units_total = len(ws.units)
    result.duration = time.monotonic() - started
    ws.archive.finish_run(
        run_id,
        units_read=result.units_read,
        rows_changed=result.rows_changed,
        errors=result.errors,
        warnings=result.warnings,
    )
    log.info(result.log_line())
    _back_up(ws)
    return result


def _back_up(ws: Workspace) -> None:
    """A rolling backup of the archive when this finished cycle (or a command since the
    last one: an approval, a period opened) changed it; [archive] backups, store/backup.py.
    A backup that cannot be written (disk full) is a warning, not a failed cycle: the
    archive itself is whole and the older backups are kept."""
    archive = ws.archive
    try:
        taken = take_backup(archive.db, archive.path, archive.data_version(),
                            ws.config.archive_backups, ws.clock())
    except ArchiveDamaged as exc:
        # The copy failed its check: the archive holds a damaged page no query read yet.
        log.error("archive backup refused, older backups kept: %s", exc)
        return
    except (OSError, sqlite3.Error) as exc:
        log.warning("archive backup not written (older backups kept): %s", exc)
        return
    if taken is not None:
        log.debug("archive backed up to %s", taken)


def _cycle(ws: Workspace, run_id: int, result: CycleResult, progress: Progress,
           should_stop: Callable[[], bool]) -> None:
    """One cycle's work: scan, read, check, archive, flag, master, locks."""
    if period_record(ws).state == "open":
        create_missing_sheets(ws)  # units added to units.csv since the last cycle
    views = [ws, *(ws.for_period(code) for code in reopened_periods(ws))]
    watched: dict[str, tuple[SheetRef, str | None]] = {}
    for view in views:
        readable = readable_units(view)
        for code, s in view.archive.sheets(view.period.code).items():
            if code in readable and code in view.units_by_code:
                watched[f"{view.period.code}/{code}"] = (SheetRef(ref=s.ref, url=s.url), s.token)
    # Locked sheets are listed too (not read into the archive): sheet_watch.
    watched.update(locked_sheets_to_watch(ws, [v.period.code for v in views]))
    # One scan for everything watched: for Google, one Drive listing per cycle.
    result.previous_scan_at = swap_last_scan(ws.archive, ws.clock().isoformat())
    scan = ws.backend.scan(watched)
    # Before the periods' masters are built, so that they show what is noticed here.
    result.relocked, result.late_edits = watch_locked_sheets(ws, scan)
    for view in views:
        prefix = f"{view.period.code}/"
        entries = {k[len(prefix):]: e for k, e in scan.items() if k.startswith(prefix)}
        _sync_period(view, entries, run_id, result, progress, should_stop)
    for view in views + [ws.for_period(c) for c in periods_to_lock(ws) if c not in
                         {v.period.code for v in views}]:
        apply_locks(view)
    result.master_written |= refresh_closed_masters(ws, {v.period.code for v in views})
    record = period_record(ws)
    result.period, result.lock_day = record.code, record.lock_at
    result.period_closed = record.state == "final"
    result.units_locked = sum(1 for s in unit_states(ws.archive, record.code).values()
                              if s.read_only)


def _sync_period(
    ws: Workspace,
    scan: dict[str, ScanEntry],
    run_id: int,
    result: CycleResult,
    progress: Progress,
    should_stop: Callable[[], bool],
) -> None:
    period = ws.period.code
    archive = ws.archive
    sheets = archive.sheets(period)
    touched: set[str] = set()
    now = ws.clock()
    to_read = [code for code, entry in scan.items() if entry.state is ScanState.CHANGED]
    for code, entry in scan.items():
        if entry.state is ScanState.UNREACHABLE:
            result.units_unreachable.append(code)
            archive.update_sheet(period, code, reachable=0, reason=entry.reason)
        elif entry.state is ScanState.UNCHANGED:
            fields: dict[str, Any] = {}
            if not sheets[code].reachable:
                # Listed again with nothing new to read: reachable. A changed sheet becomes
                # reachable only when its read succeeds (below): while Google keeps failing
                # the read, `status` must not show it reachable for the minute of retries.
                fields.update(reachable=1, reason="")
            if entry.token and entry.token != sheets[code].token:
                # Our own write's token proved by the listing (OwnWrite): the plain one now.
                fields["token"] = entry.token
            if fields:
                archive.update_sheet(period, code, **fields)
    for done, code in enumerate(progress(to_read, "Đọc bảng tính đơn vị")):
        if should_stop():
            log.info("stop requested: %d units left for the next cycle", len(to_read) - done)
            break
        entry, sheet = scan[code], sheets[code]
        try:
            read = ws.backend.read_unit(code, SheetRef(ref=sheet.ref, url=sheet.url), ws.templates)
        except UnitUnreachable as exc:
            log.warning("unit %s unreachable: %s", code, exc)
            result.units_unreachable.append(code)
            archive.update_sheet(period, code, reachable=0, reason=str(exc))
            continue
        refused = identity_problem(
            read.marks, ws.units_by_code[code], period, ws.templates.name, ws.units_by_code
        )
        if refused:
            # Not this unit's file: its archived rows stay, nothing is written into it, and
            # its token is not kept, so it is read again until the right file is back.
            log.warning("unit %s: sheet refused: %s", code, refused)
            result.units_unreachable.append(code)
            archive.update_sheet(period, code, reachable=0, reason=refused)
            continue
        result.units_read += 1
        # First, before anything that could make a flag write of this unit happen: the
        # basis of the read the coming flags are computed from (a later process writes
        # them from it exactly as this one would).
        archive.keep_basis(period, code, read.basis.to_json() if read.basis else None)
        digest = content_hash(read)
        modified = read.modified_at or entry.modified_at
        if digest != sheet.content_hash:
            # A file time is the clerk's to set: believed only within this read's window.
            # The sheet was listed unchanged by the previous cycle (unless its read failed
            # then) or read then: this change was saved after that.
            seen = max(filter(None, [sheet.read_at,
                                     result.previous_scan_at if sheet.reachable else None]),
                       default=None, key=dt.datetime.fromisoformat)
            modified = believed_modified_time(ws, code, seen, modified, now) or now
        fields = {
            "token": read.version_token or entry.token,
            "read_at": now.isoformat(),
            "reachable": 1,
            "reason": "",
            "modified_at": modified.isoformat() if modified else None,
        }
        if digest == sheet.content_hash:
            # Our own write coming back, or a save that changed nothing we read: not a
            # person's edit, so "last edit" and "last check" stay as they were.
            del fields["modified_at"]
            if not read.owned_intact and sheet.repaired_for != digest:
                # Someone deleted what the software owns (the "Kiểm tra" tab): write the
                # flags again, once for this content.
                fields.update(flags_hash=None, repaired_for=digest)
                touched.add(code)
            archive.update_sheet(period, code, **fields)
            continue
        level = ws.units_by_code[code].level
        check = check_unit(read, ws.templates, ws.period, level)
        layouts = {t: (raw.layout if raw.tab_found else None) for t, raw in read.tables.items()}
        result.rows_changed += archive.record_rows(
            period, code, check.rows, layouts, run_id, seen_at=now.isoformat(),
            source_modified_at=fields["modified_at"],
        )
        record_sheet_read(archive, period, code, run_id=run_id, read_at=now.isoformat(),
                          modified_at=fields["modified_at"], modified_by=entry.modified_by)
        unit_findings = cap_findings(
            check.findings + _template_version_findings(ws, read),
            ws.config.limits.max_findings_per_tab,
        )
        archive.replace_findings(period, "unit", unit_findings, run_id, units=[code])
        # flags_hash reset in the same update: if the process dies before the flags are
        # written, the next cycle still writes them.
        archive.update_sheet(
            period, code, content_hash=digest, checked_at=now.isoformat(),
            template_version=read.template_version, flags_hash=None, **fields,
        )
        touched.add(code)

    # Every row is loaded only when a unit was read (cross-unit and history rules) or the
    # master is rebuilt (write_master loads them then): an idle cycle counts them in SQL.
    rows = ws.current_rows() if touched else None
    if rows is not None:
        settings = CheckSettings(change_share=ws.config.history_change_share,
                                 min_base=ws.config.history_min_base,
                                 outlier_z=ws.config.outlier_z)
        cross = cross_unit_findings(rows, ws.templates, ws.units_by_code, settings)
        cross += history_findings(rows, ws.templates, earlier_periods(ws), settings)
        touched |= archive.replace_findings(period, "cross", cross, run_id)

    written, pending = write_flags(ws, touched)
    result.flags_written += written
    result.flags_pending += pending
    findings = archive.open_findings(period)
    result.rows += len(rows) if rows is not None else archive.count_current_rows(period)
    result.errors += sum(1 for f in findings if f.severity is Severity.ERROR)
    result.warnings += sum(1 for f in findings if f.severity is Severity.WARNING)
    result.master_written |= write_master(ws, rows, findings)
    if rows is not None:
        # Loaded after the last record_rows, and nothing since writes rows: the count of
        # now, for the next idle cycle's summary without counting them in SQL.
        archive.remember_row_count(period, len(rows))

