"""A master write that lands while its process is killed (SIGKILL), before the archive
hears of it. The archive still holds the old fingerprint and shape; the next cycle must not
believe them.

Found by the kill -9 test on Google: the incremental master write (issue 17) sends only the
difference from the shape the archive recorded. A clerk's edit, a sync killed as its master
write reached Google (which applied it), then the clerk's undo: the book equals the old one
again, so a cycle that trusted the old fingerprint wrote nothing, and the master kept the
undone value for good. A difference computed from the old shape and sent to a master that
has the new one corrupts it in the same way. The kill lands by an event: the fake's hook
kills the process as the master's batchUpdate arrives, then serves it.
"""

from __future__ import annotations

import signal
import subprocess
import threading

from tests import cli_process
from tests.conftest import HANG_GUARD, wait_until
from tests.test_faults import Edit, GoogleSite, comparable, configure

TAB, ROW, TITLE = "Thông tin", 2, "Người lập biểu"


def sync(site: GoogleSite) -> None:
    done = cli_process.run(["sync", "--config", str(site.config)], capture_output=True,
                           text=True, timeout=HANG_GUARD)
    assert done.returncode == 0, done.stderr


def test_a_master_write_that_landed_as_its_process_was_killed_is_not_trusted(tmp_path):
    site = GoogleSite(tmp_path / "site")
    try:
        configure(site.config)
        typed = Edit("VP", TAB, ROW, TITLE, "Nguyễn Thị Mai")
        site.apply(typed)
        sync(site)
        shown = comparable(site.master())

        # The clerk types a name; the sync is killed as its master write arrives, which
        # Google then applies.
        site.apply(Edit("VP", TAB, ROW, TITLE, "Lê Văn Tám"))
        started = threading.Event()
        proc: list[cli_process.Popen] = []

        def kill_at_master_write(kind: str, path: str) -> None:
            if kind == "POST spreadsheets.batchUpdate" and site.master_ref in path:
                remove()
                assert started.wait(HANG_GUARD)
                proc[0].send_signal(signal.SIGKILL)
                proc[0].wait(HANG_GUARD)  # dead before Google applies the write

        remove = site.fake.on_request(kill_at_master_write)
        proc.append(cli_process.Popen(["sync", "--config", str(site.config)],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        started.set()
        assert proc[0].wait(HANG_GUARD) == -signal.SIGKILL
        # The fake serves the write once the hook returns, on its own thread.
        wait_until(lambda: "Lê Văn Tám" in str(comparable(site.master())[TAB]),
                   "the killed process's master write to land")
        assert comparable(site.master()) != shown

        # The clerk undoes it: the master must show what the sheet says again.
        site.apply(typed)
        sync(site)
        assert comparable(site.master()) == shown
        assert "Lê Văn Tám" not in str(comparable(site.master()))
    finally:
        site.close()
