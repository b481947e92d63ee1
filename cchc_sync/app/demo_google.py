"""`cchc-sync demo --backend google`: the sample district in Google mode, on a local fake of
Google's APIs started for the occasion (no account needed), then stopped.

The real code path runs: a service-account key made on the spot (0600, its token_uri at the
fake), google-auth's JWT flow, gspread's HTTP session, the same `init_workspace` and
`sync_once` as in production. Clerks "type" through `FakeGoogle.edit_cells` (a person
typing, USER_ENTERED, read in the sheets' vi_VN locale as Sheets reads it).

The fake stops with the demo, so before it does every spreadsheet (the master included) is
saved as an .xlsx in the demo folder (`xlsx/`): values, notes and cell colours as the fake
holds them — something to open afterwards.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from cchc_sync.app.demo import DEMO_MARKER, EXPLANATION_KEY, demo_summary, prepare_directory
from cchc_sync.app.demo_data import DISTRICT_AREA, DemoArea, demo_rows
from cchc_sync.app.demo_snapshot import save_as_xlsx
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import Workspace, sync_once
from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.config import Config, GoogleSettings
from cchc_sync.domain.periods import half_year_containing
from cchc_sync.domain.templates import TableSpec
from cchc_sync.sources.google.backend import GoogleBackend
from cchc_sync.testing.fake_google import FakeGoogle
from cchc_sync.testing.keys import DEFAULT_EMAIL, make_service_account_key

KEY_FILE = "service-account.json"
XLSX_FOLDER = "xlsx"
COORDINATOR = "phongnoivu@songmay.example.gov.vn"
FAKE_QUOTA = 100_000
DEMO_DATA_ROWS = 30
"""Formatted rows per table in the demo (the fake stores every formatted cell; production
keeps the default 500)."""


def typed(value: Any) -> Any:
    """What a Vietnamese clerk types for a value of the sample data: text as it is (the
    sheet's vi_VN locale reads "27.554" as 27554, "96,16%" as 96,16 % and "07/6/2022" as
    7 June; text columns are formatted as plain text), numbers as numbers, dates day first
    (dd/mm/yyyy)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, dt.date):
        return value.strftime("%d/%m/%Y")
    return value


def type_table(fake: FakeGoogle, spreadsheet_id: str, spec: TableSpec, rows: list[dict[str, Any]],
               *, start_row: int = 2) -> None:
    """Type rows ({column key or EXPLANATION_KEY: value}) into a table tab made from the
    template (columns in template order, then "Giải trình"), one edit per tab."""
    keys = [c.key for c in spec.columns] + [EXPLANATION_KEY]
    grid = [[typed(row.get(k)) for k in keys] for row in rows]
    if grid:
        fake.edit_cells(spreadsheet_id, spec.tab, f"A{start_row}", grid)


def fill_demo_google(ws: Workspace, fake: FakeGoogle, style: int | None = None,
                     area: DemoArea = DISTRICT_AREA) -> None:
    """Type the sample figures into every unit's spreadsheet, as its clerk would."""
    rows = demo_rows([(u.code, u.name, u.level) for u in ws.units], style=style,
                     year=ws.period.end.year, area=area)
    sheets = ws.archive.sheets(ws.period.code)
    for code, tables in rows.items():
        for table_key, table_rows in tables.items():
            type_table(fake, sheets[code].ref, ws.templates.table(table_key), table_rows)


def run_google_demo(directory: Path, quiet: bool = False,
                    area: DemoArea = DISTRICT_AREA) -> str:
    """Build the sample area on a fake Google, run one cycle, say what came out."""
    directory = Path(directory).resolve()
    prepare_directory(directory)
    (directory / DEMO_MARKER).write_text("cchc-sync demo workspace (google); safe to delete\n")
    units_file = directory / "units.csv"
    units_file.write_text(area.units_csv, encoding="utf-8")
    key_file = directory / KEY_FILE
    with FakeGoogle() as fake:
        make_service_account_key(key_file, fake.token_uri, DEFAULT_EMAIL)
        # As a Workspace office sets it up: Google lets a service account create files only
        # in a shared drive it is a member of (since 2025), and the fake holds to that.
        folder = fake.create_shared_drive_folder(DEFAULT_EMAIL, organizer=COORDINATOR)
        # The fake has no quota: the limiter need not hold the demo back.
        google = GoogleSettings(credentials=key_file, folder=folder, endpoint=fake.url,
                                coordinators=(COORDINATOR,), reads_per_minute=FAKE_QUOTA,
                                writes_per_minute=FAKE_QUOTA)
        # The period under way today, as in the local demo: open for editing and on time.
        period = half_year_containing(dt.datetime.now(VIETNAM).date())
        ws = init_workspace(directory, units_csv=units_file, period=period, backend="google",
                            name=area.name, google=google, backend_factory=_backend)
        try:
            fill_demo_google(ws, fake, area=area)
            result = sync_once(ws)
            summary = demo_summary(ws, result)
            saved = save_as_xlsx(fake, ws, directory / XLSX_FOLDER)
        finally:
            ws.close()
    return summary + (
        "\n\nGoogle ở đây là bản giả lập chạy trên máy này; nó đã dừng khi bản mẫu kết thúc, "
        "nên các đường dẫn trên không còn mở được. Bản mẫu làm như một cơ quan có Google "
        "Workspace: tài khoản dịch vụ tạo bảng tính trong Bộ nhớ dùng chung (shared drive), "
        "nơi duy nhất Google cho nó tạo tệp; cơ quan dùng tài khoản Google miễn phí thì đăng "
        "nhập bằng `cchc-sync google login` (xem README). Bản sao của "
        f"{len(saved)} bảng tính (cả bảng tổng hợp) đã được lưu thành tệp .xlsx trong "
        f"{directory / XLSX_FOLDER} để mở xem."
    )


def _backend(config: Config) -> GoogleBackend:
    return GoogleBackend.from_config(config, data_rows=DEMO_DATA_ROWS)
