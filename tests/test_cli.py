"""The public CLI: exit codes, stable JSON, Vietnamese output."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.demo_data import MISTAKES, UNITS_CSV
from cchc_sync.domain.clock import VIETNAM
from cchc_sync.domain.periods import half_year_containing
from cchc_sync.testing.typist import type_rows


@pytest.fixture
def runner():
    return CliRunner()


def invoke(runner, *args):
    result = runner.invoke(cli, ["-q", *args], catch_exceptions=False)
    return result


@pytest.fixture
def workspace(tmp_path, runner):
    units = tmp_path / "units.csv"
    units.write_text(UNITS_CSV, encoding="utf-8")
    root = tmp_path / "ws"
    result = invoke(runner, "init", str(root), "--units", str(units), "--period", "2022S1",
                    "--name", "huyện Sông Mây")
    assert result.exit_code == 0, result.output
    assert "Đã tạo không gian làm việc" in result.output
    return root


def test_init_sync_findings_export_status(runner, workspace):
    config = str(workspace / "cchc-sync.toml")
    status = json.loads(invoke(runner, "status", "--json", "--config", config).output)
    assert [s["unit"] for s in status][:2] == ["VP", "NV"]
    assert all(s["state"] == "not_started" for s in status)
    vp = status[0]
    assert vp["workbook"].endswith(".xlsx") and (workspace / vp["workbook"]).exists()

    type_rows(vp["workbook"], {
        "Giải quyết TTHC": [
            {"Lĩnh vực": "Thi đua - khen thưởng", "Tổng số hồ sơ tiếp nhận": "1.234",
             "Từ kỳ trước chuyển qua": 4, "Mới tiếp nhận trực tuyến": "1.000",
             "Mới tiếp nhận trực tiếp, bưu chính": 200},
        ],
        "Thông tin": [{"Trạng thái": "Hoàn thành"}],
    })
    result = invoke(runner, "sync", "--config", config)
    assert result.exit_code == 0
    findings = json.loads(invoke(runner, "findings", "--json", "--config", config).output)
    assert len(findings) == 1
    f = findings[0]
    assert set(f) >= {"unit", "table", "row", "column", "severity", "rule", "message", "value"}
    assert (f["unit"], f["table"], f["row"], f["column"], f["severity"], f["rule"]) == (
        "VP", "tthc", 2, "tong_tiep_nhan", "error", "tthc.tong-tiep-nhan")
    assert "1.234" in f["message"] and "1.204" in f["message"]

    rows = json.loads(invoke(runner, "export", "--table", "tthc", "--json",
                             "--config", config).output)
    assert rows == [{
        "unit": "VP", "period": "2022S1", "linh_vuc": "Thi đua - khen thưởng",
        "tu_ky_truoc": 4, "truc_tuyen": 1000, "truc_tiep": 200, "tong_tiep_nhan": 1234,
        "truoc_han": None, "dung_han": None, "qua_han": None, "dang_trong_han": None,
        "dang_qua_han": None,
    }]
    csv_text = invoke(runner, "export", "--table", "tthc", "--csv", "--config", config).output
    assert csv_text.splitlines()[0].startswith("unit,period,linh_vuc")

    status = json.loads(invoke(runner, "status", "--json", "--config", config).output)
    assert status[0]["state"] == "submitted" and status[0]["errors"] == 1
    assert status[0]["submitted_at"] is not None
    text = invoke(runner, "status", "--config", config).output
    assert "1/12 đơn vị đã nộp" in text and "Đã nộp" in text


def test_usage_and_config_errors_exit_2_with_one_line(runner, tmp_path, workspace):
    result = runner.invoke(cli, ["sync", "--config", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert "chưa có tệp cấu hình ở đây" in result.output and "Traceback" not in result.output
    config = str(workspace / "cchc-sync.toml")
    result = runner.invoke(cli, ["export", "--table", "nope", "--config", config])
    assert result.exit_code == 2 and "unknown table 'nope'" in result.output
    result = runner.invoke(cli, ["init", str(tmp_path / "x"), "--units",
                                 str(workspace / "units.csv"), "--period", "2022H1"])
    assert result.exit_code == 2 and "unknown period code" in result.output


def test_demo_district_prints_a_vietnamese_summary(runner, tmp_path):
    """The 2022-style district stays available: `demo --district`."""
    target = tmp_path / "demo"
    result = invoke(runner, "demo", "--district", str(target))
    assert result.exit_code == 0, result.output
    out = result.output
    warning_rules = ("loai-khong-khop", "khac-cap", "outlier")
    errors = sum(1 for m in MISTAKES if not m[3].endswith(warning_rules))
    assert f"Lỗi: {errors}; cảnh báo: {len(MISTAKES) - errors}." in out
    assert "Đơn vị: 12 (6 cấp huyện, 6 cấp xã)" in out
    period = half_year_containing(dt.datetime.now(VIETNAM).date())
    assert f"kỳ báo cáo {period}" in out
    assert str(target / "tong-hop" / period / f"tong-hop-{period}.xlsx") in out
    # Running it again rebuilds the demo; a foreign folder is refused.
    assert invoke(runner, "demo", "--district", str(target)).exit_code == 0
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("x")
    result = runner.invoke(cli, ["demo", str(foreign)])
    assert result.exit_code == 2 and (foreign / "notes.txt").exists()
