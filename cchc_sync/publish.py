"""What a cycle publishes: flags into units' sheets, the master, and each unit's progress.

Everything here is rebuilt from the archive, so it can always be regenerated.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import Counter
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .backends.base import SheetRef, UnitUnreachable
from .figures import compute_figures
from .flags import plan_flags
from .master import UnitProgress, build_master, unit_state
from .models import Severity
from .period_state import get_period, unit_states

if TYPE_CHECKING:
    from .pipeline import Workspace

log = logging.getLogger("cchc_sync")
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")


def write_flags(ws: Workspace, touched: set[str]) -> tuple[int, list[str]]:
    """Write flags for every unit whose plan differs from what its sheet shows."""
    period = ws.period.code
    sheets = ws.archive.sheets(period)
    units = ws.units_by_code
    written, pending = 0, []
    for code, state in sheets.items():
        if code not in units or not state.reachable or state.checked_at is None:
            continue
        if code not in touched and state.flags_hash is not None:
            continue
        positions: dict[str, list[int]] = {}
        for r in ws.archive.current_rows(period, unit=code):
            if r.sheet_row is not None:
                positions.setdefault(r.table, []).append(r.sheet_row)
        plan = plan_flags(
            unit=code,
            unit_name=units[code].name,
            period=period,
            checked_at=dt.datetime.fromisoformat(state.checked_at),
            templates=ws.templates,
            layouts=ws.archive.layouts(period, code),
            row_positions=positions,
            findings=ws.archive.open_findings(period, code),
        )
        fingerprint = plan.fingerprint()
        if fingerprint == state.flags_hash:
            continue
        try:
            token = ws.backend.write_flags(
                SheetRef(ref=state.ref, url=state.url), plan, expect_token=state.token
            )
        except UnitUnreachable as exc:
            log.warning("flags for %s not written: %s", code, exc)
            ws.archive.update_sheet(period, code, flags_hash=None)
            pending.append(code)
            continue
        if token is None:
            # Open in Excel, or edited since we read it: the next cycle tries again.
            ws.archive.update_sheet(period, code, flags_hash=None)
            pending.append(code)
            continue
        fields = {"flags_hash": fingerprint, "flags_written_at": ws.clock().isoformat()}
        if token:
            fields["token"] = token
        ws.archive.update_sheet(period, code, **fields)
        written += 1
    return written, pending


def unit_progress(ws: Workspace, rows=None, findings=None) -> list[UnitProgress]:
    period = ws.period.code
    rows = rows if rows is not None else ws.archive.current_rows(period)
    findings = findings if findings is not None else ws.archive.open_findings(period)
    sheets = ws.archive.sheets(period)
    record = get_period(ws.archive, period)
    states = unit_states(ws.archive, period)
    by_unit: dict[str, list] = {}
    for r in rows:
        by_unit.setdefault(r.unit, []).append(r)
    counts = Counter((f.unit, f.severity) for f in findings)
    out = []
    for unit in ws.units:
        s = sheets.get(unit.code)
        unit_rows = by_unit.get(unit.code, [])
        state = unit_state(unit_rows, ws.templates)
        submitted_at = on_time = None
        if state == "Đã nộp":
            submitted_at = _signoff_time(ws, unit.code)
            if submitted_at and record is not None:
                day = dt.datetime.fromisoformat(submitted_at).astimezone(VIETNAM).date()
                on_time = day <= record.deadline
        us = states.get(unit.code)
        out.append(
            UnitProgress(
                unit=unit,
                state=state,
                submitted_at=submitted_at,
                last_edit=s.modified_at if s else None,
                last_check=s.checked_at if s else None,
                errors=counts[(unit.code, Severity.ERROR)],
                warnings=counts[(unit.code, Severity.WARNING)],
                reachable=bool(s.reachable) if s else False,
                reason=(s.reason if s else "chưa có bảng tính"),
                sheet=(s.url or s.ref) if s else "",
                sheet_ref=s.ref if s else "",
                on_time=on_time,
                deadline=record.deadline.isoformat() if record else None,
                approved_at=us.approved_at if us else None,
                approved_by=us.approved_by if us else None,
                reopen_until=us.reopen_until.isoformat() if us and us.reopen_until else None,
                read_only=bool(us and us.read_only),
            )
        )
    return out


def _signoff_time(ws: Workspace, unit: str) -> str | None:
    """When the unit's current sign-off was made: the sheet's own modification time of the
    version that set it where the backend reports one (the sign-off existed by then, even
    if the daemon was down), else when the software first saw it."""
    t = ws.templates
    rows = ws.archive.db.execute(
        "SELECT data, first_seen, source_modified_at, deleted FROM row_versions "
        "WHERE period = ? AND unit = ? AND tbl = ? ORDER BY version",
        (ws.period.code, unit, t.signoff_table),
    ).fetchall()
    since = None
    for r in rows:
        done = (not r["deleted"]) and json.loads(r["data"] or "{}").get(t.signoff_column) == (
            t.signoff_done
        )
        if done and since is None:
            seen = [r["first_seen"]]
            if r["source_modified_at"]:
                seen.append(r["source_modified_at"])
            since = min(seen, key=dt.datetime.fromisoformat)
        elif not done:
            since = None
    return since


def write_master(ws: Workspace, rows, findings) -> bool:
    period = ws.period.code
    master = ws.archive.master(period)
    if master is None:
        return False
    units = ws.units_by_code
    error_rows = {
        (f.unit, f.table, f.row_key)
        for f in findings
        if f.severity is Severity.ERROR and f.row_key is not None
    }
    figures = compute_figures(rows, ws.templates, units, ws.levels, error_rows)
    book = build_master(
        title=f"Tổng hợp CCHC {ws.config.name} kỳ {period}",
        area_total=ws.config.area_total,
        period=period,
        templates=ws.templates,
        units=units,
        rows=rows,
        figures=figures,
        findings=findings,
        progress=unit_progress(ws, rows, findings),
        levels=ws.levels,
        level_names=ws.config.level_names,
    )
    fingerprint = book.fingerprint()
    if fingerprint == master["book_hash"]:
        return False
    if not ws.backend.write_master(SheetRef(ref=master["ref"], url=master["url"]), book):
        log.warning("master not written (open in a spreadsheet program); next cycle retries")
        return False
    ws.archive.set_master_hash(period, fingerprint)
    return True
