"""What the `cchc-sync` commands share: the --period option and the workspace a command
works in (--config is cli_support.config_option).

Kept apart from cli.py so the modules that add commands to the group (cli_workflow) need
nothing from cli.py: cli.py imports them and calls their `register`, never the other way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import click

from cchc_sync.app.pipeline import Workspace, open_workspace
from cchc_sync.app.workflow import archived_period_view
from cchc_sync.domain.config import load_config

period_option = click.option("--period", "period_code", default=None,
                             help="Mã kỳ báo cáo (mặc định: kỳ hiện tại).")


@contextlib.contextmanager
def command_workspace(
    config_file: str | None, period_code: str | None = None
) -> Iterator[Workspace]:
    """The workspace, looking at `period_code` (an archived period) when given."""
    ws = open_workspace(load_config(config_file))
    try:
        if period_code:
            yield archived_period_view(ws, period_code)
        else:
            yield ws
    finally:
        ws.close()
