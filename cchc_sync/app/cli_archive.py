"""`cchc-sync archive check | restore`: is the archive whole, and putting a backup back
(store/backup.py takes them after each cycle that changed the archive).

`check` exits 0 when the archive passes SQLite's integrity_check and its schema is one this
cchc-sync reads, 1 otherwise. `restore` verifies the backup first, never overwrites without
keeping the replaced file, and refuses while another cchc-sync process (the daemon, a
`sync`) holds the archive's lock.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from cchc_sync.app.cli_help import group
from cchc_sync.app.cli_support import boundary, config_option
from cchc_sync.app.service import hold_archive_lock
from cchc_sync.domain.clock import VIETNAM, utcnow
from cchc_sync.domain.config import Config, load_config
from cchc_sync.store.backup import (
    ArchiveHealth,
    BackupUnusable,
    backup_dir,
    backups,
    check_archive,
    newest_good_backup,
    restore_archive,
)
from cchc_sync.store.schema import SCHEMA_VERSION


def _problems(health: ArchiveHealth) -> list[str]:
    """What makes a file unusable as this cchc-sync's archive (empty: usable)."""
    problems = list(health.problems)
    if health.schema_version is not None and health.schema_version > SCHEMA_VERSION:
        problems.append(f"lược đồ phiên bản {health.schema_version} mới hơn phần mềm này "
                        f"({SCHEMA_VERSION}): hãy nâng cấp cchc-sync")
    return problems


def _backup_line(archive: Path) -> str:
    kept = backups(archive)
    if not kept:
        return f"Chưa có bản sao lưu nào trong {backup_dir(archive)}."
    return f"Bản sao lưu: {len(kept)} tệp trong {backup_dir(archive)}, mới nhất {kept[0].name}."


def check_text(config: Config) -> tuple[str, int]:
    """The text to show and the exit code: 0 whole, 1 damaged or not usable."""
    archive = config.archive_file
    health = check_archive(archive)
    problems = _problems(health)
    if not problems:
        return (f"Kho lưu trữ {archive}: nguyên vẹn (integrity_check: ok), lược đồ phiên bản "
                f"{health.schema_version}.\n{_backup_line(archive)}", 0)
    shown = "; ".join(problems[:5]) + (f"; và {len(problems) - 5} lỗi khác"
                                       if len(problems) > 5 else "")
    newest = newest_good_backup(archive)
    how = (f"Khôi phục bản sao gần nhất ({newest.name}) bằng `cchc-sync archive restore`."
           if newest else "Không có bản sao lưu nào dùng được.")
    return f"Kho lưu trữ {archive} bị hỏng: {shown}.\n{_backup_line(archive)}\n{how}", 1


def restore_text(config: Config, source: Path | None, now: dt.datetime | None = None) -> str:
    """Put a backup in place of the archive (`source`, else the newest whole one) and say
    what was done. BackupUnusable when there is none or `source` is damaged; ArchiveBusy
    while another process holds the archive."""
    archive = config.archive_file
    with hold_archive_lock(archive, "restore"):
        if source is None:
            source = newest_good_backup(archive)
            if source is None:
                raise BackupUnusable(
                    f"không có bản sao lưu nào dùng được trong {backup_dir(archive)} để khôi "
                    f"phục kho lưu trữ {archive}")
        else:
            problems = _problems(check_archive(source))
            if problems:
                raise BackupUnusable(
                    f"tệp {source} không dùng được để khôi phục: {'; '.join(problems[:3])}")
        moved = restore_archive(archive, source, now or utcnow())
    kept = f" Tệp cũ được giữ lại tại {moved}." if moved else ""
    taken = dt.datetime.fromtimestamp(source.stat().st_mtime, VIETNAM)
    return (f"Đã khôi phục kho lưu trữ {archive} từ {source} (sao lưu lúc "
            f"{taken:%H:%M %d/%m/%Y}).{kept} Chu kỳ tới đọc lại các bảng tính đã thay đổi "
            "sau bản sao này.")


@group("archive", help="Chính kho lưu trữ: kiểm tra, khôi phục bản sao lưu.")
def archive_group() -> None:
    """The archive itself: check it, restore a backup."""


@archive_group.command("check", help="Kiểm tra toàn vẹn (SQLite) và phiên bản lược đồ của kho "
                                "lưu trữ (mã thoát 0: nguyên vẹn, 1: hỏng).")
@config_option
@boundary
def check(config_file: str | None) -> None:
    """SQLite integrity check and schema version of the archive (exit 0 whole, 1 damaged)."""
    text, code = check_text(load_config(config_file))
    click.echo(text)
    sys.exit(code)


@archive_group.command("restore", help="Đặt một bản sao lưu vào chỗ kho lưu trữ; tệp bị thay "
                                  "được giữ lại bên cạnh. Không làm khi tiến trình chạy nền "
                                  "đang giữ kho (hãy dừng nó trước).")
@config_option
@click.option("--from", "source", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="Tệp sao lưu cần đặt lại (được kiểm tra trước).")
@click.option("--latest", is_flag=True,
              help="Bản sao lưu mới nhất còn nguyên vẹn (mặc định).")
@boundary
def restore(config_file: str | None, source: Path | None, latest: bool) -> None:
    """Put a backup in place of the archive; the replaced file is kept beside it. Refused
    while the daemon holds the archive (stop it first)."""
    if source is not None and latest:
        raise click.UsageError("--from và --latest không dùng cùng nhau")
    click.echo(restore_text(load_config(config_file), source.resolve() if source else None))
