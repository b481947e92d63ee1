"""`cchc-sync history`: every archived version of a unit's rows, DHIS2's data value audit.

The archive keeps each row version with when it was first and last seen and the cycle
(run) that saw it; the sheet read of that cycle says who saved the sheet, where the backend
knows (Drive's lastModifyingUser, the local file's owner).
"""

from __future__ import annotations

import json

from cchc_sync.app.pipeline import Workspace
from cchc_sync.app.render import local_time
from cchc_sync.domain.config import ConfigError
from cchc_sync.normalise import fold
from cchc_sync.store.period_state import row_history


def row_versions_of(ws: Workspace, unit: str, table: str, row_key: str | None) -> list[dict]:
    """The versions as JSON-ready dicts, oldest first per row. Unknown unit or table, or a
    row never archived, is a usage error naming what exists."""
    try:
        ws.templates.table(table)
    except KeyError:
        known = ", ".join(ws.templates.tables)
        raise ConfigError(f"Không có bảng {table!r} (các bảng: {known})") from None
    if unit not in ws.units_by_code:
        raise ConfigError(f"Đơn vị {unit!r} không có trong danh sách đơn vị của kỳ "
                          f"{ws.period.code}")
    rows = row_history(ws.archive, ws.period.code, unit, table)
    if row_key is not None:
        # As archived ("thi dua - khen thuong"), or as the clerk typed it.
        wanted = {row_key, "|".join(fold(part.strip()) for part in row_key.split("|"))}
        rows = [r for r in rows if r["row_key"] in wanted]
        if not rows:
            raise ConfigError(f"Không có dòng {row_key!r} trong bảng {table} của đơn vị {unit} "
                              f"kỳ {ws.period.code}")
    return [
        {
            "row_key": r["row_key"],
            "version": r["version"],
            "values": None if r["deleted"] else json.loads(r["data"] or "{}"),
            "deleted": bool(r["deleted"]),
            "first_seen": r["first_seen"],
            "last_seen": r["last_seen"],
            "run_id": r["run_id"],
            "modified_at": r["source_modified_at"],
            "saved_by": r["modified_by"],
        }
        for r in rows
    ]


def history_text(ws: Workspace, unit: str, table: str, versions: list[dict]) -> str:
    """Vietnamese: per row, each version with what changed from the one before."""
    spec = ws.templates.table(table)
    titles = {c.key: c.title for c in spec.columns}
    if not versions:
        return f"Chưa có dòng nào của bảng \"{spec.tab}\" của đơn vị {unit} kỳ {ws.period.code}."
    lines = [f"Lịch sử bảng \"{spec.tab}\" của đơn vị {unit}, kỳ {ws.period.code}:"]
    previous: dict | None = None
    last_key = None
    for v in versions:
        if v["row_key"] != last_key:
            lines.append(f"\nDòng {v['row_key'] or '(dòng duy nhất)'}:")
            previous, last_key = None, v["row_key"]
        head = (f"  Phiên bản {v['version']} — thấy lúc {local_time(v['first_seen'])}, "
                f"lần đồng bộ số {v['run_id']}, người lưu: {v['saved_by'] or 'không rõ'}")
        lines.append(head)
        if v["deleted"]:
            lines.append("    (dòng đã bị xoá)")
            previous = None
            continue
        values = v["values"] or {}
        for key, value in values.items():
            before = (previous or {}).get(key)
            if previous is None:
                lines.append(f"    {titles.get(key, key)}: {_shown(value)}")
            elif before != value:
                lines.append(f"    {titles.get(key, key)}: {_shown(before)} → {_shown(value)}")
        previous = values
    return "\n".join(lines)


def _shown(value: object) -> str:
    return "(trống)" if value is None else str(value)
