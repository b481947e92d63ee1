"""A template set's rules bound to their check classes, and the entry points the pipeline
calls for the checks that need more than one unit's sheet.

Some checks follow from column declarations rather than written rules, so a template set
gets them without repeating itself: every `aggregate: common` column a `common_value`
check, every `history: true` column a `change` check, every `rate` rule a `rate_outlier`
check. Their rule ids are the ones findings have always carried.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

# Importing the modules registers their classes (the registry is filled at import).
from cchc_sync.checks import cross_unit, history, row_checks  # noqa: F401
from cchc_sync.checks.base import (
    CHECK_KINDS,
    Check,
    CheckSettings,
    CrossUnitCheck,
    HistoryCheck,
    RowCheck,
    TableCheck,
    bind_rule,
)
from cchc_sync.checks.earlier import EarlierPeriods
from cchc_sync.domain.records import CurrentRow, Finding, Severity, Unit
from cchc_sync.domain.templates import Aggregate, RuleSpec, TableSpec, TemplateSet


@dataclass(frozen=True, slots=True)
class TableChecks:
    """The bound checks of one table, by scope."""

    row: tuple[RowCheck, ...]
    table: tuple[TableCheck, ...]
    cross_unit: tuple[CrossUnitCheck, ...]
    history: tuple[HistoryCheck, ...]


def _derived_rules(spec: TableSpec) -> Iterator[RuleSpec]:
    for col in spec.columns:
        if col.aggregate is Aggregate.COMMON:
            yield _derived(spec, f"{spec.key}.{col.key}.khac-cap", "common_value",
                           {"column": col.key}, f"column {col.key} (aggregate: common)")
        if col.history:
            yield _derived(spec, "history.change", "change", {"column": col.key},
                           f"column {col.key} (history: true)")
    for rule in spec.rules:
        if rule.kind == "rate":
            params = {k: rule.params[k] for k in ("rate", "numerator", "denominator")
                      if k in rule.params}
            yield _derived(spec, "history.outlier", "rate_outlier", params,
                           f"rule {rule.id}")


def _derived(spec: TableSpec, rid: str, kind: str, params: dict, source: str) -> RuleSpec:
    return RuleSpec(id=rid, kind=kind, severity=Severity.WARNING, params=params,
                    origin=f"table {spec.key}, {source}")


_BOUND: dict[int, tuple[TableSpec, TableChecks]] = {}
"""Bound checks by id(TableSpec), holding the spec so the id stays its own."""
_BOUND_MAX = 256


def checks_for(spec: TableSpec) -> TableChecks:
    """The bound checks of one table (bound once per TableSpec object)."""
    cached = _BOUND.get(id(spec))
    if cached is not None and cached[0] is spec:
        return cached[1]
    bound: list[Check] = [bind_rule(r, spec) for r in (*spec.rules, *_derived_rules(spec))]
    checks = TableChecks(
        row=tuple(c for c in bound if isinstance(c, RowCheck)),
        table=tuple(c for c in bound if isinstance(c, TableCheck)),
        cross_unit=tuple(c for c in bound if isinstance(c, CrossUnitCheck)),
        history=tuple(c for c in bound if isinstance(c, HistoryCheck)),
    )
    if len(_BOUND) >= _BOUND_MAX:
        _BOUND.pop(next(iter(_BOUND)))
    _BOUND[id(spec)] = (spec, checks)
    return checks


def bind_checks(templates: TemplateSet) -> dict[str, TableChecks]:
    """Bind every rule of the set; a TemplateError names the file, table and rule of an
    unknown kind or a wrong parameter. Called when a workspace opens, so a template mistake
    stops the command at start, never in the middle of a cycle."""
    return {key: checks_for(spec) for key, spec in templates.tables.items()}


def known_kinds() -> list[str]:
    return sorted(CHECK_KINDS)


def cross_unit_findings(rows: Sequence[CurrentRow], templates: TemplateSet,
                        units: Mapping[str, Unit],
                        settings: CheckSettings | None = None) -> list[Finding]:
    """Every cross-unit check of the set over the period's current rows."""
    settings = settings or CheckSettings()
    by_kind: dict[type[CrossUnitCheck], list[CrossUnitCheck]] = {}
    for table_checks in bind_checks(templates).values():
        for check in table_checks.cross_unit:
            by_kind.setdefault(type(check), []).append(check)
    findings: list[Finding] = []
    for cls, checks in by_kind.items():
        findings.extend(cls.check_all(checks, rows, units, settings))
    return findings


def history_findings(rows: Sequence[CurrentRow], templates: TemplateSet,
                     earlier: EarlierPeriods,
                     settings: CheckSettings | None = None) -> list[Finding]:
    """Every history check of the set: the period's current rows against earlier ones."""
    settings = settings or CheckSettings()
    return [
        f
        for checks in bind_checks(templates).values()
        for check in checks.history
        for f in check.check_history(rows, earlier, settings)
    ]
