"""A workbook is the unit's own or it is refused, and rewriting it keeps it the clerk's.

Real files and real processes: a symbolic link, a hard link and a copy of the master, a
neighbour's workbook saved under this unit's name, last period's workbook, a file owned by
another user with a POSIX ACL (written by root, and by a daemon user that cannot chown).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
import pytest

from cchc_sync.app.pipeline import sync_once
from cchc_sync.sources.xlsx.common import atomic_write
from tests.conftest import synced_copy

AS_ROOT = pytest.mark.skipif(os.geteuid() != 0, reason="chown and setuid need root")
NOBODY = 65534
ACL = "system.posix_acl_access"


def _path(ws, unit):
    return ws.config.root / ws.archive.sheets(ws.period.code)[unit].ref


def _master(ws):
    return ws.config.root / ws.archive.master(ws.period.code)["ref"]


def _rows(ws, unit):
    return {(r.table, r.key): r.values for r in ws.archive.current_rows(ws.period.code)
            if r.unit == unit}


def _tthc_received(ws):
    """Sum of "Tổng số hồ sơ tiếp nhận" over every current row of the archive."""
    return sum(r.values.get("tong_tiep_nhan") or 0
               for r in ws.archive.current_rows(ws.period.code) if r.table == "tthc")


@pytest.fixture
def synced(tmp_path, clock, synced_template):
    ws = synced_copy(synced_template, tmp_path / "d", clock)
    yield ws
    ws.close()


def _refused(ws, unit):
    state = ws.archive.sheets(ws.period.code)[unit]
    return (not state.reachable), state.reason


def _sync_again(ws, clock):
    clock.tick()
    return sync_once(ws)


def test_a_copy_of_the_master_under_a_units_name_is_refused_and_nothing_counts_twice(
    synced, clock
):
    rows_before, total_before = _rows(synced, "TP"), _tthc_received(synced)
    shutil.copyfile(_master(synced), _path(synced, "TP"))
    copied = _path(synced, "TP").read_bytes()
    result = _sync_again(synced, clock)
    assert "TP" in result.units_unreachable
    refused, reason = _refused(synced, "TP")
    assert refused and "bảng tổng hợp" in reason
    # Its archived rows are kept, nothing is counted twice, nothing written into the file.
    assert _rows(synced, "TP") == rows_before
    assert _tthc_received(synced) == total_before
    assert _path(synced, "TP").read_bytes() == copied
    # Still refused next cycle (the token of a refused file is not kept as "seen").
    assert "TP" in _sync_again(synced, clock).units_unreachable


def test_a_symlink_to_the_master_is_refused_and_stays_a_link(synced, clock):
    path = _path(synced, "NV")
    path.unlink()
    path.symlink_to(_master(synced))
    result = _sync_again(synced, clock)
    assert "NV" in result.units_unreachable
    assert "liên kết" in _refused(synced, "NV")[1]
    assert path.is_symlink()  # the flag write did not replace the link with a file
    _sync_again(synced, clock)
    assert path.is_symlink()


def test_a_hard_link_to_the_master_is_refused(synced, clock):
    path = _path(synced, "NV")
    path.unlink()
    os.link(_master(synced), path)
    assert "NV" in _sync_again(synced, clock).units_unreachable
    assert "bảng tổng hợp" in _refused(synced, "NV")[1]


def test_another_units_workbook_saved_under_this_name_is_refused_naming_it(synced, clock):
    rows_before = _rows(synced, "VP")
    shutil.copyfile(_path(synced, "TP"), _path(synced, "VP"))
    result = _sync_again(synced, clock)
    assert "VP" in result.units_unreachable
    reason = _refused(synced, "VP")[1]
    assert "bảng tính của Phòng Tư pháp (TP)" in reason
    assert _rows(synced, "VP") == rows_before  # not TP's rows under VP


def test_last_periods_workbook_is_refused_naming_the_period(synced, clock):
    path = _path(synced, "TCKH")
    wb = openpyxl.load_workbook(path)
    meta = wb["_cchc"]
    for row in meta.iter_rows(min_row=1, max_col=2):
        if row[0].value == "period":
            row[1].value = "2021S2"
    wb.save(path)
    assert "TCKH" in _sync_again(synced, clock).units_unreachable
    assert "kỳ 2021S2" in _refused(synced, "TCKH")[1]


def test_the_right_workbook_back_is_read_again(synced, clock):
    path = _path(synced, "VP")
    own = path.read_bytes()
    shutil.copyfile(_path(synced, "TP"), path)
    assert "VP" in _sync_again(synced, clock).units_unreachable
    path.write_bytes(own)
    result = _sync_again(synced, clock)
    assert "VP" not in result.units_unreachable
    assert synced.archive.sheets(synced.period.code)["VP"].reachable


def _acl_for(uid: int) -> bytes:
    """A POSIX access ACL (Linux xattr form) giving user `uid` read and write."""
    entries = [(0x01, 6, 0xFFFFFFFF), (0x02, 6, uid), (0x04, 4, 0xFFFFFFFF),
               (0x10, 6, 0xFFFFFFFF), (0x20, 4, 0xFFFFFFFF)]
    return struct.pack("<I", 2) + b"".join(struct.pack("<HHI", *e) for e in entries)


def _set_acl_or_skip(path, uid):
    try:
        os.setxattr(path, ACL, _acl_for(uid))
    except OSError as exc:  # a file system without POSIX ACLs
        pytest.skip(f"no POSIX ACLs here: {exc}")


@AS_ROOT
def test_flag_write_keeps_the_clerks_owner_group_mode_and_acl(synced, clock):
    path = _path(synced, "NV")
    os.chown(path, NOBODY, NOBODY)
    os.chmod(path, 0o664)
    _set_acl_or_skip(path, 1)
    acl = os.getxattr(path, ACL)
    # A clerk's edit makes a new finding, so the flags are rewritten.
    wb = openpyxl.load_workbook(path)
    wb["Giải quyết TTHC"]["E2"] = 999_999
    wb.save(path)
    os.chown(path, NOBODY, NOBODY)
    before = path.read_bytes()
    result = _sync_again(synced, clock)
    assert result.flags_written >= 1
    assert path.read_bytes() != before  # the flags were written
    st = os.stat(path)
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (NOBODY, NOBODY, 0o664)
    assert os.getxattr(path, ACL) == acl


@AS_ROOT
def test_a_daemon_that_cannot_chown_rewrites_in_place_keeping_owner_and_acl():
    """The service's user is not the file's owner: the write goes in place (same inode)."""
    top = Path(tempfile.mkdtemp(prefix="cchc-share-"))  # pytest's tmp is root-only (0700)
    try:
        _in_place_as_nobody(top)
    finally:
        shutil.rmtree(top)


def _in_place_as_nobody(top):
    os.chmod(top, 0o755)
    folder = top / "share"
    folder.mkdir()
    os.chmod(folder, 0o777)  # the daemon may create its temp file here
    path = folder / "NV.xlsx"
    path.write_bytes(b"old contents of the clerk's workbook")
    os.chmod(path, 0o644)
    _set_acl_or_skip(path, NOBODY)  # the share gives the daemon's user rw by ACL
    acl, inode = os.getxattr(path, ACL), os.stat(path).st_ino
    code = (
        "import os, sys; from pathlib import Path\n"
        "from cchc_sync.sources.xlsx.common import atomic_write\n"
        # imported first: root's Python may not be readable by the daemon's user
        f"os.setgid({NOBODY}); os.setuid({NOBODY})\n"
        "atomic_write(Path(sys.argv[1]), b'new contents with flags')\n"
    )
    subprocess.run([sys.executable, "-c", code, str(path)], check=True,
                   cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    st = os.stat(path)
    assert path.read_bytes() == b"new contents with flags"
    assert (st.st_uid, st.st_gid, st.st_ino) == (0, 0, inode)
    assert os.getxattr(path, ACL) == acl
    assert [p.name for p in folder.iterdir()] == ["NV.xlsx"]  # no temp file left


def test_a_new_file_gets_the_umask_mode_and_an_existing_one_keeps_its_own(tmp_path):
    new = tmp_path / "new.xlsx"
    atomic_write(new, b"x")
    umask = os.umask(0o022)
    os.umask(umask)
    assert os.stat(new).st_mode & 0o777 == 0o666 & ~umask
    os.chmod(new, 0o640)
    atomic_write(new, b"y", mode=0o600)
    assert os.stat(new).st_mode & 0o777 == 0o640
