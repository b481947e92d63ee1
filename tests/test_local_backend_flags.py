"""write_flags writes only what the software owns, and nothing while a person holds the file."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pytest
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill

from cchc_sync.domain.records import Finding, Period, Severity, Unit
from cchc_sync.domain.templates import load_template_set
from cchc_sync.sources.base import (
    CHECK_TAB,
    ERROR_FILL,
    NOTE_AUTHOR,
    WARNING_FILL,
    CellMark,
    FlagPlan,
    SheetRef,
    TabFlags,
    UnitUnreachable,
)
from cchc_sync.sources.xlsx.backend import LocalBackend

UNIT = Unit(code="VP", name="Văn phòng HĐND và UBND huyện", level="huyen")
PERIOD = Period(code="2022S1", start=dt.date(2021, 12, 15), end=dt.date(2022, 6, 14))
CHECKED = dt.datetime(2022, 6, 14, 8, 30, tzinfo=dt.UTC)  # 15:30 in Hà Nội
TTHC = "Giải quyết TTHC"
STATUS, TOTAL, FIELD = 12, 5, 1  # columns of the tthc tab


@pytest.fixture(scope="module")
def templates():
    return load_template_set()


@pytest.fixture
def backend(tmp_path):
    return LocalBackend(tmp_path)


@pytest.fixture
def sheet(backend, templates):
    """A unit workbook as a clerk left it: figures, a formula with its cached result, a
    note of their own, a fill of their own, a value typed in the status column."""
    ref = backend.create_unit_sheet(UNIT, PERIOD, templates)
    path = backend.sheet_path(ref)
    wb = openpyxl.load_workbook(path)
    ws = wb[TTHC]
    ws.append(["Tư pháp", 1, 2, 3, 7, 4, 2, 0, 1, 0, None, "tôi gõ vào đây"])
    ws.append(["Đất đai", 1, 2, 3, "=SUM(B3:D3)", 2, 2, 1, 1, 0, "Đã đối chiếu"])
    ws.append(["Hộ tịch", 0, 0, "27.554", 27554])
    ws["A2"].comment = Comment("Số liệu lấy từ phần mềm một cửa", "Nguyễn Văn A")
    ws["B4"].fill = PatternFill("solid", fgColor="FFFF00")
    ws["K4"] = "=1+1 là giải trình"  # typed as text: must stay text
    ws["K4"].data_type = "s"
    ws["C2"].number_format = "0"
    info = wb["Thông tin"]
    info["A2"], info["C2"] = "Nguyễn Thị B", "Đang nhập"
    wb.save(path)
    _put_cached_result(path, TTHC, "E3", "6")
    return ref


def _put_cached_result(path, tab, coord, value):
    """Give a formula cell the cached result Excel would have saved (openpyxl writes none)."""
    data = path.read_bytes()
    zin = zipfile.ZipFile(io.BytesIO(data))
    wb = openpyxl.load_workbook(path, read_only=True)
    part = f"xl/worksheets/sheet{wb.sheetnames.index(tab) + 1}.xml"
    wb.close()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == part:
                pattern = rf'(<c r="{coord}"[^>]*>\s*<f>[^<]*</f>)\s*(<v\s*/>|<v>\s*</v>)?'
                body, n = re.subn(pattern.encode(), rb"\1<v>" + value.encode() + b"</v>", body)
                assert n == 1
            zout.writestr(info, body)
    path.write_bytes(out.getvalue())


def _token(path):
    st = path.stat()
    return f"{st.st_mtime_ns}:{st.st_size}"


def _snapshot(path, status_cols):
    """Every non-owned cell's value/formula and number format, and every validation."""
    wb = openpyxl.load_workbook(path)
    cells, validations = {}, {}
    for ws in wb.worksheets:
        if ws.title == CHECK_TAB:
            continue
        status = status_cols.get(ws.title)
        for (row, col), cell in ws._cells.items():
            if status == col and row > 1:
                continue
            if cell.value is not None or cell.has_style:
                cells[(ws.title, cell.coordinate)] = (
                    cell.value, cell.data_type, cell.number_format
                )
        validations[ws.title] = sorted(
            (str(dv.sqref), dv.type, dv.formula1, dv.formula2, dv.operator)
            for dv in ws.data_validations.dataValidation
        )
    return cells, validations


def _finding(row, column, severity, message, value=None, explained=None, table="tthc"):
    return Finding(
        rule="test.rule", severity=severity, message=message, unit="VP", table=table,
        row=row, column=column, value=value, explained=explained,
    )


def _plan(layout, marks, status, severity, findings, checked=CHECKED):
    return FlagPlan(
        unit="VP",
        unit_name=UNIT.name,
        period="2022S1",
        checked_at=checked,
        tabs={"tthc": TabFlags(
            tab=TTHC, layout=layout, row_status=status, row_severity=severity, cell_marks=marks
        )},
        findings=tuple(findings),
        table_titles={"tthc": TTHC, "dvctt": "Dịch vụ công trực tuyến"},
    )


def _first_plan(layout):
    return _plan(
        layout,
        marks={
            (2, TOTAL): CellMark(severity=Severity.ERROR, note="Lỗi: tổng 7 ≠ 1 + 2 + 3 = 6"),
            (3, 6): CellMark(severity=Severity.WARNING, note="Cảnh báo: kiểm tra lại"),
            (2, FIELD): CellMark(severity=Severity.WARNING, note="Cảnh báo: trùng tên"),
        },
        status={2: "✖ 1 lỗi — tổng sai", 3: "⚠ 1 cảnh báo", 4: "✔ Hợp lệ"},
        severity={2: Severity.ERROR, 3: Severity.WARNING, 4: None},
        findings=[
            _finding(3, "truoc_han", Severity.WARNING, "Kiểm tra lại", 2, "Đã đối chiếu"),
            _finding(2, "tong_tiep_nhan", Severity.ERROR, "Tổng 7 ≠ 6", 7),
            _finding(None, None, Severity.WARNING, "=HYPERLINK(\"http://x\")", table="dvctt"),
        ],
    )


def test_flags_written_and_nothing_else_changes(backend, sheet, templates):
    path = backend.sheet_path(sheet)
    layout = backend.read_unit("VP", sheet, templates).tables["tthc"].layout
    before = _snapshot(path, {TTHC: STATUS})
    token = backend.write_flags(sheet, _first_plan(layout), expect_token=_token(path))
    assert token == _token(path)
    assert _snapshot(path, {TTHC: STATUS}) == before  # every non-owned cell unchanged

    wb = openpyxl.load_workbook(path)
    ws = wb[TTHC]
    assert ws["E3"].value == "=SUM(B3:D3)" and ws["E3"].data_type == "f"
    assert ws["K4"].data_type == "s"
    note = ws.cell(row=2, column=TOTAL).comment
    assert note.author == NOTE_AUTHOR and "tổng 7" in note.text and note.height > 50
    assert ws.cell(row=2, column=TOTAL).fill.fgColor.rgb.endswith(ERROR_FILL)
    assert ws["F3"].fill.fgColor.rgb.endswith(WARNING_FILL)
    # A1's note belongs to a person: it stays, and ours is not forced onto the cell.
    assert ws["A2"].comment.author == "Nguyễn Văn A"
    assert ws["A2"].fill.fgColor.rgb.endswith(WARNING_FILL)
    assert [ws.cell(row=r, column=STATUS).value for r in (2, 3, 4, 5)] == [
        "✖ 1 lỗi — tổng sai", "⚠ 1 cảnh báo", "✔ Hợp lệ", None
    ]
    assert ws.cell(row=2, column=STATUS).font.color.rgb.endswith("9C0006")
    assert ws.cell(row=4, column=STATUS).fill.fgColor.rgb.endswith("C6EFCE")
    assert wb.sheetnames.index(CHECK_TAB) == len(wb.sheetnames) - 2

    check = wb[CHECK_TAB]
    assert check["A1"].value == "Kết quả kiểm tra lúc 15:30 ngày 14/06/2022"
    assert check["A3"].value == "Số lỗi: 1. Số cảnh báo: 2 (đã giải trình: 1)."
    rows = list(check.iter_rows(min_row=6, values_only=True))
    assert rows[0] == ("Bảng", "Dòng", "Cột", "Mức độ", "Nội dung", "Giá trị", "Giải trình")
    assert rows[1] == (TTHC, 2, "Tổng số hồ sơ tiếp nhận (cột E)", "Lỗi", "Tổng 7 ≠ 6", 7, None)
    assert rows[2][:4] == (TTHC, 3, "Đã giải quyết trước hạn (cột F)", "Cảnh báo (đã giải trình)")
    assert rows[2][6] == "Đã đối chiếu"
    assert rows[3][0] == "Dịch vụ công trực tuyến" and rows[3][1] is None
    injected = check.cell(row=9, column=5)
    assert injected.value == '=HYPERLINK("http://x")' and injected.data_type == "s"
    assert check["B7"].hyperlink.location == "'Giải quyết TTHC'!E2"

    # The formula keeps its cached result: a reader of values still sees 6.
    again = backend.read_unit("VP", sheet, templates)
    assert again.tables["tthc"].rows[1].cells["tong_tiep_nhan"].value == 6
    assert again.version_token == token


def test_second_plan_clears_the_old_marks(backend, sheet, templates):
    path = backend.sheet_path(sheet)
    layout = backend.read_unit("VP", sheet, templates).tables["tthc"].layout
    token = backend.write_flags(sheet, _first_plan(layout), expect_token=None)
    before = _snapshot(path, {TTHC: STATUS})
    second = _plan(
        layout,
        marks={(3, 6): CellMark(severity=Severity.ERROR, note="Lỗi mới")},
        status={2: "✔ Hợp lệ", 3: "✖ 1 lỗi"},
        severity={2: None, 3: Severity.ERROR},
        findings=[],
        checked=CHECKED + dt.timedelta(hours=1),
    )
    assert backend.write_flags(sheet, second, expect_token=token)
    assert _snapshot(path, {TTHC: STATUS}) == before
    ws = openpyxl.load_workbook(path)[TTHC]
    assert ws.cell(row=2, column=TOTAL).comment is None
    assert ws.cell(row=2, column=TOTAL).fill.fill_type is None
    assert ws["A2"].comment.author == "Nguyễn Văn A"  # a person's note survives
    assert ws["A2"].fill.fill_type is None
    assert ws["B4"].fill.fgColor.rgb.endswith("FFFF00")  # a person's own fill survives
    assert ws["F3"].comment.text == "Lỗi mới" and ws["F3"].fill.fgColor.rgb.endswith(ERROR_FILL)
    assert [ws.cell(row=r, column=STATUS).value for r in (2, 3, 4)] == [
        "✔ Hợp lệ", "✖ 1 lỗi", None
    ]
    check = openpyxl.load_workbook(path)[CHECK_TAB]
    assert check["A1"].value == "Kết quả kiểm tra lúc 16:30 ngày 14/06/2022"
    assert check["A5"].value == "Không có lỗi nào."
    assert check.max_row == 5


@pytest.mark.parametrize("lock", ["~${name}", ".~lock.{name}#"])
def test_open_workbook_is_left_alone(backend, sheet, templates, lock):
    path = backend.sheet_path(sheet)
    layout = backend.read_unit("VP", sheet, templates).tables["tthc"].layout
    (path.parent / lock.format(name=path.name)).write_text("user")
    before = path.read_bytes()
    assert backend.write_flags(sheet, _first_plan(layout), expect_token=_token(path)) is None
    assert path.read_bytes() == before


def test_saved_meanwhile_is_left_alone(backend, sheet, templates):
    path = backend.sheet_path(sheet)
    read = backend.read_unit("VP", sheet, templates)
    before = path.read_bytes()
    stale = read.version_token.split(":")[0] + ":1"
    assert backend.write_flags(sheet, _first_plan(read.tables["tthc"].layout), stale) is None
    assert path.read_bytes() == before


def test_missing_status_column_or_tab(backend, sheet, templates):
    path = backend.sheet_path(sheet)
    layout = backend.read_unit("VP", sheet, templates).tables["tthc"].layout
    wb = openpyxl.load_workbook(path)
    wb[TTHC].delete_cols(STATUS)
    del wb[CHECK_TAB]
    wb.save(path)
    before = _snapshot(path, {})
    assert backend.write_flags(sheet, _first_plan(layout), expect_token=None)
    assert _snapshot(path, {}) == before
    wb = openpyxl.load_workbook(path)
    ws = wb[TTHC]
    assert all(c.comment is None or c.comment.author != NOTE_AUTHOR for row in ws for c in row)
    assert ws.cell(row=2, column=TOTAL).fill.fill_type is None
    check = wb[CHECK_TAB]  # recreated, before the hidden metadata tab
    assert wb.sheetnames[-2:] == [CHECK_TAB, "_cchc"]
    assert check.cell(row=7, column=5).value == "Tổng 7 ≠ 6"


def test_file_mode_kept_and_errors(backend, sheet, templates, tmp_path):
    path = backend.sheet_path(sheet)
    layout = backend.read_unit("VP", sheet, templates).tables["tthc"].layout
    path.chmod(0o640)
    assert backend.write_flags(sheet, _first_plan(layout), expect_token=None)
    assert path.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    with pytest.raises(UnitUnreachable, match="Không tìm thấy"):
        backend.write_flags(SheetRef(ref="don-vi/x.xlsx"), _first_plan(layout), None)
    (tmp_path / "bad.xlsx").write_bytes(b"garbage")
    with pytest.raises(UnitUnreachable, match="bị hỏng"):
        backend.write_flags(SheetRef(ref="bad.xlsx"), _first_plan(layout), None)
