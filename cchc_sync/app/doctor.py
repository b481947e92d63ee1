"""`cchc-sync doctor`: check the setup in order and say, in Vietnamese, what is wrong and
the exact fix — before a coordinator waits for a cycle that cannot work.

Each check is one `Check` (findings as data, like everything else); a check whose inputs
failed is not run (no token without a key file). Exit 0 only when nothing failed: a "note"
(a workbook open in Excel right now) is said but is not a failure.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from cchc_sync.domain.config import Config, ConfigError, load_config
from cchc_sync.domain.periods import PeriodError, parse_period
from cchc_sync.domain.records import Unit
from cchc_sync.domain.registry import RegistryError, load_units
from cchc_sync.domain.templates import TemplateError, load_template_set
from cchc_sync.sources.xlsx.backend import UNITS_DIR, LocalBackend
from cchc_sync.sources.xlsx.common import lock_files
from cchc_sync.store.backup import check_archive, newest_good_backup

EMAIL = re.compile(r"^[^@\s;,]+@[^@\s;,]+\.[A-Za-z]{2,}$")


class Status(StrEnum):
    OK = "ok"
    FAIL = "fail"
    NOTE = "note"


@dataclass(frozen=True, kw_only=True, slots=True)
class Check:
    """One line of the doctor's answer."""

    id: str
    """Stable id, e.g. "google.apis" (documented in docs/cli.md)."""
    status: Status
    message: str
    """Vietnamese: what was checked and what was found."""
    fix: str = ""
    """Vietnamese: the exact thing to do, when it failed."""
    detail: str = ""
    """Technical detail (English is fine), e.g. the API's own error."""

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "status": str(self.status), "message": self.message,
                "fix": self.fix, "detail": self.detail}


def ok(id_: str, message: str) -> Check:
    return Check(id=id_, status=Status.OK, message=message)


def fail(id_: str, message: str, fix: str, detail: str = "") -> Check:
    return Check(id=id_, status=Status.FAIL, message=message, fix=fix, detail=detail)


def run_doctor(config_file: str | os.PathLike | None) -> list[Check]:
    """Every check, in order; stops where later checks could not mean anything."""
    checks: list[Check] = []
    try:
        config = load_config(config_file)
    except ConfigError as exc:
        return [fail("config", "Không đọc được tệp cấu hình.",
                     "Sửa tệp cấu hình theo lỗi ở trên, hoặc chỉ đúng tệp bằng --config.",
                     str(exc))]
    checks.append(ok("config", f"Tệp cấu hình {config.path} đọc được."))
    units = _setup_checks(config, checks)
    if any(c.status is Status.FAIL for c in checks):
        return checks
    if config.backend == "google":
        # Only with the Google backend: it loads google-auth and the Google client.
        from cchc_sync.app.doctor_google import google_checks  # noqa: PLC0415

        checks.extend(google_checks(config, units))
    else:
        checks.extend(local_checks(config, units))
    return checks


def _setup_checks(config: Config, checks: list[Check]) -> list[Unit]:
    units: list[Unit] = []
    try:
        units = load_units(config.units_file)
        checks.append(ok("units", f"Danh sách đơn vị {config.units_file}: {len(units)} đơn vị."))
    except (RegistryError, OSError) as exc:
        checks.append(fail("units", f"Không đọc được danh sách đơn vị {config.units_file}.",
                           "Sửa tệp danh sách đơn vị (ma,ten,cap,cha,email) theo lỗi nêu.",
                           str(exc)))
    try:
        load_template_set(config.templates_dir)
        checks.append(ok("templates", "Bộ biểu mẫu đọc được."))
    except TemplateError as exc:
        checks.append(fail("templates", "Bộ biểu mẫu có lỗi.",
                           "Sửa tệp YAML của biểu mẫu theo lỗi nêu.", str(exc)))
    try:
        parse_period(config.period, config.cutoff_day, config.calendar_periods)
        checks.append(ok("period", f"Kỳ báo cáo {config.period} hợp lệ."))
    except PeriodError as exc:
        checks.append(fail("period", f"Mã kỳ báo cáo {config.period!r} không hợp lệ.",
                           "Sửa [workspace] period trong tệp cấu hình (ví dụ 2026S2).",
                           str(exc)))
    checks.append(_archive_check(config))
    return units


def _archive_check(config: Config) -> Check:
    path = config.archive_file
    if not path.exists():
        return ok("archive", f"Kho lưu trữ {path} chưa có: sẽ được tạo ở lượt đồng bộ đầu.")
    try:
        with path.open("rb") as fh:
            fh.read(16)
    except OSError as exc:
        return fail("archive", f"Không đọc được kho lưu trữ {path}.",
                    "Cho tài khoản chạy dịch vụ quyền đọc và ghi tệp này.", exc.strerror or "")
    # The whole integrity check, not the header only: a file cut short keeps its header.
    health = check_archive(path)
    if not health.ok:
        newest = newest_good_backup(path)
        return fail("archive", f"Kho lưu trữ {path} bị hỏng hoặc không phải cơ sở dữ liệu "
                    "SQLite.",
                    f"Dừng dịch vụ, rồi chạy: cchc-sync archive restore (bản sao gần nhất: "
                    f"{newest.name})." if newest else
                    "Không có bản sao lưu nào dùng được: chép lại tệp từ bản sao của máy chủ, "
                    "rồi chạy cchc-sync archive restore --from <tệp>.",
                    "; ".join(health.problems[:3]))
    return ok("archive", f"Kho lưu trữ {path} nguyên vẹn (lược đồ phiên bản "
              f"{health.schema_version}).")


# -- local -----------------------------------------------------------------------------------


def local_checks(config: Config, units: list[Unit]) -> list[Check]:
    backend = LocalBackend(config.root, limits=config.limits)
    period = parse_period(config.period, config.cutoff_day, config.calendar_periods)
    checks = [_writable(config.root / UNITS_DIR)]
    paths = {u.code: backend.unit_path(u, period) for u in units}
    missing = [code for code, p in paths.items() if not p.exists()]
    if missing:
        checks.append(fail(
            "local.workbooks",
            f"Thiếu bảng tính của {len(missing)}/{len(units)} đơn vị: {', '.join(missing)}.",
            "Chạy cchc-sync sync để tạo bảng tính của đơn vị mới; nếu tệp bị xoá, lấy lại từ "
            f"thùng rác hoặc bản sao và đặt vào {paths[missing[0]].parent}.",
        ))
    else:
        checks.append(ok("local.workbooks", f"Có đủ bảng tính của {len(units)} đơn vị."))
    checks.extend(_open_workbooks(paths))
    return checks


def _writable(folder: Path) -> Check:
    if not folder.is_dir():
        return fail("local.folder", f"Không có thư mục {folder}.",
                    "Chạy cchc-sync init (hoặc tạo lại thư mục) trước khi đồng bộ.")
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".cchc-doctor-")
        os.close(fd)
        os.unlink(name)
    except OSError as exc:
        return fail("local.folder", f"Không ghi được vào thư mục {folder}.",
                    f"Cho tài khoản chạy cchc-sync quyền ghi: chmod u+w {folder} (hoặc chown).",
                    exc.strerror or "")
    return ok("local.folder", f"Thư mục {folder} ghi được.")


def _open_workbooks(paths: dict[str, Path]) -> Iterator[Check]:
    for code, path in paths.items():
        for lock in lock_files(path):
            who = lock_owner(lock)
            yield Check(
                id="local.open", status=Status.NOTE,
                message=(f"Bảng tính của {code} đang được mở"
                         + (f" bởi {who}" if who else "") + f" ({lock.name})."),
                fix="Kết quả kiểm tra được ghi vào bảng tính khi tệp được đóng. Nếu không ai "
                    f"đang mở, xoá tệp khoá {lock}.",
            )


def lock_owner(lock: Path) -> str:
    """Who holds a workbook open, from its lock file: LibreOffice writes
    "full name,login,host,time,profile URL;" (the name as set in its options, often empty);
    Excel's ~$ file starts with the user name (one length byte and
    the name, padded to 54 bytes, then UTF-16 again)."""
    try:
        data = lock.read_bytes()[:512]
    except OSError:
        return ""
    if lock.name.startswith(".~lock."):
        parts = [p.strip() for p in data.decode("utf-8", "replace").split(",")]
        return next((p for p in parts[:2] if p), "")
    if data:
        size = data[0]
        name = data[1:1 + size].decode("latin-1", "replace").strip("\x00 ")
        return name if name.isprintable() else ""
    return ""


# -- shared with the Google checks -----------------------------------------------------------


def bad_emails(units: list[Unit]) -> list[str]:
    """`CODE: address` for every address of the registry that is not an e-mail address."""
    out = []
    for unit in units:
        for email in unit.emails:
            if not EMAIL.match(email):
                out.append(f"{unit.code}: {email!r}")
    return out


def key_file_problem(path: Path | None) -> Check | None:
    """A key file that is missing, not a file, unreadable, readable by others, not JSON or
    not of the kind configured; None when it is usable."""
    if path is None:
        return fail("google.credentials", "Chưa khai báo tệp khoá tài khoản Google.",
                    "Thêm [google] credentials = \"/đường/dẫn/key.json\" vào tệp cấu hình.")
    try:
        st = path.stat()
    except FileNotFoundError:
        return fail("google.credentials", f"Không có tệp khoá {path}.",
                    "Tải khoá JSON của tài khoản dịch vụ (IAM > Service accounts > Keys) về "
                    "đúng đường dẫn này, hoặc sửa [google] credentials.")
    except OSError as exc:
        return fail("google.credentials", f"Không đọc được tệp khoá {path}.",
                    "Cho tài khoản chạy cchc-sync quyền đọc tệp khoá.", exc.strerror or "")
    if stat.S_ISDIR(st.st_mode):
        return fail("google.credentials", f"{path} là một thư mục, không phải tệp khoá.",
                    "Chỉ [google] credentials tới chính tệp .json bên trong thư mục đó.")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or a device: reading it could wait forever
        return fail("google.credentials", f"{path} không phải tệp thường, không phải tệp khoá.",
                    "Chỉ [google] credentials tới chính tệp khoá .json.")
    if st.st_mode & 0o077 and not os.environ.get("CREDENTIALS_DIRECTORY"):
        return fail("google.credentials",
                    f"Tệp khoá {path} đang cho người khác đọc được "
                    f"(quyền {st.st_mode & 0o777:04o}).",
                    f"Chạy: chmod 600 {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return fail("google.credentials", f"Không đọc được tệp khoá {path}.",
                    "Cho tài khoản chạy cchc-sync quyền đọc tệp khoá, hoặc chép lại tệp.",
                    exc.strerror or str(exc))
    try:
        data: Any = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return fail("google.credentials", f"Tệp {path} không phải là tệp khoá JSON của Google.",
                    "Tải lại khoá dạng JSON (không phải P12) từ Google Cloud Console.", str(exc))
    kind = data.get("type") if isinstance(data, dict) else None
    if kind != "service_account":
        return fail("google.credentials",
                    f"Tệp {path} không phải khoá tài khoản dịch vụ (loại: {kind or 'không rõ'}).",
                    "Dùng khoá JSON của tài khoản dịch vụ (IAM > Service accounts > Keys > "
                    "Add key > JSON).")
    return None


def cycle_minutes(units: int, reads_per_minute: int) -> float:
    """Minutes of read quota a cycle in which every unit changed needs (one listing, one
    read per unit, one look at the master), at `reads_per_minute`."""
    return math.ceil((units + 2) / max(1, reads_per_minute))
