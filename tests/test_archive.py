"""The archive keeps every row version, tombstones deletions and never loses a row."""

import sqlite3

import pytest

from cchc_sync.domain.records import Finding, Severity, TabLayout, TypedRow
from cchc_sync.store.archive import _SCHEMA, SCHEMA_VERSION, Archive, ArchiveError

LAYOUT = TabLayout(columns={"linh_vuc": 1, "tong_tiep_nhan": 2})


def row(key, total, sheet_row=2):
    return TypedRow(table="tthc", key=key, sheet_row=sheet_row,
                    values={"linh_vuc": key, "tong_tiep_nhan": total})


def test_versions_tombstones_and_history(tmp_path):
    a = Archive(tmp_path / "a.sqlite")
    run = a.start_run("2022S1")
    added = a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 10), row("dat dai", 5, 3)]},
                          {"tthc": LAYOUT}, run, seen_at="2022-06-01T00:00:00+00:00")
    assert added == 2
    # The same content again adds nothing, only refreshes last_seen.
    assert a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 10), row("dat dai", 5, 3)]},
                         {"tthc": LAYOUT}, run, seen_at="2022-06-02T00:00:00+00:00") == 0
    # A change is a new version; a vanished row is a tombstone.
    assert a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 12)]}, {"tthc": LAYOUT}, run,
                         seen_at="2022-06-03T00:00:00+00:00") == 2
    current = a.current_rows("2022S1")
    assert [(r.key, r.values["tong_tiep_nhan"]) for r in current] == [("ho tich", 12)]
    assert a.count_current_rows("2022S1") == 1  # the tombstone and the old version: not rows
    versions = a.row_versions("2022S1")
    assert [(v["row_key"], v["version"], v["deleted"]) for v in versions] == [
        ("ho tich", 1, 0), ("dat dai", 1, 0), ("ho tich", 2, 0), ("dat dai", 2, 1),
    ]
    first = next(v for v in versions if v["row_key"] == "ho tich" and v["version"] == 1)
    assert first["last_seen"] == "2022-06-02T00:00:00+00:00"
    # Any past state can be rebuilt.
    past = a.current_rows("2022S1", as_of="2022-06-02T12:00:00+00:00")
    assert sorted((r.key, r.values["tong_tiep_nhan"]) for r in past) == [
        ("dat dai", 5), ("ho tich", 10),
    ]
    # A row that comes back gets a new version after its tombstone.
    a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 12), row("dat dai", 5, 3)]},
                  {"tthc": LAYOUT}, run)
    versions = [v["version"] for v in a.row_versions("2022S1") if v["row_key"] == "dat dai"]
    assert versions == [1, 2, 3]
    assert a.count_current_rows("2022S1") == len(a.current_rows("2022S1")) == 2
    assert a.count_current_rows("2022S2") == 0


def test_the_row_count_is_remembered_only_while_no_row_changed(tmp_path):
    """count_current_rows answers from memory at an unmoved data_version (an idle cycle
    does not count the rows in SQL), and counts again after a row changes, in this
    connection or in another process's."""
    a = Archive(tmp_path / "a.sqlite")
    run = a.start_run("2022S1")
    a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 10), row("dat dai", 5, 3)]},
                  {"tthc": LAYOUT}, run)
    assert a.count_current_rows("2022S1") == 2
    a.remember_row_count("2022S1", 7)  # a caller's word: believed at this version only
    assert a.count_current_rows("2022S1") == 7
    other = Archive(tmp_path / "a.sqlite")  # another process, writing through the file
    other.record_rows("2022S1", "XB", {"tthc": [row("ho tich", 1)]}, {"tthc": LAYOUT}, run)
    other.close()
    assert a.count_current_rows("2022S1") == 3
    a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 10)]}, {"tthc": LAYOUT}, run)
    assert a.count_current_rows("2022S1") == 2  # a tombstone is a change too
    assert a.count_current_rows("2022S2") == 0

def test_sheet_states_are_read_again_after_any_write(tmp_path):
    """sheets() keeps what it read until a sheet is written through this archive, another
    connection commits, or a transaction is rolled back; callers get their own dict."""
    a = Archive(tmp_path / "a.sqlite")
    a.register_sheet("2022S1", "XA", "local", "a.xlsx", "/a.xlsx", None)
    first = a.sheets("2022S1")
    first.pop("XA")  # the caller's copy
    assert a.sheets("2022S1")["XA"].token is None
    a.update_sheet("2022S1", "XA", token="1:2")
    assert a.sheets("2022S1")["XA"].token == "1:2"
    other = Archive(tmp_path / "a.sqlite")
    other.update_sheet("2022S1", "XA", token="3:4", flags_hash="f")
    other.register_sheet("2022S1", "XB", "local", "b.xlsx", "/b.xlsx", None)
    other.close()
    states = a.sheets("2022S1")
    assert states["XA"].token == "3:4" and states["XA"].flags_hash == "f" and "XB" in states
    with pytest.raises(RuntimeError), a.transaction():
        a.update_sheet("2022S1", "XA", token="5:6")
        assert a.sheets("2022S1")["XA"].token == "5:6"
        raise RuntimeError
    assert a.sheets("2022S1")["XA"].token == "3:4"

def test_a_missing_tab_keeps_its_rows(tmp_path):
    a = Archive(tmp_path / "a.sqlite")
    run = a.start_run("2022S1")
    a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 10)]}, {"tthc": LAYOUT}, run)
    # The clerk deleted or renamed the tab: nothing is read, nothing is tombstoned.
    assert a.record_rows("2022S1", "XA", {"tthc": []}, {"tthc": None}, run) == 0
    assert [r.key for r in a.current_rows("2022S1")] == ["ho tich"]


def finding(msg, unit="XA", severity=Severity.ERROR):
    return Finding(rule="r", severity=severity, message=msg, unit=unit, table="tthc", row=2,
                   column="tong_tiep_nhan", row_key="ho tich", value=10)


def test_findings_open_close_and_scope(tmp_path):
    a = Archive(tmp_path / "a.sqlite")
    r1 = a.start_run("2022S1")
    changed = a.replace_findings("2022S1", "unit", [finding("a"), finding("b", unit="YB")], r1)
    assert changed == {"XA", "YB"}
    r2 = a.start_run("2022S1")
    # Re-checking unit XA alone leaves YB's findings open.
    assert a.replace_findings("2022S1", "unit", [], r2, units=["XA"]) == {"XA"}
    assert [f.unit for f in a.open_findings("2022S1")] == ["YB"]
    # The same finding again changes nothing and keeps its first run.
    again = a.replace_findings("2022S1", "unit", [finding("b", unit="YB")], r2, units=["YB"])
    assert again == set()
    rows = a.db.execute("SELECT first_seen_run, closed_run, unit FROM findings").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [(r1, r2, "XA"), (r1, None, "YB")]


def test_schema_is_versioned(tmp_path):
    path = tmp_path / "a.sqlite"
    a = Archive(path)
    assert a.schema_version() == SCHEMA_VERSION == 2
    a.close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ArchiveError, match="newer"):
        Archive(path)


def test_record_rows_is_all_or_nothing(tmp_path):
    a = Archive(tmp_path / "a.sqlite")
    run = a.start_run("2022S1")
    bad = TypedRow(table="tthc", key="x", sheet_row=2, values={"v": object()})
    with pytest.raises(TypeError):
        a.record_rows("2022S1", "XA", {"tthc": [row("ho tich", 1), bad]}, {"tthc": LAYOUT}, run)
    assert a.row_versions("2022S1") == []
    assert a.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_a_version_1_archive_is_migrated_without_loss(tmp_path):
    path = tmp_path / "v1.sqlite"
    db = sqlite3.connect(path)
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    db.execute("INSERT INTO meta VALUES ('schema_version', '1')")
    db.execute(
        "INSERT INTO row_versions (period, unit, tbl, row_key, version, data, deleted, "
        "first_seen, last_seen) VALUES ('2022S1', 'XA', 'tthc', 'k', 1, '{\"a\": 1}', 0, "
        "'2022-06-01T00:00:00+00:00', '2022-06-01T00:00:00+00:00')"
    )
    db.commit()
    db.close()
    a = Archive(path)
    assert a.schema_version() == 2
    assert [r.values for r in a.current_rows("2022S1")] == [{"a": 1}]
    tables = {r[0] for r in a.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"periods", "unit_states", "audit"} <= tables
    assert a.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_redundant_row_index_of_older_archives_is_dropped_and_lookups_stay_indexed(tmp_path):
    """row_versions_current duplicated the start of the UNIQUE index (one more b-tree insert
    per row version written); an archive that has it loses it at the next open, and the
    lookups by unit and row still go through an index, not a scan."""
    path = tmp_path / "a.sqlite"
    Archive(path).close()
    db = sqlite3.connect(path)
    db.execute("CREATE INDEX row_versions_current ON row_versions (period, unit, tbl, row_key)")
    db.commit()
    db.close()
    a = Archive(path)
    indexes = {r[0] for r in a.db.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert "row_versions_current" not in indexes
    for query, params in [
        ("SELECT MAX(version) FROM row_versions WHERE period = ? AND unit = ? AND tbl = ? "
         "AND row_key = ?", ("p", "u", "t", "k")),
        ("SELECT * FROM row_versions WHERE period = ? AND unit = ?", ("p", "u")),
    ]:
        plan = " ".join(r[3] for r in a.db.execute("EXPLAIN QUERY PLAN " + query, params))
        assert "USING" in plan and "INDEX" in plan, plan
    a.record_rows("p", "u", {"tthc": [row("ho tich", 10)]}, {"tthc": LAYOUT}, a.start_run("p"))
    assert a.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_layouts_read_back_as_written_when_many_units_share_them(tmp_path):
    """Layouts are encoded once per distinct layout: a layout equal but for its columns'
    order, a title, or a status column is its own, and each unit reads back its own."""
    a = Archive(tmp_path / "a.sqlite")
    run = a.start_run("2022S1")
    variants = [
        LAYOUT,
        TabLayout(columns={"tong_tiep_nhan": 2, "linh_vuc": 1}),
        TabLayout(columns={"linh_vuc": 1, "tong_tiep_nhan": 2}, unknown_titles=("Ghi chú",)),
        TabLayout(columns={"linh_vuc": 1, "tong_tiep_nhan": 2}, status_col=9, header_row=3),
    ]
    for i in range(12):
        layout = variants[i % len(variants)]
        a.record_rows("2022S1", f"U{i}", {"tthc": [row("ho tich", i)]}, {"tthc": layout}, run)
    for i in range(12):
        got = a.layouts("2022S1", f"U{i}")["tthc"]
        assert got == variants[i % len(variants)]
        assert list(got.columns) == list(variants[i % len(variants)].columns)


def test_row_positions_are_those_of_the_current_rows(tmp_path):
    """The flag plan's positions come from row_positions without decoding any row: the same
    lists, in the same order, as the current rows' sheet_row give, through changes,
    tombstones, moved and unpositioned rows and other units' rows."""
    a = Archive(tmp_path / "a.sqlite")
    run = a.start_run("2022S1")

    def in_tab(table, key, total, sheet_row):
        return TypedRow(table=table, key=key, sheet_row=sheet_row,
                        values={"linh_vuc": key, "tong_tiep_nhan": total})

    def from_current(unit):
        out: dict[str, list[int]] = {}
        for r in a.current_rows("2022S1", unit=unit):
            if r.sheet_row is not None:
                out.setdefault(r.table, []).append(r.sheet_row)
        return out

    layouts = {"tthc": LAYOUT, "mot_cua": LAYOUT}
    steps = [
        {"tthc": [in_tab("tthc", "b", 1, 5), in_tab("tthc", "a", 2, 3)],
         "mot_cua": [in_tab("mot_cua", "x", 1, 2), in_tab("mot_cua", "y", 1, None)]},
        {"tthc": [in_tab("tthc", "a", 7, 9)],  # changed and moved; "b" deleted
         "mot_cua": [in_tab("mot_cua", "x", 1, 4), in_tab("mot_cua", "z", 3, 2)]},
        {"tthc": [in_tab("tthc", "b", 1, 2), in_tab("tthc", "a", 7, 9)], "mot_cua": []},
    ]
    a.record_rows("2022S1", "XB", {"tthc": [in_tab("tthc", "a", 1, 7)]}, layouts, run)
    for step in steps:
        a.record_rows("2022S1", "XA", step, layouts, run)
        assert a.row_positions("2022S1", "XA") == from_current("XA")
    assert a.row_positions("2022S1", "XA") == {"tthc": [2, 9]}
    assert a.row_positions("2022S1", "XB") == {"tthc": [7]}
    assert a.row_positions("2022S2", "XA") == {}
