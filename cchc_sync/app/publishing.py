"""What a cycle publishes: flags into units' sheets, the master, and each unit's progress.

Everything here is rebuilt from the archive, so it can always be regenerated.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.metadata
import logging
import sqlite3
from pathlib import Path

from cchc_sync.app.workspace import Workspace
from cchc_sync.domain.clock import vietnam_day
from cchc_sync.domain.digest import json_digest
from cchc_sync.domain.records import CurrentRow, Finding
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.domain.vnformat import format_date, format_datetime
from cchc_sync.publish import progress
from cchc_sync.publish.figures import compute_figures, rows_with_errors
from cchc_sync.publish.flags import plan_flags
from cchc_sync.publish.master import UnitProgress, build_master
from cchc_sync.sources.base import (
    FlagPlan,
    MasterBook,
    OwnWrite,
    ReadBasis,
    SheetRef,
    UnitUnreachable,
)
from cchc_sync.store.archive import SheetState
from cchc_sync.store.period_state import (
    get_period,
    late_edits,
    period_data_marker,
    period_workflow_state,
    unit_states,
)

log = logging.getLogger("cchc_sync")


def write_flags(ws: Workspace, touched: set[str]) -> tuple[int, list[str]]:
    """Write flags for every unit whose plan differs from what its sheet shows."""
    period = ws.period.code
    sheets = ws.archive.sheets(period)
    units = ws.units_by_code
    notices = lock_notices(ws)
    written, pending = 0, []
    for code, state in sheets.items():
        if code not in units or not state.reachable or state.checked_at is None:
            continue
        if code not in touched and state.flags_hash is not None:
            continue
        plan = flag_plan(ws, code, state, notice=notices.get(code, ""))
        fingerprint = plan.fingerprint()
        if fingerprint == state.flags_hash:
            continue
        try:
            token = ws.backend.write_flags(
                SheetRef(ref=state.ref, url=state.url), plan, expect_token=state.token,
                basis=ReadBasis.from_json(ws.archive.basis(period, code)),
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
            fields["token"] = str(token)
        if isinstance(token, OwnWrite):
            # Provably our write alone: no re-read will bring the basis it leaves.
            ws.archive.keep_basis(period, code, token.basis.to_json())
        ws.archive.update_sheet(period, code, **fields)
        written += 1
    return written, pending


def flag_plan(ws: Workspace, code: str, state: SheetState, notice: str = "") -> FlagPlan:
    """What the software writes into one checked unit's sheet, from the archive."""
    period = ws.period.code
    assert state.checked_at is not None  # only checked units get flags
    return plan_flags(
        unit=code,
        unit_name=ws.units_by_code[code].name,
        period=period,
        checked_at=dt.datetime.fromisoformat(state.checked_at),
        templates=ws.templates,
        layouts=ws.archive.layouts(period, code),
        row_positions=ws.archive.row_positions(period, code),
        findings=ws.archive.open_findings(period, code),
        notice=notice,
    )


def lock_notices(ws: Workspace) -> dict[str, str]:
    """What a locked sheet says on top of its "Kiểm tra" tab: the period is closed, changes
    are not taken, whom to ask; and an edit saved after the lock when one was noticed."""
    record = get_period(ws.archive, ws.period.code)
    late = late_edits(ws.archive, ws.period.code)
    contact = "bộ phận tổng hợp (Phòng Nội vụ)"
    if ws.config.google.coordinators:
        contact += " — " + ", ".join(ws.config.google.coordinators)
    out = {}
    for code, state in unit_states(ws.archive, ws.period.code).items():
        if not state.read_only:
            continue
        if state.approved_at:
            why = f"Số liệu kỳ {ws.period.code} đã được phê duyệt"
        elif record is not None:
            why = f"Kỳ báo cáo {ws.period.code} đã khoá sổ từ ngày {format_date(record.lock_at)}"
        else:
            why = f"Kỳ báo cáo {ws.period.code} đã khoá sổ"
        text = (f"BẢNG TÍNH CHỈ CÒN ĐỂ XEM. {why}: mọi thay đổi không được ghi nhận. Cần sửa "
                f"số liệu, hãy liên hệ {contact} để được mở lại.")
        if code in late and (saved_at := late[code].modified_at):
            text += (" Bảng tính đã được lưu lúc "
                     f"{format_datetime(dt.datetime.fromisoformat(saved_at))} "
                     "sau khi khoá: thay đổi đó chưa được ghi nhận.")
        out[code] = text
    return out




def unit_progress(ws: Workspace, rows: list[CurrentRow] | None = None,
                  findings: list[Finding] | None = None) -> list[UnitProgress]:
    """Each unit's progress in ws's period (rows and findings: the archive's current ones,
    loaded here when not given)."""
    period = ws.period.code
    table = ws.templates.signoff_table
    return progress.unit_progress(
        units=ws.units,
        templates=ws.templates,
        rows=rows if rows is not None else ws.current_rows(period),
        findings=findings if findings is not None else ws.archive.open_findings(period),
        sheets=ws.archive.sheets(period),
        record=get_period(ws.archive, period),
        states=unit_states(ws.archive, period),
        signoff_of=lambda unit: progress.signoff_time(
            ws.archive.table_history(period, unit, table), ws.templates),
        late=late_edits(ws.archive, period),
    )


def master_book(ws: Workspace, rows: list[CurrentRow], findings: list[Finding]) -> MasterBook:
    """The master of the workspace's period, built in full from these rows and findings."""
    period = ws.period.code
    units = ws.units_by_code
    figures = compute_figures(rows, ws.templates, units, ws.levels, rows_with_errors(findings))
    return build_master(
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


def master_inputs(ws: Workspace, master: sqlite3.Row, *, closed: bool = False) -> str:
    """A cheap key for everything the master of ws's period is built from: when it equals
    the key recorded with the master last written, a rebuild would give the same book.

    - the archive's data_version: rows, their positions and explanations, findings, sheet
      states (reachability and its reason, last edit, last check: the scan's outcome is
      stored there before the master is built), periods (deadline, state), unit states
      (approval, reopen, lock), the period's units — one counter the archive's triggers
      move on any change;
    - today in Vietnam: nothing in the master reads the clock today (timeliness compares
      the sign-off with the deadline; locks reach it through unit states), but a master
      that came to depend on the date would still be rebuilt at least once a day;
    - the period, the units and levels in memory (units.csv and the successor mapping as
      read by this process), the whole config, the templates, the master's own sheet;
    - this software: its source files and the libraries that shape the book;
    - the period's workflow state (period_workflow_state: open or final, each unit's
      approval, reopen and lock), named on its own so that a closed period the cycle does
      not read (closed=True) is rebuilt when a unit of it is approved, unapproved or
      locked. For such a period the archive-wide counter is replaced by a marker of that
      period's own data, and today is left out: an old master is rebuilt only when
      something of its own changed.
    """
    payload = {
        "archive": (period_data_marker(ws.archive, ws.period.code) if closed
                    else ws.archive.data_version()),
        "today": None if closed else vietnam_day(ws.clock()).isoformat(),
        "workflow": period_workflow_state(ws.archive, ws.period.code),
        "period": [ws.period.code, ws.period.start.isoformat(), ws.period.end.isoformat()],
        "units": repr(ws.units),
        "levels": ws.levels,
        # Where the workspace folder is does not shape the book: a workspace moved to
        # another server or disk (or restored from a copy) keeps its master.
        "config": repr(ws.config).replace(str(ws.config.root), "<workspace>"),
        "templates": _templates_repr(ws.templates),
        "master": [master["backend"], master["ref"], master["url"]],
        "backend": ws.backend.kind,
        "software": _software_digest(),
    }
    return json_digest(payload)


_TEMPLATES_SEEN: list[tuple[TemplateSet, str]] = []


def _templates_repr(templates: TemplateSet) -> str:
    """repr(templates), made once per template set: a TemplateSet is frozen and loaded once
    per workspace, and its repr (about 30 kB) was the largest fixed cost of an idle cycle.
    Kept by identity (its dicts make it unhashable), for the last few sets seen."""
    for seen, text in _TEMPLATES_SEEN:
        if seen is templates:
            return text
    text = repr(templates)
    _TEMPLATES_SEEN[:] = [(templates, text), *_TEMPLATES_SEEN[:3]]
    return text


@functools.cache
def _software_digest() -> str:
    """This cchc-sync (every source file, not only its version number) and the libraries
    that turn the book into a sheet."""
    digest = hashlib.sha256()
    root = Path(__file__).resolve().parents[1]  # the whole cchc_sync package
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    for dist in ("cchc-sync", "pandas", "numpy", "openpyxl", "gspread"):
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{dist}={version};".encode())
    return digest.hexdigest()


def _stamp(inputs: str, book_hash: str) -> str:
    # With the fingerprint it goes with: a master written since by anything that does not
    # record its inputs (an older cchc-sync) never matches.
    return f"{inputs}:{book_hash}"


def write_master(ws: Workspace, rows: list[CurrentRow] | None,
                 findings: list[Finding] | None, *, closed: bool = False) -> bool:
    """Rebuild the master and write it if its fingerprint changed (only what changed since
    the shape recorded with it: Backend.update_master); skip the rebuild when its inputs
    (master_inputs) are those it was last written from.

    rows and findings are the archive's current ones, read in this cycle (rows None: not
    loaded yet, loaded here if the master is rebuilt): only the cycle,
    under the archive's lock, writes rows and findings. The key is read before the book is
    built, so a change made meanwhile by another command (an approval) is rebuilt again
    by the next cycle, never taken as already shown. findings None: loaded here if the
    master is rebuilt. closed: a period this cycle did not read (master_inputs)."""
    period = ws.period.code
    master = ws.archive.master(period)
    if master is None:
        return False
    inputs = master_inputs(ws, master, closed=closed)
    if master["book_hash"] and master["inputs_key"] == _stamp(inputs, master["book_hash"]):
        log.debug("master %s: inputs unchanged since it was written, not rebuilt", period)
        return False
    if rows is None:
        rows = ws.current_rows(period)
    if findings is None:
        findings = ws.archive.open_findings(period)
    book = master_book(ws, rows, findings)
    fingerprint = book.fingerprint()
    if fingerprint == master["book_hash"]:
        log.debug("master %s: rebuilt, unchanged", period)
        ws.archive.set_master_inputs(period, _stamp(inputs, fingerprint))
        return False
    # Written ahead: a process killed while the write is in flight (it may have landed)
    # must not leave the old fingerprint and shape behind. With them, the next cycle would
    # take a book equal to the old one as already shown, or send a difference from the old
    # shape to a master that has the new one; without them its write is a whole one.
    ws.archive.master_write_begins(period)
    shape = ws.backend.update_master(SheetRef(ref=master["ref"], url=master["url"]), book,
                                     master["shape"])
    if shape is None:
        log.debug("master %s: rebuilt, not written", period)
        # master_write_begins already left no fingerprint or shape: the next is whole.
        log.warning("master not written (open in a spreadsheet program); next cycle retries")
        return False
    log.debug("master %s: rebuilt, written", period)
    ws.archive.set_master_hash(period, fingerprint, _stamp(inputs, fingerprint), shape)
    return True
