"""`init`: a new workspace — its config, one sheet per unit from the templates, the master.

A new workspace is built in a temporary folder beside the target and moved into place
only when everything is made: a failed `init` (a bad registry, a template error, a full
disk) leaves nothing behind, and running it again starts clean. (In Google mode the
spreadsheets already created in Drive stay there; the folder on this machine is clean.)

Run again on an existing workspace it completes what is missing (sheets of units added to
the registry) — but only for the same period, name and backend: a different one is
refused with the command that does it (`period open`, editing the config), never
"succeeded" while ignoring what was asked.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from cchc_sync.app.pipeline import (
    Progress,
    Workspace,
    create_missing_sheets,
    no_progress,
    open_workspace,
)
from cchc_sync.app.workflow import log_first_opening, period_record
from cchc_sync.domain.config import (
    DEFAULT_CONFIG_NAME,
    Config,
    ConfigError,
    GoogleSettings,
    load_config,
    render_config,
)
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.registry import level_labels, load_successions, load_units
from cchc_sync.publish.figures import DEFAULT_LEVEL_NAMES, ordered_levels
from cchc_sync.sources.base import Backend
from cchc_sync.sources.xlsx.backend import LocalBackend

log = logging.getLogger("cchc_sync")

UNITS_FILE = "units.csv"
SUCCESSORS_FILE = "successors.csv"
BackendFactory = Callable[[Config], Backend]
"""Makes the backend of a workspace's config (tests and the demo give their own)."""


def init_workspace(
    directory: str | Path,
    *,
    units_csv: str | Path,
    period: str,
    backend: str = "local",
    name: str = "",
    google: GoogleSettings | None = None,
    progress: Progress = no_progress,
    backend_factory: BackendFactory | None = None,
    successors_csv: str | Path | None = None,
    actor: str | None = None,
    backfill: bool = False,
) -> Workspace:
    """Create (or complete) a workspace in `directory` and return it opened. The first
    period's opening is logged (who, when) like every later `period open`; backfill writes
    `auto_lock = false` (a period whose lock day is past is not locked at the first cycle)."""
    root = Path(directory).resolve()
    units = load_units(units_csv)  # fail early, before writing anything
    if successors_csv:
        load_successions(successors_csv, units)
    code = parse_period(period).code
    if (root / DEFAULT_CONFIG_NAME).exists():
        _refuse_a_different_workspace(root / DEFAULT_CONFIG_NAME, code, name, backend)
        _copy_sources(root, units_csv, successors_csv)
        ws = _complete(root / DEFAULT_CONFIG_NAME, backend_factory, progress)
        log_first_opening(ws, actor)  # once: an init interrupted before it logs it now
        return ws
    if root.exists() and not root.is_dir():
        raise ConfigError(f"{root}: đây là một tệp, không phải thư mục")
    root.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}.init-", dir=root.parent))
    try:
        _copy_sources(staging, units_csv, successors_csv)
        units_text = (staging / UNITS_FILE).read_text(encoding="utf-8-sig")
        levels = ordered_levels(units)
        labels = level_labels(units_text)
        (staging / DEFAULT_CONFIG_NAME).write_text(
            render_config(
                name=name,
                period=code,
                units_file=UNITS_FILE,
                backend=backend,
                level_order=levels,
                level_names={lv: labels.get(lv) or DEFAULT_LEVEL_NAMES.get(lv, f"Cấp {lv}")
                             for lv in levels},
                google=google,
                successors_file=SUCCESSORS_FILE if successors_csv else "",
                auto_lock=not backfill,
            ),
            encoding="utf-8",
        )
        _complete(staging / DEFAULT_CONFIG_NAME, backend_factory, progress).close()
        _move_into_place(staging, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ws = _complete(root / DEFAULT_CONFIG_NAME, backend_factory, no_progress)
    _point_urls_at(ws)
    log_first_opening(ws, actor)
    return ws


def _refuse_a_different_workspace(config_file: Path, period: str, name: str,
                                  backend: str) -> None:
    config = load_config(config_file)
    if config.period.upper() != period:
        raise ConfigError(
            f"{config_file.parent} đã là không gian làm việc của kỳ {config.period}; `init` "
            f"không đổi kỳ. Để mở kỳ {period}: cchc-sync period open {period} --config "
            f"{config_file}"
        )
    if name and name != config.name:
        raise ConfigError(
            f"{config_file.parent} đã là không gian làm việc của \"{config.name}\"; `init` "
            f"không đổi tên. Để đổi tên, sửa dòng name = ... trong {config_file}"
        )
    if backend != config.backend:
        raise ConfigError(
            f"{config_file.parent} đã dùng backend \"{config.backend}\"; `init` không đổi "
            f"backend. Hãy tạo không gian làm việc mới ở một thư mục khác"
        )


def _copy_sources(folder: Path, units_csv: str | Path,
                  successors_csv: str | Path | None) -> None:
    for source, name in ((units_csv, UNITS_FILE), (successors_csv, SUCCESSORS_FILE)):
        if source and Path(source).resolve() != (folder / name).resolve():
            shutil.copyfile(source, folder / name)


def _complete(config_file: Path, backend_factory: BackendFactory | None,
              progress: Progress) -> Workspace:
    config = load_config(config_file)
    ws = open_workspace(config, backend=backend_factory(config) if backend_factory else None)
    try:
        period_record(ws)
        create_missing_sheets(ws, progress)
    except BaseException:
        ws.close()
        raise
    return ws


def _move_into_place(staging: Path, root: Path) -> None:
    """The built workspace becomes `root`: one rename when `root` does not exist; into an
    existing folder (e.g. one holding the registry) entry by entry, after checking that
    nothing there would be replaced except the registry copies themselves."""
    if not root.exists():
        os.rename(staging, root)
        return
    entries = list(staging.iterdir())
    sources = {UNITS_FILE, SUCCESSORS_FILE}
    clashes = [e.name for e in entries if (root / e.name).exists() and e.name not in sources]
    if clashes:
        raise ConfigError(
            f"{root}: thư mục đã có {', '.join(sorted(clashes))} nhưng không có "
            f"{DEFAULT_CONFIG_NAME}; hãy chọn một thư mục trống"
        )
    for entry in entries:
        os.replace(entry, root / entry.name)


def _point_urls_at(ws: Workspace) -> None:
    """Local workbooks were registered with their path in the staging folder: their
    addresses are rewritten for where they now are (refs are relative, and stay)."""
    backend = ws.backend
    if not isinstance(backend, LocalBackend):
        return
    period = ws.period.code
    for unit, sheet in ws.archive.sheets(period).items():
        ws.archive.register_sheet(period, unit, sheet.backend, sheet.ref,
                                  backend.sheet_url(sheet.ref), sheet.template_version)
    master = ws.archive.master(period)
    if master is not None:
        ws.archive.register_master(period, master["backend"], master["ref"],
                                   backend.sheet_url(master["ref"]))
