"""The view of earlier periods that history checks compare with, built from the archive:
the previous period and the same period a year earlier, each unit's rows filed together
with its predecessors' (successor mapping), so the checks never read the archive, the
registry or the workspace themselves."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cchc_sync.checks.earlier import NO_HISTORY, EarlierPeriod, EarlierPeriods, Relation
from cchc_sync.domain.periods import PeriodError, previous_period, year_earlier
from cchc_sync.domain.registry import load_successions, load_units, predecessors

if TYPE_CHECKING:
    from cchc_sync.app.workspace import Workspace


def earlier_periods(ws: Workspace) -> EarlierPeriods:
    try:
        prev_code, year_code = previous_period(ws.period.code), year_earlier(ws.period.code)
    except PeriodError:
        return NO_HISTORY
    successions = load_successions(ws.config.successors_file, load_units(ws.config.units_file))
    lineage = {u.code: [u.code, *predecessors(u.code, successions)] for u in ws.units}

    def view(code: str, relation: Relation) -> EarlierPeriod | None:
        rows = ws.current_rows(code)
        return EarlierPeriod.build(code, relation, rows, lineage) if rows else None

    return EarlierPeriods(previous=view(prev_code, Relation.PREVIOUS),
                          year_earlier=view(year_code, Relation.YEAR_EARLIER))
