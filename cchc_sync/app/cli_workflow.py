"""Commands of the period workflow added to `cchc-sync`: unapprove, history.

cli.py adds them to the main group with `register(cli)`; this module imports nothing from
cli.py (the shared options are in cli_options), so the two form no import cycle. Kept
apart so cli.py stays a readable size.
"""

from __future__ import annotations

import json

import click

from cchc_sync.app.cli_options import command_workspace, period_option
from cchc_sync.app.cli_support import boundary, config_option, resolve_unit
from cchc_sync.app.history_view import history_text, row_versions_of
from cchc_sync.app.workflow import unapprove_unit


@click.command()
@click.argument("code")
@click.option("--unit", required=True, help="Unit code.")
@click.option("--reason", required=True, help="Why the approval is withdrawn (logged).")
@config_option
@click.option("--by", "actor", default=None, help="Who does it (audit log); default: you.")
@boundary
def unapprove(code: str, unit: str, reason: str, config_file: str | None,
              actor: str | None) -> None:
    """Withdraw a unit's approval for a period (logged with the reason). The sheet stays
    read-only while the period is closed: `period reopen` lets the unit edit again."""
    with command_workspace(config_file) as ws:
        unit = resolve_unit(unit, ws.units_by_code)
        unapprove_unit(ws, code.upper(), unit, reason, actor)
        click.echo(f"Đã bỏ phê duyệt số liệu kỳ {code.upper()} của đơn vị {unit}.")


@click.command()
@click.option("--unit", required=True, help="Unit code.")
@click.option("--table", "table", required=True, help="Table key, e.g. tthc")
@click.option("--row", "row_key", default=None,
              help="One row: its key as archived or as typed (e.g. the Lĩnh vực).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document (stable keys).")
@period_option
@config_option
@boundary
def history(unit: str, table: str, row_key: str | None, as_json: bool,
            period_code: str | None, config_file: str | None) -> None:
    """Every archived version of a unit's rows: values, when seen, which cycle, who saved
    it (Drive's lastModifyingUser; the file's owner locally)."""
    with command_workspace(config_file, period_code) as ws:
        unit = resolve_unit(unit, ws.units_by_code)
        versions = row_versions_of(ws, unit, table, row_key)
        if as_json:
            click.echo(json.dumps(versions, ensure_ascii=False, indent=2))
        else:
            click.echo(history_text(ws, unit, table, versions))


def register(group: click.Group) -> None:
    """Add the workflow's commands to `group` (the `cchc-sync` group, from cli.py)."""
    group.add_command(unapprove)
    group.add_command(history)
