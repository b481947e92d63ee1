"""scan: which sheets changed since their last seen token, cheaply, in bulk — the same on
every backend."""

from __future__ import annotations

from cchc_sync.sources.base import ScanState
from tests.contract.conftest import TTHC


def watched(district, tokens: dict[str, str | None]) -> dict:
    return {u: (district.ref(u), tokens.get(u)) for u in ("U000", "U001")}


def test_a_sheet_is_changed_until_its_token_is_given_back(district):
    backend = district.ws.backend
    first = backend.scan(watched(district, {}))
    assert {u: e.state for u, e in first.items()} == {"U000": ScanState.CHANGED,
                                                       "U001": ScanState.CHANGED}
    assert all(e.token for e in first.values())
    tokens = {u: e.token for u, e in first.items()}
    again = backend.scan(watched(district, tokens))
    assert {u: e.state for u, e in again.items()} == {"U000": ScanState.UNCHANGED,
                                                       "U001": ScanState.UNCHANGED}
    assert {u: e.token for u, e in again.items()} == tokens


def test_a_persons_edit_changes_the_token(district):
    backend = district.ws.backend
    tokens = {u: e.token for u, e in backend.scan(watched(district, {})).items()}
    district.clock.tick()
    district.type_value("U001", TTHC, 2, "Từ kỳ trước chuyển qua", 5)
    after = backend.scan(watched(district, tokens))
    assert after["U001"].state is ScanState.CHANGED and after["U001"].token != tokens["U001"]
    assert after["U000"].state is ScanState.UNCHANGED
    assert after["U001"].modified_at is not None


def test_a_sheet_taken_away_is_unreachable_with_a_reason_then_back(district):
    backend = district.ws.backend
    tokens = {u: e.token for u, e in backend.scan(watched(district, {})).items()}
    district.take_away("U001")
    gone = backend.scan(watched(district, tokens))
    assert gone["U001"].state is ScanState.UNREACHABLE and gone["U001"].reason
    assert gone["U000"].state is ScanState.UNCHANGED
    district.give_back("U001")
    back = backend.scan(watched(district, tokens))
    assert back["U001"].state is not ScanState.UNREACHABLE
