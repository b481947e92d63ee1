"""From a unit's RawTables to typed rows and findings: the pure heart of a check.

`check_unit` normalises every cell, gives every row its identity, runs the table's row
and table checks (`row_checks.py`, bound by `suite.checks_for`) and yields findings as
data. Checks across units and periods run later, on the archive's rows (`suite.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from cchc_sync.checks.base import RowCheck
from cchc_sync.checks.row_cells import table_reader
from cchc_sync.checks.suite import checks_for
from cchc_sync.domain.records import Finding, Period, RawTable, Severity, TypedRow, UnitRead
from cchc_sync.domain.templates import ColumnType, TableSpec, TemplateSet
from cchc_sync.normalise import fold

ORDINAL_TITLES = {"stt", "tt", "số thứ tự"}
"""Header titles clerks add for row numbers; never reported as unknown columns."""

@dataclass(kw_only=True, slots=True)
class UnitCheck:
    """The outcome of checking one unit's sheet."""

    unit: str
    rows: dict[str, list[TypedRow]] = field(default_factory=dict)
    """By table key; every non-blank row, including rows that carry errors."""
    findings: list[Finding] = field(default_factory=list)


def check_unit(
    read: UnitRead, templates: TemplateSet, period: Period, level: str = ""
) -> UnitCheck:
    """Normalise and validate every template table of one unit's sheet."""
    result = UnitCheck(unit=read.unit)
    for spec in templates.tables.values():
        raw = read.tables.get(spec.key) or RawTable(table=spec.key, tab_found=False)
        rows, findings = check_table(raw, spec, period, unit=read.unit)
        result.rows[spec.key] = rows
        result.findings.extend(findings)
    result.findings.extend(_signoff_findings(result, templates, level))
    return result


def _signoff_findings(check: UnitCheck, templates: TemplateSet, level: str) -> Iterator[Finding]:
    """A unit that signs off must have filled the tabs its level is required to fill."""
    signed = any(
        r.values.get(templates.signoff_column) == templates.signoff_done
        for r in check.rows.get(templates.signoff_table, [])
    )
    if not signed:
        return
    for table in templates.required_tables.get(level, ()):
        if not check.rows.get(table):
            tab = templates.table(table).tab
            yield Finding(
                rule="signoff.missing-table",
                severity=Severity.ERROR,
                unit=check.unit,
                table=table,
                message=f'Đơn vị đã chọn "Hoàn thành" nhưng trang "{tab}" chưa có số liệu. '
                f'Cấp của đơn vị phải báo cáo trang này: hãy nhập số liệu rồi chọn lại.',
            )


def check_table(
    raw: RawTable, spec: TableSpec, period: Period, unit: str = ""
) -> tuple[list[TypedRow], list[Finding]]:
    findings: list[Finding] = []

    def finding(rule: str, severity: Severity, message: str, **kw: Any) -> Finding:
        f = Finding(rule=rule, severity=severity, message=message, unit=unit, table=spec.key, **kw)
        findings.append(f)
        return f

    if not raw.tab_found:
        finding(
            "tab.missing",
            Severity.ERROR,
            f'Không tìm thấy trang "{spec.tab}" trong bảng tính. Có thể trang đã bị đổi tên '
            f'hoặc bị xoá: hãy đặt lại đúng tên "{spec.tab}" (hoặc khôi phục trang).',
        )
        return [], findings
    layout = raw.layout
    found = layout.columns if layout else {}
    unknown_titles = layout.unknown_titles if layout else ()
    unknown = [t for t in unknown_titles if fold(t) not in ORDINAL_TITLES]
    # Only a sheet with titles the template lacks needs the folded titles (most have none).
    spec_by_title = {fold(c.title): c for c in spec.columns} if unknown else {}
    for title in unknown:
        col = spec_by_title.get(fold(title))
        if col is not None:
            finding(
                "tab.column-duplicate",
                Severity.ERROR,
                f'Trang "{spec.tab}" có hai cột cùng tiêu đề "{col.title}": chỉ cột đầu tiên '
                "được đọc. Hãy xoá hoặc gộp cột thừa.",
                column=col.key,
                value=title,
            )
            unknown.remove(title)
    for col in spec.columns:
        if col.key not in found:
            strange = ", ".join(f'"{t}"' for t in unknown)
            hint = f" (tiêu đề lạ trong trang: {strange})" if unknown else ""
            finding(
                "tab.column-missing",
                Severity.ERROR,
                f'Trang "{spec.tab}" thiếu cột "{col.title}"{hint}. Hãy ghi lại đúng tiêu đề '
                f'"{col.title}" ở dòng tiêu đề; cột này đang không được đọc.',
                column=col.key,
            )

    rows: list[TypedRow] = []
    plan = key_plan(spec)
    reader = table_reader(spec)
    table_key = spec.key
    for raw_row in raw.rows:
        values, row_findings = reader.normalise_row(raw_row, unit)
        if row_findings:
            findings.extend(row_findings)
        rows.append(
            TypedRow(
                table=table_key,
                key=row_key(values, plan, raw_row.sheet_row),
                sheet_row=raw_row.sheet_row,
                values=values,
                explanation=raw_row.explanation,
            )
        )
    rows = _check_identity(rows, spec, finding)
    checks = checks_for(spec)
    findings.extend(row_check_findings(rows, checks.row, unit, period))
    for table_check in checks.table:
        findings.extend(table_check.check_table(rows, unit, period))
    if not findings:
        return rows, findings  # most tables of most units: no need to index the rows
    # Every finding learns its row key; warnings learn the unit's explanation.
    by_row = {r.sheet_row: r for r in rows}
    out = []
    for f in findings:
        of_row = by_row.get(f.row) if f.row is not None else None
        if of_row is None:
            out.append(f)
            continue
        explained = (
            of_row.explanation if f.severity is Severity.WARNING and of_row.explanation else None
        )
        out.append(_replace(f, row_key=of_row.key, explained=explained))
    return rows, out


def row_check_findings(rows: Sequence[TypedRow], checks: Sequence[RowCheck], unit: str,
                       period: Period) -> list[Finding]:
    """The row checks' findings, row by row and check by check (the order of calling every
    check's check_row on every row, which tests/test_row_checks_loop.py compares with this).
    Each check picks its candidate rows in one loop over the table; only those are checked
    row by row, and check_row writes every finding."""
    hits = [(i, n) for n, c in enumerate(checks) for i in c.rows_to_check(rows, period)]
    hits.sort()
    out: list[Finding] = []
    for i, n in hits:
        out.extend(checks[n].check_row(rows[i], unit, period))
    return out


def _replace(f: Finding, **changes: Any) -> Finding:
    data = {name: getattr(f, name) for name in Finding.__slots__}
    data.update(changes)
    return Finding(**data)


KeyPlan = tuple[tuple[str, bool], ...] | None
"""A table's key columns as (column key, folded as text?); None for a one-row table."""


def key_plan(spec: TableSpec) -> KeyPlan:
    """Resolved once per table rather than per row (the key columns are a property that
    builds its tuple, and each column's type test is the same for every row)."""
    if spec.single_row:
        return None
    return tuple((c.key, c.type is ColumnType.TEXT) for c in spec.key_columns)


def row_key(values: dict[str, Any], plan: KeyPlan, sheet_row: int) -> str:
    """The row's identity: its key columns' values ("|" between them; a text folded), or
    "#dong-<row>" when one is blank; "" in a one-row table."""
    if plan is None:
        return ""
    if len(plan) == 1:  # most keyed tables: the one value is the key, no list or join
        key, text = plan[0]
        v = values.get(key)
        if v is None:
            return f"#dong-{sheet_row}"
        return fold(str(v)) if text else str(v)
    parts = []
    for key, text in plan:
        v = values.get(key)
        if v is None:
            return f"#dong-{sheet_row}"
        parts.append(fold(str(v)) if text else str(v))
    return "|".join(parts)


def _check_identity(
    rows: list[TypedRow], spec: TableSpec, finding: Callable[..., Finding]
) -> list[TypedRow]:
    """Duplicate keys and extra rows in one-row tables: errors on every row involved,
    and each row still gets a distinct identity so nothing is lost from the archive."""
    if not spec.single_row and len({r.key for r in rows}) == len(rows):
        return rows  # every key distinct (nearly every table): no finding, no key changes
    return check_identity_each(rows, spec, finding)


def check_identity_each(
    rows: list[TypedRow], spec: TableSpec, finding: Callable[..., Finding]
) -> list[TypedRow]:
    """_check_identity without its shortcut for distinct keys (tests compare the two)."""
    out: list[TypedRow] = []
    if spec.single_row:
        for i, row in enumerate(rows):
            if i:
                finding(
                    "table.single-row",
                    Severity.ERROR,
                    f'Trang "{spec.tab}" chỉ ghi một dòng số liệu (dòng {rows[0].sheet_row}); '
                    f"dòng {row.sheet_row} là dòng thừa: hãy gộp số liệu vào một dòng.",
                    row=row.sheet_row,
                )
                row = _with_key(row, f"#dong-{row.sheet_row}")
            out.append(row)
        return out
    first: dict[str, TypedRow] = {}
    groups: dict[str, list[TypedRow]] = {}
    for row in rows:
        if not row.key.startswith("#"):
            groups.setdefault(row.key, []).append(row)
    labels = ", ".join(c.title for c in spec.key_columns)
    for group in groups.values():
        if len(group) < 2:
            continue
        where = ", ".join(str(r.sheet_row) for r in group)
        shown = " / ".join(str(group[0].values.get(c.key, "")) for c in spec.key_columns)
        for r in group:
            finding(
                "row.duplicate-key",
                Severity.ERROR,
                f'"{shown}" ({labels}) được ghi ở nhiều dòng ({where}). Mỗi {labels.lower()} '
                "chỉ ghi một dòng: hãy gộp hoặc xoá dòng trùng.",
                row=r.sheet_row,
                value=shown,
            )
    for row in rows:
        if row.key in first:
            row = _with_key(row, f"{row.key}#dong-{row.sheet_row}")
        else:
            first[row.key] = row
        out.append(row)
    return out


def _with_key(row: TypedRow, key: str) -> TypedRow:
    return TypedRow(
        table=row.table,
        key=key,
        sheet_row=row.sheet_row,
        values=row.values,
        explanation=row.explanation,
    )
