"""Checks are classes registered by their template `kind`, each declaring its parameters;
history checks see earlier periods only through a prepared view."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

import cchc_sync.checks
from cchc_sync.checks.base import CHECK_KINDS, RowCheck
from cchc_sync.checks.earlier import EarlierPeriod, EarlierPeriods, Relation
from cchc_sync.checks.history import CarriedOver
from cchc_sync.checks.row_checks import SumEquals
from cchc_sync.checks.suite import bind_checks, checks_for, history_findings
from cchc_sync.domain.records import CurrentRow, Severity
from cchc_sync.domain.templates import TemplateError, default_template_dir, load_template_set

T = load_template_set()


@pytest.fixture
def template_copy(tmp_path):
    target = tmp_path / "tpl"
    shutil.copytree(default_template_dir(), target)
    return target


def rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_received_equals_resolved_plus_pending_is_the_yaml_plus_one_class():
    rule = next(r for r in T.table("tthc").rules if r.id == "tthc.tong-giai-quyet")
    assert rule.kind == "sum_equals"
    assert CHECK_KINDS["sum_equals"] is SumEquals
    (check,) = [c for c in checks_for(T.table("tthc")).row if c.id == rule.id]
    assert type(check) is SumEquals and isinstance(check, RowCheck)
    assert check.args == {"total": "tong_tiep_nhan",
                          "parts": ("truoc_han", "dung_han", "qua_han", "dang_trong_han",
                                    "dang_qua_han")}


def test_every_kind_of_the_default_set_is_bound_by_scope():
    bound = bind_checks(T)
    assert {type(c).kind for c in bound["tthc"].history} == {"carried_over", "change"}
    assert {type(c).kind for c in bound["dvctt"].cross_unit} == {"common_value", "rate_outlier"}
    assert {type(c).kind for c in bound["van_ban"].cross_unit} == {"docno_date"}
    assert {type(c).kind for c in bound["van_ban"].row} == {"docno_type", "date_in_period"}


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("kind: le, left: ho_so_truc_tuyen", "kind: less_than, left: ho_so_truc_tuyen",
         "unknown kind 'less_than' (known: "),
        ("kind: le, left: ho_so_truc_tuyen", "kind: le, lfet: ho_so_truc_tuyen",
         "kind le does not take lfet (takes: left, right)"),
        ("right: ho_so_phat_sinh}", "}", "missing right"),
        ("right: ho_so_phat_sinh}", "right: loai}",
         "right names loai, a choice column (int/pct needed)"),
        ("numerator: ho_so_truc_tuyen,", "numerator: [ho_so_truc_tuyen],",
         "numerator names one column, not a list"),
        ("denominator: ho_so_phat_sinh}", "denominator: ho_so_phat_sinh, tolerance: nhỏ}",
         "tolerance must be a number"),
    ],
)
def test_a_wrong_rule_is_a_template_error_naming_file_table_and_rule(
        template_copy, old, new, problem):
    rewrite(template_copy / "dvctt.yaml", old, new)
    templates = load_template_set(template_copy)
    with pytest.raises(TemplateError) as err:
        bind_checks(templates)
    message = str(err.value)
    assert "dvctt.yaml: table dvctt, rule dvctt." in message
    assert problem in message


def test_a_range_needs_a_bound(template_copy):
    rewrite(template_copy / "tthc.yaml", "rules:\n",
            "rules:\n  - {id: tthc.gioi-han, kind: range, column: tong_tiep_nhan}\n")
    with pytest.raises(TemplateError, match="rule tthc.gioi-han: a range needs min, max"):
        bind_checks(load_template_set(template_copy))


def row(unit: str, key: str, **values) -> CurrentRow:
    return CurrentRow(unit=unit, table="tthc", key=key, sheet_row=2, values=values)


def test_carried_over_reads_the_prepared_view_with_predecessors_summed():
    # XA_LTHT was made of XA_LT and XA_HT: what both left pending is carried over.
    earlier = EarlierPeriods(previous=EarlierPeriod.build(
        "2022S1", Relation.PREVIOUS,
        [row("XA_LT", "ho tich", dang_trong_han=2, dang_qua_han=1),
         row("XA_HT", "ho tich", dang_trong_han=4)],
        {"XA_LTHT": ["XA_LTHT", "XA_LT", "XA_HT"]},
    ))
    now = [row("XA_LTHT", "ho tich", tu_ky_truoc=9, tong_tiep_nhan=50)]
    (f,) = history_findings(now, T, earlier)
    assert (f.rule, f.severity, f.unit, f.column, f.value) == (
        "tthc.tu-ky-truoc", Severity.WARNING, "XA_LTHT", "tu_ky_truoc", 9)
    assert f.message == ('"Từ kỳ trước chuyển qua" ghi 9 nhưng cuối kỳ trước (2022S1) lĩnh '
                         "vực này còn 7 hồ sơ đang giải quyết (trong hạn và quá hạn). Hãy "
                         "kiểm tra lại hoặc giải trình.")
    ok = [row("XA_LTHT", "ho tich", tu_ky_truoc=7, tong_tiep_nhan=50)]
    assert history_findings(ok, T, earlier) == []
    assert any(isinstance(c, CarriedOver) for c in checks_for(T.table("tthc")).history)


def test_checks_import_nothing_from_the_app_or_the_store():
    package = Path(cchc_sync.checks.__file__).parent
    imported = set()
    for path in package.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(a.name for a in node.names)
    ours = {m for m in imported if m.startswith("cchc_sync.")}
    assert ours and not {m for m in ours
                         if m.split(".")[1] in ("app", "store", "sources", "publish", "report")}
