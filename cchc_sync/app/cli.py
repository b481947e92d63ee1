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


@click.group(cls=CommandLine, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-q", "--quiet", is_flag=True, help="Only errors on stderr; no progress bars.")
@click.option("-v", "--verbose", is_flag=True, help="Log lines (debug) on stderr.")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help="Config file for the command (may also follow the command name).")
@click.version_option(package_name="cchc-sync")
@click.pass_context
def cli(ctx: click.Context, quiet: bool, verbose: bool, config_file: str | None) -> None:
    """cchc-sync: collect, check and consolidate CCHC figures from units' spreadsheets.

    -q, -v and --config may come before or after the command name."""
    configure_logging(verbose=verbose, quiet=quiet, command=ctx.invoked_subcommand)
    ctx.obj = {"quiet": quiet, "config": config_file}


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--units", "units_csv", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--period", required=True, help="Period code: 2022S1, 2022Q2, 202206, 2022, 2022N9")
@click.option("--backend", type=click.Choice(["local", "google"]), default="local")
@click.option("--name", default="", help='The district or province, e.g. "huyện Mẫu Sơn".')
@click.option("--credentials", type=click.Path(dir_okay=False), help="Service-account key (google)")
@click.option("--folder", default="", help="Drive folder id (google)")
@click.option("--endpoint", default="", help="Emulator base URL (google; tests and demo)")
@click.option("--coordinator", "coordinators", multiple=True, help="Email that may read the master")
@click.option("--successors", "successors_csv", type=click.Path(exists=True, dir_okay=False),
              help="Merged/split units: CSV ma_cu,ma_moi,ngay_hieu_luc")
@click.option("--auth", type=click.Choice(["service_account", "user"]), default=None,
              help='google: "user" = the coordinator signed in with `cchc-sync google login`')
@click.option("--token", "token_file", type=click.Path(dir_okay=False), default=None,
              help="google --auth user: the kept sign-in (default DIR/google-token.json)")
@click.option("--subject", default="", help="google service account acting as this person")
@click.option("--by", "actor", default=None, help="Who opens the period (audit log); default: you.")
@click.option("--backfill", is_flag=True,
              help="Old figures: write auto_lock = false (no lock at the first sync).")
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


@cli.command()
@config_option
@click.pass_context
@_boundary
def sync(ctx: click.Context, config_file: str | None) -> None:
    """One poll cycle: read changed sheets, validate, archive, master, flags.

    Refuses (exit 1) while `cchc-sync run` serves the same archive: the daemon's cycles
    already do this; waits up to 10 s for another `sync` to finish."""
    config = load_config(config_file)
    with hold_archive_lock(config.archive_file, "sync", wait=SYNC_LOCK_WAIT), \
            command_workspace(config_file) as ws:
        result = sync_once(ws, progress=_progress_factory(ctx.obj["quiet"]))
        if not ctx.obj["quiet"]:
            click.echo(render.cycle_summary(result))


@cli.command()
@config_option
@_boundary
def run(config_file: str | None) -> None:
    """The daemon: `sync` on the configured schedule until SIGTERM or SIGINT.

    One daemon per archive: a second `run` on the same archive exits 1 with one line.
    Under systemd (Type=notify) it reports READY, STATUS and watchdog pings; see
    docs/service.md.
    """
    serve(config_file)


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document (stable keys).")
@click.option("--unit", default=None, help="Only this unit.")
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


@cli.command()
@config_option
@click.option("--table", "table", required=True, help="Table key, e.g. tthc")
@click.option("--json", "fmt", flag_value="json", help="A JSON list of row objects.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row.")
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


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document (stable keys).")
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


@cli.command()
@config_option
@click.option("--period", "period_code", default=None, help="Period code (default: current).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Output file; its suffix gives the format: .docx, .md or .pdf (through "
                   "LibreOffice). Without it, --format md prints to stdout.")
@click.option("--format", "fmt", type=click.Choice(["docx", "md", "pdf"]), default=None,
              help="Optional; must agree with the output file's suffix.")
@click.option("--compare-with", default=None, help="An archived earlier period, e.g. 2021S1.")
@click.option("--template", type=click.Path(exists=True, dir_okay=False), default=None,
              help="Your own .docx with docxtpl placeholders (see docs/report.md).")
@_boundary
def report(config_file: str | None, period_code: str | None, output: str | None,
           fmt: str | None, compare_with: str | None, template: str | None) -> None:
    """The coordinator's report draft, every figure from the archive.

    The draft is read back and checked (totals, rates, repeated figures); one that
    contradicts itself is not written: exit 1 with the list."""
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


@cli.group()
def period() -> None:
    """Open the next period, reopen a unit after the deadline."""


@period.command("open")
@click.argument("code")
@config_option
@click.option("--by", "actor", default=None, help="Who does it (audit log); default: you.")
@_boundary
def period_open(code: str, config_file: str | None, actor: str | None) -> None:
    """Open the next period: new unit sheets with what carries forward."""
    with command_workspace(config_file) as ws:
        view = open_period(ws, code, actor)
        click.echo(render.period_opened(view))


@period.command("reopen")
@click.argument("code")
@click.option("--unit", required=True, help="Unit code.")
@click.option("--until", "until", required=True, help="Last day of editing (YYYY-MM-DD).")
@config_option
@click.option("--by", "actor", default=None, help="Who does it (audit log); default: you.")
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


@period.command("log")
@click.argument("code", required=False)
@config_option
@click.option("--json", "as_json", is_flag=True)
@_boundary
def period_log(code: str | None, config_file: str | None, as_json: bool) -> None:
    """The audit log: who opened, closed, reopened, approved, and when."""
    with command_workspace(config_file) as ws:
        entries = audit_log(ws.archive, code.upper() if code else None)
        if as_json:
            click.echo(json.dumps(entries, ensure_ascii=False, indent=2))
        else:
            click.echo(render.audit_table(entries))


@cli.command()
@click.argument("code")
@click.option("--unit", required=True, help="Unit code.")
@config_option
@click.option("--by", "actor", default=None, help="Who approves (audit log); default: you.")
@click.option("--force", is_flag=True, help="Approve a unit that has not signed off.")
@click.option("--reason", default="", help="Why (logged; required with --force).")
@_boundary
def approve(code: str, unit: str, config_file: str | None, actor: str | None, force: bool,
            reason: str) -> None:
    """Approve a unit's figures for a period: they are locked and shown as approved.
    Only a unit that signed off ("Hoàn thành"), unless --force --reason."""
    with command_workspace(config_file) as ws:
        unit = resolve_unit(unit, unit_codes(ws))
        approve_unit(ws, code.upper(), unit, actor, force=force, reason=reason)
        click.echo(f"Đã phê duyệt số liệu kỳ {code.upper()} của đơn vị {unit}.")


@cli.command()
@click.argument("directory", required=False, default=None, type=click.Path(file_okay=False))
@click.option("--backend", type=click.Choice(["local", "google"]), default="local")
@click.option("--district", is_flag=True,
              help="The 2022-style district (huyện, phòng and xã) instead of today's province.")
@click.pass_context
@_boundary
def demo(ctx: click.Context, directory: str | None, backend: str, district: bool) -> None:
    """A sample province after the 2025 reform (sở, ban, ngành and xã/phường/đặc khu):
    realistic figures, a few typical mistakes, one cycle, a Vietnamese summary.

    DIRECTORY defaults to ./cchc-sync-demo (./cchc-sync-demo-google with --backend google).
    """
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


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON document (stable keys).")
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
