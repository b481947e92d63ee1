"""Which Google errors are retried (issue 12 "Deliver 3", issue 16 point 7).

Errors that will not go away are not retried: 403 storageQuotaExceeded (Drive files it under
domain usageLimits, like a rate limit), 403 SERVICE_DISABLED, 400/401 invalid_grant, 404.
Transient ones (429, 5xx, a dropped connection, a proxy's HTML page, a JSON answer cut
short) are retried with jittered back-off honouring Retry-After and then make only that
unit unreachable for this cycle, with one Vietnamese line for the coordinator.

Every request goes through the real gspread/google-auth/requests stack over HTTP to the
fake, which answers in Google's shapes (`FakeGoogle.set_faults(shape=...)`). The back-off
sleeps are injected (`Sleeper`): no test waits for real.
"""

from __future__ import annotations

import pytest

from cchc_sync.app.pipeline import sync_once
from cchc_sync.domain.records import Unit
from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.backend import GoogleBackend
from tests.contract.districts import PERIOD, GoogleDistrict
from tests.test_google_budget import Sleeper

UNIT = "TP"
VIETNAMESE = set("ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ")


@pytest.fixture
def district(tmp_path):
    sleeper = Sleeper()
    # After the first cycle and the next (the echoes of our own flag writes).
    district = GoogleDistrict(tmp_path / "d", clock=sleeper.clock, sleep=sleeper.sleep,
                              cycles=2)
    district.sleeper = sleeper
    yield district
    district.close()


def _one_vietnamese_line(text: str) -> None:
    assert "\n" not in text and len(text) < 400, text
    assert VIETNAMESE & set(text.lower()), text
    assert "Traceback" not in text and "JSONDecodeError" not in text


def _edit_and_cycle(district):
    """UNIT's clerk types something; one cycle: (result, requests the cycle sent)."""
    district.type_value(UNIT, "Thông tin", 2, "Người lập biểu", "Lê Văn Tám")
    mark = len(district.fake.requests())
    district.clock.tick()
    result = sync_once(district.ws)
    return result, district.fake.requests()[mark:]


def _sent(requests, kind: str) -> int:
    return sum(1 for r in requests if r["kind"] == kind)


# -- errors that will not go away ---------------------------------------------------------


def test_storage_quota_403_is_not_taken_for_a_rate_limit(district):
    district.fake.set_faults(shape="storageQuotaExceeded", kinds=["POST drive.files.create"])
    mark = len(district.fake.requests())
    unit = Unit(code="MOI", name="Phòng Mới", level="huyen", emails=())
    with pytest.raises(SourceError) as caught:
        district.backend.create_unit_sheet(unit, district.ws.period, district.ws.templates)
    sent = district.fake.requests()[mark:]
    assert _sent(sent, "POST drive.files.create") == 1  # once: not retried
    assert district.sleeper.slept == []
    message = str(caught.value)
    _one_vietnamese_line(message)
    assert "dung lượng" in message and "shared drive" in message


def test_sheets_api_disabled_is_not_retried_and_names_the_activation_link(district):
    district.fake.set_faults(shape="SERVICE_DISABLED", kinds=["GET values.batchGet"])
    result, sent = _edit_and_cycle(district)
    district.fake.clear_faults()
    assert result.units_unreachable == [UNIT] and result.master_written is not None
    assert _sent(sent, "GET values.batchGet") == 1 and district.sleeper.slept == []
    reason = district.ws.archive.sheets(PERIOD)[UNIT].reason
    _one_vietnamese_line(reason)
    assert "Google Sheets API chưa được bật" in reason
    assert "https://console.developers.google.com/apis/api/sheets.googleapis.com/overview" \
        "?project=" in reason


def test_drive_api_disabled_stops_the_cycle_with_the_link_not_after_retries(district):
    district.fake.set_faults(shape="SERVICE_DISABLED", kinds=["GET drive.files.list"])
    mark = len(district.fake.requests())
    district.clock.tick()
    with pytest.raises(SourceError) as caught:
        sync_once(district.ws)
    assert _sent(district.fake.requests()[mark:], "GET drive.files.list") == 1
    assert district.sleeper.slept == []
    _one_vietnamese_line(str(caught.value))
    assert "Google Drive API chưa được bật" in str(caught.value)
    assert "drive.googleapis.com/overview" in str(caught.value)


def test_a_404_is_not_retried(district):
    district.fake.set_faults(status=404, kinds=["GET values.batchGet"])
    result, sent = _edit_and_cycle(district)
    district.fake.clear_faults()
    assert result.units_unreachable == [UNIT]
    assert _sent(sent, "GET values.batchGet") == 1 and district.sleeper.slept == []
    _one_vietnamese_line(district.ws.archive.sheets(PERIOD)[UNIT].reason)


@pytest.mark.parametrize("status", [400, 401])
def test_invalid_grant_is_not_retried(district, status):
    """A revoked or deleted key: the token endpoint answers invalid_grant."""
    sleeper = Sleeper()
    fresh = GoogleBackend.from_config(district.ws.config, clock=sleeper.clock,
                                      sleep=sleeper.sleep)  # no token yet
    district.fake.set_faults(token_status=status)
    district.fake.reset_stats()
    with pytest.raises(SourceError) as caught:
        fresh.scan({})
    district.fake.clear_faults()
    assert district.fake.stats()["by_kind"].get("POST token") == 1
    assert sleeper.slept == []
    _one_vietnamese_line(str(caught.value))


# -- transient errors ---------------------------------------------------------------------

TRANSIENT = {
    "html": {"shape": "html"},
    "html-200": {"shape": "html", "status": 200},
    "truncated": {"shape": "truncated"},
    "short": {"shape": "short"},
    "429": {"status": 429},
    "503": {"status": 503},
}


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_a_transient_error_is_retried_and_the_read_succeeds(district, fault):
    district.fake.set_faults(count=2, kinds=["GET values.batchGet"], **TRANSIENT[fault])
    result, sent = _edit_and_cycle(district)
    district.fake.clear_faults()
    assert result.units_read == 1 and not result.units_unreachable
    assert _sent(sent, "GET values.batchGet") == 3
    assert len(district.sleeper.slept) == 2
    assert district.ws.archive.sheets(PERIOD)[UNIT].reachable


def test_retry_after_is_honoured_with_jitter(district):
    district.fake.set_faults(status=429, retry_after=7, count=3, kinds=["GET values.batchGet"])
    result, _ = _edit_and_cycle(district)
    district.fake.clear_faults()
    assert result.units_read == 1
    slept = district.sleeper.slept
    assert len(slept) == 3 and all(7 <= s <= 64 for s in slept)


@pytest.mark.parametrize("fault", sorted(TRANSIENT))
def test_a_lasting_transient_error_makes_only_that_unit_unreachable(district, fault):
    district.type_value("VP", "Thông tin", 2, "Người lập biểu", "Trần Văn Hùng")
    # Every values.batchGet fails from now on: VP's and UNIT's reads.
    district.fake.set_faults(rate=1.0, kinds=["GET values.batchGet"], **TRANSIENT[fault])
    result, sent = _edit_and_cycle(district)
    district.fake.clear_faults()
    attempts = district.backend.transport.retry.max_attempts
    assert sorted(result.units_unreachable) == sorted(["VP", UNIT])
    assert _sent(sent, "GET values.batchGet") == 2 * attempts  # retried, then given up
    state = district.ws.archive.sheets(PERIOD)
    for code in ("VP", UNIT):
        assert not state[code].reachable
        _one_vietnamese_line(state[code].reason)
        assert f"đã thử {attempts} lần" in state[code].reason
    assert all(s.reachable for c, s in state.items() if c not in ("VP", UNIT))
    # The next cycle reads them again.
    district.clock.tick()
    result = sync_once(district.ws)
    assert not result.units_unreachable and UNIT in set(
        c for c, s in district.ws.archive.sheets(PERIOD).items() if s.reachable)
