"""`init` and the registry in people's words: levels written as labels, a config valid
whatever the names, nothing left behind by a failed init, no "done" for a different
workspace, and unit codes that would share a workbook refused."""

from __future__ import annotations

import os
import subprocess
import tomllib

import pytest

from cchc_sync.domain.registry import RegistryError, code_key, level_code, parse_units
from tests import cli_process


def cchc(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("INVOCATION_ID", "JOURNAL_STREAM")}
    return cli_process.run([*args], capture_output=True,
                          text=True, timeout=300, env=env)


@pytest.mark.parametrize(("written", "code"), [
    ("Tỉnh", "tinh"), ("UBND tỉnh", "tinh"),
    ("Sở", "so"), ("sở", "so"), ("Ban", "so"), ("Ngành", "so"), ("Sở, ban, ngành", "so"),
    ("Huyện", "huyen"), ("CẤP HUYỆN", "huyen"), ("Cấp huyện", "huyen"), ("Quận", "huyen"),
    ("Xã", "xa"), ("xa", "xa"), ("Cấp xã", "xa"), ("cap xa", "xa"), ("Phường", "xa"),
    ("phuong", "xa"), ("Đặc khu", "xa"), ("dac khu", "xa"), ("Thị trấn", "xa"),
    ("Ca\u0302\u0301p xa\u0303", "xa"),  # decomposed (NFD) diacritics
    ("so", "so"), ("huyen", "huyen"), ("tinh", "tinh"),
    ("Đơn vị sự nghiệp", "don_vi_su_nghiep"),
])
def test_level_words_become_level_codes(written, code):
    assert level_code(written) == code


@pytest.mark.parametrize(("first", "second"), [
    ("DV.01", "DV-01"), ("ĐV02", "DV02"), ("xa_lt", "XA_LT"), ("Sở.NV", "SO-NV"),
])
def test_codes_that_make_one_file_name_are_refused_naming_both_lines(first, second):
    assert code_key(first) == code_key(second)
    text = f"ma,ten,cap\n{first},Đơn vị một,xa\n{second},Đơn vị hai,xa\n"
    with pytest.raises(RegistryError) as raised:
        parse_units(text)
    message = str(raised.value)
    assert "dòng 3" in message and "dòng 2" in message
    assert repr(first) in message and repr(second) in message


REGISTRY = """ma,ten,cap,cha,email
SNV,Sở Nội vụ,Sở,,a@x.vn
BQL,"Ban Quản lý ""Khu kinh tế"" tỉnh",Ban,,
CA,Công an tỉnh,Ngành,,
H1,UBND huyện cũ,Huyện,,
P1,UBND phường Một,Phường,,
X1,UBND xã Một,Cấp xã,,
DK,UBND đặc khu Hòn Ngọc,Đặc khu,,
SN,Trung tâm Phục vụ hành chính công,Đơn vị sự nghiệp,,
"""


def test_init_with_labels_and_odd_names_writes_a_valid_config(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(REGISTRY, encoding="utf-8")
    root = tmp_path / "ws"
    name = 'tỉnh "Sông" Mây \\ mới'
    done = cchc("init", str(root), "--units", str(units), "--period", "2026S1",
                "--name", name)
    assert done.returncode == 0, done.stderr
    config = tomllib.loads((root / "cchc-sync.toml").read_text(encoding="utf-8"))
    assert config["workspace"]["name"] == name
    assert config["levels"]["order"] == ["so", "huyen", "xa", "don_vi_su_nghiep"]
    assert config["levels"]["names"]["don_vi_su_nghiep"] == "Đơn vị sự nghiệp"
    assert config["levels"]["names"]["xa"] == "Cấp xã"
    assert "# the units registry" in (root / "cchc-sync.toml").read_text(encoding="utf-8")
    status = cchc("status", "--json", "--config", str(root / "cchc-sync.toml"))
    assert status.returncode == 0, status.stderr
    assert "Sở Nội vụ" in status.stdout
    assert len(list((root / "don-vi" / "2026S1").glob("*.xlsx"))) == 8


def test_a_failed_init_leaves_nothing_behind(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text("ma,ten,cap\nDV.01,Đơn vị một,xa\nDV-01,Đơn vị hai,xa\n",
                     encoding="utf-8")
    root = tmp_path / "ws"
    done = cchc("init", str(root), "--units", str(units), "--period", "2026S1")
    assert done.returncode == 2
    assert done.stderr.startswith("cchc-sync: Lỗi trong danh sách đơn vị: ")
    assert "'DV-01'" in done.stderr and "'DV.01'" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv"]

    # A failure after building began (the target holds a folder `init` would write):
    # the target keeps only what it had, no temporary folder stays beside it.
    units.write_text(REGISTRY, encoding="utf-8")
    root.mkdir()
    (root / "don-vi").mkdir()
    (root / "don-vi" / "cua-toi.txt").write_text("của tôi")
    done = cchc("init", str(root), "--units", str(units), "--period", "2026S1")
    assert done.returncode == 2 and "don-vi" in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv", "ws"]
    assert [p.name for p in root.rglob("*")] == ["don-vi", "cua-toi.txt"]
    (root / "don-vi" / "cua-toi.txt").unlink()
    (root / "don-vi").rmdir()
    again = cchc("init", str(root), "--units", str(units), "--period", "2026S1")
    assert again.returncode == 0, again.stderr
    assert (root / "cchc-sync.toml").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv", "ws"]


def test_init_over_a_different_workspace_refuses_and_names_the_command(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(REGISTRY, encoding="utf-8")
    root = tmp_path / "ws"
    first = cchc("init", str(root), "--units", str(units), "--period", "2026S1",
                 "--name", "tỉnh Sông Mây")
    assert first.returncode == 0, first.stderr
    config_text = (root / "cchc-sync.toml").read_text(encoding="utf-8")

    other_period = cchc("init", str(root), "--units", str(units), "--period", "2026S2",
                        "--name", "tỉnh Sông Mây")
    assert other_period.returncode == 2
    assert "cchc-sync period open 2026S2" in other_period.stderr
    other_name = cchc("init", str(root), "--units", str(units), "--period", "2026S1",
                      "--name", "tỉnh Khác")
    assert other_name.returncode == 2
    assert "sửa dòng name = ..." in other_name.stderr and "tỉnh Sông Mây" in other_name.stderr
    assert (root / "cchc-sync.toml").read_text(encoding="utf-8") == config_text

    same = cchc("init", str(root), "--units", str(units), "--period", "2026s1")
    assert same.returncode == 0, same.stderr  # the same workspace: completed, not refused


def test_the_registry_check_refuses_a_colliding_code_added_later(tmp_path):
    units = tmp_path / "units.csv"
    units.write_text(REGISTRY, encoding="utf-8")
    root = tmp_path / "ws"
    assert cchc("init", str(root), "--units", str(units), "--period", "2026S1").returncode == 0
    registry = root / "units.csv"
    registry.write_text(registry.read_text(encoding="utf-8") + "snv,Sở Nội vụ (trùng),Sở,,\n",
                        encoding="utf-8")
    done = cchc("sync", "--config", str(root / "cchc-sync.toml"))
    assert done.returncode == 2
    assert "dòng 10" in done.stderr and "'SNV' ở dòng 2" in done.stderr
