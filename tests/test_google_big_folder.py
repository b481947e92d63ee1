"""A folder of more than 1,000 spreadsheets (a province): Drive lists at most 1,000 files a
page, so a cycle lists the whole folder only every `full_listing_every` seconds and, in
between, only the files modified since (GoogleApi._listing)."""

from __future__ import annotations

import pytest

from tests.contract.districts import GoogleDistrict
from tests.test_google_budget import Sleeper, cycle, type_signer

FILLERS = 1_000


@pytest.fixture
def big(tmp_path):
    sleeper = Sleeper()
    district = GoogleDistrict(tmp_path / "d", clock=sleeper.clock, sleep=sleeper.sleep,
                              full_listing_every=900)
    district.sleeper = sleeper
    # Last half-year's sheets and other files, made an hour ago, share the folder.
    for i in range(FILLERS):
        fid = district.fake.create_spreadsheet(f"Kỳ trước {i}", parents=[district.folder])
        district.fake.store.files[fid].modified_ms -= 3_600_000
    yield district
    district.close()


def listings(district) -> int:
    return district.fake.stats()["by_kind"].get("GET drive.files.list", 0)


def test_idle_cycles_of_a_big_folder_cost_one_request(big):
    cycle(big)  # the first cycle: a full listing, two pages
    assert listings(big) >= 2
    cycle(big)  # the echo of its flag writes
    result, (reads, writes) = cycle(big)
    assert result.units_read == 0
    assert (reads, writes) == (1, 0)  # one listing page: only what changed lately
    assert listings(big) == 1


def test_an_edit_is_seen_between_full_listings(big):
    cycle(big)
    cycle(big)
    type_signer(big, "TP", "Lê Văn Tám")
    result, _ = cycle(big)
    assert result.units_read == 1
    # One page of recent changes for the scan, and one for the check before the flag
    # write if there was one — not the two pages of the whole folder each.
    assert listings(big) == 1 + (result.flags_written > 0)


def test_a_deleted_sheet_is_noticed_at_the_next_full_listing(big):
    cycle(big)
    cycle(big)
    big.sleeper.now += 901
    cycle(big)  # a full listing: every version is current
    big.fake.delete(big.sheet_id("TP"))
    result, _ = cycle(big)
    # Gone from the listings of recent changes, it looks untouched: not known yet.
    assert "TP" not in result.units_unreachable and listings(big) == 1
    big.sleeper.now += 901
    result, _ = cycle(big)
    assert listings(big) >= 2  # the whole folder again
    assert "TP" in result.units_unreachable



def _signer(district, unit):
    rows = district.ws.archive.current_rows(district.ws.period.code, unit=unit)
    return next((r.values.get("nguoi_lap") for r in rows if r.table == "thong_tin"), None)


def test_drive_listings_that_lag_behind_edits_never_hide_a_clerks_edit(big):
    """Drive's search index lags behind edits, and not evenly: an edit made earlier can
    show in files.list after one made later. The listing of recent changes reaches back
    LISTING_OVERLAP before the newest modifiedTime it saw, so the late one is still read."""
    cycle(big)
    cycle(big)
    store = big.fake.store
    store.listing_lag = 3600
    type_signer(big, "TP", "Lê Văn Tám")  # shows in listings only when the index catches up
    store.listing_lag = 0.0
    type_signer(big, "VP", "Trần Thị Hoa")  # shows at once
    result, _ = cycle(big)
    assert _signer(big, "VP") == "Trần Thị Hoa"
    assert _signer(big, "TP") != "Lê Văn Tám"  # not listed yet: not read yet
    tp, vp = store.files[big.sheet_id("TP")], store.files[big.sheet_id("VP")]
    assert store.as_listed(tp).version < tp.version
    store.catch_up_listings()  # Drive's index catches up with TP's edit
    # A listing from the newest modifiedTime seen (VP's) would miss TP's edit for good.
    assert tp.modified_ms < vp.modified_ms
    result, _ = cycle(big)
    assert _signer(big, "TP") == "Lê Văn Tám"
