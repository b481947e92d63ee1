"""A small district (two units, nothing typed yet) on each backend, and the plan of flags
a check of a read would write: what every per-method contract test starts from."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc_sync.domain.records import Finding, Severity, UnitRead
from cchc_sync.publish.flags import plan_flags
from cchc_sync.sources.base import FlagPlan
from tests.contract.districts import BACKENDS, make

UNITS = """ma,ten,cap,cha,email
U000,Phòng Nội vụ,huyen,,noivu@example.gov.vn
U001,UBND xã Long Trị,xa,,longtri@example.gov.vn
"""
TTHC = "Giải quyết TTHC"
COUNT = "Tổng số hồ sơ tiếp nhận"
ROWS = [
    {"Lĩnh vực": "Chứng thực", "Từ kỳ trước chuyển qua": 1, COUNT: 6},
    {"Lĩnh vực": "Hộ tịch", "Từ kỳ trước chuyển qua": 2, COUNT: 9,
     "Giải trình": "Có thêm hồ sơ từ xã bên"},
]


@pytest.fixture(params=BACKENDS)
def district(request, tmp_path):
    """The two units' sheets as `init` made them, on one backend; U001 has ROWS typed in
    "Giải quyết TTHC" rows 2 and 3 (row 4 left blank, row 5 typed: a gap)."""
    made = make(request.param, tmp_path / request.param, units_csv=UNITS, fill=False,
                **({"data_rows": 5} if request.param == "google" else {}))
    made.type_rows("U001", {TTHC: [*ROWS, {}, {"Lĩnh vực": "Đất đai", COUNT: 4}]})
    yield made
    made.close()


def read(district, unit: str = "U001") -> UnitRead:
    ws = district.ws
    return ws.backend.read_unit(unit, district.ref(unit), ws.templates)


def plan_for(district, found: UnitRead, findings: list[Finding],
             unit: str = "U001") -> FlagPlan:
    """The flags a check of `found` with these findings writes (the pipeline's own
    plan_flags)."""
    ws = district.ws
    layouts = {k: t.layout for k, t in found.tables.items() if t.layout is not None}
    rows = {k: [r.sheet_row for r in t.rows] for k, t in found.tables.items()}
    return plan_flags(unit=unit, unit_name=ws.units_by_code[unit].name, period=ws.period.code,
                      checked_at=dt.datetime(2022, 6, 10, 2, 0, tzinfo=dt.UTC),
                      templates=ws.templates, layouts=layouts, row_positions=rows,
                      findings=findings)


def finding(severity: Severity, row: int, column: str = "tong_tiep_nhan",
            message: str = "Tổng số không khớp") -> Finding:
    return Finding(rule="tthc.tong-tiep-nhan", severity=severity, message=message,
                   unit="U001", table="tthc", row=row, column=column, value=6)
