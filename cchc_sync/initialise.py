"""`init`: a new workspace — its config, one sheet per unit from the templates, the master.

Idempotent: running it again creates only what is missing, so an interrupted init over
hundreds of units can simply be re-run.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from .config import DEFAULT_CONFIG_NAME, GoogleSettings, load_config, render_config
from .figures import DEFAULT_LEVEL_NAMES, ordered_levels
from .pipeline import Progress, Workspace, no_progress, open_workspace
from .registry import load_units

log = logging.getLogger("cchc_sync")


def init_workspace(
    directory: str | Path,
    *,
    units_csv: str | Path,
    period: str,
    backend: str = "local",
    name: str = "",
    google: GoogleSettings | None = None,
    progress: Progress = no_progress,
    backend_factory=None,
) -> Workspace:
    """Create (or complete) a workspace in `directory` and return it opened."""
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    units = load_units(units_csv)  # fail early, before writing anything
    target = root / "units.csv"
    if Path(units_csv).resolve() != target:
        shutil.copyfile(units_csv, target)
    config_file = root / DEFAULT_CONFIG_NAME
    if not config_file.exists():
        levels = ordered_levels(units)
        config_file.write_text(
            render_config(
                name=name,
                period=period,
                units_file="units.csv",
                backend=backend,
                level_order=levels,
                level_names={lv: DEFAULT_LEVEL_NAMES.get(lv, f"Cấp {lv}") for lv in levels},
                google=google,
            ),
            encoding="utf-8",
        )
    config = load_config(config_file)
    backend_obj = backend_factory(config) if backend_factory else None
    ws = open_workspace(config, backend=backend_obj)
    create_sheets(ws, progress)
    return ws


def create_sheets(ws: Workspace, progress: Progress = no_progress) -> int:
    """Create each unit's sheet and the master where they do not exist yet."""
    period = ws.period.code
    existing = ws.archive.sheets(period)
    created = 0
    missing = [u for u in ws.units if u.code not in existing]
    for unit in progress(missing, "Tạo bảng tính cho đơn vị"):
        ref = ws.backend.create_unit_sheet(unit, ws.period, ws.templates)
        ws.archive.register_sheet(
            period, unit.code, ws.backend.kind, ref.ref, ref.url, ws.templates.version
        )
        created += 1
    if ws.archive.master(period) is None:
        title = f"Tổng hợp CCHC {ws.config.name} kỳ {period}".replace("  ", " ")
        ref = ws.backend.create_master(title, ws.period)
        ws.archive.register_master(period, ws.backend.kind, ref.ref, ref.url)
    log.info("init: %d unit sheets created, %d already there", created, len(existing))
    return created
