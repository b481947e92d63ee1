"""`init`: a new workspace — its config, one sheet per unit from the templates, the master.

Idempotent: running it again creates only what is missing, so an interrupted init over
hundreds of units can simply be re-run.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from cchc_sync.app.pipeline import (
    Progress,
    Workspace,
    create_missing_sheets,
    no_progress,
    open_workspace,
)
from cchc_sync.app.workflow import period_record
from cchc_sync.domain.config import DEFAULT_CONFIG_NAME, GoogleSettings, load_config, render_config
from cchc_sync.domain.registry import load_successions, load_units
from cchc_sync.publish.figures import DEFAULT_LEVEL_NAMES, ordered_levels

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
    successors_csv: str | Path | None = None,
) -> Workspace:
    """Create (or complete) a workspace in `directory` and return it opened."""
    root = Path(directory).resolve()
    root.mkdir(parents=True, exist_ok=True)
    units = load_units(units_csv)  # fail early, before writing anything
    target = root / "units.csv"
    if Path(units_csv).resolve() != target:
        shutil.copyfile(units_csv, target)
    if successors_csv:
        load_successions(successors_csv, units)  # fail early on a bad mapping
        if Path(successors_csv).resolve() != (root / "successors.csv"):
            shutil.copyfile(successors_csv, root / "successors.csv")
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
                successors_file="successors.csv" if successors_csv else "",
            ),
            encoding="utf-8",
        )
    config = load_config(config_file)
    backend_obj = backend_factory(config) if backend_factory else None
    ws = open_workspace(config, backend=backend_obj)
    period_record(ws)
    create_missing_sheets(ws, progress)
    return ws
