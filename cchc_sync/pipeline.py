"""One poll cycle: scan, read what changed, check, archive, cross-check, flag, master.

`sync_once` is the whole product's heartbeat; the daemon only calls it on a schedule.
Normalising, validating and merging never know which backend fed them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from .archive import Archive
from .backends.base import Backend, ScanState, SheetRef, UnitUnreachable
from .config import Config
from .cross_rules import cross_unit_findings
from .figures import compute_figures, ordered_levels
from .flags import plan_flags
from .master import UnitProgress, build_master, unit_state
from .models import Finding, Period, Severity, Unit, UnitRead
from .periods import parse_period
from .registry import load_units
from .templates import TemplateSet, load_template_set
from .validate import check_unit

log = logging.getLogger("cchc_sync")
T = TypeVar("T")
Progress = Callable[[Iterable[T], str], Iterator[T]]


def no_progress(items: Iterable[T], label: str) -> Iterator[T]:
    yield from items


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


@dataclass(kw_only=True)
class Workspace:
    """Everything a command needs, opened from one config file."""

    config: Config
    templates: TemplateSet
    period: Period
    archive: Archive
    backend: Backend
    units: list[Unit]
    clock: Callable[[], dt.datetime] = utcnow

    @property
    def units_by_code(self) -> dict[str, Unit]:
        return {u.code: u for u in self.units}

    @property
    def levels(self) -> list[str]:
        return ordered_levels(self.units, self.config.level_order)

    def close(self) -> None:
        self.archive.close()


def make_backend(config: Config) -> Backend:
    if config.backend == "local":
        from .backends.local import LocalBackend

        return LocalBackend(config.root)
    from .backends.google import GoogleBackend  # noqa: PLC0415 - optional heavy import

    return GoogleBackend.from_config(config)


def open_workspace(
    config: Config, backend: Backend | None = None, clock: Callable[[], dt.datetime] = utcnow
) -> Workspace:
    templates = load_template_set(config.templates_dir)
    period = parse_period(config.period, config.cutoff_day, config.calendar_periods)
    units = load_units(config.units_file)
    archive = Archive(config.archive_file)
    archive.save_units(period.code, units)
    return Workspace(
        config=config,
        templates=templates,
        period=period,
        archive=archive,
        backend=backend or make_backend(config),
        units=units,
        clock=clock,
    )


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
    duration: float = 0.0

    def log_line(self) -> str:
        return (
            f"cycle: read {self.units_read}/{self.units_total} units, {self.rows} rows "
            f"({self.rows_changed} changed), {self.errors} errors, {self.warnings} warnings, "
            f"{len(self.units_unreachable)} unreachable, flags written {self.flags_written}, "
            f"master {'written' if self.master_written else 'unchanged'}, "
            f"{self.duration:.2f} s"
        )


def content_hash(read: UnitRead) -> str:
    """What a person could have changed: cell values, explanations and header layout."""
    payload = {}
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
    data = json.dumps(payload, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


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

    should_stop is checked between units: a stop request finishes the unit at hand, then
    archives, flags and writes the master for what was read, and returns.
    """
    started = time.monotonic()
    period = ws.period.code
    archive = ws.archive
    result = CycleResult(units_total=len(ws.units))
    run_id = archive.start_run(period)
    sheets = archive.sheets(period)
    known = {u.code for u in ws.units}
    watched = {
        code: (SheetRef(ref=s.ref, url=s.url), s.token)
        for code, s in sheets.items()
        if code in known
    }
    scan = ws.backend.scan(watched)
    touched: set[str] = set()
    now = ws.clock()
    to_read = [code for code, entry in scan.items() if entry.state is ScanState.CHANGED]
    for code, entry in scan.items():
        if entry.state is ScanState.UNREACHABLE:
            result.units_unreachable.append(code)
            archive.update_sheet(period, code, reachable=0, reason=entry.reason)
        elif not sheets[code].reachable:
            archive.update_sheet(period, code, reachable=1, reason="")
    for code in progress(to_read, "Đọc bảng tính đơn vị"):
        if should_stop():
            log.info("stop requested: %d units left for the next cycle", len(to_read))
            break
        entry = scan[code]
        ref, _token = watched[code]
        try:
            read = ws.backend.read_unit(code, ref, ws.templates)
        except UnitUnreachable as exc:
            log.warning("unit %s unreachable: %s", code, exc)
            result.units_unreachable.append(code)
            archive.update_sheet(period, code, reachable=0, reason=str(exc))
            continue
        result.units_read += 1
        digest = content_hash(read)
        modified = (read.modified_at or entry.modified_at)
        fields = {
            "token": read.version_token or entry.token,
            "read_at": now.isoformat(),
            "reachable": 1,
            "reason": "",
            "modified_at": modified.isoformat() if modified else None,
        }
        if digest == sheets[code].content_hash:
            # Our own write coming back, or a save that changed nothing we read: not a
            # person's edit, so "last edit" and "last check" stay as they were.
            del fields["modified_at"]
            archive.update_sheet(period, code, **fields)
            continue
        level = ws.units_by_code[code].level
        check = check_unit(read, ws.templates, ws.period, level)
        layouts = {t: (raw.layout if raw.tab_found else None) for t, raw in read.tables.items()}
        result.rows_changed += archive.record_rows(
            period, code, check.rows, layouts, run_id, seen_at=now.isoformat()
        )
        unit_findings = check.findings + _template_version_findings(ws, read)
        archive.replace_findings(period, "unit", unit_findings, run_id, units=[code])
        archive.update_sheet(
            period, code, content_hash=digest, checked_at=now.isoformat(),
            template_version=read.template_version, **fields,
        )
        touched.add(code)

    rows = archive.current_rows(period)
    if touched:
        cross = cross_unit_findings(rows, ws.templates, ws.units_by_code)
        touched |= archive.replace_findings(period, "cross", cross, run_id)

    result.flags_written, result.flags_pending = _write_flags(ws, touched)
    findings = archive.open_findings(period)
    result.rows = len(rows)
    result.errors = sum(1 for f in findings if f.severity is Severity.ERROR)
    result.warnings = sum(1 for f in findings if f.severity is Severity.WARNING)
    result.master_written = _write_master(ws, rows, findings)
    result.duration = time.monotonic() - started
    archive.finish_run(
        run_id,
        units_read=result.units_read,
        rows_changed=result.rows_changed,
        errors=result.errors,
        warnings=result.warnings,
    )
    log.info(result.log_line())
    return result


def _write_flags(ws: Workspace, touched: set[str]) -> tuple[int, list[str]]:
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
    by_unit: dict[str, list] = {}
    for r in rows:
        by_unit.setdefault(r.unit, []).append(r)
    out = []
    for unit in ws.units:
        s = sheets.get(unit.code)
        unit_rows = by_unit.get(unit.code, [])
        state = unit_state(unit_rows, ws.templates)
        submitted_at = None
        if state == "Đã nộp":
            submitted_at = _signoff_time(ws, unit.code)
        out.append(
            UnitProgress(
                unit=unit,
                state=state,
                submitted_at=submitted_at,
                last_edit=s.modified_at if s else None,
                last_check=s.checked_at if s else None,
                errors=sum(1 for f in findings
                           if f.unit == unit.code and f.severity is Severity.ERROR),
                warnings=sum(1 for f in findings
                             if f.unit == unit.code and f.severity is Severity.WARNING),
                reachable=bool(s.reachable) if s else False,
                reason=(s.reason if s else "chưa có bảng tính"),
                sheet=(s.url or s.ref) if s else "",
                sheet_ref=s.ref if s else "",
            )
        )
    return out


def _signoff_time(ws: Workspace, unit: str) -> str | None:
    """When the unit's current sign-off was first seen (the version that set it)."""
    t = ws.templates
    rows = ws.archive.db.execute(
        "SELECT data, first_seen, deleted FROM row_versions WHERE period = ? AND unit = ? "
        "AND tbl = ? ORDER BY version",
        (ws.period.code, unit, t.signoff_table),
    ).fetchall()
    since = None
    for r in rows:
        done = (not r["deleted"]) and json.loads(r["data"] or "{}").get(t.signoff_column) == (
            t.signoff_done
        )
        if done and since is None:
            since = r["first_seen"]
        elif not done:
            since = None
    return since


def _write_master(ws: Workspace, rows, findings) -> bool:
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
