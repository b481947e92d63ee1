"""A plain (non-editable) install must carry every package and the templates."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_is_listed_for_a_plain_install():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for p in (ROOT / "cchc_sync").rglob("__init__.py")
    }
    assert found - listed == set(), "add these to [tool.setuptools] packages"
    assert "cchc_sync.sheet_templates" in listed
    assert config["tool"]["setuptools"]["package-dir"] == {
        "cchc_sync.sheet_templates": "sheet_templates"}
    assert sorted(p.name for p in (ROOT / "sheet_templates").glob("*.yaml"))
