"""What history checks may see of earlier periods: a small frozen view the app layer builds
from the archive, so the checks themselves never touch the archive, the registry or the
workspace."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from cchc_sync.domain.records import CurrentRow

RowIdentity = tuple[str, str, str]
"""(unit, table, row key)."""


class Relation(StrEnum):
    """How an earlier period relates to the one being checked (messages say which)."""

    PREVIOUS = "previous"
    """The period just before, of the same length (2022S2 -> 2022S1)."""
    YEAR_EARLIER = "year_earlier"
    """The same period a year earlier (2022S2 -> 2021S2)."""


@dataclass(frozen=True, slots=True)
class EarlierPeriod:
    """One earlier period's current rows, filed under the unit that reports now: a unit's
    own rows and those of its predecessors (a merged commune answers for the communes it
    was made of)."""

    code: str
    relation: Relation
    rows: Mapping[RowIdentity, tuple[CurrentRow, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def rows_for(self, unit: str, table: str, key: str) -> tuple[CurrentRow, ...]:
        return self.rows.get((unit, table, key), ())

    def values_for(self, unit: str, table: str, key: str, column: str) -> list[Any]:
        """The reported (non-blank) values of one column of that row, one per contributing
        unit; empty when nobody reported it."""
        return [v for r in self.rows_for(unit, table, key)
                if (v := r.values.get(column)) is not None]

    @classmethod
    def build(cls, code: str, relation: Relation, rows: Iterable[CurrentRow],
              lineage: Mapping[str, Sequence[str]]) -> EarlierPeriod:
        """`lineage`: for each unit that reports now, its own code followed by its
        predecessors' codes (transitively)."""
        by_unit: dict[str, list[CurrentRow]] = {}
        for r in rows:
            by_unit.setdefault(r.unit, []).append(r)
        out: dict[RowIdentity, list[CurrentRow]] = {}
        for unit, codes in lineage.items():
            for c in codes:
                for r in by_unit.get(c, ()):
                    out.setdefault((unit, r.table, r.key), []).append(r)
        frozen = {identity: tuple(found) for identity, found in out.items()}
        return cls(code=code, relation=relation, rows=MappingProxyType(frozen))


@dataclass(frozen=True, slots=True)
class EarlierPeriods:
    """The earlier periods a history check may compare with; None where the archive has no
    such period (or the period code has none)."""

    previous: EarlierPeriod | None = None
    year_earlier: EarlierPeriod | None = None


NO_HISTORY = EarlierPeriods()
