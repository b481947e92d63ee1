"""Sample districts built once per test run, shared by every pytest-xdist worker.

A district (init, the clerks' typing, a few cycles; on the fake Google APIs a snapshot of
the fake) costs seconds of CPU to build, and each worker used to build every kind it met:
with four workers most kinds were built four times. Now the first worker to need a kind
builds it into a folder of the run, under an exclusive file lock; the others wait for that
lock and copy the finished folder, as a later test of the same worker always has. Built
folders are never written after they are finished (tests get copies).

The run's folder is made by the pytest process that starts the workers (`pytest_configure`,
before they start) and removed when it ends; they find it through CCHC_TEST_BUILDS. A
process without it (an unusual start) builds in a folder of its own, as before.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ENV = "CCHC_TEST_BUILDS"
_DONE = "built.pickle"
_memo: dict[str, tuple[Path, Any]] = {}
_own: list[Path] = []


def start_run() -> Path:
    """Make the run's folder and name it in the environment the workers inherit."""
    root = Path(tempfile.mkdtemp(prefix="cchc-built-run-"))
    os.environ[ENV] = str(root)
    return root


def end_run(root: Path) -> None:
    shutil.rmtree(root, ignore_errors=True)


def _run_dir() -> Path:
    shared = os.environ.get(ENV)
    if shared and Path(shared).is_dir():
        return Path(shared)
    if not _own:
        _own.append(Path(tempfile.mkdtemp(prefix="cchc-built-districts-")))
        atexit.register(shutil.rmtree, _own[0], ignore_errors=True)
    return _own[0]


def built(kind: str, key: tuple[Any, ...], build: Callable[[Path], Any]) -> tuple[Path, Any]:
    """(folder, what `build` returned) of the district `key` of `kind`: `build(folder)`
    makes it in an empty `folder` and returns something picklable, once per run."""
    name = hashlib.blake2b(repr((kind, key)).encode("utf-8", "surrogatepass"),
                           digest_size=12).hexdigest()
    if name in _memo:
        return _memo[name]
    base = _run_dir()
    home = base / name
    with open(base / f"{name}.lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = home / _DONE
        if not done.exists():
            # A folder without its mark is a build a killed worker left half made.
            shutil.rmtree(home, ignore_errors=True)
            (home / "d").mkdir(parents=True)
            value = build(home / "d")
            partial = home / f"{_DONE}.part"
            partial.write_bytes(pickle.dumps(value))
            partial.rename(done)
        value = pickle.loads(done.read_bytes())
    _memo[name] = (home / "d", value)
    return _memo[name]
