"""Unit workbooks made from a prototype (sources/xlsx/unit_books.py) are the files a whole
build makes: the same zip parts, byte for byte (the file's own times aside)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from cchc_sync.domain.records import Period, Unit
from cchc_sync.domain.templates import (
    Choice,
    ColumnSpec,
    ColumnType,
    TableSpec,
    TemplateSet,
    load_template_set,
)
from cchc_sync.sources.base import INSTRUCTIONS_TAB, META_TAB
from cchc_sync.sources.xlsx.backend import LocalBackend
from cchc_sync.sources.xlsx.common import workbook_bytes
from cchc_sync.sources.xlsx.unit_book import build_unit_workbook
from cchc_sync.sources.xlsx.unit_books import UnitBooks

PERIOD = Period(code="2022S1", start=dt.date(2021, 12, 15), end=dt.date(2022, 6, 14))
LATER = Period(code="2022S2", start=dt.date(2022, 6, 15), end=dt.date(2022, 12, 14))
CREATED = dt.datetime(2022, 6, 1, 2, 30, tzinfo=dt.UTC)
_TIMES = re.compile(rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>")

UNITS = [
    Unit(code="XA_LT", name="UBND xã Long Trì", level="xa"),
    Unit(code="NV", name="Phòng Nội vụ", level="huyen"),
    # Its "Đơn vị: …" line is over 100 characters: a taller instructions row.
    Unit(code="VP.HDND-UBND", name="Văn phòng Hội đồng nhân dân và Ủy ban nhân dân huyện "
         "Sông Mây, tỉnh Sông Mây (bộ phận một cửa)", level="huyen"),
    Unit(code="A", name="Á", level="xa"),
    # A name set_text keeps as text (a style of its own): built whole.
    Unit(code="TT", name="=Trung tâm", level="xa"),
]


def parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: _TIMES.sub(b"", zf.read(name)) for name in zf.namelist()}


@pytest.fixture(scope="module")
def template_sets() -> list[TemplateSet]:
    default = load_template_set()
    labels = [f"Lĩnh vực số {i}, cấp huyện" for i in range(20)]  # > 255: a list in "_cchc"
    column = ColumnSpec(key="linh_vuc", title="Lĩnh vực", type=ColumnType.CHOICE, is_key=True,
                        choices=tuple(Choice(code=f"lv{i}", label=x)
                                      for i, x in enumerate(labels)))
    table = TableSpec(key="ds", tab="Danh sách", columns=(column,))
    return [default, dataclasses.replace(default, tables={**default.tables, "ds": table})]


@pytest.mark.parametrize("which", [0, 1], ids=["default", "long-choice-list"])
def test_each_unit_gets_the_parts_a_whole_build_gives_it(template_sets: list[TemplateSet],
                                                        which: int) -> None:
    templates = template_sets[which]
    books = UnitBooks()
    for unit in UNITS:
        made = books.make(unit, PERIOD, templates, CREATED)
        whole = workbook_bytes(build_unit_workbook(unit, PERIOD, templates, created_at=CREATED))
        assert parts(made) == parts(whole), unit.code
        # The unit's own words are in it, not the prototype's.
        wb = openpyxl.load_workbook(io.BytesIO(made))
        assert wb[META_TAB]["B1"].value == unit.code
        assert wb[META_TAB]["B2"].value == unit.name
        assert any(unit.name in str(c.value) for c in wb[INSTRUCTIONS_TAB]["A"])
    # The first unit and the quote-prefixed one were built whole, the others patched.
    assert (books.whole, books.patched) == (2, 3)


def test_init_makes_every_workbook_but_the_first_from_the_prototype(
        tmp_path: Path, template_sets: list[TemplateSet]) -> None:
    backend = LocalBackend(tmp_path)
    for unit in UNITS[:4]:
        backend.create_unit_sheet(unit, PERIOD, template_sets[0])
    assert (backend._unit_books.whole, backend._unit_books.patched) == (1, 3)
    # Another period: a prototype of its own.
    backend.create_unit_sheet(UNITS[0], LATER, template_sets[0])
    assert backend._unit_books.whole == 2
