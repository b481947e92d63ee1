"""The local backend: a folder of .xlsx workbooks, read and written with openpyxl.

Workspace layout (file names are ASCII: Windows shares and macOS NFD make Vietnamese
file names fragile)::

    root/don-vi/<period>/<UNIT CODE>-<ascii slug of unit name>.xlsx   one per unit
    root/tong-hop/<period>/tong-hop-<period>.xlsx                     the master

SheetRef.ref is the path relative to root (posix), SheetRef.url the absolute path.
Every write goes through a temp file in the same folder and os.replace, so a reader never
sees half a workbook; nothing is written while Excel or LibreOffice has the file open.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import logging
import os
import pwd
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path

from openpyxl import load_workbook

from cchc_sync.domain import telemetry
from cchc_sync.domain.config import ReadLimits
from cchc_sync.domain.records import Period, RawTable, ReadBasis, Unit, UnitRead
from cchc_sync.domain.templates import TemplateSet
from cchc_sync.sources.base import (
    FlagPlan,
    MasterBook,
    Prefill,
    ScanEntry,
    ScanState,
    SheetRef,
    UnitUnreachable,
    scan_by_token,
)
from cchc_sync.sources.xlsx.common import (
    ascii_slug,
    atomic_write,
    file_token,
    lock_files,
    workbook_bytes,
)
from cchc_sync.sources.xlsx.flag_patch import PatchUnsupported, patch_flags
from cchc_sync.sources.xlsx.flags import apply_flag_plan
from cchc_sync.sources.xlsx.formula_cache import formula_cells, read_caches, restore_caches
from cchc_sync.sources.xlsx.limits import RowBudget, check_package
from cchc_sync.sources.xlsx.master import build_empty_master, master_bytes
from cchc_sync.sources.xlsx.master_update import render_master
from cchc_sync.sources.xlsx.read import read_workbook
from cchc_sync.sources.xlsx.unit_book import build_unit_workbook, fill_rows
from cchc_sync.sources.xlsx.unit_books import UnitBooks

log = logging.getLogger(__name__)

UNITS_DIR = "don-vi"
MASTER_DIR = "tong-hop"
# An OLE2 container: an old .xls, or an .xlsx protected with a password to open.
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class LocalBackend:
    """Unit sheets and the master as .xlsx files under one workspace folder."""

    kind = "local"

    def __init__(self, root: str | Path, limits: ReadLimits | None = None) -> None:
        self.root = Path(root)
        self._root = str(self.root)  # os.path.join(_root, ref) is sheet_path(ref), as text
        self.limits = limits or ReadLimits()
        # New workbooks from a prototype of the templates (init makes one per unit).
        self._unit_books = UnitBooks()

    # -- where things are ---------------------------------------------------------------------

    def unit_path(self, unit: Unit, period: Period) -> Path:
        code = ascii_slug(unit.code, lower=False, limit=40) or "DV"
        name = ascii_slug(unit.name)
        filename = f"{code}-{name}.xlsx" if name else f"{code}.xlsx"
        return self.root / UNITS_DIR / _period_dir(period) / filename

    def master_path(self, period: Period) -> Path:
        code = _period_dir(period)
        return self.root / MASTER_DIR / code / f"tong-hop-{code}.xlsx"

    def sheet_path(self, sheet: SheetRef) -> Path:
        path = Path(sheet.ref)
        return path if path.is_absolute() else self.root / path

    def sheet_url(self, ref: str) -> str:
        """Where a person opens the workbook: its absolute path."""
        return str(self.sheet_path(SheetRef(ref=ref)).resolve())

    def _ref(self, path: Path) -> SheetRef:
        try:
            ref = path.relative_to(self.root).as_posix()
        except ValueError:
            ref = path.as_posix()
        return SheetRef(ref=ref, url=str(path.resolve()))

    # -- creating -----------------------------------------------------------------------------

    def create_unit_sheet(
        self, unit: Unit, period: Period, templates: TemplateSet, prefill: Prefill | None = None
    ) -> SheetRef:
        """Make the unit's workbook from the templates. An existing workbook is never
        overwritten (it may hold a clerk's figures): its ref is returned as it is."""
        path = self.unit_path(unit, period)
        if path.exists():
            log.info("unit workbook %s exists; left as it is", path)
            return self._ref(path)
        created_at = dt.datetime.now(dt.UTC)
        if prefill:
            wb = build_unit_workbook(unit, period, templates, created_at=created_at)
            fill_rows(wb, templates, prefill)
            data = workbook_bytes(wb)
        else:
            data = self._unit_books.make(unit, period, templates, created_at)
        self._write_new(path, data)
        return self._ref(path)

    def set_read_only(self, sheet: SheetRef, read_only: bool) -> None:
        """A read-only file: Excel and LibreOffice open it read-only, a share refuses saves.
        Unlocking gives the owner and group write access back."""
        path = self.sheet_path(sheet)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if read_only:
                path.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
            else:
                path.chmod(mode | stat.S_IWUSR | stat.S_IWGRP)
        except FileNotFoundError:
            raise UnitUnreachable(f"Không tìm thấy tệp {sheet.ref}") from None
        except PermissionError:
            raise UnitUnreachable(f"Không có quyền đổi thuộc tính tệp {sheet.ref}") from None

    def create_master(self, title: str, period: Period) -> SheetRef:
        """Make the empty master workbook (an existing one is left as it is)."""
        path = self.master_path(period)
        if not path.exists():
            self._write_new(path, workbook_bytes(build_empty_master(title, period)))
        return self._ref(path)

    def _write_new(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)

    # -- scanning and reading -----------------------------------------------------------------

    def scan(self, sheets: Mapping[str, tuple[SheetRef, str | None]]) -> dict[str, ScanEntry]:
        """Which workbooks changed since their last seen token: one stat() each."""
        return scan_by_token(sheets, self._look)

    def _look(self, sheet: SheetRef) -> ScanEntry:
        st = self._stat(sheet)
        return ScanEntry(state=ScanState.CHANGED, token=file_token(st), modified_at=_mtime(st),
                         modified_by=_owner(st.st_uid), writable=bool(st.st_mode & _ANY_WRITE))

    def is_read_only(self, sheet: SheetRef) -> bool:
        """No write bit left (what set_read_only(True) makes): one stat()."""
        return not self._stat(sheet).st_mode & _ANY_WRITE

    def read_unit(self, unit: str, sheet: SheetRef, templates: TemplateSet) -> UnitRead:
        """Every template table of the unit's workbook (stored values; formulas' cached
        results). Raises UnitUnreachable, and nothing else, when it cannot be read."""
        path = self.sheet_path(sheet)
        st = self._stat(sheet)
        budget = RowBudget(self.limits)  # one budget of time for the whole unit
        for attempt in (1, 2):
            try:
                check_package(path, st.st_size, self.limits)
                tables, marks, intact = self._load_tables(path, sheet, templates, budget)
            except UnitUnreachable:
                st_now = self._stat(sheet)
                if attempt == 2 or file_token(st_now) == file_token(st):
                    raise
                st = st_now  # a save in progress: the file changed under us, try once more
                continue
            st_after = self._stat(sheet)
            if file_token(st_after) == file_token(st) or attempt == 2:
                break
            st = st_after  # saved while we read: read the new version once
        return UnitRead(
            unit=unit,
            tables=tables,
            template_version=marks.get("template_version"),
            version_token=file_token(st),
            modified_at=_mtime(st),
            owned_intact=intact,
            marks=marks,
            basis=read_basis(sheet, file_token(st), tables),
        )

    def _load_tables(
        self, path: Path, sheet: SheetRef, templates: TemplateSet, budget: RowBudget
    ) -> tuple[dict[str, RawTable], dict[str, str], bool]:
        try:
            with warnings.catch_warnings():
                # openpyxl warns about Excel extensions it does not read; nothing to act on.
                warnings.simplefilter("ignore")
                return read_workbook(path, templates, budget)
        except UnitUnreachable:
            raise
        except FileNotFoundError:
            raise UnitUnreachable(f"Không tìm thấy tệp {sheet.ref}") from None
        except PermissionError:
            raise UnitUnreachable(f"Không có quyền đọc tệp {sheet.ref}") from None
        except Exception as exc:  # noqa: BLE001 - any parse failure means "cannot read now"
            raise UnitUnreachable(_corrupt_reason(path, sheet, exc)) from exc

    def _stat(self, sheet: SheetRef) -> os.stat_result:
        """The workbook's stat; UnitUnreachable unless it is a regular file of its own: a
        link (symbolic, or hard to the master) would have the unit read, and its flags
        written into, a file that is not the unit's."""
        # One lstat, on a string path: the scan does this for every workbook each cycle
        # (pathlib's objects and a second stat were most of an idle cycle's scan). lstat
        # is the file's own stat when it is not a link.
        try:
            st = os.lstat(os.path.join(self._root, sheet.ref))
        except FileNotFoundError:
            raise UnitUnreachable(f"Không tìm thấy tệp {sheet.ref}") from None
        except PermissionError:
            raise UnitUnreachable(f"Không có quyền truy cập tệp {sheet.ref}") from None
        except OSError as exc:
            raise UnitUnreachable(f"Không truy cập được tệp {sheet.ref}: {exc}") from None
        if stat.S_ISLNK(st.st_mode):
            raise UnitUnreachable(
                f"{sheet.ref} là một liên kết (shortcut) tới tệp khác, không phải bảng tính "
                "của đơn vị: hãy đặt đúng tệp của đơn vị vào chỗ này"
            )
        if not stat.S_ISREG(st.st_mode):
            raise UnitUnreachable(f"{sheet.ref} không phải là một tệp")
        if st.st_nlink > 1 and self._is_a_master(st):
            raise UnitUnreachable(
                f"Tệp {sheet.ref} là bảng tổng hợp, không phải bảng tính của đơn vị"
            )
        return st

    def _is_a_master(self, st: os.stat_result) -> bool:
        """Whether `st` is the same file (a hard link) as a master workbook."""
        for master in (self.root / MASTER_DIR).glob("*/*.xlsx"):
            with contextlib.suppress(OSError):
                other = master.stat()
                if (other.st_dev, other.st_ino) == (st.st_dev, st.st_ino):
                    return True
        return False

    # -- writing ------------------------------------------------------------------------------

    def write_flags(self, sheet: SheetRef, plan: FlagPlan, expect_token: str | None,
                    basis: ReadBasis | None = None) -> str | None:
        """Write the plan into the cells the software owns and return the new token.

        Returns None, writing nothing, while the workbook is open in Excel/LibreOffice or
        when it changed since `expect_token` (a person saved it: the next cycle re-reads).
        `basis` is not needed: the workbook is opened again under `expect_token`, and the
        plan carries the layouts the flags go by (see `read_basis`).
        """
        path = self.sheet_path(sheet)
        if self._is_open(path):
            return None
        st = self._stat(sheet)
        token = file_token(st)
        if expect_token is not None and token != expect_token:
            log.info("%s changed since it was read; flags not written", sheet.ref)
            return None
        # The full load below costs what the file holds once unzipped: bounded as the read.
        check_package(path, st.st_size, self.limits)
        try:
            data = flagged_bytes(path, plan)
        except FileNotFoundError:
            raise UnitUnreachable(f"Không tìm thấy tệp {sheet.ref}") from None
        except PermissionError:
            raise UnitUnreachable(f"Không có quyền đọc tệp {sheet.ref}") from None
        except Exception as exc:  # noqa: BLE001
            raise UnitUnreachable(_corrupt_reason(path, sheet, exc)) from exc
        # Last look before replacing: somebody may have opened or saved it meanwhile.
        if self._is_open(path) or file_token(self._stat(sheet)) != token:
            log.info("%s was opened or saved during the write; flags not written", sheet.ref)
            return None
        try:
            atomic_write(path, data, mode=stat.S_IMODE(st.st_mode))
        except PermissionError:
            raise UnitUnreachable(f"Không có quyền ghi tệp {sheet.ref}") from None
        except OSError as exc:
            raise UnitUnreachable(f"Không ghi được tệp {sheet.ref}: {exc}") from None
        return file_token(self._stat(sheet))

    def update_master(self, sheet: SheetRef, book: MasterBook, shape: str | None
                      ) -> str | None:
        """Write the master, rendering only the rows whose blocks changed since the master
        of `shape` (master_update), when the file is still the one written then. Returns
        the new shape (JSON), or None when the master was not written (open in Excel)."""
        path = self.sheet_path(sheet)
        if self._is_open(path):
            log.info("master %s is open; not written this cycle", sheet.ref)
            return None
        old_file = None
        recorded = _recorded_token(shape)
        if recorded is not None:
            try:
                with path.open("rb") as fh:
                    if file_token(os.fstat(fh.fileno())) == recorded:
                        old_file = fh.read()
            except OSError:
                old_file = None
        render = render_master(book, shape, old_file)
        telemetry.REGISTRY.inc("cchc_sync_master_rows_rendered_total", render.rows_rendered,
                               backend=self.kind)
        if not self._replace_master(sheet, path, render.data):
            return None
        return json.dumps({**render.shape, "token": file_token(path.stat())},
                          ensure_ascii=False, separators=(",", ":"))

    def write_master(self, sheet: SheetRef, book: MasterBook) -> bool:
        """Replace the master workbook with the book; False while it is open."""
        path = self.sheet_path(sheet)
        if self._is_open(path):
            log.info("master %s is open; not written this cycle", sheet.ref)
            return False
        return self._replace_master(sheet, path, master_bytes(book))

    @staticmethod
    def _replace_master(sheet: SheetRef, path: Path, data: bytes) -> bool:
        mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else None
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            atomic_write(path, data, mode=mode)
        except OSError as exc:
            # Excel on a share may hold the file without a visible lock file.
            log.warning("master %s not written: %s", sheet.ref, exc)
            return False
        return True

    @staticmethod
    def _is_open(path: Path) -> bool:
        locks = lock_files(path)
        if locks:
            log.info("%s is open (lock file %s)", path, locks[0].name)
        return bool(locks)


def _recorded_token(shape: str | None) -> str | None:
    """The master file's token recorded in `shape` (None: no shape of this backend)."""
    try:
        loaded = json.loads(shape) if shape else None
    except ValueError:
        return None
    token = loaded.get("token") if isinstance(loaded, dict) else None
    return token if isinstance(token, str) else None


_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


@functools.cache
def _owner(uid: int) -> str:
    """Who saved a workbook, as far as a file tells: its owner's login name (a save by
    Excel over a share replaces the file, so the owner is the last saver there)."""
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (a share's numeric owner, a container)
        return f"uid {uid}"


def flagged_bytes(path: Path, plan: FlagPlan) -> bytes:
    """The workbook at `path` with the plan's flags: by patching the parts that change
    (flag_patch), or by a full openpyxl load and save where the patch does not apply."""
    try:
        return patch_flags(path.read_bytes(), plan)
    except PatchUnsupported as exc:
        log.info("%s: flags written by a full rewrite (%s)", path.name, exc)
    return full_rewrite(path, plan)


def full_rewrite(path: Path, plan: FlagPlan) -> bytes:
    """The plan applied to the workbook loaded whole by openpyxl, saved whole."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = load_workbook(path)  # formulas, not cached values: they must survive
        caches = read_caches(path, formula_cells(wb))
    apply_flag_plan(wb, plan)
    return restore_caches(workbook_bytes(wb), caches, wb.epoch)


def _period_dir(period: Period) -> str:
    return ascii_slug(period.code, lower=False, limit=20) or "ky"


def _mtime(st: os.stat_result) -> dt.datetime:
    return dt.datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=dt.UTC)


def _corrupt_reason(path: Path, sheet: SheetRef, exc: Exception) -> str:
    try:
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError:
        head = b""
    if head == _OLE_MAGIC:
        return (
            f"Tệp {sheet.ref} là định dạng Excel cũ (.xls) hoặc có đặt mật khẩu: hãy lưu lại "
            f"thành tệp .xlsx không đặt mật khẩu"
        )
    return (
        f"Tệp {sheet.ref} bị hỏng hoặc không phải tệp Excel (.xlsx) "
        f"({type(exc).__name__}); hãy mở bằng Excel và lưu lại"
    )


def read_basis(sheet: SheetRef, token: str, tables: dict[str, RawTable]) -> ReadBasis:
    """The local backend's ReadBasis: for reference only, since a local flag write re-opens
    the workbook, refuses when its token is no longer `expect_token`, and takes the layouts
    from the plan. detail["layouts"]: table key -> the tab's layout as read ({"columns":
    {column key: 1-based index}, "explanation_col", "status_col", "header_row"}), or None
    when the tab was not found."""
    layouts = {
        key: None if table.layout is None or not table.tab_found else {
            "columns": dict(table.layout.columns),
            "explanation_col": table.layout.explanation_col,
            "status_col": table.layout.status_col,
            "header_row": table.layout.header_row,
        }
        for key, table in tables.items()
    }
    return ReadBasis(backend="local", ref=sheet.ref, token=token, detail={"layouts": layouts})
