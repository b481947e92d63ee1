"""Each unit's progress ("Tiến độ" and `status`) and its sign-off time, from plain values
the archive gave: current rows, open findings, sheet states, the period's record and the
units' workflow states."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cchc_sync.domain.clock import vietnam_day
from cchc_sync.domain.records import CurrentRow, Finding, Severity, Unit
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.publish.master import STATE_SUBMITTED, UnitProgress, unit_state
from cchc_sync.store.archive import SheetState
from cchc_sync.store.period_state import PeriodRecord, UnitState


def signoff_time(
    versions: Iterable[Mapping[str, Any] | sqlite3.Row], templates: TemplateSet
) -> str | None:
    """When the unit's current sign-off was made, from the sign-off table's row versions
    in order: the sheet's own modification time of the version that set it where the
    backend reports one (the sign-off existed by then, even if the daemon was down), else
    when the software first saw it. None when the last versions do not hold it."""
    since = None
    for r in versions:
        data = json.loads(r["data"] or "{}")
        done = (not r["deleted"]) and data.get(templates.signoff_column) == templates.signoff_done
        if done and since is None:
            seen = [r["first_seen"]]
            if r["source_modified_at"]:
                seen.append(r["source_modified_at"])
            since = min(seen, key=dt.datetime.fromisoformat)
        elif not done:
            since = None
    return since


def unit_progress(
    *,
    units: Sequence[Unit],
    templates: TemplateSet,
    rows: Iterable[CurrentRow],
    findings: Iterable[Finding],
    sheets: Mapping[str, SheetState],
    record: PeriodRecord | None,
    states: Mapping[str, UnitState],
    signoff_of: Callable[[str], str | None],
    late: Mapping[str, Any] | None = None,
) -> list[UnitProgress]:
    """One UnitProgress per unit, in the units' order. signoff_of(unit) gives the unit's
    sign-off time; it is asked only for units whose current rows hold the sign-off."""
    by_unit: dict[str, list[CurrentRow]] = {}
    for r in rows:
        by_unit.setdefault(r.unit, []).append(r)
    counts = Counter((f.unit, f.severity) for f in findings)
    out = []
    for unit in units:
        s = sheets.get(unit.code)
        state = unit_state(by_unit.get(unit.code, []), templates)
        submitted_at = on_time = None
        if state == STATE_SUBMITTED:
            submitted_at = signoff_of(unit.code)
            if submitted_at and record is not None:
                on_time = vietnam_day(dt.datetime.fromisoformat(submitted_at)) <= record.deadline
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
                late_edit_at=_late_edit_at(late, unit.code),
            )
        )
    return out


def _late_edit_at(late: Mapping[str, Any] | None, unit: str) -> str | None:
    """When an edit was saved into the unit's locked sheet (noticed, not taken in)."""
    edit = (late or {}).get(unit)
    return (edit.modified_at or edit.noticed_at) if edit is not None else None
