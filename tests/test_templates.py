"""The template set loads, says what it holds, and names the file, table and column of a
mistake."""

import shutil

import pytest

from cchc_sync.checks.suite import bind_checks
from cchc_sync.domain.templates import (
    Aggregate,
    ColumnType,
    TemplateError,
    default_template_dir,
    load_template_set,
)


def test_default_set_matches_the_data_dictionary():
    t = load_template_set()
    assert t.version == "1"
    assert list(t.tables) == [
        "tthc", "dvctt", "mot_cua", "ky_so", "bien_che", "dao_tao", "van_ban", "iso", "thong_tin",
    ]
    assert t.table("tthc").tab == "Giải quyết TTHC"
    assert t.table("ky_so").tab == "Văn bản điện tử, chữ ký số"
    titles = [c.title for c in t.table("tthc").columns]
    assert titles[0] == "Lĩnh vực" and "Mới tiếp nhận trực tiếp, bưu chính" in titles
    assert [c.key for c in t.table("bien_che").key_columns] == ["co_quan", "loai"]
    assert t.table("dvctt").column("so_thu_tuc").aggregate is Aggregate.COMMON
    assert t.table("dvctt").column("ty_le").type is ColumnType.PCT
    assert t.table("mot_cua").single_row
    loai = t.table("van_ban").column("loai_van_ban")
    assert loai.choice("chuong_trinh").doc_type == "CTr"
    assert loai.choice("cong_van").doc_type is None
    # `by` figures expand into one figure per choice.
    ids = {f.id for f in t.figures}
    assert {
        "dvctt.ty_le.toan_trinh", "dvctt.ty_le.mot_phan", "bien_che.chua_su_dung.cong_chuc",
    } <= ids
    assert t.figure("dvctt.ty_le.toan_trinh").ratio == (
        "dvctt.truc_tuyen.toan_trinh", "dvctt.phat_sinh.toan_trinh",
    )


@pytest.fixture
def template_copy(tmp_path):
    target = tmp_path / "tpl"
    shutil.copytree(default_template_dir(), target)
    return target


def test_unknown_type_names_file_table_and_column(template_copy):
    path = template_copy / "tthc.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "{key: truc_tuyen, title: Mới tiếp nhận trực tuyến, type: int}",
        "{key: truc_tuyen, title: Mới tiếp nhận trực tuyến, type: integer}",
    ), encoding="utf-8")
    with pytest.raises(TemplateError) as err:
        load_template_set(template_copy)
    msg = str(err.value)
    assert "tthc.yaml" in msg and "table tthc" in msg and "column truc_tuyen" in msg
    assert "integer" in msg


def test_rule_naming_an_unknown_column_is_rejected(template_copy):
    path = template_copy / "dvctt.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "left: ho_so_truc_tuyen", "left: ho_so_online"), encoding="utf-8")
    with pytest.raises(TemplateError, match="ho_so_online"):
        # Rules are bound to their check classes when a workspace opens (bind_checks).
        bind_checks(load_template_set(template_copy))


def test_missing_table_file_and_bad_yaml(template_copy):
    (template_copy / "iso.yaml").unlink()
    with pytest.raises(TemplateError, match="iso.yaml is missing"):
        load_template_set(template_copy)
    shutil.copy(default_template_dir() / "iso.yaml", template_copy / "iso.yaml")
    (template_copy / "dao_tao.yaml").write_text("key: [unclosed", encoding="utf-8")
    with pytest.raises(TemplateError, match="dao_tao.yaml: not valid YAML"):
        load_template_set(template_copy)


def test_choice_column_without_choices(template_copy):
    path = template_copy / "thong_tin.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.split("    choices:")[0], encoding="utf-8")
    with pytest.raises(TemplateError, match="column trang_thai: a choice column needs choices"):
        load_template_set(template_copy)


@pytest.mark.parametrize(
    ("title", "problem"),
    [
        ("Giải quyết thủ tục hành chính các cấp", "1 to 31 characters"),
        ("TTHC: giải quyết", "may not contain :"),
        ("Kiểm tra", "reserved"),
    ],
)
def test_tab_titles_excel_would_refuse(template_copy, title, problem):
    path = template_copy / "tthc.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "tab: Giải quyết TTHC", f"tab: '{title}'"), encoding="utf-8")
    with pytest.raises(TemplateError, match=problem):
        load_template_set(template_copy)
