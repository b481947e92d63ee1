"""The fake's clock can be moved with a harness's own (the bench runs in its period's window),
and Drive's times still never go back."""

from __future__ import annotations

import datetime as dt

import pytest

from cchc_sync.testing.fake_google.model import SHEETS_MIME, Store

MINUTE_MS = 60_000


def test_the_fakes_clock_moves_with_the_harness_and_drive_times_never_go_back():
    store = Store(seed=1)
    then = dt.datetime(2022, 6, 10, 2, 0, tzinfo=dt.UTC)
    store.now_ms()  # a time handed out before the move (today's) does not hold it up
    store.shift_clock(round((then - dt.datetime.now(dt.UTC)).total_seconds() * 1000))
    file = store.create_file("a", SHEETS_MIME, "sa@example.iam.gserviceaccount.com")
    made = file.modified_ms
    assert abs(made - then.timestamp() * 1000) < 10 * MINUTE_MS  # in 2022, not today
    store.shift_clock(10 * MINUTE_MS)  # the harness's next cycle
    store.bump(file, "clerk@example.gov.vn")
    assert file.modified_ms >= made + 10 * MINUTE_MS
    with pytest.raises(ValueError):  # once a file exists, back would reorder its times
        store.shift_clock(-MINUTE_MS)
    store.bump(file, "clerk@example.gov.vn")
    assert file.modified_ms > made + 10 * MINUTE_MS
