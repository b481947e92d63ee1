"""A master larger than Google's request limit is written in parts.

Google refuses a request body over 10 MiB (400 "Request payload size exceeds the limit:
10485760 bytes."); the fake does too. Here the fake's limit and the backend's budget are
lowered so that the sample district's master (~180 KB in one request) needs several
requests: it must land complete and identical to the one-request write, no request may
pass the limit, and a part that fails must leave the old master whole, the next cycle
converging. All over real HTTP to the fake, with real gspread and google-auth.
"""

from __future__ import annotations

import requests

from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.google.master import MASTER_REQUEST_BYTES, STAGING_PREFIX
from cchc_sync.sources.google.transport import RetryPolicy
from cchc_sync.testing.fake_google import FakeGoogle
from tests.contract.districts import PERIOD, GoogleDistrict

LIMIT = 60_000
"""The fake's request limit in these tests: a third of the sample master in one request."""
BUDGET = 30_000
"""The backend's budget per master request in these tests."""
BATCH_UPDATE = "POST spreadsheets.batchUpdate"


def master_id(district) -> str:
    return district.ws.archive.master(PERIOD)["ref"]


def master_sheets(district) -> list[dict]:
    """Every tab of the master as the fake holds it: properties, cells (values and
    formats), filter, column widths."""
    return district.fake.spreadsheet(master_id(district))["sheets"]


def master_writes(district) -> list[dict]:
    """The fake's log entries of batchUpdates sent to the master since the last reset."""
    sid = master_id(district)
    return [e for e in district.fake.requests()
            if e["kind"] == BATCH_UPDATE and e["path"].endswith(f"/{sid}:batchUpdate")]


def rewrite(district) -> bool:
    """One cycle that rewrites the master even if its book did not change."""
    district.ws.archive.set_master_hash(PERIOD, "forget")
    district.fake.reset_stats()
    district.clock.tick()
    return sync_once(district.ws).master_written


def one_request_reference(district) -> list[dict]:
    """The master as one request writes it: the real limit, the default budget."""
    district.fake.set_limits(max_request_bytes=10 * 1024 * 1024)
    district.backend.master.request_bytes = MASTER_REQUEST_BYTES
    assert rewrite(district)
    assert len(master_writes(district)) == 1
    return master_sheets(district)


def test_the_fake_refuses_a_body_over_the_limit_as_google_does():
    with FakeGoogle() as fake:
        assert fake.max_request_bytes == 10_485_760  # Google's, by default
        url = f"{fake.url}/v4/spreadsheets/abc:batchUpdate"
        big = requests.post(url, data=b"x" * 10_485_761, timeout=30)
        assert big.status_code == 400
        assert big.json() == {"error": {
            "code": 400, "message": "Request payload size exceeds the limit: 10485760 bytes.",
            "status": "INVALID_ARGUMENT"}}
        # Lowered over the control endpoint (as the bench's fake process would be).
        answer = requests.post(f"{fake.url}/_fake/limits", json={"max_request_bytes": 1000},
                               timeout=30)
        assert answer.json() == {"max_request_bytes": 1000}
        refused = requests.post(url, data=b"x" * 1001, timeout=30)
        assert refused.json()["error"]["message"] == \
            "Request payload size exceeds the limit: 1000 bytes."
        # At the limit the body is looked at: no token, so 401, not the size error.
        assert requests.post(url, data=b"x" * 1000, timeout=30).status_code == 401
        drive = requests.post(f"{fake.url}/drive/v3/files", data=b"x" * 1001, timeout=30)
        assert drive.status_code == 400 and drive.json()["error"]["errors"][0]["reason"] \
            == "badRequest"
        assert [(e["status"], e["bytes"]) for e in fake.requests()] == [
            (400, 10_485_761), (400, 1001), (401, 1000), (400, 1001)]


def test_a_master_over_the_limit_is_written_in_parts_identical_to_one_request(tmp_path):
    district = GoogleDistrict(tmp_path / "d")
    try:
        district.fake.reset_stats()  # init's requests aside
        assert sync_once(district.ws).master_written
        one = master_writes(district)
        assert len(one) == 1 and one[0]["bytes"] > 2 * LIMIT  # the test means something
        reference = master_sheets(district)

        district.fake.set_limits(max_request_bytes=LIMIT)
        # The old way, one request, is refused by the lowered limit: the master is not
        # written and the next cycle will try again.
        district.fake.edit_cells(master_id(district), "Giải quyết TTHC", "A2:B3",
                                 [["rác", "rác"], ["rác", "rác"]])
        assert not rewrite(district)
        assert [e["status"] for e in master_writes(district)] == [400, 400]

        district.backend.master.request_bytes = BUDGET
        assert rewrite(district)
        writes = master_writes(district)
        assert len(writes) >= 5  # ~180 KB in parts of 30 KB, and the swap
        assert all(e["status"] == 200 for e in writes)
        assert max(e["bytes"] for e in district.fake.requests()) <= LIMIT
        assert all(e["bytes"] <= BUDGET for e in writes[:-1])  # the parts keep the budget
        after = master_sheets(district)
        assert not any(s["title"].startswith(STAGING_PREFIX) for s in after)
        assert after == reference  # values, formats, grid sizes, widths, filters, order
    finally:
        district.close()


def test_a_failed_middle_part_leaves_the_old_master_whole_and_the_next_cycle_converges(
        tmp_path):
    # Two attempts per request, no waiting: a part that keeps failing gives up at once.
    district = GoogleDistrict(tmp_path / "d", master_request_bytes=BUDGET,
                              retry=RetryPolicy(max_attempts=2, base_delay=0, jitter=0))
    try:
        district.fake.set_limits(max_request_bytes=LIMIT)
        district.fake.reset_stats()
        assert sync_once(district.ws).master_written
        assert len(master_writes(district)) >= 5
        before = master_sheets(district)

        unit = district.ws.units[0].code
        district.type_value(unit, "Thông tin", 2, "Người lập biểu", "Lê Thị Mai Anh")
        # The cycle writes that unit's flags (1 batchUpdate), then the master's first part;
        # its second part fails twice with 503 (Google unavailable).
        district.fake.set_faults(status=503, kinds=[BATCH_UPDATE], skip=2, count=2)
        # One unit's change alone is written as its difference, in one small request
        # (test_google_master_incremental); without the shape the master goes whole.
        district.ws.archive.forget_master_shape(PERIOD)
        district.fake.reset_stats()
        district.clock.tick()
        result = sync_once(district.ws)
        assert result.flags_written == 1 and not result.master_written
        assert [e["status"] for e in master_writes(district)] == [200, 503, 503]
        visible = [s for s in master_sheets(district) if not s["hidden"]]
        assert visible == before  # the old master, whole: no part of the new one shows
        assert "Lê Thị Mai Anh" not in str(visible)
        district.fake.clear_faults()

        district.fake.reset_stats()
        district.clock.tick()
        assert sync_once(district.ws).master_written
        assert max(e["bytes"] for e in district.fake.requests()) <= LIMIT
        converged = master_sheets(district)
        assert not any(s["title"].startswith(STAGING_PREFIX) for s in converged)
        assert "Lê Thị Mai Anh" in str(converged)
        # The progress tab (in the first part) changed too: a write that showed its parts
        # as they came would have shown it above, beside the old "Thông tin".
        changed = {a["title"] for a, b in zip(before, converged, strict=True) if a != b}
        assert changed == {"Tiến độ", "Thông tin"}
        assert converged == one_request_reference(district)
    finally:
        district.close()


def test_tabs_a_person_changed_are_put_right_by_a_write_in_parts(tmp_path):
    district = GoogleDistrict(tmp_path / "d", master_request_bytes=BUDGET)
    try:
        district.fake.set_limits(max_request_bytes=LIMIT)
        assert sync_once(district.ws).master_written
        sid = master_id(district)
        ids = {s["title"]: s["sheetId"] for s in master_sheets(district)}
        # Someone with edit rights deletes a tab and adds one of their own.
        district.backend.transport.batch_update(sid, {"requests": [
            {"deleteSheet": {"sheetId": ids["Bất thường"]}},
            {"addSheet": {"properties": {"title": "Ghi chú riêng"}}}]})

        assert rewrite(district)
        statuses = [e["status"] for e in master_writes(district)]
        # The parts go to staging tabs; the swap names the lost tab and is refused (400),
        # the master is left as it was; the tabs are read and everything goes again, the
        # lost tab made anew, the stranger and the staging tabs of the refused try deleted.
        assert statuses.count(400) == 1 and set(statuses) == {200, 400}
        assert 4 <= statuses.index(400) < len(statuses) - 4
        assert [e["kind"] for e in district.fake.requests()
                if e["path"].endswith(f"/{sid}")] == ["GET spreadsheets.get"]
        assert max(e["bytes"] for e in district.fake.requests()) <= LIMIT
        titles = [s["title"] for s in master_sheets(district)]
        assert titles == list(ids)
        repaired = master_sheets(district)
        reference = one_request_reference(district)
        assert [s["title"] for s in repaired] == [s["title"] for s in reference]
        for got, want in zip(repaired, reference, strict=True):
            assert {k: v for k, v in got.items() if k != "sheetId"} == \
                {k: v for k, v in want.items() if k != "sheetId"}
    finally:
        district.close()
