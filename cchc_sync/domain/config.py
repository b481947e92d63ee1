"""The workspace configuration: cchc-sync.toml, written by `init`, read by every command."""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomlkit

DEFAULT_CONFIG_NAME = "cchc-sync.toml"
CONFIG_ENV = "CCHC_SYNC_CONFIG"


class ConfigError(Exception):
    """The configuration is missing or wrong; the message says which key and file."""


@dataclass(frozen=True, kw_only=True, slots=True)
class GoogleSettings:
    credentials: Path | None = None
    """Service-account key file."""
    folder: str = ""
    """Drive folder id that holds the unit spreadsheets and the master."""
    endpoint: str = ""
    """Base URL of an emulator of Google's APIs (tests, demo); empty for Google itself."""
    coordinators: tuple[str, ...] = ()
    """Emails that get read access to the master."""
    reads_per_minute: int = 60
    writes_per_minute: int = 60
    auth: str = "service_account"
    """How the software acts on Google: "service_account" (a key file; with `subject`, as
    that person by Workspace domain-wide delegation) or "user" (the coordinator's own
    account, signed in once with `cchc-sync google login`)."""
    subject: str = ""
    """Service-account mode with domain-wide delegation: the person it acts as."""
    token_file: Path | None = None
    """User mode: the stored sign-in (refresh token), mode 0600; default beside the archive."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ReadLimits:
    """What one unit's file may cost a cycle ([limits] in cchc-sync.toml). A file over a
    limit makes that unit "not readable" this cycle with a reason saying which limit and
    what to do; its archived rows stay and the rest of the cycle goes on."""

    max_file_mb: float = 25.0
    """Size of the workbook file as stored (compressed)."""
    max_inflated_mb: float = 60.0
    """Total size of its parts once unzipped, from the zip directory (never inflated to
    check): it bounds a zip bomb and the cost of rewriting the workbook for its flags."""
    max_rows_per_tab: int = 100_000
    """Rows holding a value, per table tab."""
    blank_rows_stop: int = 1_000
    """A run of this many rows with no value ends a tab: a formula or a format filled down
    to row 1,048,576 costs nothing past it."""
    max_findings_per_tab: int = 200
    """Findings kept per unit and table; the rest are summed up in one finding."""
    max_seconds_per_unit: float = 120.0
    """Time to read one unit's file: past it, the unit waits for the next cycle."""


DEFAULT_BACKUPS = 7
"""Backups kept by default: a week of quiet days, or the last seven changed cycles."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Config:
    path: Path
    """The config file; relative paths in it are relative to its folder."""
    name: str
    """The district or province, e.g. "huyện Mẫu Sơn"."""
    period: str
    units_file: Path
    archive_file: Path
    backend: str = "local"
    templates_dir: Path | None = None
    cutoff_day: int = 15
    calendar_periods: bool = False
    deadline_days: int = 3
    """Units sign off on time up to this many days after the period's window ends."""
    lock_grace_days: int = 2
    """Sheets become read-only this many days after the deadline (when auto_lock)."""
    auto_lock: bool = True
    successors_file: Path | None = None
    """Optional successor mapping (ma_cu,ma_moi,ngay_hieu_luc) for merged or split units."""
    history_change_share: float = 0.5
    """Warn when a figure moves by more than this share against the same period a year
    earlier."""
    history_min_base: int = 20
    """... but only when the earlier figure is at least this (small numbers swing)."""
    outlier_z: float = 3.5
    """Modified z-score above which a unit's rate is an outlier among its level."""
    interval_minutes: float = 10.0
    level_order: tuple[str, ...] = ()
    level_names: dict[str, str] = field(default_factory=dict)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    limits: ReadLimits = field(default_factory=ReadLimits)
    archive_backups: int = DEFAULT_BACKUPS
    """Rolling online backups of the archive kept ([archive] backups; 0: none). One is
    taken after each cycle that changed the archive (store/backup.py)."""

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def area_total(self) -> str:
        """Title of the all-units column, e.g. "Toàn huyện"."""
        return f"Toàn {self.name}" if self.name else "Tổng cộng"


def config_path(given: str | os.PathLike | None) -> Path:
    if given:
        return Path(given)
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME)


def load_config(given: str | os.PathLike | None = None) -> Config:
    path = config_path(given).resolve()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: chưa có tệp cấu hình ở đây; hãy chạy `cchc-sync init THƯ_MỤC --units "
            "units.csv --period 2026S1` trước, hoặc chỉ rõ tệp bằng --config"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: đây là một thư mục, không phải tệp cấu hình") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path}: tệp cấu hình sai cú pháp TOML; hãy sửa dòng được nêu (TOML: {exc})"
        ) from None
    root = path.parent

    def path_of(value: str) -> Path:
        p = Path(value).expanduser()
        return p if p.is_absolute() else root / p

    def rel(value: str | None) -> Path | None:
        return path_of(value) if value else None

    ws = data.get("workspace", {})
    for key in ("period", "units"):
        if not ws.get(key):
            raise ConfigError(f"{path}: thiếu mục [workspace] {key}")
    backend = data.get("backend", {}).get("kind", "local")
    if backend not in ("local", "google"):
        raise ConfigError(
            f"{path}: [backend] kind phải là \"local\" hoặc \"google\", không phải {backend!r}"
        )
    g = data.get("google", {})
    levels = data.get("levels", {})
    period_cfg = data.get("period", {})
    schedule = data.get("schedule", {})
    interval = float(schedule.get("interval_minutes", 10))
    if interval <= 0:
        raise ConfigError(f"{path}: [schedule] interval_minutes phải là số dương")
    return Config(
        path=path,
        name=str(ws.get("name", "")),
        period=str(ws["period"]),
        units_file=path_of(str(ws["units"])),
        archive_file=path_of(str(ws.get("archive") or "cchc-sync.sqlite")),
        backend=backend,
        templates_dir=rel(ws.get("templates", "")),
        cutoff_day=int(period_cfg.get("cutoff_day", 15)),
        calendar_periods=bool(period_cfg.get("calendar", False)),
        deadline_days=int(period_cfg.get("deadline_days", 3)),
        lock_grace_days=int(period_cfg.get("lock_grace_days", 2)),
        auto_lock=bool(period_cfg.get("auto_lock", True)),
        successors_file=rel(ws.get("successors", "")),
        history_change_share=float(data.get("checks", {}).get("change_share", 0.5)),
        history_min_base=int(data.get("checks", {}).get("min_base", 20)),
        outlier_z=float(data.get("checks", {}).get("outlier_z", 3.5)),
        interval_minutes=interval,
        level_order=tuple(levels.get("order", ())),
        level_names=dict(levels.get("names", {})),
        limits=read_limits(data.get("limits", {}), path),
        archive_backups=_backups(data.get("archive", {}), path),
        google=GoogleSettings(
            credentials=google_credentials(g.get("credentials", ""), path_of, path),
            folder=str(g.get("folder", "")),
            endpoint=str(g.get("endpoint", "")),
            coordinators=tuple(g.get("coordinators", ())),
            reads_per_minute=int(g.get("reads_per_minute", 60)),
            writes_per_minute=int(g.get("writes_per_minute", 60)),
            auth=google_auth_mode(g.get("auth", "service_account"), path),
            subject=str(g.get("subject", "")),
            token_file=google_token_file(g.get("token", ""), path_of, root),
        ),
    )


def _backups(section: dict, path: Path) -> int:
    raw = section.get("backups", DEFAULT_BACKUPS)
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
        raise ConfigError(
            f"{path}: [archive] backups phải là một số nguyên không âm (đang là {raw!r})")
    unknown = sorted(set(section) - {"backups"})
    if unknown:
        raise ConfigError(f"{path}: [archive] có khoá không biết: {', '.join(unknown)}")
    return raw


def read_limits(section: dict, path: Path) -> ReadLimits:
    """[limits]: every key optional, each a number, not negative."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(ReadLimits):
        default: Any = f.default  # every field of ReadLimits has a plain number default
        raw = section.get(f.name, default)
        try:
            value = type(default)(raw) if not isinstance(raw, bool) else None
        except (TypeError, ValueError):
            value = None
        if value is None or value < 0:
            raise ConfigError(
                f"{path}: [limits] {f.name} phải là một số không âm (đang là {raw!r})"
            )
        values[f.name] = value
    unknown = sorted(set(section) - set(values))
    if unknown:
        raise ConfigError(f"{path}: [limits] có khoá không biết: {', '.join(unknown)}")
    return ReadLimits(**values)


AUTH_MODES = ("service_account", "user")
GOOGLE_TOKEN_CREDENTIAL = "google-token"
"""The credential name the systemd unit gives the stored sign-in (LoadCredential=)."""
DEFAULT_TOKEN_NAME = "google-token.json"


def google_auth_mode(value: object, path: Path) -> str:
    mode = str(value or "service_account")
    if mode not in AUTH_MODES:
        raise ConfigError(
            f"{path}: [google] auth phải là \"user\" (tài khoản Google của cán bộ tổng hợp) "
            f"hoặc \"service_account\" (tài khoản dịch vụ), không phải {mode!r}"
        )
    return mode


def google_token_file(value: object, rel: Callable[[str], Path], root: Path) -> Path:
    """[google] token, else the systemd credential, else google-token.json beside the config."""
    if value:
        return rel(str(value))
    creds = os.environ.get(CREDENTIALS_DIRECTORY_ENV)
    if creds and (Path(creds) / GOOGLE_TOKEN_CREDENTIAL).exists():
        return Path(creds) / GOOGLE_TOKEN_CREDENTIAL
    return root / DEFAULT_TOKEN_NAME


CREDENTIALS_DIRECTORY_ENV = "CREDENTIALS_DIRECTORY"
GOOGLE_KEY_CREDENTIAL = "google-key"
"""The credential name the systemd unit gives the key: LoadCredential=google-key:/etc/..."""


def google_credentials(
    value: object, rel: Callable[[str], Path], path: Path
) -> Path | None:
    """Where the service-account key is: [google] credentials, relative to the config file.

    systemd's LoadCredential= hands the key over in $CREDENTIALS_DIRECTORY, a private
    directory only the service can read: "${CREDENTIALS_DIRECTORY}/google-key" in the config
    is expanded (that variable only), and an empty setting falls back to that file when
    systemd provides it.
    """
    text = str(value or "").strip()
    creds_dir = os.environ.get(CREDENTIALS_DIRECTORY_ENV, "")
    for token in ("${" + CREDENTIALS_DIRECTORY_ENV + "}", "$" + CREDENTIALS_DIRECTORY_ENV):
        if token in text:
            if not creds_dir:
                raise ConfigError(
                    f"{path}: [google] credentials = {text!r} cần biến $CREDENTIALS_DIRECTORY "
                    "mà systemd đặt cho LoadCredential=; ở đây không có (hãy chạy dưới dạng "
                    "dịch vụ, hoặc ghi đường dẫn của tệp khoá)"
                )
            text = text.replace(token, creds_dir)
    if text:
        return rel(text)
    fallback = Path(creds_dir) / GOOGLE_KEY_CREDENTIAL if creds_dir else None
    return fallback if fallback is not None and fallback.is_file() else None


def render_config(
    *,
    name: str,
    period: str,
    units_file: str,
    backend: str,
    level_order: list[str],
    level_names: dict[str, str],
    google: GoogleSettings | None = None,
    interval_minutes: float = 10,
    auto_lock: bool = True,
    successors_file: str = "",
) -> str:
    """The text of a fresh cchc-sync.toml, commented for the administrator.

    Written with tomlkit, not by formatting strings: a name or a level label may hold any
    character (quotes, "Cấp xã" as a key, a backslash), and the file must stay valid TOML
    whatever the registry says, with its comments kept.
    """
    g = google or GoogleSettings()
    doc = tomlkit.document()
    doc.add(tomlkit.comment("cchc-sync workspace. Relative paths are relative to this file."))
    doc.add(tomlkit.nl())

    def section(key: str, *entries: str | tuple[str, Any, str]) -> None:
        table = tomlkit.table()
        for entry in entries:
            if isinstance(entry, str):
                table.add(tomlkit.comment(entry))
                continue
            k, value, note = entry
            item = tomlkit.item(value)
            if note:
                item.comment(note)
            table.add(k, item)
        doc.add(key, table)

    section(
        "workspace",
        ("name", name, f'the district or province, as in "Toàn {name}"' if name else
         "the district or province, e.g. \"tỉnh Sông Mây\""),
        "current reporting period: 2022S1, 2022S2, 2022Q2, 202206, 2022, 2022N9",
        ("period", period, ""),
        ("units", units_file, "the units registry: ma,ten,cap,cha,email"),
        ("archive", "cchc-sync.sqlite", "the archive (SQLite): every row version ever seen"),
        ("templates", "", "a template-set folder; empty = the built-in set"),
        "merged or split units: CSV ma_cu,ma_moi,ngay_hieu_luc (dd/mm/yyyy)",
        ("successors", successors_file, ""),
    )
    section(
        "period",
        ("cutoff_day", 15, "windows start on this day of the month before (Decree 09/2019)"),
        ("calendar", False, "true: plain calendar periods instead"),
        ("deadline_days", 3, "units sign off on time up to N days after the window"),
        ("lock_grace_days", 2, "sheets become read-only N days after the deadline"),
        ("auto_lock", auto_lock, ""),
    )
    section(
        "checks",
        ("change_share", 0.5, "warn when a figure moves >50% against a year earlier"),
        ("min_base", 20, "... if the earlier figure is at least this"),
        ("outlier_z", 3.5, "modified z-score for rates among units of one level"),
    )
    levels = tomlkit.table()
    order = tomlkit.item(list(level_order))
    order.comment("level codes, in the order reports list them")
    levels.add("order", order)
    names = tomlkit.table()
    for code, label in level_names.items():
        names.add(code, label)
    levels.add("names", names)
    doc.add("levels", levels)
    section(
        "schedule",
        ("interval_minutes", interval_minutes if interval_minutes % 1 else int(interval_minutes),
         "how often `cchc-sync run` polls the sheets"),
    )
    section(
        "archive",
        "rolling copies of the archive (SQLite online backups in <archive>.backups/), one",
        "after each cycle that changed it; `cchc-sync archive restore` puts one back",
        ("backups", DEFAULT_BACKUPS, "how many to keep; 0 = none"),
    )
    section("backend", ("kind", backend, '"local" (folder of .xlsx) or "google"'))
    section(
        "google",
        ("auth", g.auth, '"user": the coordinator\'s own sign-in (cchc-sync google login); '
         '"service_account": a key file'),
        ("token", str(g.token_file or ""), "user: the kept sign-in (chmod 600); empty = "
         "google-token.json beside this file"),
        "service-account key file (chmod 600)",
        ("credentials", str(g.credentials or ""), ""),
        ("subject", g.subject, "service_account: act as this person (domain-wide delegation)"),
        ("folder", g.folder, "Drive folder id for the spreadsheets"),
        ("endpoint", g.endpoint, "emulator URL for tests; empty = Google"),
        "emails that may read the master",
        ("coordinators", list(g.coordinators), ""),
        ("reads_per_minute", g.reads_per_minute, ""),
        ("writes_per_minute", g.writes_per_minute, ""),
    )
    lim = ReadLimits()
    section(
        "limits",
        "what one unit's file may cost a cycle (over a limit: that unit waits, with a reason)",
        ("max_file_mb", lim.max_file_mb, "stored size of a workbook"),
        ("max_inflated_mb", lim.max_inflated_mb, "its size once unzipped (zip bombs, fill-downs)"),
        ("max_rows_per_tab", lim.max_rows_per_tab, "rows holding a value, per tab"),
        ("blank_rows_stop", lim.blank_rows_stop, "this many empty rows in a row end a tab"),
        ("max_findings_per_tab", lim.max_findings_per_tab, "more are summed up in one finding"),
        ("max_seconds_per_unit", lim.max_seconds_per_unit, "time to read one unit's file"),
    )
    return tomlkit.dumps(doc)
