"""Whose sheet is this? A unit's sheet carries identity marks (the hidden "_cchc" tab,
written when it was made); a sheet read for a unit must carry that unit's marks.

Clerks reuse a neighbour's workbook, save another unit's file under their own name, or put
a copy of the master where their workbook was. Read as theirs, such a file would count its
figures twice (or under the wrong unit), and the flag write would put that unit's flags
into somebody else's file. The pipeline therefore refuses it: the unit is "not readable"
with the reason below, its archived rows stay, and nothing is written into the file.
"""

from __future__ import annotations

from collections.abc import Mapping

from cchc_sync.domain.records import Unit


def identity_problem(
    marks: Mapping[str, str],
    unit: Unit,
    period_code: str,
    template_name: str,
    units_by_code: Mapping[str, Unit],
) -> str | None:
    """Why the sheet with `marks` is not `unit`'s sheet for `period_code`, in Vietnamese for
    the coordinator and the clerk; None when it is (or when it carries no marks at all: a
    sheet made by hand, which is accepted as before)."""
    if marks.get("kind") == "master":
        return (
            f"Tệp này là bảng tổng hợp, không phải bảng tính của {unit.name}: số liệu không "
            "được đọc. Hãy đặt lại đúng bảng tính của đơn vị vào chỗ này."
        )
    owner = marks.get("unit", "").strip()
    if owner and owner.casefold() != unit.code.casefold():
        other = units_by_code.get(owner) or next(
            (u for c, u in units_by_code.items() if c.casefold() == owner.casefold()), None
        )
        whose = f"{other.name} ({other.code})" if other else (
            f"{marks.get('unit_name') or 'đơn vị'} (mã {owner})"
        )
        return (
            f"Tệp này là bảng tính của {whose}, không phải của {unit.name}: số liệu không "
            "được đọc. Hãy dùng đúng bảng tính đã gửi cho đơn vị."
        )
    period = marks.get("period", "").strip()
    if period and period.casefold() != period_code.casefold():
        return (
            f"Tệp này là bảng tính của kỳ {period}, không phải kỳ {period_code}: số liệu không "
            "được đọc. Hãy dùng bảng tính của kỳ báo cáo này."
        )
    template = marks.get("template_name", "").strip()
    if template and template_name and template.casefold() != template_name.casefold():
        return (
            f"Tệp này được tạo từ bộ biểu mẫu “{template}”, không phải “{template_name}”: số "
            "liệu không được đọc. Hãy dùng bảng tính do bộ phận tổng hợp gửi."
        )
    return None
