"""Row and table rules on hand-made RawTables (no backend involved)."""

from __future__ import annotations

import dataclasses

from cchc_sync.checks.validate import check_table, check_unit
from cchc_sync.domain.periods import parse_period
from cchc_sync.domain.records import (
    Period,
    RawCell,
    RawRow,
    RawTable,
    Severity,
    TabLayout,
    UnitRead,
)
from cchc_sync.domain.templates import load_template_set

T = load_template_set()
P: Period = parse_period("2022S1")


def table(key: str, *rows: dict, found: bool = True) -> RawTable:
    spec = T.table(key)
    layout = TabLayout(columns={c.key: i for i, c in enumerate(spec.columns, start=1)})
    raw_rows = tuple(
        # As a backend reads it: a cell for every column found, None where blank.
        RawRow(sheet_row=n, cells={c.key: RawCell(value=r.get(c.key)) for c in spec.columns})
        for n, r in enumerate(rows, start=2)
    )
    return RawTable(table=key, tab_found=found, layout=layout, rows=raw_rows)


def rules(findings):
    return sorted((f.row, f.column, f.rule) for f in findings)


def test_identities_skip_blank_operands():
    rows, findings = check_table(table("tthc", {
        "linh_vuc": "Hộ tịch", "tong_tiep_nhan": 10, "tu_ky_truoc": 1, "truc_tuyen": 4,
    }), T.table("tthc"), P)
    assert findings == []  # truc_tiep blank: the identity is not checked
    assert rows[0].values == {"linh_vuc": "Hộ tịch", "tong_tiep_nhan": 10, "tu_ky_truoc": 1,
                              "truc_tuyen": 4}


def test_rate_message_quotes_the_numbers():
    _, findings = check_table(table("dvctt", {
        "loai": "Toàn trình", "ho_so_phat_sinh": 270, "ho_so_truc_tuyen": 83, "ty_le": "22,43%",
    }), T.table("dvctt"), P)
    (f,) = findings
    assert f.rule == "dvctt.ty-le" and f.severity is Severity.ERROR
    assert f.message.startswith("Tỷ lệ ghi 22,43% nhưng 83/270 = 30,74%")
    # Within rounding: no finding.
    _, ok = check_table(table("dvctt", {
        "loai": "4", "ho_so_phat_sinh": 270, "ho_so_truc_tuyen": 83, "ty_le": "30,74%",
    }), T.table("dvctt"), P)
    assert ok == []


def test_duplicate_keys_flag_every_row_and_keep_both():
    rows, findings = check_table(table(
        "tthc",
        {"linh_vuc": "Hộ tịch", "tong_tiep_nhan": 3},
        {"linh_vuc": "Hoà giải", "tong_tiep_nhan": 1},
        {"linh_vuc": "hộ  tịch", "tong_tiep_nhan": 5},
    ), T.table("tthc"), P)
    assert rules(findings) == [(2, None, "row.duplicate-key"), (4, None, "row.duplicate-key")]
    assert len({r.key for r in rows}) == 3


def test_required_key_missing_and_one_row_tables():
    rows, findings = check_table(table("dao_tao", {"so_nguoi": 4}), T.table("dao_tao"), P)
    assert rules(findings) == [(2, "noi_dung", "row.required")]
    assert rows[0].key == "#dong-2"
    _, findings = check_table(table("mot_cua", {"tong_ho_so": 4}, {"tong_ho_so": 5}),
                              T.table("mot_cua"), P)
    assert rules(findings) == [(3, None, "table.single-row")]


def test_document_type_and_date_rules():
    _, findings = check_table(table(
        "van_ban",
        {"so_ky_hieu": "28/QĐ-UBND", "ngay_ban_hanh": "01/3/2022", "loai_van_ban": "Kế hoạch",
         "trich_yeu": "x"},
        {"so_ky_hieu": "1504/UBND-NCTH", "ngay_ban_hanh": "20/6/2022",
         "loai_van_ban": "Công văn", "trich_yeu": "y"},
        {"so_ky_hieu": "05/CTr-UBND", "ngay_ban_hanh": "02/3/2022",
         "loai_van_ban": "Chương trình", "trich_yeu": "z"},
    ), T.table("van_ban"), P)
    assert rules(findings) == [
        (2, "loai_van_ban", "van_ban.loai-khong-khop"),
        (3, "ngay_ban_hanh", "van_ban.ngay-sau-ky"),
    ]
    assert all(f.severity is Severity.WARNING for f in findings)


def test_missing_tab_and_missing_column():
    _, findings = check_table(table("iso", found=False), T.table("iso"), P)
    assert rules(findings) == [(None, None, "tab.missing")]
    spec = T.table("ky_so")
    raw = table("ky_so", {"van_ban_di": 3})
    layout = dataclasses.replace(raw.layout, columns={"van_ban_di": 1},
                                 unknown_titles=("STT", "Tổng VB đi"))
    _, findings = check_table(dataclasses.replace(raw, layout=layout), spec, P)
    missing = [f for f in findings if f.rule == "tab.column-missing"]
    assert len(missing) == 4
    assert '"Tổng VB đi"' in missing[0].message and "STT" not in missing[0].message


def test_signing_off_without_a_required_tab():
    templates = dataclasses.replace(T, required_tables={"xa": ("tthc",)})
    read = UnitRead(unit="XA", tables={
        "thong_tin": table("thong_tin", {"trang_thai": "Hoàn thành"}),
        "tthc": table("tthc"),
    })
    check = check_unit(read, templates, P, level="xa")
    assert [f.rule for f in check.findings if f.rule.startswith("signoff")] == [
        "signoff.missing-table"]
    assert check_unit(read, templates, P, level="huyen").findings == [
        f for f in check.findings if not f.rule.startswith("signoff")]
