"""A bound on findings per unit and table: a clerk who filled a column with garbage gets
the first findings and one summary, not a million notes (and the archive, the "Kiểm tra"
tab and the flag write stay small)."""

from __future__ import annotations

from collections import Counter

from cchc_sync.domain.records import Finding, Severity
from cchc_sync.domain.vnformat import format_int

SUMMARY_RULE = "sheet.too-many-findings"


def cap_findings(findings: list[Finding], per_table: int) -> list[Finding]:
    """The first `per_table` findings of each (unit, table), in order, and for each table
    over the bound one error finding saying how many more there are."""
    kept: list[Finding] = []
    seen: Counter[tuple[str, str]] = Counter()
    dropped: Counter[tuple[str, str]] = Counter()
    for finding in findings:
        where = (finding.unit, finding.table)
        seen[where] += 1
        if not finding.table or seen[where] <= per_table:
            kept.append(finding)
        else:
            dropped[where] += 1
    for (unit, table), count in dropped.items():
        kept.append(
            Finding(
                rule=SUMMARY_RULE,
                severity=Severity.ERROR,
                unit=unit,
                table=table,
                message=(
                    f"Bảng này còn {format_int(count)} lỗi, cảnh báo khác ngoài "
                    f"{format_int(per_table)} lỗi, cảnh báo đã ghi: hãy sửa các lỗi đã ghi "
                    "(thường cùng một nguyên nhân) rồi lưu lại để xem tiếp."
                ),
                value=count,
            )
        )
    return kept
