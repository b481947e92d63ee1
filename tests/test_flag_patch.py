"""The patched flag write (flag_patch) gives what the full openpyxl rewrite gives.

Both paths start from the same bytes with the same plan, on workbooks in the states a
cycle meets: made by the software and never flagged, flagged before (its old notes and
fills must go), saved by LibreOffice (shared strings, its own styles and parts). Each
result is loaded by openpyxl and compared cell by cell on everything a flag write touches:
values, fonts, fills, alignment, borders, notes, links, and the check tab's layout.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest

from cchc_sync.app.publishing import flag_plan
from cchc_sync.sources.base import CHECK_TAB
from cchc_sync.sources.xlsx.backend import full_rewrite
from cchc_sync.sources.xlsx.flag_patch import patch_flags
from tests.conftest import synced_copy


def _cell_facts(cell) -> tuple:
    font, fill = cell.font, cell.fill
    return (
        cell.value,
        bool(font.b), bool(font.i), font.sz, font.color.rgb if font.color else None,
        fill.fill_type, fill.fgColor.rgb if fill.fill_type else None,
        bool(cell.alignment.wrap_text), cell.border.left.style, cell.number_format,
        cell.protection.locked, bool(cell.quotePrefix),
        (cell.comment.text, cell.comment.author) if cell.comment else None,
        cell.hyperlink.location if cell.hyperlink else None,
    )


def _facts(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    out: dict = {"sheets": wb.sheetnames, "active": wb.active.title}
    for ws in wb.worksheets:
        cells = {c.coordinate: _cell_facts(c) for row in ws.iter_rows() for c in row}
        blank = _cell_facts(ws.cell(row=ws.max_row + 5, column=1))[1:]
        # A cell one path made and the other did not is the same when it is blank.
        out[ws.title] = {k: v for k, v in cells.items() if v[0] is not None or v[1:] != blank}
        out[ws.title, "layout"] = (
            ws.freeze_panes, ws.auto_filter.ref, ws.print_title_rows, ws.sheet_state,
            ws.page_setup.orientation, ws.page_setup.fitToWidth,
            {k: d.width for k, d in ws.column_dimensions.items() if d.width},
            ws.sheet_view.tabSelected, ws.protection.sheet,
            len(ws.data_validations.dataValidation),
        )
    wb.close()
    return out


def _both(path: Path, plan, tmp: Path) -> tuple[dict, dict]:
    patched, full = tmp / "patched.xlsx", tmp / "full.xlsx"
    patched.write_bytes(patch_flags(path.read_bytes(), plan))
    full.write_bytes(full_rewrite(path, plan))
    return _facts(patched), _facts(full)


@pytest.fixture
def ws(tmp_path, clock, synced_template):
    ws = synced_copy(synced_template, tmp_path / "d", clock)
    yield ws
    ws.close()


def _plans(ws, count: int = 3):
    """Plans of `count` checked units: those with findings first, then a clean one."""
    sheets = ws.archive.sheets(ws.period.code)
    plans = [(code, ws.config.root / state.ref, flag_plan(ws, code, state))
             for code, state in sheets.items() if state.checked_at is not None]
    plans.sort(key=lambda p: not p[2].findings)
    return plans[:count - 1] + plans[-1:]


def test_the_patch_and_the_full_rewrite_agree(ws, tmp_path):
    compared = with_findings = with_links = 0
    for code, path, plan in _plans(ws):
        facts_patched, facts_full = _both(path, plan, tmp_path)
        assert facts_patched == facts_full, code
        compared += 1
        with_findings += bool(plan.findings)
        with_links += any(v[-1] for v in facts_full[CHECK_TAB].values())
        # The same plan once more over the flagged file: the old marks go, the new come.
        path.write_bytes(patch_flags(path.read_bytes(), plan))
        again_patched, again_full = _both(path, plan, tmp_path)
        assert again_patched == again_full == facts_full, code
    assert compared == 3 and with_findings == 2 and with_links == 2


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice not installed")
def test_a_workbook_saved_by_libreoffice_agrees_and_the_patch_opens_in_it(ws, tmp_path):
    code, path, plan = _plans(ws)[0]
    patched = tmp_path / "patched-native.xlsx"
    patched.write_bytes(patch_flags(path.read_bytes(), plan))
    saved = tmp_path / "lo"
    # One LibreOffice start: it saves the unit's workbook as a clerk's LibreOffice would,
    # and opens (and saves) the patched one.
    subprocess.run(["soffice", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--headless", "--convert-to", "xlsx", "--outdir", str(saved), str(path),
                    str(patched)], check=True, capture_output=True, timeout=300)
    facts_patched, facts_full = _both(saved / path.name, plan, tmp_path)
    assert facts_patched == facts_full
    reopened = openpyxl.load_workbook(saved / patched.name)
    checks = [c.value for row in reopened[CHECK_TAB].iter_rows() for c in row if c.value]
    assert str(checks[0]).startswith("Kết quả kiểm tra lúc")
    assert any(f.message in checks for f in plan.findings)
