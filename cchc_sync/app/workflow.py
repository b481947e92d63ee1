"""The life of a period: open the next one, lock at the deadline, reopen, approve.

Every action is recorded in the audit log (who, what, when). Locking is applied to the
sheets themselves (read-only workbooks, protected Google sheets), so a clerk sees at once
that the period is closed, and the pipeline stops reading them.
"""

from __future__ import annotations

import datetime as dt
import getpass
import logging
import re
from collections import defaultdict

from cchc_sync.app.publishing import write_flags, write_master
from cchc_sync.app.workspace import Workspace, create_missing_sheets
from cchc_sync.domain.clock import vietnam_day
from cchc_sync.domain.config import ConfigError
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import CurrentRow, Unit
from cchc_sync.domain.registry import (
    Succession,
    active_units,
    load_successions,
    load_units,
    predecessors,
)
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.normalise import fold
from cchc_sync.publish.master import STATE_SUBMITTED, unit_state
from cchc_sync.sources.base import Prefill, SheetRef, UnitUnreachable
from cchc_sync.store.archive import SheetState
from cchc_sync.store.period_state import (
    FINAL,
    OPEN,
    PeriodRecord,
    UnitState,
    clear_approval,
    ensure_period,
    final_periods_with_unlocked_sheets,
    forget_late_edit,
    get_period,
    has_audit,
    periods_with_master,
    record_audit,
    reopened_until,
    set_period_state,
    set_unit_state,
    unit_states,
)
from cchc_sync.store.period_state import periods as all_periods

log = logging.getLogger("cchc_sync")
SYSTEM_ACTOR = "cchc-sync (tự động)"


def current_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (DynamicUser, containers)
        return "không rõ"


def local_today(ws: Workspace) -> dt.date:
    """Deadlines are Vietnamese calendar days."""
    return vietnam_day(ws.clock())


def period_record(ws: Workspace, code: str | None = None) -> PeriodRecord:
    code = code or ws.period.code
    period = ws.period if code == ws.period.code else parse_period(
        code, ws.config.cutoff_day, ws.config.calendar_periods)
    return ensure_period(
        ws.archive, period, deadline_days=ws.config.deadline_days,
        lock_grace_days=ws.config.lock_grace_days, now=ws.clock().isoformat(),
    )


def archived_period_view(ws: Workspace, code: str) -> Workspace:
    """The workspace looking at an archived period (`--period CODE`): the current one, or
    one this archive has opened before; any other code is a usage error."""
    code = code.strip().upper()
    if code == ws.period.code:
        return ws
    parse_period(code, ws.config.cutoff_day, ws.config.calendar_periods)  # bad syntax: exit 2
    if get_period(ws.archive, code) is None and not ws.archive.sheets(code):
        known = ", ".join(p.code for p in all_periods(ws.archive)) or "—"
        raise ConfigError(f"Kỳ {code} chưa có trong kho lưu trữ (các kỳ đã có: {known})")
    return ws.for_period(code)


def editable(rec: PeriodRecord, state: UnitState | None, today: dt.date, auto_lock: bool) -> bool:
    """May the unit still change its figures for this period today?"""
    if state is not None and state.approved_at:
        return False
    if state is not None and state.reopen_until and today <= state.reopen_until:
        return True
    if rec.state == FINAL:
        return False
    return not (auto_lock and today >= rec.lock_at)


def apply_locks(ws: Workspace) -> list[str]:
    """Make each unit sheet's read-only state match the rules; close the period when its
    lock day has come. Returns the units whose sheet changed state."""
    rec = period_record(ws)
    today = local_today(ws)
    now = ws.clock().isoformat()
    if rec.state == OPEN and ws.config.auto_lock and today >= rec.lock_at:
        set_period_state(ws.archive, rec.code, FINAL, now)
        record_audit(ws.archive, at=now, actor=SYSTEM_ACTOR, action="close", period=rec.code,
                     detail=f"hết hạn nộp ({rec.deadline:%d/%m/%Y}) và thời gian gia hạn")
        rec = period_record(ws)
    states = unit_states(ws.archive, rec.code)
    sheets = ws.archive.sheets(rec.code)
    to_lock: list[str] = []
    to_unlock: list[str] = []
    for unit in ws.units:
        if unit.code not in sheets:
            continue
        state = states.get(unit.code)
        want = not editable(rec, state, today, ws.config.auto_lock)
        if want != (state.read_only if state else False):
            (to_lock if want else to_unlock).append(unit.code)
    changed = []
    if to_lock:
        # The lock notice goes into "Kiểm tra" before the lock (after it, the sheet's
        # version has moved and a Google flag write would wait a cycle): read_only is
        # recorded first because the notice is planned from it, and undone if the lock
        # fails.
        for code in to_lock:
            set_unit_state(ws.archive, rec.code, code, read_only=1)
        write_flags(ws, set(to_lock))
    for code in to_lock:
        if _set_lock(ws, rec.code, code, sheets[code], True, now):
            changed.append(code)
        else:
            set_unit_state(ws.archive, rec.code, code, read_only=0)
            ws.archive.update_sheet(rec.code, code, flags_hash=None)
    unlocked = [code for code in to_unlock
                if _set_lock(ws, rec.code, code, sheets[code], False, now)]
    if unlocked:
        for code in unlocked:
            set_unit_state(ws.archive, rec.code, code, read_only=0)
            forget_late_edit(ws.archive, rec.code, code)
        write_flags(ws, set(unlocked))  # the notice goes
        for code in unlocked:
            # An edit saved while it was locked is read and archived next cycle: a
            # forgotten token makes the scan report the sheet changed (after the flag
            # write, which records its own token).
            ws.archive.update_sheet(rec.code, code, token=None)
    return changed + unlocked


def _set_lock(ws: Workspace, period: str, unit: str, sheet: SheetState, want: bool,
              now: str) -> bool:
    try:
        ws.backend.set_read_only(SheetRef(ref=sheet.ref, url=sheet.url), want)
    except UnitUnreachable as exc:
        log.warning("could not %s %s: %s", "lock" if want else "unlock", unit, exc)
        return False
    record_audit(ws.archive, at=now, actor=SYSTEM_ACTOR, action="lock" if want else "unlock",
                 period=period, unit=unit)
    return True


def readable_units(ws: Workspace) -> set[str]:
    """Units whose sheets the cycle reads: every sheet not locked yet. Locks are applied
    at the end of a cycle, so the last edits before a deadline are still read."""
    period_record(ws)
    states = unit_states(ws.archive, ws.period.code)
    return {u.code for u in ws.units if not (states.get(u.code) and states[u.code].read_only)}


def refresh_closed_masters(ws: Workspace, visited: set[str]) -> bool:
    """The masters of periods this cycle did not read: rebuilt when their workflow state
    (an approval, unapproval, lock, the period's end) or their own data changed since they
    were written. Returns whether any was written."""
    written = False
    for code in periods_with_master(ws.archive):
        if code not in visited:
            written |= write_master(ws.for_period(code), None, None, closed=True)
    return written


def reopened_periods(ws: Workspace) -> list[str]:
    """Earlier periods with a unit reopened until today or later."""
    return reopened_until(ws.archive, local_today(ws), exclude=ws.period.code)


def periods_to_lock(ws: Workspace) -> list[str]:
    """Final periods other than the current one with a sheet not locked yet (a reopen
    that expired, a lock that failed last time)."""
    return final_periods_with_unlocked_sheets(ws.archive, exclude=ws.period.code)


def _expected_unit(view: Workspace, unit: str) -> None:
    if unit not in view.units_by_code:
        raise ConfigError(f"Đơn vị {unit!r} không có trong danh sách đơn vị của kỳ "
                          f"{view.period.code}")


def reopen_unit(ws: Workspace, period: str, unit: str, until: dt.date,
                actor: str | None = None) -> None:
    """Let one unit edit a closed period again until the end of `until`. An approved unit
    is refused: its approval must be withdrawn first (unapprove_unit), so that the log
    shows both and no approval is lost silently."""
    view = ws.for_period(period)
    _expected_unit(view, unit)
    state = unit_states(ws.archive, period).get(unit)
    if state is not None and state.approved_at:
        raise ConfigError(
            f"Đơn vị {unit} đã được phê duyệt số liệu kỳ {period} (bởi {state.approved_by}); "
            f"hãy bỏ phê duyệt trước: cchc-sync unapprove {period} --unit {unit} "
            '--reason "…"')
    if until < local_today(ws):
        raise ConfigError(f"--until {until.isoformat()}: ngày này đã qua")
    sheet = view.archive.sheets(period).get(unit)
    if sheet is None:
        raise ConfigError(f"Đơn vị {unit} chưa có bảng tính trong kỳ {period}")
    now = ws.clock().isoformat()
    set_unit_state(ws.archive, period, unit, reopen_until=until.isoformat())
    record_audit(ws.archive, at=now, actor=actor or current_actor(), action="reopen",
                 period=period, unit=unit, detail=f"đến hết ngày {until:%d/%m/%Y}")
    apply_locks(view)


def signoff_label(templates: TemplateSet) -> str:
    """"Hoàn thành" as the clerk sees it (the templates store the choice's code)."""
    spec = templates.table(templates.signoff_table).column(templates.signoff_column)
    choice = spec.choice(templates.signoff_done)
    return choice.label if choice else templates.signoff_done


def signed_off(view: Workspace, unit: str) -> bool:
    """Whether the unit's sheet, as last archived, says "Hoàn thành"."""
    rows = view.archive.current_rows(view.period.code, unit=unit)
    return unit_state(rows, view.templates) == STATE_SUBMITTED


def approve_unit(ws: Workspace, period: str, unit: str, actor: str | None = None, *,
                 force: bool = False, reason: str = "") -> None:
    """The coordinator accepts a unit's figures: they are locked and shown as approved.
    Only a unit that signed off, unless forced with a reason (both logged)."""
    view = ws.for_period(period)
    _expected_unit(view, unit)
    state = unit_states(ws.archive, period).get(unit)
    if state is not None and state.approved_at:
        raise ConfigError(f"Đơn vị {unit} đã được phê duyệt số liệu kỳ {period} "
                          f"(bởi {state.approved_by})")
    detail = ""
    if not signed_off(view, unit):
        if not force:
            raise ConfigError(
                f"Đơn vị {unit} chưa báo \"{signoff_label(ws.templates)}\" cho kỳ {period}: "
                "chưa phê duyệt được. Nếu vẫn phê duyệt, dùng --force --reason \"lý do\"")
        if not reason.strip():
            raise ConfigError("--force cần --reason \"lý do\" (được ghi vào nhật ký)")
        detail = f"phê duyệt khi đơn vị chưa báo hoàn thành; lý do: {reason.strip()}"
    elif reason.strip():
        detail = f"lý do: {reason.strip()}"
    now = ws.clock().isoformat()
    who = actor or current_actor()
    set_unit_state(ws.archive, period, unit, approved_at=now, approved_by=who,
                   reopen_until=None)
    record_audit(ws.archive, at=now, actor=who, action="approve", period=period, unit=unit,
                 detail=detail)
    apply_locks(view)


def unapprove_unit(ws: Workspace, period: str, unit: str, reason: str,
                   actor: str | None = None) -> None:
    """Withdraw an approval (logged with its reason). The sheet stays locked while the
    period is closed: a reopen is a separate, logged decision."""
    view = ws.for_period(period)
    _expected_unit(view, unit)
    state = unit_states(ws.archive, period).get(unit)
    if state is None or not state.approved_at:
        raise ConfigError(f"Đơn vị {unit} chưa được phê duyệt số liệu kỳ {period}")
    if not reason.strip():
        raise ConfigError("--reason \"lý do\" là bắt buộc (được ghi vào nhật ký)")
    now = ws.clock().isoformat()
    clear_approval(ws.archive, period, unit)
    record_audit(ws.archive, at=now, actor=actor or current_actor(), action="unapprove",
                 period=period, unit=unit,
                 detail=f"bỏ phê duyệt của {state.approved_by}; lý do: {reason.strip()}")
    apply_locks(view)


def log_first_opening(ws: Workspace, actor: str | None = None) -> None:
    """`init` opens the first period: logged like every later `period open`, once."""
    code = ws.period.code
    if has_audit(ws.archive, action="open", period=code):
        return
    record_audit(ws.archive, at=ws.clock().isoformat(), actor=actor or current_actor(),
                 action="open", period=code, detail=f"khởi tạo, {len(ws.units)} đơn vị")


def backfill_warning(ws: Workspace) -> str | None:
    """A period whose lock day is already past locks every sheet at the first cycle:
    for a backfill of old figures, the coordinator wants auto_lock off."""
    rec = period_record(ws)
    if not ws.config.auto_lock or local_today(ws) < rec.lock_at:
        return None
    return (
        f"Cảnh báo: kỳ {rec.code} đã qua ngày khoá ({rec.lock_at:%d/%m/%Y}); lần đồng bộ đầu "
        "tiên sẽ khoá mọi bảng tính trước khi đơn vị kịp nhập. Nếu đây là nhập bù số liệu kỳ "
        f"cũ, hãy đặt `auto_lock = false` trong mục [period] của {ws.config.path.name} "
        "(hoặc chạy lại init với --backfill)."
    )


def open_period(ws: Workspace, code: str, actor: str | None = None) -> Workspace:
    """Open the next period: new unit sheets with what carries forward, a new master,
    the previous period final and locked, the config pointing at the new period."""
    new = parse_period(code, ws.config.cutoff_day, ws.config.calendar_periods)
    if new.start <= ws.period.start:
        raise ConfigError(f"Kỳ {new.code} không đứng sau kỳ hiện tại {ws.period.code}")
    if get_period(ws.archive, new.code) is not None and ws.archive.sheets(new.code):
        raise ConfigError(f"Kỳ {new.code} đã được mở")
    who = actor or current_actor()
    now = ws.clock().isoformat()
    registry = load_units(ws.config.units_file)
    successions = load_successions(ws.config.successors_file, registry)
    expected = active_units(registry, successions, new.end)
    carried = carry_forward(ws.archive.current_rows(ws.period.code), ws.templates, expected,
                            successions)
    # The previous period is final: its archive no longer changes, its sheets are locked.
    previous = period_record(ws)
    if previous.state != FINAL:
        set_period_state(ws.archive, previous.code, FINAL, now)
        record_audit(ws.archive, at=now, actor=who, action="close", period=previous.code,
                     detail=f"mở kỳ {new.code}")
    apply_locks(ws)
    _point_config_at(ws, new.code)
    ws.archive.save_units(new.code, expected)
    view = ws.for_period(new.code)
    period_record(view)
    create_missing_sheets(view, prefill=carried)
    record_audit(ws.archive, at=now, actor=who, action="open", period=new.code,
                 detail=f"{len(expected)} đơn vị")
    return view


def _point_config_at(ws: Workspace, code: str) -> None:
    text = ws.config.path.read_text(encoding="utf-8")
    new_text, n = re.subn(r'(?m)^period = "[^"]*"', f'period = "{code}"', text, count=1)
    if n != 1:
        raise ConfigError(f"{ws.config.path}: cannot find the line `period = \"...\"`")
    ws.config.path.write_text(new_text, encoding="utf-8")


def carry_forward(
    rows: list[CurrentRow], templates: TemplateSet, units: list[Unit],
    successions: list[Succession]
) -> dict[str, Prefill]:
    """What a new period's sheets start with: the fields of procedures (with the dossiers
    still pending carried into "Từ kỳ trước chuyển qua") and the staffing rows."""
    by_unit: dict[str, list[CurrentRow]] = defaultdict(list)
    for r in rows:
        by_unit[r.unit].append(r)
    tthc = templates.table("tthc")
    staffing = templates.table("bien_che")
    out: dict[str, Prefill] = {}
    for unit in units:
        sources = [unit.code, *predecessors(unit.code, successions)]
        src_rows = [r for code in sources for r in by_unit.get(code, [])]
        fields: dict[str, dict] = {}
        for r in (r for r in src_rows if r.table == "tthc" and r.values.get("linh_vuc")):
            key = fold(r.values["linh_vuc"])
            item = fields.setdefault(key, {"linh_vuc": r.values["linh_vuc"], "tu_ky_truoc": None})
            pending = [r.values.get(k) for k in ("dang_trong_han", "dang_qua_han")]
            if any(v is not None for v in pending):
                item["tu_ky_truoc"] = (item["tu_ky_truoc"] or 0) + sum(v or 0 for v in pending)
        staff: dict[tuple, dict] = {}
        for r in (r for r in src_rows if r.table == "bien_che" and r.values.get("co_quan")):
            choice = staffing.column("loai").choice(r.values.get("loai") or "")
            staff_key = (fold(r.values["co_quan"]), r.values.get("loai"))
            staff.setdefault(staff_key, {
                "co_quan": r.values["co_quan"],
                "loai": choice.label if choice else None,
                "duoc_giao": r.values.get("duoc_giao"),
            })
        prefill: Prefill = {}
        if fields:
            prefill[tthc.key] = list(fields.values())
        if staff:
            prefill[staffing.key] = list(staff.values())
        if prefill:
            out[unit.code] = prefill
    return out
