"""The local backend makes a workbook a clerk can fill, and reads it back by column title."""

from __future__ import annotations

import datetime as dt
import os
import zipfile

import openpyxl
import pytest

from cchc_sync.domain.records import CellFormat, Period, Unit
from cchc_sync.domain.templates import load_template_set
from cchc_sync.sources.base import (
    CHECK_TAB,
    EXPLANATION_TITLE,
    INSTRUCTIONS_TAB,
    META_TAB,
    STATUS_TITLE,
    ScanState,
    SheetRef,
    UnitUnreachable,
)
from cchc_sync.sources.xlsx import backend as local_module
from cchc_sync.sources.xlsx.backend import LocalBackend

UNIT = Unit(code="XA_LT", name="UBND xã Long Trị", level="xa")
PERIOD = Period(code="2022S1", start=dt.date(2021, 12, 15), end=dt.date(2022, 6, 14))


@pytest.fixture(scope="module")
def templates():
    return load_template_set()


@pytest.fixture
def backend(tmp_path):
    return LocalBackend(tmp_path)


@pytest.fixture
def sheet(backend, templates):
    return backend.create_unit_sheet(UNIT, PERIOD, templates)


def _path(backend, sheet):
    return backend.sheet_path(sheet)


# -- creating ------------------------------------------------------------------------------


def test_unit_workbook_path_tabs_and_metadata(backend, sheet, templates, tmp_path):
    assert sheet.ref == "don-vi/2022S1/XA_LT-ubnd-xa-long-tri.xlsx"
    assert sheet.url == str((tmp_path / sheet.ref).resolve())
    assert backend.sheet_url(sheet.ref) == sheet.url
    # Written atomically: no temp file left next to it.
    assert os.listdir(tmp_path / "don-vi" / "2022S1") == ["XA_LT-ubnd-xa-long-tri.xlsx"]
    wb = openpyxl.load_workbook(_path(backend, sheet))
    tabs = [t.tab for t in templates.tables.values()]
    assert wb.sheetnames == [INSTRUCTIONS_TAB, *tabs, CHECK_TAB, META_TAB]
    assert wb[META_TAB].sheet_state == "hidden"
    assert all(wb[name].sheet_state == "visible" for name in wb.sheetnames[:-1])
    assert wb.active.title == INSTRUCTIONS_TAB
    meta = {r[0]: r[1] for r in wb[META_TAB].iter_rows(max_col=2, values_only=True)}
    assert meta["unit"] == "XA_LT"
    assert meta["unit_name"] == "UBND xã Long Trị"
    assert meta["period"] == "2022S1"
    assert meta["period_from"] == "2021-12-15" and meta["period_to"] == "2022-06-14"
    assert meta["template_name"] == templates.name
    assert meta["template_version"] == templates.version
    assert dt.datetime.fromisoformat(meta["created_at"]).tzinfo is not None
    assert "Chưa kiểm tra" in str(wb[CHECK_TAB]["A2"].value)


def test_table_tabs_headers_notes_and_formats(backend, sheet, templates):
    wb = openpyxl.load_workbook(_path(backend, sheet))
    for spec in templates.tables.values():
        ws = wb[spec.tab]
        titles = [c.value for c in ws[1]]
        assert titles == [c.title for c in spec.columns] + [EXPLANATION_TITLE, STATUS_TITLE]
        assert ws.freeze_panes == "A2"
        for index, col in enumerate(spec.columns, start=1):
            cell = ws.cell(row=1, column=index)
            assert cell.font.b and cell.alignment.wrap_text and cell.border.left.style
            assert cell.fill.fgColor.rgb.endswith("DDEBF7")
            assert cell.comment is not None and "Kiểu:" in cell.comment.text
            letter = cell.column_letter
            width = ws.column_dimensions[letter].width
            assert width == (col.width or width) and width >= 8
            expected = {"pct": "0.00%", "date": "dd/mm/yyyy", "int": "#,##0"}.get(col.type)
            if expected:
                assert ws.column_dimensions[letter].number_format == expected
                if spec.single_row:
                    assert ws.cell(row=2, column=index).number_format == expected
        status = ws.cell(row=1, column=len(titles))
        assert status.fill.fgColor.rgb.endswith("BFBFBF")  # visibly the software's (grey)


def test_data_validation(backend, sheet, templates):
    wb = openpyxl.load_workbook(_path(backend, sheet))

    def rules(tab):
        return {str(dv.sqref): dv for dv in wb[tab].data_validations.dataValidation}

    tthc = rules("Giải quyết TTHC")
    assert tthc["B2:B500"].type == "whole"
    assert tthc["B2:B500"].operator == "greaterThanOrEqual" and tthc["B2:B500"].formula1 == "0"
    assert "số nguyên" in tthc["B2:B500"].error
    assert "A2:A500" not in tthc  # text: no validation
    dvctt = rules("Dịch vụ công trực tuyến")
    assert dvctt["A2:A500"].type == "list"
    assert dvctt["A2:A500"].formula1 == (
        '"Mức độ 2 (thông tin),Một phần (mức độ 3),Toàn trình (mức độ 4)"'
    )
    iso = rules("ISO 9001")  # one-row table: row 2 only
    assert iso["A2"].formula1 == '"Có,Không"'
    assert iso["C2"].type == "date"
    van_ban = rules("Văn bản chỉ đạo")
    assert van_ban["B2:B500"].type == "date"
    assert van_ban["C2:C500"].formula1.startswith('"Kế hoạch,Quyết định')


def test_instructions_tab_in_vietnamese(backend, sheet, templates):
    ws = openpyxl.load_workbook(_path(backend, sheet))[INSTRUCTIONS_TAB]
    text = "\n".join(str(c.value) for c in ws["A"] if c.value)
    for expected in (
        "UBND xã Long Trị",
        "XA_LT",
        "2022S1",
        "15/12/2021",
        "14/06/2022",
        "27.554",
        "dd/mm/yyyy",
        "không phải số 0",
        '"Giải trình"',
        '"Kết quả kiểm tra"',
        '"Kiểm tra"',
        '"Trạng thái" = "Hoàn thành"',
        '"Thông tin"',
        "Biểu II.06a",
    ):
        assert expected in text, expected
    for spec in templates.tables.values():
        assert f'"{spec.tab}"' in text
        for col in spec.columns:
            assert col.title in text
    assert ws.column_dimensions["A"].width >= 80 and ws["A8"].alignment.wrap_text
    assert ws["A1"].font.b


def test_create_never_overwrites_a_clerks_workbook(backend, sheet, templates):
    path = _path(backend, sheet)
    wb = openpyxl.load_workbook(path)
    wb["Giải quyết TTHC"]["A2"] = "Tư pháp"
    wb.save(path)
    before = path.read_bytes()
    assert backend.create_unit_sheet(UNIT, PERIOD, templates) == sheet
    assert path.read_bytes() == before


def test_create_master(backend, tmp_path):
    ref = backend.create_master("Tổng hợp CCHC huyện", PERIOD)
    assert ref.ref == "tong-hop/2022S1/tong-hop-2022S1.xlsx"
    ws = openpyxl.load_workbook(tmp_path / ref.ref)["Tổng hợp"]
    assert ws["A1"].value == "Tổng hợp CCHC huyện"
    assert "Chưa có số liệu" in ws["A3"].value


# -- reading -------------------------------------------------------------------------------


def _fill_as_clerk(path):
    wb = openpyxl.load_workbook(path)
    ws = wb["Giải quyết TTHC"]
    ws["A2"], ws["B2"], ws["E2"] = "Tư pháp", 3, "27.554"  # typed text, as in a text cell
    ws["K2"] = "Đã đối chiếu"  # Giải trình
    # row 3 left blank in the middle
    ws["A4"], ws["E4"], ws["F4"] = "Đất đai", 120, 0
    ws["K5"] = "chỉ có giải trình"  # no template column filled: no row
    ws["A6"] = "   "  # spaces only: blank
    ws = wb["Dịch vụ công trực tuyến"]
    ws["A2"], ws["C2"], ws["D2"], ws["E2"] = "Toàn trình (mức độ 4)", 1000, 962, 0.9616
    ws["E2"].number_format = "0.00%"
    ws = wb["Văn bản chỉ đạo"]
    ws["A2"], ws["B2"], ws["C2"] = "175/KH-UBND", dt.datetime(2022, 3, 7), "Kế hoạch"
    ws["A2"].number_format, ws["B2"].number_format = "@", "dd/mm/yyyy"
    ws["A3"], ws["B3"] = "28/QĐ-UBND", "07/6/2022"
    # A clerk moved columns and added one of their own in "Biên chế".
    ws = wb["Biên chế"]
    for col, title in enumerate(
        ["Loại", "Ghi chú", "Biên chế hiện có", "Cơ quan, đơn vị", "Biên chế được giao"], 1
    ):
        ws.cell(row=1, column=col, value=title)
    ws["A2"], ws["B2"], ws["C2"], ws["D2"], ws["E2"] = "Công chức", "x", 15, "Phòng Nội vụ", 16
    # ... and put a heading line above the header in "Đào tạo, bồi dưỡng".
    ws = wb["Đào tạo, bồi dưỡng"]
    ws.insert_rows(1)
    ws["A1"] = "ĐÀO TẠO, BỒI DƯỠNG NĂM 2022"
    ws["A3"], ws["B3"] = "Bồi dưỡng nghiệp vụ một cửa", 45
    del wb["ISO 9001"]
    wb.save(path)


def test_read_back_what_a_clerk_typed(backend, sheet, templates):
    _fill_as_clerk(_path(backend, sheet))
    read = backend.read_unit("XA_LT", sheet, templates)
    assert read.unit == "XA_LT" and read.template_version == "1"
    assert read.version_token == f"{_path(backend, sheet).stat().st_mtime_ns}:" + str(
        _path(backend, sheet).stat().st_size
    )
    assert read.modified_at.tzinfo is not None
    tthc = read.tables["tthc"]
    assert tthc.tab_found and tthc.layout.status_col == 12 and tthc.layout.explanation_col == 11
    assert [r.sheet_row for r in tthc.rows] == [2, 4]
    first = tthc.rows[0]
    assert set(first.cells) == {c.key for c in templates.table("tthc").columns}
    assert first.cells["linh_vuc"].value == "Tư pháp"
    assert first.cells["tu_ky_truoc"].value == 3
    assert first.cells["tu_ky_truoc"].fmt is CellFormat.NUMBER
    assert first.cells["tong_tiep_nhan"].value == "27.554"
    assert first.cells["truc_tuyen"].value is None
    assert first.explanation == "Đã đối chiếu"
    assert tthc.rows[1].cells["truoc_han"].value == 0  # zero is a value, not a blank
    rate = read.tables["dvctt"].rows[0].cells["ty_le"]
    assert rate.value == pytest.approx(0.9616) and rate.fmt is CellFormat.PERCENT
    docs = read.tables["van_ban"].rows
    assert docs[0].cells["so_ky_hieu"].fmt is CellFormat.TEXT
    assert docs[0].cells["ngay_ban_hanh"].value == dt.datetime(2022, 3, 7)
    assert docs[0].cells["ngay_ban_hanh"].fmt is CellFormat.DATE
    assert docs[1].cells["ngay_ban_hanh"].value == "07/6/2022"
    staff = read.tables["bien_che"]
    assert staff.layout.columns == {
        "loai": 1, "hien_co": 3, "co_quan": 4, "duoc_giao": 5
    }
    assert staff.layout.unknown_titles == ("Ghi chú",)
    assert staff.layout.explanation_col == 6 and staff.layout.status_col == 7
    row = staff.rows[0]
    assert (row.cells["co_quan"].value, row.cells["hien_co"].value) == ("Phòng Nội vụ", 15)
    assert "hop_dong" not in row.cells  # its title is gone: the column is not found
    training = read.tables["dao_tao"]
    assert training.layout.header_row == 2
    assert [(r.sheet_row, r.cells["so_nguoi"].value) for r in training.rows] == [(3, 45)]
    assert read.tables["iso"].tab_found is False and read.tables["iso"].rows == ()
    assert read.tables["mot_cua"].tab_found and read.tables["mot_cua"].rows == ()


def test_read_fresh_workbook_has_no_rows(backend, sheet, templates):
    read = backend.read_unit("XA_LT", sheet, templates)
    assert set(read.tables) == set(templates.tables)
    assert all(t.tab_found and t.rows == () for t in read.tables.values())


def test_read_again_when_saved_during_the_read(backend, sheet, templates, monkeypatch):
    path = _path(backend, sheet)
    calls = []
    real = local_module.read_workbook

    def saving_meanwhile(p, t, *budget):
        calls.append(1)
        result = real(p, t, *budget)
        if len(calls) == 1:
            wb = openpyxl.load_workbook(path)
            wb["Đào tạo, bồi dưỡng"]["A2"], wb["Đào tạo, bồi dưỡng"]["B2"] = "Tin học", 9
            wb.save(path)
        return result

    monkeypatch.setattr(local_module, "read_workbook", saving_meanwhile)
    read = backend.read_unit("XA_LT", sheet, templates)
    assert len(calls) == 2
    st = path.stat()
    assert read.version_token == f"{st.st_mtime_ns}:{st.st_size}"
    assert read.tables["dao_tao"].rows[0].cells["so_nguoi"].value == 9


# -- scanning and unreachable sheets -------------------------------------------------------


def test_scan_tokens(backend, sheet, tmp_path):
    path = _path(backend, sheet)
    missing = SheetRef(ref="don-vi/2022S1/KHONG-CO.xlsx")
    first = backend.scan({"XA_LT": (sheet, None), "X": (missing, None)})
    entry = first["XA_LT"]
    assert entry.state is ScanState.CHANGED
    st = path.stat()
    assert entry.token == f"{st.st_mtime_ns}:{st.st_size}"
    assert entry.modified_at.tzinfo is not None
    assert entry.modified_at == dt.datetime.fromtimestamp(st.st_mtime_ns / 1e9, tz=dt.UTC)
    assert first["X"].state is ScanState.UNREACHABLE
    assert "Không tìm thấy tệp" in first["X"].reason
    again = backend.scan({"XA_LT": (sheet, entry.token)})
    assert again["XA_LT"].state is ScanState.UNCHANGED and again["XA_LT"].token == entry.token
    wb = openpyxl.load_workbook(path)
    wb["Thông tin"]["A2"] = "Nguyễn Thị B"
    wb.save(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # coarse clocks
    after = backend.scan({"XA_LT": (sheet, entry.token)})["XA_LT"]
    assert after.state is ScanState.CHANGED and after.token != entry.token


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "Không tìm thấy tệp"),
        (b"this is not a workbook", "bị hỏng"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504, r"Excel cũ \(\.xls\)"),
        ("zip", "bị hỏng"),
    ],
)
def test_unreadable_workbooks_are_unreachable(backend, templates, tmp_path, content, reason):
    path = tmp_path / "don-vi" / "2022S1" / "X.xlsx"
    path.parent.mkdir(parents=True)
    if content == "zip":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("hello.txt", "a zip, not a workbook")
    elif content is not None:
        path.write_bytes(content)
    sheet = SheetRef(ref="don-vi/2022S1/X.xlsx")
    with pytest.raises(UnitUnreachable, match=reason):
        backend.read_unit("X", sheet, templates)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
def test_unreadable_file_permissions(backend, sheet, templates):
    path = _path(backend, sheet)
    path.chmod(0)
    try:
        with pytest.raises(UnitUnreachable, match="quyền"):
            backend.read_unit("XA_LT", sheet, templates)
    finally:
        path.chmod(0o644)


def test_long_choice_list_goes_through_a_named_range(tmp_path, templates):
    import dataclasses

    from cchc_sync.domain.templates import Choice, ColumnSpec, ColumnType, TableSpec

    labels = [f"Lĩnh vực số {i}, cấp huyện" for i in range(20)]  # commas, > 255 characters
    column = ColumnSpec(
        key="linh_vuc",
        title="Lĩnh vực",
        type=ColumnType.CHOICE,
        is_key=True,
        choices=tuple(Choice(code=f"lv{i}", label=x) for i, x in enumerate(labels)),
    )
    table = TableSpec(key="ds", tab="Danh sách", columns=(column,))
    custom = dataclasses.replace(templates, tables={**templates.tables, "ds": table})
    backend = LocalBackend(tmp_path)
    ref = backend.create_unit_sheet(UNIT, PERIOD, custom)
    wb = openpyxl.load_workbook(backend.sheet_path(ref))
    (dv,) = wb["Danh sách"].data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 in wb.defined_names
    name = wb.defined_names[dv.formula1]
    assert name.attr_text == "'_cchc'!$D$1:$D$20"
    assert [wb[META_TAB].cell(row=i, column=4).value for i in range(1, 21)] == labels
    # The metadata keys are still read as before.
    assert backend.read_unit("XA_LT", ref, custom).template_version == templates.version
