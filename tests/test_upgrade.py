"""An archive written before the stage-package layout (tests/data/district-2022S1-schema2
.tar.xz: the sample district after two cycles, made by the code of commit 70f9152) still
opens, and its next cycle is idle: every stored digest (sheet contents, flag plans, the
master's book) is what this code computes for the same content.

The workbooks in the tarball get new modification times when unpacked, so every unit is
read again: only equal content digests keep the cycle from checking, flagging and
rewriting anything.
"""

from __future__ import annotations

import datetime as dt
import tarfile
from pathlib import Path

import pytest

from cchc_sync.app.pipeline import open_workspace, sync_once
from cchc_sync.app.publishing import flag_plan
from cchc_sync.domain.config import load_config
from cchc_sync.domain.digest import json_digest
from tests.conftest import Clock

DATA = Path(__file__).parent / "data" / "district-2022S1-schema2.tar.xz"


@pytest.fixture
def old_district(tmp_path):
    with tarfile.open(DATA) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(tmp_path, filter="data")
        else:  # Python before 3.11.4 (Debian 12): our own archive, plain members only
            tar.extractall(tmp_path, members=[m for m in tar.getmembers()
                                              if m.isfile() or m.isdir()])
    return tmp_path / "district"


def test_an_archive_from_before_the_layout_opens_and_stays_idle(old_district):
    ws = open_workspace(load_config(old_district / "cchc-sync.toml"), clock=Clock())
    try:
        before = ws.archive.sheets(ws.period.code)
        book_hash = ws.archive.master(ws.period.code)["book_hash"]
        # Each stored flag fingerprint is the plan this code would write now.
        for code, state in before.items():
            assert flag_plan(ws, code, state).fingerprint() == state.flags_hash, code

        result = sync_once(ws)

        assert result.units_read == len(ws.units)  # every file looked new (unpacked)
        assert result.rows_changed == 0
        assert result.flags_written == 0 and result.flags_pending == []
        after = ws.archive.sheets(ws.period.code)
        assert {c: s.content_hash for c, s in after.items()} == {
            c: s.content_hash for c, s in before.items()}
        assert {c: s.checked_at for c, s in after.items()} == {
            c: s.checked_at for c, s in before.items()}
        # The master's own layout changed in this version (Tổng hợp reads label first, the
        # figure id hidden last), so it is written once after the upgrade, and only once.
        if result.master_written:
            assert ws.archive.master(ws.period.code)["book_hash"] != book_hash
        ws.clock.tick()
        again = sync_once(ws)
        assert again.units_read == 0 and again.flags_written == 0
        assert again.master_written is False
    finally:
        ws.close()


def test_the_digest_encoding_is_pinned():
    """The values stored in archives depend on this exact encoding (keys sorted, UTF-8,
    str() for what JSON cannot encode)."""
    assert json_digest({"b": [1, "Đã nộp"], "a": None}) == (
        "6a7d18605e623526f097a1c8ed298f9aee8b8b25f1cf04d702fe093da39c9dd4")
    assert json_digest({"t": dt.date(2022, 6, 30)}) == (
        "bcb3a30cbf53afe77574a861c18b1b5e32d58499f9c4a4eed0409c50dc165f92")
