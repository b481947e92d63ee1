"""The archive's rows: every version of every row of every unit's tables (append-only,
tombstones for rows that disappear), where each row sits in its sheet, and the tabs'
layouts. `Archive` (archive.py) is a `RowStore`; runs, units, sheets, masters and findings
stay there.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from sys import intern
from typing import Any

from cchc_sync.domain.records import CurrentRow, TabLayout, TypedRow
from cchc_sync.store.row_values import encode_values


def now_stamp() -> str:
    """Now, as the archive stores times (UTC, ISO 8601, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class RowStore:
    """Row versions, positions and layouts, on the archive's connection."""

    db: sqlite3.Connection
    transaction: Callable[[], AbstractContextManager[sqlite3.Connection]]
    """Archive's: BEGIN IMMEDIATE ... COMMIT, the archive's caches undone on a rollback."""

    def record_rows(
        self,
        period: str,
        unit: str,
        rows_by_table: dict[str, list[TypedRow]],
        layouts: dict[str, TabLayout | None],
        run_id: int,
        seen_at: str | None = None,
        source_modified_at: str | None = None,
    ) -> int:
        """Archive one unit's rows as read now. Returns how many row versions were added
        (new rows, changed rows and tombstones). One transaction: all or nothing.

        source_modified_at: when the sheet says it was last modified (the new versions
        existed at least since then: a truer submission time than our first sight)."""
        seen_at = seen_at or now_stamp()
        added = 0
        with self.transaction() as db:
            latest = {
                (r["tbl"], r["row_key"]): r
                for r in db.execute(
                    "SELECT tbl, row_key, version, data, deleted, id FROM row_versions v "
                    "WHERE period = ? AND unit = ? AND version = (SELECT MAX(version) FROM "
                    "row_versions w WHERE w.period = v.period AND w.unit = v.unit AND "
                    "w.tbl = v.tbl AND w.row_key = v.row_key)",
                    (period, unit),
                )
            }
            seen: set[tuple[str, str]] = set()
            db.execute("DELETE FROM row_positions WHERE period = ? AND unit = ?", (period, unit))
            # Statements gathered and sent with executemany: one call per kind, not per row.
            unchanged: list[tuple[str, int]] = []
            versions: list[tuple[Any, ...]] = []
            positions: list[tuple[Any, ...]] = []
            for table, rows in rows_by_table.items():
                for row in rows:
                    ident = (table, row.key)
                    seen.add(ident)
                    data = encode_values(row.values)
                    prev = latest.get(ident)
                    if prev is not None and not prev["deleted"] and prev["data"] == data:
                        unchanged.append((seen_at, prev["id"]))
                    else:
                        versions.append((
                            period, unit, table, row.key,
                            (prev["version"] + 1) if prev is not None else 1,
                            data, seen_at, seen_at, run_id, source_modified_at,
                        ))
                    positions.append(
                        (period, unit, table, row.key, row.sheet_row, row.explanation))
            db.executemany("UPDATE row_versions SET last_seen = ? WHERE id = ?", unchanged)
            db.executemany(
                "INSERT INTO row_versions (period, unit, tbl, row_key, version, "
                "data, deleted, first_seen, last_seen, run_id, source_modified_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?)",
                versions,
            )
            added += len(versions)
            db.executemany("INSERT OR REPLACE INTO row_positions VALUES (?, ?, ?, ?, ?, ?)",
                           positions)
            for ident, prev in latest.items():
                # A table the sheet no longer shows (tab deleted) keeps its rows: a missing
                # tab is a finding, not the unit deleting its data.
                if ident in seen or prev["deleted"] or ident[0] not in rows_by_table:
                    continue
                if layouts.get(ident[0]) is None:
                    continue
                db.execute(
                    "INSERT INTO row_versions (period, unit, tbl, row_key, version, data, "
                    "deleted, first_seen, last_seen, run_id, source_modified_at) "
                    "VALUES (?, ?, ?, ?, ?, NULL, 1, ?, ?, ?, ?)",
                    (period, unit, ident[0], ident[1], prev["version"] + 1, seen_at, seen_at,
                     run_id, source_modified_at),
                )
                added += 1
            db.executemany(
                "DELETE FROM layouts WHERE period = ? AND unit = ? AND tbl = ?",
                [(period, unit, table) for table, layout in layouts.items() if layout is None],
            )
            db.executemany(
                "INSERT OR REPLACE INTO layouts VALUES (?, ?, ?, ?)",
                [(period, unit, table, _layout_json(layout))
                 for table, layout in layouts.items() if layout is not None],
            )
        return added

    def count_current_rows(self, period: str) -> int:
        """len(current_rows(period)), counted in SQL (an idle cycle loads no row)."""
        return int(self.db.execute(
            """
            SELECT COUNT(*) FROM row_versions v
            JOIN (SELECT unit, tbl, row_key, MAX(version) AS version FROM row_versions
                  WHERE period = ? GROUP BY unit, tbl, row_key) m
              ON v.unit = m.unit AND v.tbl = m.tbl AND v.row_key = m.row_key
             AND v.version = m.version
            WHERE v.period = ? AND v.deleted = 0
            """,
            (period, period),
        ).fetchone()[0])

    def row_positions(self, period: str, unit: str) -> dict[str, list[int]]:
        """Per table, the sheet rows of the unit's current rows that have one, in order: what
        current_rows gives as sheet_row, without reading or decoding the rows' data (the
        flags need only where rows are; decoding every row was a flag plan's largest cost)."""
        positions: dict[str, list[int]] = {}
        for table, sheet_row in self.db.execute(
            """
            SELECT v.tbl, p.sheet_row
            FROM row_versions v
            JOIN (SELECT tbl, row_key, MAX(version) AS version FROM row_versions
                  WHERE period = ? AND unit = ? GROUP BY tbl, row_key) m
              ON v.tbl = m.tbl AND v.row_key = m.row_key AND v.version = m.version
            JOIN row_positions p ON p.period = v.period AND p.unit = v.unit
             AND p.tbl = v.tbl AND p.row_key = v.row_key
            WHERE v.period = ? AND v.unit = ? AND v.deleted = 0 AND p.sheet_row IS NOT NULL
            ORDER BY v.tbl, p.sheet_row, v.row_key
            """,
            (period, unit, period, unit),
        ):
            positions.setdefault(table, []).append(sheet_row)
        return positions

    def current_rows(
        self, period: str, as_of: str | None = None, unit: str | None = None
    ) -> list[CurrentRow]:
        """The latest non-deleted version of every row (as of a past time, if given)."""
        return list(self.iter_current_rows(period, as_of, unit))

    def iter_current_rows(
        self, period: str, as_of: str | None = None, unit: str | None = None
    ) -> Iterator[CurrentRow]:
        """current_rows one at a time, straight from the cursor: no list of the database's
        rows beside the list a caller builds. Names and short texts that repeat from row
        to row (column keys, tables, unit codes, field names, choice codes) are interned:
        one string for every row instead of one per row (issue 17 item 6)."""
        params: list[Any] = [period]
        time_filter = ""
        if as_of:
            time_filter = "AND first_seen <= ?"
            params.append(as_of)
        unit_filter = ""
        if unit:
            unit_filter = "AND unit = ?"
            params.append(unit)
        rows = self.db.execute(
            f"""
            SELECT v.unit, v.tbl, v.row_key, v.data, p.sheet_row, p.explanation
            FROM row_versions v
            JOIN (SELECT period, unit, tbl, row_key, MAX(version) AS version FROM row_versions
                  WHERE period = ? {time_filter} {unit_filter}
                  GROUP BY period, unit, tbl, row_key) m
              ON v.period = m.period AND v.unit = m.unit AND v.tbl = m.tbl
             AND v.row_key = m.row_key AND v.version = m.version
            LEFT JOIN row_positions p ON p.period = v.period AND p.unit = v.unit
             AND p.tbl = v.tbl AND p.row_key = v.row_key
            WHERE v.deleted = 0
            ORDER BY v.unit, v.tbl, p.sheet_row, v.row_key
            """,
            params,
        )
        for r in rows:
            yield CurrentRow(
                unit=intern(r["unit"]), table=intern(r["tbl"]), key=r["row_key"],
                sheet_row=r["sheet_row"] if not as_of else None,
                values=_interned(json.loads(r["data"])), explanation=r["explanation"],
            )

    def row_versions(self, period: str) -> list[sqlite3.Row]:
        return self.db.execute(
            "SELECT * FROM row_versions WHERE period = ? ORDER BY id", (period,)
        ).fetchall()

    def table_history(self, period: str, unit: str, table: str) -> list[sqlite3.Row]:
        """Every version of one unit's rows of one table, oldest first (data, first_seen,
        source_modified_at, deleted)."""
        return self.db.execute(
            "SELECT data, first_seen, source_modified_at, deleted FROM row_versions "
            "WHERE period = ? AND unit = ? AND tbl = ? ORDER BY version",
            (period, unit, table),
        ).fetchall()

    def first_seen(
        self, period: str, unit: str, table: str, key: str, values_json: str
    ) -> str | None:
        row = self.db.execute(
            "SELECT MIN(first_seen) FROM row_versions WHERE period = ? AND unit = ? AND tbl = ? "
            "AND row_key = ? AND data = ?",
            (period, unit, table, key, values_json),
        ).fetchone()
        return row[0] if row else None

    def layouts(self, period: str, unit: str) -> dict[str, TabLayout]:
        return {
            r["tbl"]: _layout_from_json(r["layout"])
            for r in self.db.execute(
                "SELECT tbl, layout FROM layouts WHERE period = ? AND unit = ?", (period, unit)
            )
        }


_INTERNED_TEXT = 40
"""Texts up to this long are interned when rows are loaded (codes, names, field labels)."""


def _interned(values: dict[str, Any]) -> dict[str, Any]:
    return {intern(k): intern(v) if isinstance(v, str) and len(v) <= _INTERNED_TEXT else v
            for k, v in values.items()}


_LAYOUT_JSON: dict[tuple[Any, ...], str] = {}
"""Each tab's layout is written with every read of its unit, and thousands of units share a
handful of layouts (one per template tab, with the same columns): each encoded once."""


def _layout_json(layout: TabLayout) -> str:
    # Items, not the dict: the JSON keeps the columns' order, so the key must too.
    seen = (tuple(layout.columns.items()), layout.explanation_col, layout.status_col,
            layout.header_row, layout.unknown_titles)
    text = _LAYOUT_JSON.get(seen)
    if text is None:
        if len(_LAYOUT_JSON) >= 1024:
            _LAYOUT_JSON.clear()
        text = _LAYOUT_JSON[seen] = _encode_layout(layout)
    return text


def _encode_layout(layout: TabLayout) -> str:
    return json.dumps(
        {
            "columns": layout.columns,
            "explanation_col": layout.explanation_col,
            "status_col": layout.status_col,
            "header_row": layout.header_row,
            "unknown_titles": list(layout.unknown_titles),
        },
        ensure_ascii=False,
    )


def _layout_from_json(text: str) -> TabLayout:
    d = json.loads(text)
    return TabLayout(
        columns=d["columns"],
        explanation_col=d["explanation_col"],
        status_col=d["status_col"],
        header_row=d["header_row"],
        unknown_titles=tuple(d["unknown_titles"]),
    )
