"""`cchc-sync` in real processes, forked from one that has already imported it.

Every start of `python -m cchc_sync` costs about 1.9 s of CPU before the command does
anything (pandas, openpyxl, gspread, google-auth, APScheduler). The suite starts a few
hundred of them — daemon lives killed with SIGKILL, one-off syncs, CLI runs — so start-up
alone used to cost minutes. Here a server process imports the CLI once; each command is a
real process forked from it, with its own pid, stdin/stdout/stderr, working directory,
environment and exit code, and it can be signalled and killed like any other.

Only the interpreter start and the imports are shared. What the start itself costs, and
that the console script works, is tested where that is the subject (test_process_start,
test_packaging, test_readme_quick_start, test_service_parts run the real binary).

The forked command is the test process's own child: the server forks twice and the test
process is a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so the command is re-parented
to it. `waitpid` then gives its real exit status, and its CPU counts in the test's
RUSAGE_CHILDREN (tests/conftest.py's CPU log).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PIPE, STDOUT, DEVNULL = subprocess.PIPE, subprocess.STDOUT, subprocess.DEVNULL
PRELOAD = (
    "cchc_sync.app.cli",
    "cchc_sync.app.daemon",
    "cchc_sync.app.pipeline",
    "cchc_sync.sources.google.backend",
    "cchc_sync.report.docx_writer",
    "apscheduler.schedulers.blocking",
)
"""Imported once by the server: what `run`, `sync`, `report` and the Google backend load."""

_PR_SET_CHILD_SUBREAPER = 36
_servers: dict[str, _Server] = {}
_servers_lock = threading.Lock()


# -- the test side ----------------------------------------------------------------------------

class _Server:
    """One forking server per prelude (code run before the imports, e.g. a patched sleep)."""

    def __init__(self, prelude: str) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        env = {**os.environ, "CCHC_FORK_PRELUDE": prelude, "OPENBLAS_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.cli_process", str(theirs.fileno())],
            pass_fds=[theirs.fileno()], cwd=ROOT, env=env, stdin=DEVNULL)
        theirs.close()
        self.sock = ours
        self.lock = threading.Lock()

    def fork(self, request: dict, fds: Sequence[int]) -> int:
        with self.lock:
            socket.send_fds(self.sock, [json.dumps(request).encode()], list(fds))
            answer = self.sock.recv(4096)
        if not answer:
            raise RuntimeError("the fork server died (see the test's stderr)")
        reply = json.loads(answer)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return int(reply["pid"])


def _server(prelude: str) -> _Server:
    with _servers_lock:
        server = _servers.get(prelude)
        if server is None or server.proc.poll() is not None:
            server = _servers[prelude] = _Server(prelude)
        return server


def _open_stream(spec: Any, mode: str, devnull: list[int]) -> tuple[int, int | None]:
    """(fd for the child, our end of a pipe or None) for a subprocess-style spec."""
    if spec is None:
        return (0 if mode == "r" else 1 if mode == "w" else 2), None
    if spec == DEVNULL:
        if not devnull:
            devnull.append(os.open(os.devnull, os.O_RDWR))
        return devnull[0], None
    if spec == PIPE:
        read_end, write_end = os.pipe()
        return (read_end, write_end) if mode == "r" else (write_end, read_end)
    if isinstance(spec, int):
        return spec, None
    return spec.fileno(), None


class Popen:
    """The parts of subprocess.Popen the tests use, for `cchc-sync ARGS`."""

    def __init__(self, args: Iterable[Any], *, stdin: Any = None, stdout: Any = None,
                 stderr: Any = None, env: Mapping[str, str] | None = None,
                 cwd: str | os.PathLike | None = None, text: bool = False,
                 start_new_session: bool = False, prelude: str = "") -> None:
        self.args = [str(a) for a in args]
        self.returncode: int | None = None
        self.text = text
        devnull: list[int] = []
        in_fd, in_ours = _open_stream(stdin, "r", devnull)
        out_fd, out_ours = _open_stream(stdout, "w", devnull)
        if stderr == STDOUT:
            err_fd, err_ours = out_fd, None
        else:
            err_fd, err_ours = _open_stream(stderr, "e", devnull)
        request = {
            "argv": ["cchc-sync", *self.args],
            "env": dict(os.environ if env is None else env),
            "cwd": str(cwd if cwd is not None else os.getcwd()),
            "new_session": start_new_session,
        }
        try:
            self.pid = _server(prelude).fork(request, [in_fd, out_fd, err_fd])
        finally:
            # The child has its copies; ours of the child's ends must go, or no EOF comes.
            for fd, ours in ((in_fd, in_ours), (out_fd, out_ours), (err_fd, err_ours)):
                if ours is not None:
                    os.close(fd)
            for fd in devnull:
                os.close(fd)
        self.stdin = self._wrap(in_ours, "wb")
        self.stdout = self._wrap(out_ours, "rb")
        self.stderr = self._wrap(err_ours, "rb")
        self._pidfd = os.pidfd_open(self.pid)
        self._reap_lock = threading.Lock()

    def _wrap(self, fd: int | None, mode: str) -> Any:
        if fd is None:
            return None
        raw = open(fd, mode)  # noqa: SIM115 - closed by communicate or the caller
        if not self.text:
            return raw
        return io.TextIOWrapper(raw, encoding="utf-8", line_buffering="w" in mode,
                                write_through="w" in mode)

    def poll(self) -> int | None:
        with self._reap_lock:
            if self.returncode is None:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
                if pid:
                    self._reaped(status)
            return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Wait for the exit (from any thread: one reaps, the others read the code)."""
        if self.returncode is None:
            ready = selectors.DefaultSelector()
            watched = None
            with self._reap_lock:
                if self.returncode is None:
                    # A copy: another thread that reaps the process closes the original.
                    watched = os.dup(self._pidfd)
                    ready.register(watched, selectors.EVENT_READ)
            try:
                if watched is not None and not ready.select(timeout):
                    raise subprocess.TimeoutExpired(self.args, timeout)
            finally:
                ready.close()
                if watched is not None:
                    os.close(watched)
            with self._reap_lock:
                if self.returncode is None:
                    _, status = os.waitpid(self.pid, 0)
                    self._reaped(status)
        assert self.returncode is not None
        return self.returncode

    def _reaped(self, status: int) -> None:
        self.returncode = os.waitstatus_to_exitcode(status)
        os.close(self._pidfd)

    def send_signal(self, sig: int) -> None:
        with self._reap_lock:
            if self.returncode is None:
                signal.pidfd_send_signal(self._pidfd, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def communicate(self, input: Any = None, timeout: float | None = None) -> tuple[Any, Any]:
        """Feed stdin, read stdout and stderr to their end, then wait (as subprocess does)."""
        if self.stdin is not None:
            feeder = threading.Thread(target=self._feed, args=(input,), daemon=True)
            feeder.start()
        results: dict[str, Any] = {}
        readers = [threading.Thread(target=lambda n=name: results.__setitem__(
                       n, getattr(self, n).read()), daemon=True)
                   for name in ("stdout", "stderr") if getattr(self, name) is not None]
        for reader in readers:
            reader.start()
        deadline = None if timeout is None else time.monotonic() + timeout
        for reader in readers:
            reader.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
            if reader.is_alive():
                raise subprocess.TimeoutExpired(self.args, timeout)
        self.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        for name in ("stdout", "stderr"):
            if getattr(self, name) is not None:
                getattr(self, name).close()
        return results.get("stdout"), results.get("stderr")

    def _feed(self, data: Any) -> None:
        try:
            if data:
                self.stdin.write(data)
            self.stdin.close()
        except BrokenPipeError:
            pass

    def __enter__(self) -> Popen:
        return self

    def __exit__(self, *exc: object) -> None:
        for stream in (self.stdin, self.stdout, self.stderr):
            if stream is not None and not stream.closed:
                stream.close()
        self.wait()


def run(args: Iterable[Any], *, input: Any = None, capture_output: bool = False,
        timeout: float | None = None, check: bool = False, **kwargs: Any,
        ) -> subprocess.CompletedProcess:
    """subprocess.run for `cchc-sync ARGS` (same keywords)."""
    if capture_output:
        kwargs.update(stdout=PIPE, stderr=PIPE)
    if input is not None:
        kwargs["stdin"] = PIPE
    elif kwargs.get("stdin") is None:
        kwargs["stdin"] = DEVNULL  # as a test runner's stdin: nothing to read
    proc = Popen(args, **kwargs)
    try:
        out, err = proc.communicate(input, timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    done = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    if check:
        done.check_returncode()
    return done


# -- the server side --------------------------------------------------------------------------

def _serve(sock: socket.socket) -> None:
    exec(os.environ.get("CCHC_FORK_PRELUDE", ""), {})  # noqa: S102 - the tests' own code
    for name in PRELOAD:
        __import__(name)
    while True:
        message, fds, _, _ = socket.recv_fds(sock, 1 << 20, 3)
        if not message:
            return  # the test process is gone
        request = json.loads(message)
        read_pid, write_pid = os.pipe()
        middle = os.fork()
        if middle == 0:
            os.close(read_pid)
            child = os.fork()
            if child == 0:
                sock.close()
                os.close(write_pid)
                _become(request, fds)
            os.write(write_pid, str(child).encode())
            os._exit(0)
        os.close(write_pid)
        pid = os.read(read_pid, 64).decode()
        os.close(read_pid)
        os.waitpid(middle, 0)  # once it is reaped, its child belongs to the test process
        for fd in set(fds):
            os.close(fd)
        sock.send(json.dumps({"pid": int(pid)} if pid else {"error": "fork failed"}).encode())


def _become(request: dict, fds: list[int]) -> None:
    """In the forked child: become `cchc-sync ARGV` in its own cwd, env and streams."""
    code = 1
    try:
        if request["new_session"]:
            os.setsid()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in set(fds):
            if fd > 2:
                os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()
        unbuffered = bool(os.environ.get("PYTHONUNBUFFERED"))
        # New streams on the new fds (the server's were made for its own, and its env).
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      line_buffering=unbuffered, write_through=unbuffered)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", line_buffering=True)
        sys.argv = list(request["argv"])
        try:
            from cchc_sync.app.cli import main
            main()
            code = 0
        except SystemExit as stop:
            code = _exit_code(stop.code)
        except BaseException:
            import traceback
            traceback.print_exc()
            code = 1
        # What the interpreter does at exit: wait for non-daemon threads, run atexit.
        threading._shutdown()  # type: ignore[attr-defined]
        import atexit
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed pipe: nothing more to say
                stream.flush()
        os._exit(code)


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":
    _serve(socket.socket(fileno=int(sys.argv[1])))
