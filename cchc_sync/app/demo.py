"""`cchc-sync demo`: a sample area, filled as clerks fill it, checked in one cycle.

The default is a province after the 2025 reform (sở, ban, ngành and xã/phường/đặc khu);
`--district` gives the 2022-style district (huyện, phòng, xã). See demo_data.py.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from cchc_sync.app.demo_data import DISTRICT_AREA, PROVINCE_AREA, DemoArea, demo_rows
from cchc_sync.app.initialise import init_workspace
from cchc_sync.app.pipeline import CycleResult, Workspace, sync_once, unit_progress
from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.config import ConfigError
from cchc_sync.domain.periods import half_year_containing
from cchc_sync.testing.typist import type_rows

DEMO_MARKER = ".cchc-sync-demo"
EXPLANATION_KEY = "__explanation__"
DEMO_FOLDERS = {"local": "cchc-sync-demo", "google": "cchc-sync-demo-google"}
"""Each backend's demo has its own folder: one never deletes the other's."""


def default_demo_folder(backend: str) -> Path:
    return Path(DEMO_FOLDERS[backend])


def demo_area(district: bool) -> DemoArea:
    return DISTRICT_AREA if district else PROVINCE_AREA


def demo_tables(ws: Workspace, style: int | None = None, area: DemoArea = DISTRICT_AREA
                ) -> dict[str, dict[str, list[dict]]]:
    """The sample figures as clerks type them: unit -> tab title -> rows by column title."""
    rows = demo_rows(
        [(u.code, u.name, u.level) for u in ws.units], style=style, year=ws.period.end.year,
        area=area,
    )
    out: dict[str, dict[str, list[dict]]] = {}
    for code, tables in rows.items():
        by_tab = out.setdefault(code, {})
        for table_key, table_rows in tables.items():
            spec = ws.templates.table(table_key)
            typed = []
            for row in table_rows:
                line = {spec.column(k).title: v for k, v in row.items() if k != EXPLANATION_KEY}
                if EXPLANATION_KEY in row:
                    line["Giải trình"] = row[EXPLANATION_KEY]
                typed.append(line)
            by_tab[spec.tab] = typed
    return out


def fill_demo_workbooks(ws: Workspace, style: int | None = None,
                        area: DemoArea = DISTRICT_AREA) -> None:
    """Type the sample figures into every unit's workbook, by column title."""
    sheets = ws.archive.sheets(ws.period.code)
    for code, by_tab in demo_tables(ws, style, area).items():
        if by_tab:
            type_rows(ws.config.root / sheets[code].ref, by_tab)


def prepare_directory(directory: Path) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / DEMO_MARKER).exists():
            raise ConfigError(
                f"{directory}: thư mục không trống và không phải thư mục demo; "
                "hãy chọn một thư mục khác"
            )
        shutil.rmtree(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / DEMO_MARKER).write_text("cchc-sync demo workspace; safe to delete\n")


def run_demo(directory: Path, district: bool = False) -> str:
    """Build the sample area on the local backend, run one cycle, and say in Vietnamese
    what came out (the Google demo: demo_google.run_google_demo)."""
    area = demo_area(district)
    directory = directory.resolve()
    prepare_directory(directory)
    units_file = directory / "units.csv"
    units_file.write_text(area.units_csv, encoding="utf-8")
    # The period under way today, so the sample is open for editing and on time.
    period = half_year_containing(dt.datetime.now(VIETNAM).date())
    ws = init_workspace(directory, units_csv=units_file, period=period, name=area.name)
    try:
        fill_demo_workbooks(ws, area=area)
        result = sync_once(ws)
        return demo_summary(ws, result)
    finally:
        ws.close()


def demo_summary(ws: Workspace, result: CycleResult) -> str:
    period = ws.period.code
    findings = ws.archive.open_findings(period)
    master = ws.archive.master(period)
    sheets = ws.archive.sheets(period)
    progress = unit_progress(ws)
    levels: dict[str, int] = {}
    for u in ws.units:
        levels[u.level] = levels.get(u.level, 0) + 1
    flagged = sorted({f.unit for f in findings if f.severity.value == "error"})
    names = [ws.config.level_names.get(lv, lv).lower() for lv in levels]
    # "8 cấp sở, ban, ngành; 7 cấp xã": a name with commas needs another separator.
    separator = "; " if any("," in name for name in names) else ", "
    level_text = separator.join(f"{n} {name}" for name, n in zip(names, levels.values(),
                                                                  strict=True))
    lines = [
        f"Bản mẫu: {ws.config.name}, kỳ báo cáo {period} "
        f"({ws.period.start:%d/%m/%Y} – {ws.period.end:%d/%m/%Y}).",
        f"Đơn vị: {len(ws.units)} ({level_text}); đã nộp: "
        f"{sum(1 for p in progress if p.state == 'Đã nộp')}.",
        f"Dòng số liệu: {result.rows}.",
        f"Lỗi: {result.errors}; cảnh báo: {result.warnings}.",
        "",
        f"Bảng tổng hợp: {master['url'] if master else '—'}",
    ]
    if flagged:
        first = flagged[0]
        lines.append(f"Bảng tính có lỗi (ví dụ {first}): {sheets[first].url}")
        lines.append(f"Các đơn vị có lỗi: {', '.join(flagged)}")
    lines += [
        "",
        "Mở bảng tính của đơn vị để xem ô màu đỏ (lỗi), ô màu vàng (cảnh báo), cột "
        '"Kết quả kiểm tra" và trang "Kiểm tra".',
        f"Xem lỗi: cchc-sync findings --config {ws.config.path}",
        f"Xem tiến độ: cchc-sync status --config {ws.config.path}",
    ]
    return "\n".join(lines)
