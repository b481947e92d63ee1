"""The command line: parse, call the library, render, exit.

Exit codes: 0 done (findings are not failures), 2 usage or configuration error, 1
operational failure. Known errors become one clear line, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import click

from cchc_sync.app import cli_workflow, render
from cchc_sync.app.cli_archive import archive_group
from cchc_sync.app.cli_google import google_group
from cchc_sync.app.cli_help import version_option
from cchc_sync.app.cli_options import command_workspace, period_option
from cchc_sync.app.cli_support import (
    CommandLine,
    boundary,
    config_option,
    configure_logging,
    convert_to_pdf,
    report_format,
    resolve_unit,
    unit_codes,
)
from cchc_sync.app.daemon import serve
from cchc_sync.app.demo import default_demo_folder, demo_area, run_demo
from cchc_sync.app.doctor import Status as DoctorStatus
from cchc_sync.app.doctor import run_doctor
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import sync_once, unit_progress
from cchc_sync.app.service import SYNC_LOCK_WAIT, hold_archive_lock
from cchc_sync.app.workflow import (
    approve_unit,
    backfill_warning,
    open_period,
    reopen_unit,
)
from cchc_sync.app.workspace import Progress
from cchc_sync.domain.config import DEFAULT_TOKEN_NAME, ConfigError, GoogleSettings, load_config
from cchc_sync.report import ReportCheckError, report_text, write_report
from cchc_sync.store.period_state import audit_log

_boundary = boundary


def _progress_factory(quiet: bool) -> Progress:
    """A progress bar on a terminal; nothing in logs, pipes or under --quiet."""
    if quiet or not sys.stderr.isatty():
        return lambda items, label: iter(items)

    def progress(items: Iterable, label: str) -> Iterator:
        items = list(items)
        with click.progressbar(items, label=label, file=sys.stderr) as bar:
            yield from bar

    return progress


@click.group(cls=CommandLine, context_settings={"help_option_names": ["-h", "--help"]},
             help="cchc-sync: thu thập, kiểm tra và tổng hợp số liệu cải cách hành chính "
                  "(CCHC) từ bảng tính của các đơn vị.\n\nCác tùy chọn -q, -v và --config "
                  "đặt trước hay sau tên lệnh đều được.")
@click.option("-q", "--quiet", is_flag=True,
              help="Chỉ in lỗi ra stderr; không hiện thanh tiến độ.")
@click.option("-v", "--verbose", is_flag=True, help="In nhật ký chi tiết (debug) ra stderr.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Tệp cấu hình của lệnh (cũng có thể đặt sau tên lệnh).")
@version_option()
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool, config_file: str | None) -> None:
    """cchc-sync: collect, check and consolidate CCHC figures from units' spreadsheets."""
    configure_logging(verbose=verbose, quiet=quiet, command=ctx.invoked_subcommand)
    ctx.obj = {"quiet": quiet, "config": config_file}


@cli.command(help="Tạo nơi làm việc: tệp cấu hình, một bảng tính cho mỗi đơn vị theo bộ mẫu, "
                  "và bảng tổng hợp.")
@click.argument("directory", metavar="THƯ_MỤC", type=click.Path(file_okay=False))
@click.option("--units", "units_csv", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Danh sách đơn vị (CSV: ma,ten,cap,cha,email).")
@click.option("--period", required=True,
              help="Mã kỳ báo cáo: 2022S1, 2022Q2, 202206, 2022, 2022N9.")
@click.option("--backend", type=click.Choice(["local", "google"]), default="local",
              help="Nơi để bảng tính: local (tệp Excel trong thư mục chung, mặc định) hoặc "
                   "google (Google Trang tính).")
@click.option("--name", default="", help='Tên tỉnh hoặc huyện, ví dụ "tỉnh Sông Mây".')
@click.option("--credentials", type=click.Path(dir_okay=False),
              help="google: tệp khoá của tài khoản dịch vụ.")
@click.option("--folder", default="", help="google: mã thư mục Google Drive.")
@click.option("--endpoint", default="",
              help="google: địa chỉ máy chủ giả lập Google (chỉ để kiểm thử và chạy thử).")
@click.option("--coordinator", "coordinators", multiple=True,
              help="E-mail của người được xem bảng tổng hợp (nhắc lại cho mỗi người).")
@click.option("--successors", "successors_csv", type=click.Path(exists=True, dir_okay=False),
              help="Đơn vị sáp nhập, chia tách: CSV ma_cu,ma_moi,ngay_hieu_luc.")
@click.option("--auth", type=click.Choice(["service_account", "user"]), default=None,
              help='google: "user" là cán bộ tổng hợp tự đăng nhập bằng `cchc-sync google '
                   'login`; "service_account" là tài khoản dịch vụ.')
@click.option("--token", "token_file", type=click.Path(dir_okay=False), default=None,
              help="google --auth user: tệp giữ phiên đăng nhập (mặc định "
                   "THƯ_MỤC/google-token.json).")
@click.option("--subject", default="",
              help="google: tài khoản dịch vụ làm việc thay người có e-mail này.")
@click.option("--by", "actor", default=None,
              help="Người mở kỳ (ghi vào nhật ký); mặc định: bạn.")
@click.option("--backfill", is_flag=True,
              help="Nhập số liệu cũ: ghi auto_lock = false (không khoá ở lần đồng bộ đầu).")
@click.pass_context
@_boundary
def init(ctx: click.Context, directory: str, units_csv: str, period: str, backend: str,
         name: str, credentials: str | None, folder: str, endpoint: str,
         coordinators: tuple[str, ...], successors_csv: str | None, auth: str | None,
         token_file: str | None, subject: str, actor: str | None, backfill: bool) -> None:
    """Create a workspace: config, one sheet per unit from the templates, and the master."""
    auth = auth or ("service_account" if credentials else "user")
    token = Path(token_file or Path(directory) / DEFAULT_TOKEN_NAME).resolve()
    google = GoogleSettings(
        credentials=Path(credentials).resolve() if credentials else None,
        folder=folder,
        endpoint=endpoint,
        coordinators=tuple(coordinators),
        auth=auth,
        subject=subject,
        token_file=token if auth == "user" else None,
    )
    if backend == "google" and auth == "service_account" and not credentials:
        raise ConfigError("--backend google --auth service_account cần --credentials "
                          "TỆP_KHOÁ.json (khoá tài khoản dịch vụ của Google)")
    if backend == "google" and auth == "user" and not token.exists():
        raise ConfigError(f"chưa đăng nhập Google: chạy trước `cchc-sync google login "
                          f"--client-secrets client_secret.json --token {token}`")
    ws = init_workspace(
        directory, units_csv=units_csv, period=period, backend=backend, name=name,
        google=google, progress=_progress_factory(ctx.obj["quiet"]),
        successors_csv=successors_csv, actor=actor, backfill=backfill,
    )
    try:
        click.echo(render.init_summary(ws))
        warning = backfill_warning(ws)
        if warning:
            click.echo(warning, err=True)
    finally:
        ws.close()


@cli.command(help="Một lượt đồng bộ: đọc các bảng tính đã thay đổi, kiểm tra, lưu vào kho, "
                  "cập nhật bảng tổng hợp và đánh dấu lỗi trong bảng tính của đơn vị.\n\n"
                  "Không chạy (mã thoát 1) khi `cchc-sync run` đang chạy trên cùng kho lưu "
                  "trữ, vì các lượt của nó đã làm việc này; chờ tối đa 10 giây nếu một lệnh "
                  "`sync` khác đang chạy.")
@config_option
@click.pass_context
@_boundary
def sync(ctx: click.Context, config_file: str | None) -> None:
    """One poll cycle: read changed sheets, validate, archive, master, flags."""
    config = load_config(config_file)
    with hold_archive_lock(config.archive_file, "sync", wait=SYNC_LOCK_WAIT), \
            command_workspace(config_file) as ws:
        result = sync_once(ws, progress=_progress_factory(ctx.obj["quiet"]))
        if not ctx.obj["quiet"]:
            click.echo(render.cycle_summary(result))


@cli.command(help="Chạy nền: `sync` theo lịch trong tệp cấu hình cho đến khi nhận SIGTERM "
                  "hoặc SIGINT.\n\nMỗi kho lưu trữ chỉ một tiến trình: lệnh `run` thứ hai "
                  "trên cùng kho dừng lại (mã thoát 1) với một dòng giải thích. Dưới systemd "
                  "(Type=notify) nó báo READY, STATUS và tín hiệu watchdog; xem "
                  "docs/service.md.")
@config_option
@_boundary
def run(config_file: str | None) -> None:
    """The daemon: `sync` on the configured schedule until SIGTERM or SIGINT."""
    serve(config_file)


@cli.command(help="Các lỗi và cảnh báo đang mở: đơn vị, bảng, dòng, cột, mức độ, quy tắc, "
                  "lời nhắn, giá trị.")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Một tài liệu JSON (khoá cố định).")
@click.option("--unit", default=None, help="Chỉ đơn vị có mã này.")
@period_option
@_boundary
def findings(config_file: str | None, as_json: bool, unit: str | None,
             period_code: str | None) -> None:
    """Open findings: unit, table, row, column, severity, rule, message, value."""
    with command_workspace(config_file, period_code) as ws:
        unit = resolve_unit(unit, unit_codes(ws))
        items = ws.archive.open_findings(ws.period.code, unit)
        if as_json:
            click.echo(json.dumps([f.to_json() for f in items], ensure_ascii=False, indent=2))
        else:
            click.echo(render.findings_table(items, ws.templates, ws.units_by_code))


@cli.command(help="Các dòng đã hợp nhất của một bảng, đã chuẩn hoá, kèm đơn vị và kỳ.")
@config_option
@click.option("--table", "table", required=True, help="Mã bảng, ví dụ tthc.")
@click.option("--json", "fmt", flag_value="json",
              help="Một danh sách JSON, mỗi dòng một đối tượng.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV có dòng tiêu đề (mặc định).")
@period_option
@_boundary
def export(config_file: str | None, table: str, fmt: str | None,
           period_code: str | None) -> None:
    """The merged rows of one table, normalised, with unit and period."""
    with command_workspace(config_file, period_code) as ws:
        try:
            spec = ws.templates.table(table)
        except KeyError as exc:
            raise ConfigError(
                f"không có bảng {table!r}; các bảng có: {', '.join(ws.templates.tables)} "
                f"({exc.args[0]})"
            ) from None
        records = render.export_records(ws, spec)
        if fmt == "json":
            click.echo(json.dumps(records, ensure_ascii=False, indent=2))
        else:
            render.write_csv(sys.stdout, ["unit", "period", *[c.key for c in spec.columns]],
                             records)


@cli.command(help="Từng đơn vị: trạng thái, lần sửa cuối, lần kiểm tra cuối, số lỗi và cảnh "
                  "báo đang mở.")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Một tài liệu JSON (khoá cố định).")
@period_option
@_boundary
def status(config_file: str | None, as_json: bool, period_code: str | None) -> None:
    """Per unit: state, last edit, last check, open errors and warnings."""
    with command_workspace(config_file, period_code) as ws:
        progress = unit_progress(ws)
        if as_json:
            click.echo(json.dumps(render.status_json(ws, progress), ensure_ascii=False, indent=2))
        else:
            click.echo(render.status_table(ws, progress))


@cli.command(help="Bản thảo báo cáo cho cán bộ tổng hợp, mọi số liệu lấy từ kho lưu trữ."
                  "\n\nBản thảo được đọc lại và kiểm tra (tổng, tỉ lệ, số liệu nhắc lại); "
                  "bản nào tự mâu thuẫn thì không được ghi: mã thoát 1 kèm danh sách chỗ "
                  "không khớp.")
@config_option
@click.option("--period", "period_code", default=None,
              help="Mã kỳ báo cáo (mặc định: kỳ hiện tại).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Tệp báo cáo; đuôi tệp cho biết định dạng: .docx, .md hoặc .pdf (qua "
                   "LibreOffice). Không có -o thì --format md in báo cáo ra màn hình.")
@click.option("--format", "fmt", type=click.Choice(["docx", "md", "pdf"]), default=None,
              help="Không bắt buộc; phải khớp với đuôi của tệp báo cáo.")
@click.option("--compare-with", default=None,
              help="So sánh với một kỳ trước đã lưu, ví dụ 2021S1.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Mẫu .docx riêng của bạn, có chỗ điền kiểu docxtpl (xem docs/report.md).")
@_boundary
def report(config_file: str | None, period_code: str | None, output: str | None,
           fmt: str | None, compare_with: str | None, template: str | None) -> None:
    """The coordinator's report draft, every figure from the archive, checked before it is
    written."""
    fmt = report_format(output, fmt)
    with command_workspace(config_file) as ws:
        code = period_code or ws.period.code
        target = Path(output) if output else None
        template_path = Path(template) if template else None
        try:
            if target is None:
                click.echo(report_text(ws, code, compare_with=compare_with))
                return
            if fmt != "pdf":
                path = write_report(ws, code, target, fmt=fmt, compare_with=compare_with,
                                    template=template_path)
            else:
                with tempfile.TemporaryDirectory(prefix="cchc-report-") as work:
                    docx = write_report(ws, code, Path(work) / f"{target.stem}.docx",
                                        fmt="docx", compare_with=compare_with,
                                        template=template_path)
                    path = convert_to_pdf(docx, target)
        except ReportCheckError as exc:
            click.echo("cchc-sync: báo cáo không được ghi vì số liệu không khớp "
                       f"({len(exc.problems)} chỗ):", err=True)
            for line in exc.problems:
                click.echo(f"  - {line}", err=True)
            sys.exit(1)
        click.echo(f"Đã ghi báo cáo: {path}")


@cli.group(help="Mở kỳ báo cáo tiếp theo, mở lại cho một đơn vị sau hạn, xem nhật ký.")
def period() -> None:
    """Open the next period, reopen a unit after the deadline."""


@period.command("open", help="Mở kỳ tiếp theo: bảng tính mới cho các đơn vị, mang theo những "
                             "gì chuyển sang kỳ sau.")
@click.argument("code", metavar="MÃ_KỲ")
@config_option
@click.option("--by", "actor", default=None,
              help="Người thực hiện (ghi vào nhật ký); mặc định: bạn.")
@_boundary
def period_open(code: str, config_file: str | None, actor: str | None) -> None:
    """Open the next period: new unit sheets with what carries forward."""
    with command_workspace(config_file) as ws:
        view = open_period(ws, code, actor)
        click.echo(render.period_opened(view))


@period.command("reopen", help="Cho một đơn vị sửa lại một kỳ đã đóng, đến hết một ngày.")
@click.argument("code", metavar="MÃ_KỲ")
@click.option("--unit", required=True, help="Mã đơn vị.")
@click.option("--until", "until", required=True,
              help="Ngày cuối cùng được sửa (YYYY-MM-DD).")
@config_option
@click.option("--by", "actor", default=None,
              help="Người thực hiện (ghi vào nhật ký); mặc định: bạn.")
@_boundary
def period_reopen(code: str, unit: str, until: str, config_file: str | None,
                  actor: str | None) -> None:
    """Let one unit edit a closed period again until a day."""
    try:
        day = dt.date.fromisoformat(until)
    except ValueError:
        raise ConfigError(
            f"--until {until!r} không phải là ngày; hãy viết YYYY-MM-DD, ví dụ 2022-07-10"
        ) from None
    with command_workspace(config_file) as ws:
        unit = resolve_unit(unit, unit_codes(ws))
        reopen_unit(ws, code.upper(), unit, day, actor)
        click.echo(f"Đã mở lại kỳ {code.upper()} cho đơn vị {unit} đến hết ngày "
                   f"{day:%d/%m/%Y}.")


@period.command("log", help="Nhật ký: ai đã mở, đóng, mở lại, phê duyệt, và vào lúc nào.")
@click.argument("code", metavar="[MÃ_KỲ]", required=False)
@config_option
@click.option("--json", "as_json", is_flag=True, help="Một tài liệu JSON (khoá cố định).")
@_boundary
def period_log(code: str | None, config_file: str | None, as_json: bool) -> None:
    """The audit log: who opened, closed, reopened, approved, and when."""
    with command_workspace(config_file) as ws:
        entries = audit_log(ws.archive, code.upper() if code else None)
        if as_json:
            click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        else:
            click.echo(render.audit_table(entries))


@cli.command(help="Phê duyệt số liệu một kỳ của một đơn vị: số liệu bị khoá và hiện là đã "
                  "phê duyệt. Chỉ đơn vị đã xác nhận \"Hoàn thành\", trừ khi có --force "
                  "--reason.")
@click.argument("code", metavar="MÃ_KỲ")
@click.option("--unit", required=True, help="Mã đơn vị.")
@config_option
@click.option("--by", "actor", default=None,
              help="Người phê duyệt (ghi vào nhật ký); mặc định: bạn.")
@click.option("--force", is_flag=True, help="Phê duyệt cả đơn vị chưa xác nhận hoàn thành.")
@click.option("--reason", default="", help="Lý do (ghi vào nhật ký; bắt buộc khi có --force).")
@_boundary
def approve(code: str, unit: str, config_file: str | None, actor: str | None, force: bool,
            reason: str) -> None:
    """Approve a unit's figures for a period: they are locked and shown as approved."""
    with command_workspace(config_file) as ws:
        unit = resolve_unit(unit, unit_codes(ws))
        approve_unit(ws, code.upper(), unit, actor, force=force, reason=reason)
        click.echo(f"Đã phê duyệt số liệu kỳ {code.upper()} của đơn vị {unit}.")


@cli.command(help="Một tỉnh mẫu sau cải cách năm 2025 (sở, ban, ngành và xã, phường, đặc "
                  "khu): số liệu như thật, vài lỗi thường gặp, một lượt đồng bộ, bản tóm tắt "
                  "bằng tiếng Việt.\n\nTHƯ_MỤC mặc định là ./cchc-sync-demo "
                  "(./cchc-sync-demo-google với --backend google).")
@click.argument("directory", metavar="[THƯ_MỤC]", required=False, default=None,
                type=click.Path(file_okay=False))
@click.option("--backend", type=click.Choice(["local", "google"]), default="local",
              help="local: tệp Excel (mặc định); google: bản giả lập Google Trang tính chạy "
                   "ngay trên máy này.")
@click.option("--district", is_flag=True,
              help="Một huyện kiểu năm 2022 (huyện, phòng và xã) thay cho tỉnh hiện nay.")
@click.pass_context
@_boundary
def demo(ctx: click.Context, directory: str | None, backend: str, district: bool) -> None:
    """A sample province after the 2025 reform, one cycle, a Vietnamese summary."""
    folder = Path(directory) if directory else default_demo_folder(backend)
    if backend == "local":
        click.echo(run_demo(folder, district=district))
        return
    # Imported only for `demo --backend google`: it starts the fake Google API from the
    # test kit and loads the Google client libraries, which no other command needs.
    from cchc_sync.app.demo_google import run_google_demo  # noqa: PLC0415

    click.echo(run_google_demo(folder, quiet=ctx.obj["quiet"], area=demo_area(district)))


# Commands of the period workflow (unapprove, history) live in their own module.
cli_workflow.register(cli)


def main() -> None:
    cli.main(prog_name="cchc-sync")


@cli.command(help="Kiểm tra lần lượt phần cài đặt: cấu hình, danh sách đơn vị, kho lưu trữ, "
                  "thư mục hoặc tài khoản Google.")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Một tài liệu JSON (khoá cố định).")
def doctor(config_file: str | None, as_json: bool) -> None:
    """Check the setup (config, registry, archive, folder or Google account) in order."""
    checks = run_doctor(config_file)
    passed = not any(c.status is DoctorStatus.FAIL for c in checks)
    if as_json:
        click.echo(json.dumps({"ok": passed, "checks": [c.to_json() for c in checks]},
                              ensure_ascii=False, indent=2))
    else:
        click.echo(render.doctor_text(checks))
    sys.exit(0 if passed else 1)


cli.add_command(google_group)
cli.add_command(archive_group)
