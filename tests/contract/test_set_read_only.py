"""set_read_only: a unit's sheet locked (deadline passed, approved) and unlocked
(reopened) — the same on every backend."""

from __future__ import annotations

import pytest

from cchc_sync.sources.base import UnitUnreachable
from tests.contract.conftest import read


def test_lock_and_unlock(district):
    backend = district.ws.backend
    assert not district.locked("U001")
    backend.set_read_only(district.ref("U001"), True)
    assert district.locked("U001") and not district.locked("U000")
    # Locked is not gone: the software still reads it.
    assert [r.sheet_row for r in read(district).tables["tthc"].rows] == [2, 3, 5]
    backend.set_read_only(district.ref("U001"), True)  # twice is harmless
    assert district.locked("U001")
    backend.set_read_only(district.ref("U001"), False)
    assert not district.locked("U001")


def test_an_unreachable_sheet_cannot_be_locked(district):
    district.take_away("U001")
    with pytest.raises(UnitUnreachable):
        district.ws.backend.set_read_only(district.ref("U001"), True)
