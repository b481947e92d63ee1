"""What the workflow watches besides the figures: times the software can vouch for, and
locked sheets, which are not read into the archive but not ignored either.

- A sheet's modification time is the clerk's to set (os.utime, Drive's modifiedTime): it is
  believed only inside the window in which the software first saw the change, i.e. after
  its previous read of that sheet and not in the future. Otherwise the audit log says so
  and the time the software read it stands (so backdating a late sign-off does not make
  it on time).
- A locked sheet is still listed by the cycle's one scan. A change to it is read and
  compared with what was archived: a real edit is noticed (shown in "Tiến độ", `status`,
  the sheet's "Kiểm tra" tab and the audit log), never archived; it is taken in if the unit
  is reopened. A lock undone by hand (write bits restored, protection removed) is redone
  and logged.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping

from cchc_sync.app.publishing import write_flags
from cchc_sync.app.workspace import Workspace
from cchc_sync.domain.digest import json_digest
from cchc_sync.domain.records import UnitRead
from cchc_sync.domain.vnformat import format_datetime as vn_time
from cchc_sync.sources.base import Backend, ScanEntry, ScanState, SheetRef, UnitUnreachable
from cchc_sync.store.archive import SheetState
from cchc_sync.store.period_state import (
    LateEdit,
    forget_late_edit,
    late_edits,
    periods,
    record_audit,
    record_late_edit,
    unit_states,
)

log = logging.getLogger("cchc_sync")
SYSTEM_ACTOR = "cchc-sync (tự động)"
LOCKED = "locked:"
"""Prefix of the scan keys of locked sheets (the others are "PERIOD/UNIT")."""
CLOCK_SKEW = dt.timedelta(minutes=5)
"""A file time this far ahead of the software's clock is in the future (clocks of a share
and of the server differ by seconds, not minutes)."""


def believed_modified_time(ws: Workspace, unit: str, previous_look: str | None,
                           modified: dt.datetime | None, now: dt.datetime
                           ) -> dt.datetime | None:
    """The sheet's modification time if the software can vouch for it: not in the future
    and not before the software's previous look at the sheet (its previous read, or the
    previous cycle's listing that found it unchanged: the change came after that, so a time
    before it is not the time of this change). None otherwise, logged in the audit log; the
    read time then stands for the change."""
    if modified is None:
        return None
    why = None
    if modified > now + CLOCK_SKEW:
        why = (f"thời điểm sửa tệp ({vn_time(modified)}) ở tương lai so với đồng hồ của phần "
               f"mềm ({vn_time(now)})")
    elif previous_look and modified < dt.datetime.fromisoformat(previous_look):
        why = (f"thời điểm sửa tệp ({vn_time(modified)}) sớm hơn lần phần mềm xem tệp trước "
               f"đó ({vn_time(dt.datetime.fromisoformat(previous_look))}), dù nội dung đã "
               "đổi sau lần xem đó")
    if why is None:
        return modified
    log.warning("unit %s: file time %s not believed", unit, modified.isoformat())
    record_audit(ws.archive, at=now.isoformat(), actor=SYSTEM_ACTOR, action="untrusted-time",
                 period=ws.period.code, unit=unit,
                 detail=f"{why}; dùng thời điểm phần mềm đọc được ({vn_time(now)})")
    return None


def locked_sheets_to_watch(ws: Workspace, period_codes: Iterable[str]
                           ) -> dict[str, tuple[SheetRef, str | None]]:
    """Scan entries for the locked sheets of these periods and of the period before the
    current one (clerks of a just-closed period are the likeliest to save late)."""
    codes = set(period_codes)
    earlier = [p.code for p in periods(ws.archive) if p.start < ws.period.start]
    if earlier:
        codes.add(earlier[-1])
    out: dict[str, tuple[SheetRef, str | None]] = {}
    for code in sorted(codes):
        states = unit_states(ws.archive, code)
        for unit, sheet in ws.archive.sheets(code).items():
            if states.get(unit) and states[unit].read_only:
                out[f"{LOCKED}{code}/{unit}"] = (SheetRef(ref=sheet.ref, url=sheet.url),
                                                 sheet.token)
    return out


def watch_locked_sheets(ws: Workspace, scan: Mapping[str, ScanEntry]
                        ) -> tuple[list[str], list[str]]:
    """Relock what was unlocked by hand; notice edits saved into locked sheets. Returns
    (units relocked, units with a late edit noticed now), as "PERIOD/UNIT"."""
    now = ws.clock()
    relocked: list[str] = []
    noticed: list[str] = []
    touched: dict[str, set[str]] = defaultdict(set)
    by_period: dict[str, dict[str, ScanEntry]] = defaultdict(dict)
    for key, entry in scan.items():
        if key.startswith(LOCKED) and entry.state is not ScanState.UNREACHABLE:
            period, unit = key[len(LOCKED):].split("/", 1)
            by_period[period][unit] = entry
    for period, entries in by_period.items():
        view = ws.for_period(period)
        sheets = ws.archive.sheets(period)
        known = late_edits(ws.archive, period)
        undone: list[str] = []
        for unit, entry in entries.items():
            sheet = sheets[unit]
            ref = SheetRef(ref=sheet.ref, url=sheet.url)
            try:
                if _lock_undone(ws.backend, ref, entry):
                    undone.append(unit)
                if entry.state is not ScanState.CHANGED:
                    continue
                read = ws.backend.read_unit(unit, ref, ws.templates)
            except UnitUnreachable as exc:
                log.warning("locked sheet %s/%s not checked: %s", period, unit, exc)
                continue
            outcome = _notice(ws, period, unit, sheet, read, entry, known.get(unit), now)
            if outcome:
                touched[period].add(unit)
            if outcome == "noticed":
                noticed.append(f"{period}/{unit}")
        if touched[period]:
            # The clerk's "Kiểm tra" says so; before relocking, which moves the version a
            # Google flag write checks.
            write_flags(view, touched[period])
        for unit in undone:
            sheet = sheets[unit]
            try:
                ws.backend.set_read_only(SheetRef(ref=sheet.ref, url=sheet.url), True)
            except UnitUnreachable as exc:
                log.warning("locked sheet %s/%s not relocked: %s", period, unit, exc)
                continue
            record_audit(ws.archive, at=now.isoformat(), actor=SYSTEM_ACTOR, action="relock",
                         period=period, unit=unit,
                         detail="khoá đã bị gỡ bằng tay (trả lại quyền ghi hoặc xoá bảo vệ); "
                                "đã khoá lại")
            relocked.append(f"{period}/{unit}")
    return relocked, noticed


def _notice(ws: Workspace, period: str, unit: str, sheet: SheetState, read: UnitRead,
            entry: ScanEntry, previous: LateEdit | None, now: dt.datetime) -> str | None:
    """Compare a locked sheet's content with what was archived; record a new late edit
    ("noticed") or forget one put back ("gone"); None when nothing changed for the flags."""
    digest = content_hash(read)
    modified = read.modified_at or entry.modified_at
    # Only the token moves: content_hash stays what was archived, so a reopen (which
    # forgets the token) reads the late edit and archives it.
    ws.archive.update_sheet(period, unit, token=read.version_token or entry.token)
    if digest == sheet.content_hash:
        if previous is None:
            return None
        forget_late_edit(ws.archive, period, unit)  # put back as it was: nothing pending
        return "gone"
    if previous is not None and previous.content_hash == digest:
        return None
    record_late_edit(ws.archive, period, unit,
                     modified_at=modified.isoformat() if modified else None,
                     noticed_at=now.isoformat(), content_hash=digest)
    record_audit(ws.archive, at=now.isoformat(), actor=SYSTEM_ACTOR, action="late-edit",
                 period=period, unit=unit,
                 detail=(f"bảng tính được lưu lúc {vn_time(modified or now)} sau khi khoá; "
                         "thay đổi không được ghi nhận (mở lại cho đơn vị để nhận)"))
    return "noticed"


def _lock_undone(backend: Backend, ref: SheetRef, entry: ScanEntry) -> bool:
    if entry.writable is not None:  # told by the scan for free (local write bits)
        return entry.writable
    # Removing a protection moves the Drive version: ask only then.
    return entry.state is ScanState.CHANGED and not backend.is_read_only(ref)

def content_hash(read: UnitRead) -> str:
    """What a person could have changed: cell values, explanations and header layout."""
    payload: dict[str, object] = {}
    for key, table in sorted(read.tables.items()):
        payload[key] = {
            "found": table.tab_found,
            "layout": repr(table.layout),
            "rows": [
                [r.sheet_row, r.explanation,
                 sorted((k, repr(c.value), str(c.fmt)) for k, c in r.cells.items())]
                for r in table.rows
            ],
        }
    payload["_version"] = read.template_version
    return json_digest(payload)
