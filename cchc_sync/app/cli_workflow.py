"""Commands of the period workflow added to `cchc-sync`: unapprove, history.

They register on the main group (cli.py imports this module); kept apart so cli.py stays
a readable size.
"""

from __future__ import annotations

import click

from cchc_sync.app.cli import _boundary, _workspace, cli, config_option


@cli.command()
@click.argument("code")
@click.option("--unit", required=True, help="Unit code.")
@click.option("--reason", required=True, help="Why the approval is withdrawn (logged).")
@config_option
@click.option("--by", "actor", default=None, help="Who does it (audit log); default: you.")
@_boundary
def unapprove(code, unit, reason, config_file, actor):
    """Withdraw a unit's approval for a period (logged with the reason). The sheet stays
    read-only while the period is closed: `period reopen` lets the unit edit again."""
    from cchc_sync.app.workflow import unapprove_unit

    with _workspace(config_file) as ws:
        unapprove_unit(ws, code.upper(), unit, reason, actor)
        click.echo(f"Đã bỏ phê duyệt số liệu kỳ {code.upper()} của đơn vị {unit}.")
