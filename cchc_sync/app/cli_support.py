"""What the command line needs besides parsing: one Vietnamese line per known error, where
log lines go, global options anywhere on the line, unit codes as people type them, and the
report's format from its file name.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, overload

import click

from cchc_sync.app.cli_help import VietnameseGroup
from cchc_sync.app.workspace import Workspace
from cchc_sync.domain.config import ConfigError
from cchc_sync.domain.periods import PeriodError
from cchc_sync.domain.registry import RegistryError, find_unit_code, load_units
from cchc_sync.domain.templates import TemplateError
from cchc_sync.report import ReportError
from cchc_sync.sources.base import SourceError
from cchc_sync.store.archive import ArchiveError
from cchc_sync.store.backup import ArchiveDamaged, BackupUnusable, is_damage

P = ParamSpec("P")
R = TypeVar("R")

# The Vietnamese sentence said before each kind of known error; the error's own text (a
# file, a line, sometimes an English technical detail from a library) follows it.
USAGE_ERRORS: dict[type[Exception], str] = {
    RegistryError: "Lỗi trong danh sách đơn vị",
    TemplateError: "Lỗi trong bộ mẫu bảng tính",
    PeriodError: "Mã kỳ báo cáo không hợp lệ",
    ArchiveError: "Lỗi kho lưu trữ",
    ReportError: "Không lập được báo cáo",
    ConfigError: "Lỗi cấu hình hoặc câu lệnh",
}


class PdfUnavailable(Exception):
    """LibreOffice is missing or failed: the report cannot be made a PDF here."""


OPERATIONAL_ERRORS = {
    ArchiveDamaged: "Không mở được kho lưu trữ",
    BackupUnusable: "Không khôi phục được kho lưu trữ",
    PdfUnavailable: "Không xuất được báo cáo ra PDF",
    SourceError: "Không truy cập được bảng tính",
    OSError: "Lỗi khi đọc hoặc ghi tệp",
}
SERVICE_ENV = ("INVOCATION_ID", "JOURNAL_STREAM")
"""Set by systemd for a service: its stderr goes to the journal, where log lines belong."""
QUIET_LOGGERS = ("apscheduler", "urllib3", "google", "matplotlib", "PIL")


def error_line(exc: Exception) -> tuple[str, int] | None:
    """The line a coordinator reads for a known error, and the exit code; None for a bug."""
    if is_damage(exc) and not isinstance(exc, ArchiveDamaged):
        # Damage found past the pages opening the archive reads (ArchiveDamaged says those).
        return (f"cchc-sync: Kho lưu trữ bị hỏng ({exc}): kiểm tra bằng `cchc-sync archive "
                "check`, khôi phục bản sao gần nhất bằng `cchc-sync archive restore`", 1)
    for kinds, code in ((USAGE_ERRORS, 2), (OPERATIONAL_ERRORS, 1)):
        for kind, sentence in kinds.items():
            if isinstance(exc, kind):
                return f"cchc-sync: {sentence}: {exc}", code
    return None


def boundary(func: Callable[P, R]) -> Callable[P, R]:
    """Turn known errors into one Vietnamese line and the documented exit code."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            said = error_line(exc)
            if said is None:
                raise
            click.echo(said[0], err=True)
            sys.exit(said[1])

    return wrapper


def _config_from_group(ctx: click.Context, param: click.Parameter, value: str | None
                       ) -> str | None:
    """--config after the command wins; else the one given before it; else the default."""
    return value or (ctx.find_root().obj or {}).get("config")


config_option = click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False),
    default=None,
    callback=_config_from_group,
    help="Tệp cấu hình (mặc định ./cchc-sync.toml, hoặc biến môi trường CCHC_SYNC_CONFIG).",
)


def under_service() -> bool:
    return any(os.environ.get(name) for name in SERVICE_ENV)


def configure_logging(*, verbose: bool, quiet: bool, command: str | None) -> None:
    """Log lines (English, for administrators) reach stderr only when asked for (-v) or
    where a journal collects them (the service, or `run`). Otherwise a coordinator sees
    only the command's Vietnamese output: no INFO line after every `sync`."""
    logs_wanted = verbose or under_service() or command == "run"
    root = logging.getLogger()
    if not logs_wanted:
        # A handler that drops everything: without any handler Python's last-resort
        # handler would print warnings. Levels are left alone (an embedding program, or a
        # test's log capture, still sees the records); errors that matter reach the person
        # through the command itself.
        if not root.handlers:
            root.addHandler(logging.NullHandler())
        return
    level = logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


GLOBAL_FLAGS = {"-q", "--quiet", "-v", "--verbose"}


def hoist_global_flags(args: list[str]) -> list[str]:
    """`cchc-sync sync -q` means `cchc-sync -q sync`: the global flags are moved to the
    front wherever they were typed (up to a `--`). `--config` needs no moving: the group
    and every command that reads a workspace accept it."""
    flags, rest = [], []
    for i, arg in enumerate(args):
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS or (len(arg) > 2 and arg[0] == "-" and arg[1] != "-"
                                   and set(arg[1:]) <= {"q", "v"}):
            flags.append(arg)
        else:
            rest.append(arg)
    return flags + rest


class CommandLine(VietnameseGroup):
    """The top-level group: global flags anywhere; click's own usage errors in Vietnamese
    (its English text follows as the detail); help in Vietnamese (cli_help)."""

    group_class = VietnameseGroup  # subgroups need none of the top level's parsing

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_flags(args))

    def main(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("standalone_mode", True) is False:
            return super().main(*args, **kwargs)
        try:
            code = super().main(*args, **{**kwargs, "standalone_mode": False})
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.ctx.get_help() if exc.ctx else str(exc))
            sys.exit(0)
        except click.UsageError as exc:
            hint = f"; xem: {exc.ctx.command_path} --help" if exc.ctx else ""
            click.echo(f"cchc-sync: Câu lệnh chưa đúng{hint}. ({exc.format_message()})",
                       err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"cchc-sync: Lỗi: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("cchc-sync: Đã dừng theo yêu cầu.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)


# A required --unit (text) resolves to a code; an option left out (None) stays None.
@overload
def resolve_unit(given: str, codes: Iterable[str]) -> str: ...


@overload
def resolve_unit(given: None, codes: Iterable[str]) -> None: ...


def resolve_unit(given: str | None, codes: Iterable[str]) -> str | None:
    """The registry's code for what was typed after --unit (any case, with or without
    diacritics); an unknown code is a usage error that lists the codes there are."""
    if given is None:
        return None
    codes = list(codes)
    found = find_unit_code(given.strip(), codes)
    if found is None:
        raise ConfigError(
            f"không có đơn vị mã {given!r}; các mã hiện có: {', '.join(codes) or '(không có)'}"
        )
    return found


def unit_codes(ws: Workspace) -> list[str]:
    """Codes a `--unit` may name: the period's units, then every other unit of the registry
    (a unit merged away still has its earlier periods)."""
    return list(dict.fromkeys([*ws.units_by_code, *(u.code for u in
                                                    load_units(ws.config.units_file))]))


REPORT_SUFFIXES = {".docx": "docx", ".md": "md", ".pdf": "pdf"}
SOFFICE_NAMES = ("soffice", "libreoffice")


def report_format(output: str | None, fmt: str | None) -> str:
    """The report's format: from the output file's suffix; --format, when also given, must
    agree (a Word file named .pdf, or Markdown in a .docx, is refused)."""
    if output is None:
        if fmt == "md":
            return "md"
        raise ConfigError(
            f"cần -o TỆP.{fmt or 'docx'} để ghi báo cáo (ví dụ -o bao-cao.docx), hoặc "
            "--format md để in báo cáo ra màn hình"
        )
    suffix = Path(output).suffix.lower()
    by_suffix = REPORT_SUFFIXES.get(suffix)
    if by_suffix is None:
        raise ConfigError(
            f"không biết ghi báo cáo vào tệp {suffix or '(không có đuôi)'}; hãy đặt tên tệp "
            "có đuôi .docx, .md hoặc .pdf"
        )
    if fmt is not None and fmt != by_suffix:
        raise ConfigError(
            f"--format {fmt} không khớp với đuôi tệp {suffix} (tệp {suffix} là định dạng "
            f"{by_suffix}); hãy bỏ --format hoặc đổi tên tệp"
        )
    return by_suffix


def find_soffice() -> str | None:
    return next((p for p in map(shutil.which, SOFFICE_NAMES) if p), None)


def convert_to_pdf(docx: Path, output: Path) -> Path:
    """`output` (.pdf) made from `docx` by LibreOffice, headless, with a profile of its own
    so an office suite the coordinator has open does not block it."""
    soffice = find_soffice()
    if soffice is None:
        raise PdfUnavailable(
            "chưa cài LibreOffice nên không xuất được PDF. Hãy cài LibreOffice (Debian/Ubuntu: "
            "sudo apt install libreoffice-writer-nogui) rồi chạy lại, hoặc ghi báo cáo ra "
            "tệp .docx rồi lưu thành PDF trong Word"
        )
    with tempfile.TemporaryDirectory(prefix="cchc-pdf-") as work:
        work_dir = Path(work)
        done = subprocess.run(
            [soffice, f"-env:UserInstallation={(work_dir / 'profile').as_uri()}", "--headless",
             "--convert-to", "pdf", "--outdir", str(work_dir), str(docx)],
            capture_output=True, text=True, timeout=300, check=False,
        )
        made = work_dir / (docx.stem + ".pdf")
        if done.returncode != 0 or not made.is_file():
            raise PdfUnavailable(
                "LibreOffice không chuyển được báo cáo sang PDF "
                f"(mã thoát {done.returncode}: {(done.stderr or done.stdout).strip()[-300:]})"
            )
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(made, output)
    return output
