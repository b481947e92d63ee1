"""The read → write basis (issue 11): what the flag write needs from the read travels as a
value in the archive, so a restart between a unit's read and its flag write (a new process,
a new backend object, the same archive) sends exactly the requests and leaves exactly the
flags that no restart would.

The split is real: the first flag write after the read is refused by the fake (one 404),
so the read's cycle ends with the flags pending; the next cycle finds the sheet unchanged
(no re-read) and writes them from the archive's basis, either in the same process with
the same backend object, or in a new `cchc-sync sync` process.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cchc_sync.app.pipeline import sync_once
from cchc_sync.domain.records import ReadBasis
from cchc_sync.sources.base import SheetRef
from cchc_sync.sources.google.basis import flag_basis
from tests import cli_process
from tests.conftest import Clock
from tests.contract.districts import dump_values
from tests.test_concurrent_edits import TAB, UNIT, google_flags
from tests.test_faults import GoogleSite

RETYPED = "TỔNG SỐ HỒ SƠ TIẾP NHẬN"


def _retitle_and_break(site: GoogleSite) -> None:
    """The clerk re-types a header (the "Kiểm tra" tab names columns as the sheet shows
    them) and breaks a total in the first row (a new finding: flags to write)."""
    rows = dump_values(site.fake.spreadsheet(site.sheets[UNIT]))[TAB]
    assert rows[0][4].upper() == RETYPED
    site.fake.edit_cells(site.sheets[UNIT], TAB, "E1", [[RETYPED]])
    site.fake.edit_cells(site.sheets[UNIT], TAB, "E2", [[9999]])


def _unit_requests(site: GoogleSite, since: int) -> list[tuple[str, str, Any]]:
    """UNIT's Sheets requests since `since`, ids made neutral: (kind, query, body)."""
    sid = site.sheets[UNIT]
    out = []
    for r in site.fake.requests()[since:]:
        if sid not in r["path"]:
            continue
        body = json.loads(r["body"]) if r["body"] else None
        out.append((r["kind"], r["query"], body))
    return out


def _write_after_refused_write(tmp_path: Path, restart: bool) -> tuple[list, dict[str, Any]]:
    site = GoogleSite(tmp_path / ("restart" if restart else "same"))
    site.fake.record_bodies()
    clock = Clock(Clock().now.replace(year=int(site.period[:4]),
                                      month=1 if site.period.endswith("S1") else 7))
    ws = site.open()
    try:
        ws.clock = clock
        sync_once(ws)
        clock.tick()
        sync_once(ws)  # the echo of our own flag writes
        _retitle_and_break(site)
        clock.tick()
        site.fake.set_faults(status=404, count=1, kinds=["POST spreadsheets.batchUpdate"])
        result = sync_once(ws)  # UNIT read; its flag write refused
        site.fake.clear_faults()
        assert result.units_read == 1 and UNIT in result.flags_pending
        basis = ReadBasis.from_json(ws.archive.basis(site.period, UNIT))
        known = flag_basis(basis, site.sheets[UNIT])
        assert known is not None and known.prints["tthc"].rows
        assert any(title.isupper() for title in known.headers.values())
        mark = len(site.fake.requests())
        if restart:
            ws.close()
            done = cli_process.run(
                ["sync", "--config", str(site.config)],
                capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stdout + done.stderr
            ws = site.open()
        else:
            clock.tick()
            result = sync_once(ws)
            assert result.units_read == 0 and result.flags_written == 1
        sheets = ws.archive.sheets(site.period)
        assert sheets[UNIT].flags_hash is not None  # written, nothing pending
        return _unit_requests(site, mark), google_flags(site)
    finally:
        ws.close()
        site.close()


def test_a_restart_between_read_and_flag_write_changes_nothing(tmp_path):
    same_requests, same_flags = _write_after_refused_write(tmp_path, restart=False)
    new_requests, new_flags = _write_after_refused_write(tmp_path, restart=True)
    kinds = [k for k, _, _ in same_requests]
    # No "_cchc" read for the flag state: it came with the basis.
    assert kinds == ["POST spreadsheets.batchUpdate"]
    assert new_requests == same_requests
    assert new_flags == same_flags
    status, notes = same_flags[TAB]
    assert str(status[2]).startswith("✖") and notes, same_flags[TAB]
    # The "Kiểm tra" tab names the column as the clerk re-typed it (from the basis).
    body = json.dumps(same_requests[0][2], ensure_ascii=False)
    assert RETYPED in body


@pytest.mark.parametrize("text", [
    None, "", "{", '{"backend": "google"}', "[1, 2]",
    '{"backend": "google", "ref": "a", "detail": {"x": NaN}}',
    '{"backend": "google", "ref": "a", "detail": {"x": [Infinity]}}',
    '{"backend": "google", "ref": "a", "detail": {"x": [1e400]}}',
    '{"backend": "google", "ref": "a", "detail": {"x": -1.5e999}}',
    '{"backend": "google", "ref": "a", "detail": [1]}'])
def test_an_unreadable_basis_is_none(text):
    assert ReadBasis.from_json(text) is None


def test_a_basis_round_trips_and_is_frozen():
    basis = ReadBasis(backend="google", ref="abc", token="7",
                      detail={"state": None, "prints": {"t": {"rows": [[2, "00ff"]]}}})
    again = ReadBasis.from_json(basis.to_json())
    assert again == basis and hash(again) == hash(basis)
    with pytest.raises(TypeError):
        basis.detail["state"] = "x"  # type: ignore[index]
    with pytest.raises(TypeError):
        ReadBasis(backend="google", ref="abc", detail={"when": object()})
    assert not basis.usable_for("local", "abc") and not basis.usable_for("google", "xyz")


def test_a_basis_with_a_detail_set_keeps_the_rest_and_refuses_what_json_cannot_hold():
    basis = ReadBasis(backend="google", ref="abc", token="7",
                      detail={"state": None, "prints": {"t": {"rows": [[2, "00ff"]]}}})
    again = ReadBasis.from_json(basis.to_json())
    changed = again.with_detail(state='{"marks": {}}')
    assert changed.token is None and changed.ref == "abc"
    assert dict(changed.detail) == {"state": '{"marks": {}}', "prints": basis.detail["prints"]}
    assert ReadBasis.from_json(changed.to_json()) == changed
    with pytest.raises(TypeError):
        basis.with_detail(state=object())
    with pytest.raises(ValueError):
        basis.with_detail(state=float("nan"))


def test_a_google_read_basis_is_canonical_as_made(tmp_path):
    """google_basis builds its detail of the values a JSON round trip gives and skips that
    round trip (ReadBasis.of_json_values): the detail must be exactly what the round trip
    would make, key order and types included (a tuple, a float or a key left unsorted
    fails here), and must survive the archive unchanged."""
    site = GoogleSite(tmp_path)
    ws = site.open()
    try:
        sid = site.sheets[UNIT]
        read = ws.backend.read_unit(UNIT, SheetRef(ref=sid, url=""), ws.templates)
        assert read.basis is not None
        detail = dict(read.basis.detail)
        assert detail["prints"] and detail["headers"]
        text = json.dumps(detail, sort_keys=True, allow_nan=False)
        again = json.loads(text)

        def typed(value: Any) -> Any:  # == alone takes 1 for 1.0 and True
            if isinstance(value, dict):
                return [(k, typed(v)) for k, v in value.items()]
            if isinstance(value, list):
                return [typed(v) for v in value]
            return (type(value).__name__, value)

        assert typed(detail) == typed(again)
        assert ReadBasis.from_json(read.basis.to_json()) == read.basis
    finally:
        ws.close()
        site.close()
