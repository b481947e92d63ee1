"""`cchc-sync demo` shows today's government: a province after the 2025 reform, no district
level; `demo --backend google` keeps to its own folder and leaves .xlsx copies to open."""

from __future__ import annotations

import os
import subprocess
import tomllib
from pathlib import Path

import openpyxl

from cchc_sync.app.demo_data import PROVINCE_AREA
from cchc_sync.app.pipeline import open_workspace
from cchc_sync.domain.config import load_config
from cchc_sync.domain.registry import parse_units
from tests import cli_process


def cchc(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "JOURNAL_STREAM")}
    return cli_process.run([*args], capture_output=True,
                          text=True, timeout=600, env=env, cwd=cwd)


def test_the_province_registry_has_no_district_level():
    units = parse_units(PROVINCE_AREA.units_csv)
    assert {u.level for u in units} == {"so", "xa"}
    names = " ".join(u.name for u in units)
    for word in ("Sở", "Ban", "Công an tỉnh", "phường", "xã", "đặc khu"):
        assert word in names
    assert "huyện" not in names.lower() and "Phòng" not in names


def test_default_demo_is_a_province_after_the_2025_reform(tmp_path):
    done = cchc("demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    out = done.stdout
    assert out.startswith("Bản mẫu: tỉnh Sông Mây, kỳ báo cáo ")
    assert "Đơn vị: 15 (8 cấp sở, ban, ngành; 7 cấp xã); đã nộp: 12." in out
    errors = sum(1 for m in PROVINCE_AREA.mistakes
                 if not m[3].endswith(("loai-khong-khop", "khac-cap", "outlier")))
    assert f"Lỗi: {errors}; cảnh báo: {len(PROVINCE_AREA.mistakes) - errors}." in out
    assert "ô màu đỏ (lỗi), ô màu vàng (cảnh báo)" in out
    folder = tmp_path / "cchc-sync-demo"
    config = tomllib.loads((folder / "cchc-sync.toml").read_text(encoding="utf-8"))
    assert config["levels"]["order"] == ["so", "xa"]
    ws = open_workspace(load_config(folder / "cchc-sync.toml"))
    try:
        found = {(f.unit, f.table, f.column, f.rule)
                 for f in ws.archive.open_findings(ws.period.code)}
    finally:
        ws.close()
    assert found == set(PROVINCE_AREA.mistakes)


def test_google_demo_uses_its_own_folder_and_saves_xlsx_copies(tmp_path):
    local = tmp_path / "cchc-sync-demo"
    local.mkdir()
    (local / ".cchc-sync-demo").write_text("an earlier local demo")
    (local / "ghi-chu.txt").write_text("kept")
    done = cchc("demo", "--backend", "google", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (local / "ghi-chu.txt").read_text() == "kept"  # the local demo is not touched
    copies = tmp_path / "cchc-sync-demo-google" / "xlsx"
    assert str(copies) in done.stdout and "16 bảng tính" in done.stdout
    # It says which Google setup it played (the only one where a service account may create
    # files) and what an office with a free account does instead.
    assert "Bộ nhớ dùng chung" in done.stdout and "cchc-sync google login" in done.stdout
    files = sorted(copies.glob("*.xlsx"))
    assert len(files) == 16  # 15 units and the master
    master = openpyxl.load_workbook(next(f for f in files if f.name.startswith("tong-hop")))
    assert "Tổng hợp" in master.sheetnames and "Bất thường" in master.sheetnames
    flagged = openpyxl.load_workbook(next(f for f in files if f.name.endswith("-x_lt.xlsx")))
    tab = flagged["Giải quyết TTHC"]
    noted = [c for row in tab.iter_rows() for c in row if c.comment is not None]
    assert noted and any(c.fill.fgColor.rgb not in (None, "00000000") for c in noted)
    assert any(isinstance(c.value, (int, float)) for row in tab.iter_rows(min_row=2)
               for c in row)
