"""Commands of the period workflow added to `cchc-sync`: unapprove, history.

cli.py adds them to the main group with `register(cli)`; this module imports nothing from
cli.py (the shared options are in cli_options), so the two form no import cycle. Kept
apart so cli.py stays a readable size.
"""

from __future__ import annotations

import json

import click

from cchc_sync.app.cli_help import command
from cchc_sync.app.cli_options import command_workspace, period_option
from cchc_sync.app.cli_support import boundary, config_option, resolve_unit
from cchc_sync.app.history_view import history_text, row_versions_of
from cchc_sync.app.workflow import unapprove_unit


@command(help="Rút lại phê duyệt số liệu một kỳ của một đơn vị (ghi vào nhật ký kèm lý do). "
              "Bảng tính vẫn chỉ đọc khi kỳ đã đóng: `period reopen` cho đơn vị sửa lại.")
@click.argument("code", metavar="MÃ_KỲ")
@click.option("--unit", required=True, help="Mã đơn vị.")
@click.option("--reason", required=True, help="Lý do rút lại phê duyệt (ghi vào nhật ký).")
@config_option
@click.option("--by", "actor", default=None,
              help="Người thực hiện (ghi vào nhật ký); mặc định: bạn.")
@boundary
def unapprove(code: str, unit: str, reason: str, config_file: str | None,
              actor: str | None) -> None:
    """Withdraw a unit's approval for a period (logged with the reason). The sheet stays
    read-only while the period is closed: `period reopen` lets the unit edit again."""
    with command_workspace(config_file) as ws:
        unit = resolve_unit(unit, ws.units_by_code)
        unapprove_unit(ws, code.upper(), unit, reason, actor)
        click.echo(f"Đã bỏ phê duyệt số liệu kỳ {code.upper()} của đơn vị {unit}.")


@command(help="Mọi phiên bản đã lưu của các dòng của một đơn vị: giá trị, lúc thấy, lượt "
              "đồng bộ nào, ai đã lưu (người sửa cuối theo Google Drive; chủ tệp nếu là tệp "
              "trên máy).")
@click.option("--unit", required=True, help="Mã đơn vị.")
@click.option("--table", "table", required=True, help="Mã bảng, ví dụ tthc.")
@click.option("--row", "row_key", default=None,
              help="Chỉ một dòng: khoá của nó như đã lưu hoặc như đã gõ (ví dụ Lĩnh vực).")
@click.option("--json", "as_json", is_flag=True, help="Một tài liệu JSON (khoá cố định).")
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
