"""The CLI as a coordinator meets it, through real `cchc-sync` processes: it never says
"done" for a mistake, speaks Vietnamese (errors included), keeps log lines for those who
ask, takes global options anywhere, and writes exports that are safe to open."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
from pathlib import Path

import openpyxl
import pytest

from cchc_sync.testing.typist import type_rows
from tests import cli_process
from tests.conftest import make_district


def cchc(*args: str, env: dict | None = None, cwd: Path | None = None
         ) -> subprocess.CompletedProcess:
    return cli_process.run(
        [*args], capture_output=True, text=True,
        timeout=300, env={**os.environ, **(env or {})}, cwd=cwd,
    )


def without_service_env() -> dict:
    """A terminal session: no journald variables inherited from whoever runs the tests."""
    return {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "JOURNAL_STREAM")}


def plain(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return cli_process.run(
        [*args], capture_output=True, text=True,
        timeout=300, env={**without_service_env(), **kwargs.pop("env", {})}, **kwargs,
    )


DANGEROUS = ["=cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3+cmd|' /C calc'!A0", "+1+1"]


@pytest.fixture(scope="module")
def synced(tmp_path_factory) -> Path:
    """The sample district, filled, with formula-like text typed by one unit, synced by a
    real `cchc-sync sync`: its config file."""
    ws = make_district(tmp_path_factory.mktemp("cli") / "district")
    config = ws.config.path
    not_started = ws.config.root / ws.archive.sheets(ws.period.code)["XA_AB"].ref
    ws.close()
    type_rows(not_started, {"Đào tạo, bồi dưỡng": [
        {"Nội dung đào tạo, bồi dưỡng": text, "Số lượt người": 5 + i}
        for i, text in enumerate(DANGEROUS)
    ]})
    done = plain("sync", "--config", str(config))
    assert done.returncode == 0, done.stderr
    return config


def test_a_plain_sync_prints_vietnamese_and_no_log_lines(synced):
    done = plain("sync", "--config", str(synced))
    assert done.returncode == 0
    assert "Đã đọc" in done.stdout and "Lỗi:" in done.stdout
    assert done.stderr == ""  # no English INFO line after every sync


def test_log_lines_with_verbose_or_under_the_service(synced):
    verbose = plain("sync", "-v", "--config", str(synced))
    assert verbose.returncode == 0 and " INFO cchc_sync" in verbose.stderr
    journald = plain("sync", "--config", str(synced), env={"INVOCATION_ID": "0123abcd"})
    assert journald.returncode == 0 and " INFO cchc_sync" in journald.stderr


def test_global_options_before_or_after_the_command_name(synced):
    after = plain("sync", "-q", "--config", str(synced))
    assert after.returncode == 0, after.stderr
    assert after.stdout == ""  # -q after the command still silences the summary
    before = plain("-q", "--config", str(synced), "status", "--json")
    assert before.returncode == 0, before.stderr
    assert len(json.loads(before.stdout)) == 12
    mixed = plain("--config", str(synced), "findings", "--json", "-v")
    assert mixed.returncode == 0 and json.loads(mixed.stdout)


def test_unit_codes_match_case_insensitively_and_unknown_ones_are_refused(synced):
    lower = plain("findings", "--unit", "ldtbxh", "--json", "--config", str(synced))
    assert lower.returncode == 0, lower.stderr
    found = json.loads(lower.stdout)
    assert found and {f["unit"] for f in found} == {"LDTBXH"}
    assert any(f["severity"] == "error" for f in found)
    unknown = plain("findings", "--unit", "XYZ", "--config", str(synced))
    assert unknown.returncode == 2
    assert unknown.stdout == ""  # not "Không có lỗi hay cảnh báo nào."
    assert "không có đơn vị mã 'XYZ'" in unknown.stderr
    assert "LDTBXH" in unknown.stderr and "XA_AB" in unknown.stderr
    approve = plain("approve", "2022S1", "--unit", "nope", "--config", str(synced))
    assert approve.returncode == 2 and "không có đơn vị mã 'nope'" in approve.stderr


def test_errors_are_one_vietnamese_line(tmp_path, synced):
    missing = plain("sync", "--config", str(tmp_path / "none.toml"))
    assert missing.returncode == 2
    assert missing.stderr.startswith("cchc-sync: Lỗi cấu hình hoặc câu lệnh: ")
    assert "chưa có tệp cấu hình ở đây" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    usage = plain("sync", "--no-such-option")
    assert usage.returncode == 2
    assert usage.stderr.startswith("cchc-sync: Câu lệnh chưa đúng; xem: cchc-sync sync --help")
    period = plain("init", str(tmp_path / "x"), "--units", str(synced.parent / "units.csv"),
                   "--period", "2022H1")
    assert period.returncode == 2
    assert period.stderr.startswith("cchc-sync: Mã kỳ báo cáo không hợp lệ: ")
    assert not (tmp_path / "x").exists()
    for done in (missing, usage, period):
        assert "Traceback" not in done.stderr


def test_csv_export_makes_formula_like_text_inert_and_keeps_numbers(synced):
    done = plain("export", "--table", "dao_tao", "--csv", "--config", str(synced))
    assert done.returncode == 0, done.stderr
    rows = [r for r in csv.DictReader(io.StringIO(done.stdout)) if r["unit"] == "XA_AB"]
    assert [r["noi_dung"] for r in rows] == ["'" + text for text in DANGEROUS]
    assert [r["so_nguoi"] for r in rows] == ["5", "6", "7", "8"]
    other = [r for r in csv.DictReader(io.StringIO(done.stdout)) if r["unit"] != "XA_AB"]
    assert other and not any(r["noi_dung"].startswith("'") for r in other)
    # JSON is data, not a sheet: it carries the text exactly as typed.
    as_json = json.loads(plain("export", "--table", "dao_tao", "--json",
                               "--config", str(synced)).stdout)
    assert {r["noi_dung"] for r in as_json if r["unit"] == "XA_AB"} == set(DANGEROUS)


def test_report_format_comes_from_the_file_suffix(tmp_path, synced):
    md = tmp_path / "bao-cao.md"
    done = plain("report", "-o", str(md), "--config", str(synced))
    assert done.returncode == 0, done.stderr
    text = md.read_text(encoding="utf-8")  # Markdown: text, not a zipped Word file
    assert text.startswith("ỦY BAN NHÂN DÂN") and "| " in text
    docx = tmp_path / "bao-cao.docx"
    assert plain("report", "-o", str(docx), "--config", str(synced)).returncode == 0
    assert docx.read_bytes()[:2] == b"PK"
    wrong = tmp_path / "x.docx"
    mismatch = plain("report", "--format", "md", "-o", str(wrong), "--config", str(synced))
    assert mismatch.returncode == 2 and not wrong.exists()
    assert "--format md không khớp với đuôi tệp .docx" in mismatch.stderr
    odd = plain("report", "-o", str(tmp_path / "x.txt"), "--config", str(synced))
    assert odd.returncode == 2 and "đuôi .docx, .md hoặc .pdf" in odd.stderr


def test_report_to_pdf_without_libreoffice_says_so(tmp_path, synced):
    empty_path = tmp_path / "bin-empty"
    empty_path.mkdir()
    pdf = tmp_path / "bao-cao.pdf"
    done = plain("report", "-o", str(pdf), "--config", str(synced),
                 env={"PATH": str(empty_path)})
    assert done.returncode == 1
    assert "chưa cài LibreOffice nên không xuất được PDF" in done.stderr
    assert not pdf.exists()  # never a Word file named .pdf


def test_report_to_pdf_runs_libreoffice_headless(tmp_path, synced):
    """A stand-in `soffice` on PATH (LibreOffice is not ours): it is called headless with
    its own profile, converts the .docx we wrote, and its PDF lands where -o says."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    stand_in = bin_dir / "soffice"
    stand_in.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > "{calls}"\n'
        'while [ "$#" -gt 1 ]; do\n'
        '  if [ "$1" = "--outdir" ]; then out="$2"; fi; shift\n'
        "done\n"
        'head -c 2 "$1" > /dev/null && name=$(basename "$1" .docx)\n'
        'printf "%%PDF-1.4 stand-in" > "$out/$name.pdf"\n'
    )
    stand_in.chmod(stand_in.stat().st_mode | stat.S_IXUSR)
    pdf = tmp_path / "out" / "bao-cao.pdf"
    done = plain("report", "-o", str(pdf), "--config", str(synced),
                 env={"PATH": f"{bin_dir}:/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")
    args = calls.read_text().splitlines()
    assert args[0].startswith("-env:UserInstallation=file://")
    assert args[1:4] == ["--headless", "--convert-to", "pdf"]
    assert args[-1].endswith("bao-cao.docx")


@pytest.mark.skipif(not (os.path.exists("/usr/bin/soffice") or os.path.exists(
    "/usr/bin/libreoffice")), reason="LibreOffice is not installed (.ci/run installs it)")
def test_report_to_pdf_with_the_real_libreoffice(tmp_path, synced):
    pdf = tmp_path / "bao-cao.pdf"
    done = plain("report", "-o", str(pdf), "--config", str(synced))
    assert done.returncode == 0, done.stderr
    assert pdf.read_bytes().startswith(b"%PDF")


def test_xlsx_master_holds_formula_like_text_as_text(synced):
    """The .xlsx the coordinator opens (the master) stores the same texts as strings with
    Excel's quote prefix: shown as typed, never evaluated, not even after an edit."""
    master = next((synced.parent / "tong-hop").rglob("tong-hop-*.xlsx"))
    book = openpyxl.load_workbook(master)
    cells = [c for tab in book.worksheets for row in tab.iter_rows() for c in row
             if c.value in DANGEROUS]
    assert sorted(c.value for c in cells) == sorted(DANGEROUS)
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
