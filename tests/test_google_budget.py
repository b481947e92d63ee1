"""The Google backend's request budget and its behaviour under Google's bad days.

Counts are the fake's own (every Sheets and Drive request that reached it, OAuth token
requests aside), so they are what Google would bill against the per-user quota:
a cycle with nothing changed costs 1 request; k of N units changed cost at most k + 3
reads and k + 2 writes, the master write carrying only those units' rows; the first cycle
over N units at most N + 3 reads; the software's own flag write costs no re-read when the
listing proves the new version is ours alone, and never hides a person's edit.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cchc_sync.app.cli import cli
from cchc_sync.app.demo_data import MISTAKES
from cchc_sync.app.pipeline import sync_once
from tests.contract.districts import PERIOD, SIGNED_IN, GoogleDistrict, finding_keys, summary

TTHC_ROW = ["Chứng thực", 1, 2, 3, 6, 2, 2, 1, 1, 0]


class Sleeper:
    """An injected clock and sleep: waiting takes no time, but is recorded."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def registry(n: int) -> str:
    lines = ["ma,ten,cap,cha,email"]
    for i in range(n):
        level = "huyen" if i % 3 == 0 else "xa"
        lines.append(f"U{i:03d},Đơn vị số {i},{level},,donvi{i}@example.gov.vn")
    return "\n".join(lines) + "\n"


def counts(fake) -> tuple[int, int]:
    """(reads, writes) of Sheets and Drive since the last reset; token requests aside."""
    by_kind = fake.stats()["by_kind"]
    reads = sum(n for k, n in by_kind.items() if k.startswith("GET "))
    writes = sum(n for k, n in by_kind.items() if not k.startswith("GET ") and k != "POST token")
    return reads, writes


def cycle(district):
    district.fake.reset_stats()
    district.clock.tick()
    result = sync_once(district.ws)
    return result, counts(district.fake)


def master_rows_written(district) -> int:
    """Rows of cells the master's batchUpdates carried since the last reset."""
    sid = district.ws.archive.master(PERIOD)["ref"]
    return sum(len(r["updateCells"].get("rows", []))
               for e in district.fake.requests() if e["path"].endswith(f"/{sid}:batchUpdate")
               for r in json.loads(e["body"])["requests"] if "updateCells" in r)


def broken_totals(ws) -> set[str]:
    """Units flagged for a TTHC total that is not the sum of its parts."""
    return {unit for unit, table, column, rule in finding_keys(ws)
            if (table, column, rule) == ("tthc", "tong_tiep_nhan", "tthc.tong-tiep-nhan")}


def type_signer(district, unit: str, name: str) -> None:
    """A clerk changes who prepared the report: content changes, no finding does."""
    sid = district.sheet_id(unit)
    district.fake.edit_cells(sid, "Thông tin", "A2", [[name]])


@pytest.mark.parametrize("n", [12, 200])
def test_request_budget(tmp_path, n):
    district = GoogleDistrict(tmp_path / "d", units_csv=registry(n), fill=False, data_rows=3)
    try:
        # init: per unit a files.create, one batchUpdate and one permission per e-mail; the
        # master the same with its one coordinator.
        assert counts(district.fake) == (0, 3 * n + 3)
        sheets = district.ws.archive.sheets(PERIOD)
        for unit in district.ws.units:
            district.fake.edit_cells(sheets[unit.code].ref, "Giải quyết TTHC", "A2", [TTHC_ROW])
            type_signer(district, unit.code, "Nguyễn Thị Lan")
        measured = {}

        result, (reads, writes) = cycle(district)  # cold: every sheet is new to us
        measured["cold"] = (reads, writes)
        assert result.units_read == n and result.flags_written == n and result.master_written
        assert reads <= n + 3

        # Our own flag writes: the listing proves each sheet's new version is ours alone
        # (version one further, our account the last modifier), so nothing is re-read.
        result, (reads, writes) = cycle(district)
        measured["echo"] = (reads, writes)
        assert result.units_read == 0 and result.flags_written == 0
        assert (reads, writes) == (1, 0)

        result, (reads, writes) = cycle(district)  # nothing changed
        measured["idle"] = (reads, writes)
        assert reads + writes == 1 and result.units_read == 0

        k = 3
        changed = [u.code for u in district.ws.units[:: n // k][:k]]
        for code in changed:
            type_signer(district, code, "Trần Văn Hùng")
        district.fake.record_bodies()
        result, (reads, writes) = cycle(district)
        district.fake.record_bodies(False)
        measured["k_changed"] = (reads, writes)
        assert result.units_read == k and result.flags_written == k and result.master_written
        assert reads <= k + 3 and writes <= k + 2
        # The master gets only what changed: per unit its "Thông tin" row and its line in
        # "Tiến độ" (last edit, last check), whatever N is (O(k), not O(N)).
        master_rows = master_rows_written(district)
        measured["k_master_rows"] = master_rows
        assert master_rows == 2 * k

        result, (reads, writes) = cycle(district)
        measured["k_echo"] = (reads, writes)
        assert result.units_read == 0 and result.flags_written == 0
        assert (reads, writes) == (1, 0)

        result, (reads, writes) = cycle(district)
        assert reads + writes == 1
        print(f"\nN={n}: {json.dumps(measured)}")
    finally:
        district.close()


def test_a_person_editing_right_after_our_write_is_never_hidden(tmp_path):
    district = GoogleDistrict(tmp_path / "d", units_csv=registry(4), fill=False, data_rows=3)
    try:
        sid = district.sheet_id("U001")
        district.fake.edit_cells(sid, "Giải quyết TTHC", "A2", [TTHC_ROW])
        cycle(district)  # reads, checks, writes flags (our write moves Drive's version on)
        # Before the next scan, the clerk breaks a total.
        district.fake.edit_cells(sid, "Giải quyết TTHC", "E2", [[99]])
        result, _ = cycle(district)
        assert result.units_read == 1  # the edit; our own three writes are proved ours
        assert "U001" in broken_totals(district.ws)
        assert result.flags_written == 1
        # A clerk typing between our read and our flag write: the write waits a cycle.
        district.fake.edit_cells(sid, "Giải quyết TTHC", "E2", [[6]])
        backend = district.backend
        original = backend.read_unit

        def read_then_edit(unit, sheet, templates):
            read = original(unit, sheet, templates)
            district.fake.edit_cells(sid, "Giải quyết TTHC", "D2", [[4]])
            return read

        backend.read_unit = read_then_edit
        result, _ = cycle(district)
        assert result.flags_pending == ["U001"]
        backend.read_unit = original
        result, _ = cycle(district)
        assert result.units_read == 1 and result.flags_written == 1
        assert "U001" in broken_totals(district.ws)  # 1 + 2 + 4 != 6: the later edit was read
    finally:
        district.close()


def test_an_edit_just_before_our_flag_write_is_read_and_our_write_alone_is_not(tmp_path):
    """The window the listing cannot see: a clerk types after the flag write's version
    check and before the write lands. The version then goes two further (the edit and our
    write), so the next cycle reads the sheet; a sheet nobody touched is not re-read, and
    one a person edits after our write (the last modifier is then that person) is."""
    district = GoogleDistrict(tmp_path / "d", units_csv=registry(3), fill=False, data_rows=3)
    try:
        window, after = district.sheet_id("U000"), district.sheet_id("U001")
        for unit in ("U000", "U001", "U002"):
            district.fake.edit_cells(district.sheet_id(unit), "Giải quyết TTHC", "A2",
                                     [TTHC_ROW])

        def clerk_types(kind: str, path: str) -> None:
            if kind == "POST spreadsheets.batchUpdate" and path.endswith(f"/{window}:batchUpdate"):
                remove()  # once
                district.fake.edit_cells(window, "Giải quyết TTHC", "E2", [[99]])

        remove = district.fake.on_request(clerk_types)
        result, _ = cycle(district)
        assert result.flags_written == 3
        tokens = {u: s.token for u, s in district.ws.archive.sheets(PERIOD).items()}
        assert all(t.startswith("own:") for t in tokens.values())

        district.fake.edit_cells(after, "Giải quyết TTHC", "D2", [[4]])  # after our write
        result, (reads, _) = cycle(district)
        # The listing, the two edited sheets, the listing before their flag writes.
        assert result.units_read == 2 and reads == 4
        broken = broken_totals(district.ws)
        assert {"U000", "U001"} <= broken and "U002" not in broken  # 99; 1+2+4 != 6
        # U002's proved token became its plain version; a later edit there is read too.
        assert not district.ws.archive.sheets(PERIOD)["U002"].token.startswith("own:")
        district.fake.edit_cells(district.sheet_id("U002"), "Giải quyết TTHC", "E2", [[7]])
        result, _ = cycle(district)
        assert "U002" in {f[0] for f in finding_keys(district.ws)}
    finally:
        district.close()


def test_a_429_storm_is_retried_and_converges(tmp_path):
    sleeper = Sleeper()
    calm = GoogleDistrict(tmp_path / "calm")
    storm = GoogleDistrict(tmp_path / "storm", clock=sleeper.clock, sleep=sleeper.sleep)
    try:
        sync_once(calm.ws)
        storm.fake.set_faults(status=429, rate=0.3, retry_after=1, seed=11)
        result = sync_once(storm.ws)
        storm.fake.clear_faults()
        assert result.units_read == 12 and not result.units_unreachable
        assert not result.flags_pending and result.master_written
        assert storm.backend.transport.retries > 0
        assert sleeper.slept and min(sleeper.slept) >= 1  # Retry-After: 1 honoured
        assert max(sleeper.slept) <= 64
        assert finding_keys(storm.ws) == finding_keys(calm.ws) == set(MISTAKES)
        assert summary(storm) == summary(calm)
    finally:
        calm.close()
        storm.close()


def test_dropped_connections_are_retried(tmp_path):
    sleeper = Sleeper()
    district = GoogleDistrict(tmp_path / "d", clock=sleeper.clock, sleep=sleeper.sleep)
    try:
        district.fake.set_faults(reset_connection_rate=0.2, seed=5)
        result = sync_once(district.ws)
        district.fake.clear_faults()
        assert result.units_read == 12 and not result.units_unreachable
        assert district.backend.transport.retries > 0
        assert finding_keys(district.ws) == set(MISTAKES)
    finally:
        district.close()


def test_google_down_makes_units_unreachable_not_a_crash(tmp_path):
    sleeper = Sleeper()
    district = GoogleDistrict(tmp_path / "d", clock=sleeper.clock, sleep=sleeper.sleep)
    try:
        sync_once(district.ws)
        district.type_value("TP", "Thông tin", 2, "Người lập biểu", "Lê Văn Tám")
        district.fake.set_faults(status=503, kinds=["GET values.batchGet"])
        district.clock.tick()
        result = sync_once(district.ws)
        assert "TP" in result.units_unreachable
        attempts = district.backend.transport.retry.max_attempts
        assert len(sleeper.slept) >= attempts - 1
        district.fake.clear_faults()
        district.clock.tick()
        result = sync_once(district.ws)
        assert "TP" not in result.units_unreachable and result.units_read >= 1
    finally:
        district.close()


def test_a_unit_deleted_mid_cycle_is_unreachable_and_the_others_sync(tmp_path):
    district = GoogleDistrict(tmp_path / "d")
    try:
        gone = district.sheet_id("TCKH")
        backend = district.backend
        original = backend.scan

        def scan_then_delete(sheets):
            entries = original(sheets)
            district.fake.delete(gone)  # after the listing, before its read
            return entries

        backend.scan = scan_then_delete
        result = sync_once(district.ws)
        backend.scan = original
        assert result.units_unreachable == ["TCKH"]
        assert result.units_read == 11 and result.master_written
        state = district.ws.archive.sheets(PERIOD)["TCKH"]
        assert not state.reachable and "đã bị xoá" in state.reason
        progress = {row[0]: row for row in district.master()["Tiến độ"][1:] if row}
        header = district.master()["Tiến độ"][0]
        connection = progress["TCKH"][header.index("Kết nối")]
        assert connection.startswith("Không truy cập được") and "đã bị xoá" in connection
        assert progress["TP"][header.index("Kết nối")] == "Được"
        # The next cycle's listing no longer has it: still unreachable, one request.
        sync_once(district.ws)  # echoes of our flag writes
        result, (reads, writes) = cycle(district)
        assert result.units_unreachable == ["TCKH"]
        assert reads + writes == 1

        runner = CliRunner()
        out = runner.invoke(cli, ["status", "--json", "--config", str(district.ws.config.path)])
        assert out.exit_code == 0, out.output
        items = {item["unit"]: item for item in json.loads(out.output)}
        assert items["TCKH"]["reachable"] is False and "đã bị xoá" in items["TCKH"]["reason"]
        assert items["TP"]["spreadsheet_id"] == district.sheet_id("TP")
    finally:
        district.close()


def test_an_unshared_sheet_says_so(tmp_path):
    district = GoogleDistrict(tmp_path / "d")
    try:
        sync_once(district.ws)
        district.fake.unshare(district.sheet_id("NV"))
        result, _ = cycle(district)
        assert "NV" in result.units_unreachable
        reason = district.ws.archive.sheets(PERIOD)["NV"].reason
        assert "chưa chia sẻ cho tài khoản dịch vụ" in reason
    finally:
        district.close()


def test_demo_google_through_the_cli(tmp_path):
    runner = CliRunner()
    target = tmp_path / "demo"
    result = runner.invoke(cli, ["--quiet", "demo", "--district", "--backend", "google",
                                 str(target)])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "Đơn vị: 12 (6 cấp huyện, 6 cấp xã)" in out
    assert "Lỗi: " in out and "Bảng tổng hợp: http://127.0.0.1:" in out
    assert "/_fake/spreadsheets/" in out
    key = Path(target / "service-account.json")
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("auth", ["user", "delegation"])
def test_acting_as_the_coordinator_our_write_is_read_again_and_no_edit_is_missed(tmp_path,
                                                                                  auth):
    """Signed in as the coordinator, or a service account acting as the coordinator by
    delegation, the account the software writes with is a person's, who may type into a
    unit's sheet too: Drive's `lastModifyingUser.me` cannot tell our flag write from that
    person's edit, so our write is not taken as proved (issue 17: "read as today"). The
    sheets we wrote are read once more in the next cycle, and an edit right after our write
    — a clerk's, or the coordinator's own through the same account — is never missed."""
    district = GoogleDistrict(tmp_path / "d", units_csv=registry(3), fill=False, data_rows=3,
                              auth=auth)
    try:
        sids = {u: district.sheet_id(u) for u in ("U000", "U001", "U002")}
        for sid in sids.values():
            district.fake.edit_cells(sid, "Giải quyết TTHC", "A2", [TTHC_ROW])
        result, _ = cycle(district)
        assert result.flags_written == 3
        # The software acted as the coordinator: the files are the coordinator's, and our
        # flag write left the coordinator as the last modifier ("me").
        for sid in sids.values():
            assert district.fake.store.files[sid].last_modifier == SIGNED_IN
            assert district.fake.store.files[sid].owner == SIGNED_IN
        tokens = {u: s.token for u, s in district.ws.archive.sheets(PERIOD).items()}
        assert not any(t.startswith("own:") for t in tokens.values())

        # Right after our write: a clerk breaks one total, the coordinator another (as "me").
        district.fake.edit_cells(sids["U001"], "Giải quyết TTHC", "E2", [[99]],
                                 user="donvi1@example.gov.vn")
        district.fake.edit_cells(sids["U002"], "Giải quyết TTHC", "D2", [[4]], user=SIGNED_IN)
        result, (reads, _) = cycle(district)
        # Every sheet we wrote is read again (the listing, three sheets, the listing before
        # the two flag writes), the two edits among them.
        assert result.units_read == 3 and reads == 5
        broken = broken_totals(district.ws)
        assert {"U001", "U002"} <= broken and "U000" not in broken  # 99; 1+2+4 != 6
        assert result.flags_written == 2

        # The two sheets flagged again are read once more; then the district is idle.
        result, _ = cycle(district)
        assert result.units_read == 2 and result.flags_written == 0
        result, (reads, writes) = cycle(district)
        assert result.units_read == 0 and (reads, writes) == (1, 0)  # idle: 1 request
    finally:
        district.close()
