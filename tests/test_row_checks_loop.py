"""Row checks run over a table in one loop per check (`RowCheck.rows_to_check` picks the
candidate rows, `validate.row_check_findings` checks only those) find exactly what calling
every check's `check_row` on every row finds, in the same order: a kind whose loop skips a
row its check_row would report fails here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cchc_sync.checks.base import RowCheck
from cchc_sync.checks.suite import checks_for
from cchc_sync.checks.validate import (
    _check_identity,
    check_identity_each,
    key_plan,
    row_check_findings,
    row_key,
)
from cchc_sync.domain.records import Finding, Period, Severity, TypedRow
from cchc_sync.domain.templates import (
    Choice,
    ColumnSpec,
    ColumnType,
    RuleSpec,
    TableSpec,
    load_template_set,
)
from cchc_sync.normalise import fold

PERIOD = Period(code="2022Q2", start=dt.date(2022, 4, 1), end=dt.date(2022, 6, 30))
CHOICES = (
    Choice(code="ke_hoach", label="Kế hoạch", doc_type="KH"),
    Choice(code="quyet_dinh", label="Quyết định", doc_type="QĐ"),
    Choice(code="khac", label="Khác"),
    Choice(code="ke_hoach", label="Kế hoạch (trùng mã)", doc_type="TB"),  # first one wins
)
COLUMNS = (
    *(ColumnSpec(key=f"n{i}", title=f"Số {i}", type=ColumnType.INT) for i in range(4)),
    ColumnSpec(key="ty_le", title="Tỷ lệ", type=ColumnType.PCT),
    ColumnSpec(key="ngay", title="Ngày", type=ColumnType.DATE),
    ColumnSpec(key="so_ky_hieu", title="Số, ký hiệu", type=ColumnType.DOCNO),
    ColumnSpec(key="loai", title="Loại văn bản", type=ColumnType.CHOICE, choices=CHOICES),
    ColumnSpec(key="co", title="Có áp dụng", type=ColumnType.BOOL),
)


def rule(rid: str, kind: str, **params: object) -> RuleSpec:
    return RuleSpec(id=rid, kind=kind, severity=Severity.ERROR, params=params)


TABLE = TableSpec(key="bang", tab="Bảng", columns=COLUMNS, rules=(
    rule("tong", "sum_equals", total="n0", parts=["n1", "n2"]),
    rule("tong-3", "sum_equals", total="n3", parts=["n0", "n1", "n2"]),
    rule("le", "le", left="n1", right="n0"),
    rule("le-ty-le", "le", left="ty_le", right="n3"),
    rule("ty-le", "rate", rate="ty_le", numerator="n1", denominator="n0"),
    rule("ty-le-rong", "rate", rate="ty_le", numerator="n2", denominator="n3", tolerance=0.5),
    rule("loai", "docno_type", number="so_ky_hieu", choice="loai"),
    rule("ngay", "date_in_period", column="ngay"),
    rule("can", "requires", when="co", then=["n2", "so_ky_hieu"]),
    rule("khoang", "range", column="n3", min=2, max=7),
    rule("khoang-tren", "range", column="ty_le", max=60.5),
    rule("khoang-duoi", "range", column="n1", min=1),
))

VALUES = {
    ColumnType.INT: st.one_of(st.integers(0, 8), st.integers(-3, 10**6)),
    ColumnType.PCT: st.one_of(st.sampled_from([0, 0.0, 50.0, 33.33, 66.67, 100.0, 150.0]),
                              st.floats(-10, 200, allow_nan=False)),
    ColumnType.DATE: st.dates(dt.date(2022, 6, 20), dt.date(2022, 7, 10)),
    ColumnType.DOCNO: st.sampled_from(["175/KH-UBND", "12/QĐ-UBND", "07/UBND-VP", "KH-UBND",
                                       "3/TB-SNV", "175", "abc"]),
    ColumnType.CHOICE: st.sampled_from(["ke_hoach", "quyet_dinh", "khac", "la"]),
    ColumnType.BOOL: st.booleans(),
}
# Blank is absent (not None) in a TypedRow; half the time a column is blank.
row_values = st.fixed_dictionaries({}, optional={c.key: VALUES[c.type] for c in COLUMNS})


def each_row_each_check(rows: list[TypedRow], checks: tuple[RowCheck, ...],
                        unit: str = "DV01") -> list[Finding]:
    return [f for row in rows for c in checks for f in c.check_row(row, unit, PERIOD)]


def typed(values_list: list[dict[str, Any]], table: str = "bang") -> list[TypedRow]:
    return [TypedRow(table=table, key=f"k{i}", sheet_row=5 + i, values=v)
            for i, v in enumerate(values_list)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row_values, max_size=12))
def test_one_loop_per_check_finds_what_every_row_and_check_finds(
        values_list: list[dict[str, Any]]) -> None:
    rows = typed(values_list)
    checks = checks_for(TABLE).row
    assert len(checks) == len(TABLE.rules)  # every kind above is a row check
    assert row_check_findings(rows, checks, "DV01", PERIOD) == each_row_each_check(rows, checks)


def test_the_default_templates_rows_with_findings_of_every_row_kind() -> None:
    """The shipped templates' own row rules, over rows that break each of them and rows
    that pass, in one table's worth of rows."""
    kinds_found: set[str] = set()
    for spec in load_template_set().tables.values():
        checks = checks_for(spec).row
        if not checks:
            continue
        samples = []
        for a in (None, 0, 1, 3, 7):
            for b in (None, 0, 2, 3):
                samples.append({c.key: (a if i % 2 else b) for i, c in enumerate(spec.columns)
                                if c.type is ColumnType.INT})
        rows = typed(samples, spec.key)
        found = row_check_findings(rows, checks, "DV01", PERIOD)
        assert found == each_row_each_check(rows, checks)
        kinds_found |= {f.rule for f in found}
    assert len(kinds_found) >= 3  # the samples do break rules: sums, parts, rates


# Row identity: the key plan resolved once per table, and the shortcut for tables whose keys
# are all distinct, against the general forms.
KEYED = TableSpec(key="ds", tab="Danh sách", columns=(
    ColumnSpec(key="co_quan", title="Cơ quan", type=ColumnType.TEXT, is_key=True),
    ColumnSpec(key="loai", title="Loại", type=ColumnType.CHOICE, choices=CHOICES, is_key=True),
    ColumnSpec(key="so", title="Số", type=ColumnType.INT),
))
ONE_KEY = TableSpec(key="mot", tab="Một khoá", columns=KEYED.columns[:1] + KEYED.columns[2:])
ONE_INT_KEY = TableSpec(key="so", tab="Số", columns=(
    ColumnSpec(key="so", title="Số", type=ColumnType.INT, is_key=True),))
NO_KEY = TableSpec(key="tu_do", tab="Tự do", columns=KEYED.columns[2:])
SINGLE = TableSpec(key="mot_dong", tab="Một dòng", columns=KEYED.columns, single_row=True)
KEY_VALUES = {
    "co_quan": st.sampled_from(["Phòng Nội vụ", "phòng nội vụ", "PHÒNG NỘI VỤ ", "UBND xã",
                                "Ủy ban nhân dân xã", "#dong-5", "a|b", "", "7"]),
    "loai": st.sampled_from(["ke_hoach", "khac", "a|b"]),
    "so": st.one_of(st.integers(0, 3), st.integers()),
}
key_rows = st.lists(st.fixed_dictionaries({}, optional=KEY_VALUES), max_size=10)


def key_by_spec(values: dict[str, Any], spec: TableSpec, sheet_row: int) -> str:
    """The row key as the spec reads it, column by column (what row_key must equal)."""
    if spec.single_row:
        return ""
    cols = spec.key_columns
    if any(values.get(c.key) is None for c in cols):
        return f"#dong-{sheet_row}"
    return "|".join(fold(str(values[c.key])) if c.type is ColumnType.TEXT
                    else str(values[c.key]) for c in cols)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(key_rows, st.sampled_from([KEYED, ONE_KEY, ONE_INT_KEY, NO_KEY, SINGLE]))
def test_row_keys_and_identity_as_the_general_forms(values_list: list[dict[str, Any]],
                                                     spec: TableSpec) -> None:
    plan = key_plan(spec)
    rows = [TypedRow(table=spec.key, key=row_key(v, plan, 5 + i), sheet_row=5 + i, values=v)
            for i, v in enumerate(values_list)]
    assert [r.key for r in rows] == [key_by_spec(r.values, spec, r.sheet_row) for r in rows]
    fast: list[Any] = []
    general: list[Any] = []
    assert _check_identity(rows, spec, recorder(fast)) == \
        check_identity_each(rows, spec, recorder(general))
    assert fast == general


def recorder(into: list[Any]) -> Callable[..., Any]:
    """A `finding` callback that keeps what it was asked to report."""
    return lambda *args, **kw: into.append((args, kw))
