"""Checks as classes, registered by the template `kind` they implement.

A template rule (`{kind: sum_equals, total: …, parts: […]}`) names a kind; the class
registered for that kind declares the parameters it takes (`params`), and `bind_checks`
turns every rule of a template set into an instance, refusing an unknown kind or a wrong
parameter with a TemplateError that names file, table and rule. There are four scopes:

- `RowCheck`: one row of one unit's table (identities, part ≤ whole, stated rates);
- `TableCheck`: all rows of one unit's table;
- `CrossUnitCheck`: every unit's current rows of the period (one document number with two
  dates, catalogue sizes, outlying rates);
- `HistoryCheck`: the period's current rows against a prepared view of earlier periods
  (`EarlierPeriods`, built by the app layer from the archive).

Checks are pure: they read records and yield Findings; nothing here knows a backend, the
archive or the workspace.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from cchc_sync.domain.records import CurrentRow, Finding, Period, Severity, TypedRow, Unit
from cchc_sync.domain.templates import ColumnType, RuleSpec, TableSpec, TemplateError

if TYPE_CHECKING:
    from cchc_sync.checks.earlier import EarlierPeriods


class ParamKind(StrEnum):
    COLUMN = "column"
    """The key of one column of the rule's table."""
    COLUMNS = "columns"
    """A list of column keys (one key alone is accepted as a list of one)."""
    NUMBER = "number"
    TEXT = "text"


@dataclass(frozen=True, kw_only=True, slots=True)
class Param:
    """One parameter a check kind takes in the template."""

    name: str
    kind: ParamKind
    required: bool = True
    default: Any = None
    types: tuple[ColumnType, ...] = ()
    """Column types a COLUMN/COLUMNS parameter accepts; empty: any."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckSettings:
    """The deployment's thresholds (`[checks]` in cchc-sync.toml)."""

    change_share: float = 0.5
    """A figure that moved by more than this share against an earlier period is a warning."""
    min_base: int = 20
    """…unless the earlier figure is below this (small numbers swing)."""
    outlier_z: float = 3.5
    """Modified z-score above which a unit's rate is an outlier among its level."""


CHECK_KINDS: dict[str, type[Check]] = {}
"""Every check class by the template `kind` it implements."""


C = TypeVar("C", bound="type[Check]")


def register(cls: C) -> C:
    """Class decorator: make `cls` the implementation of template rules of its `kind`."""
    if cls.kind in CHECK_KINDS:
        raise ValueError(f"check kind {cls.kind!r} registered twice")
    CHECK_KINDS[cls.kind] = cls
    return cls


class Check:
    """One bound rule: its template declaration, its table and its checked arguments."""

    kind: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()

    def __init__(self, rule: RuleSpec, table: TableSpec, args: Mapping[str, Any]):
        self.rule = rule
        self.table = table
        self.args = dict(args)

    @property
    def id(self) -> str:
        return self.rule.id

    def title(self, column: str) -> str:
        return self.table.column(column).title

    def finding(self, message: str, *, unit: str, row: int | None, column: str | None,
                value: Any = None, row_key: str | None = None,
                explained: str | None = None, table: str | None = None) -> Finding:
        return Finding(
            rule=self.rule.id, severity=self.rule.severity, message=message, unit=unit,
            table=table or self.table.key, row=row, column=column, value=value,
            row_key=row_key, explained=explained,
        )

    def warn_on(self, row: CurrentRow, message: str, column: str, value: Any) -> Finding:
        """A finding about an archived row; a warning carries the unit's explanation."""
        warning = self.rule.severity is Severity.WARNING
        explained = (row.explanation or None) if warning else None
        return self.finding(message, unit=row.unit, row=row.sheet_row, column=column,
                            value=value, row_key=row.key, explained=explained,
                            table=row.table)

    def own_rows(self, rows: Iterable[CurrentRow]) -> Iterator[CurrentRow]:
        return (r for r in rows if r.table == self.table.key)


class RowCheck(Check):
    def check_row(self, row: TypedRow, unit: str, period: Period) -> Iterable[Finding]:
        raise NotImplementedError

    def rows_to_check(self, rows: Sequence[TypedRow], period: Period) -> Iterable[int]:
        """Positions of the rows `check_row` may find something in, in order: a superset
        of them, never fewer. A kind overrides this with one loop over the table's rows
        (operands resolved once): almost every row is clean, and a generator per row and
        check cost more than the test itself. `check_row` still writes every finding."""
        return range(len(rows))


class TableCheck(Check):
    def check_table(self, rows: Sequence[TypedRow], unit: str,
                    period: Period) -> Iterable[Finding]:
        raise NotImplementedError


class CrossUnitCheck(Check):
    def check_units(self, rows: Sequence[CurrentRow], units: Mapping[str, Unit],
                    settings: CheckSettings) -> Iterable[Finding]:
        raise NotImplementedError

    @classmethod
    def check_all(cls, checks: Sequence[CrossUnitCheck], rows: Sequence[CurrentRow],
                  units: Mapping[str, Unit], settings: CheckSettings) -> Iterator[Finding]:
        """Every bound check of this kind at once; a kind whose rules must see each other
        (one document number across tables) overrides this."""
        for check in checks:
            yield from check.check_units(rows, units, settings)


class HistoryCheck(Check):
    def check_history(self, rows: Sequence[CurrentRow], earlier: EarlierPeriods,
                      settings: CheckSettings) -> Iterable[Finding]:
        raise NotImplementedError


def bind_rule(rule: RuleSpec, table: TableSpec) -> Check:
    """The check instance of one template rule; TemplateError naming the rule when its kind
    is unknown or a parameter is missing, unknown or of the wrong shape."""
    cls = CHECK_KINDS.get(rule.kind)
    where = rule.origin or f"table {table.key}, rule {rule.id}"
    if cls is None:
        known = ", ".join(sorted(CHECK_KINDS))
        raise TemplateError(f"{where}: unknown kind {rule.kind!r} (known: {known})")
    declared = {p.name: p for p in cls.params}
    unknown = sorted(set(rule.params) - set(declared))
    if unknown:
        takes = ", ".join(declared) or "no parameters"
        raise TemplateError(
            f"{where}: kind {rule.kind} does not take {', '.join(unknown)} (takes: {takes})"
        )
    args = {p.name: _argument(p, rule.params, table, where) for p in cls.params}
    return cls(rule, table, args)


def _argument(param: Param, given: Mapping[str, Any], table: TableSpec, where: str) -> Any:
    if param.name not in given:
        if param.required:
            raise TemplateError(f"{where}: missing {param.name}")
        return param.default
    value = given[param.name]
    if param.kind is ParamKind.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise TemplateError(f"{where}: {param.name} must be a number, not {value!r}")
        return value
    if param.kind is ParamKind.TEXT:
        if not isinstance(value, str):
            raise TemplateError(f"{where}: {param.name} must be text, not {value!r}")
        return value
    names = value if isinstance(value, list) else [value]
    columns = {c.key: c for c in table.columns}
    for name in names:
        column = columns.get(name) if isinstance(name, str) else None
        if column is None:
            raise TemplateError(f"{where}: {param.name} names unknown column {name!r}")
        if param.types and column.type not in param.types:
            allowed = "/".join(param.types)
            raise TemplateError(
                f"{where}: {param.name} names {name}, a {column.type} column ({allowed} needed)"
            )
    if param.kind is ParamKind.COLUMN:
        if isinstance(value, list):
            raise TemplateError(f"{where}: {param.name} names one column, not a list")
        return value
    return tuple(names)
