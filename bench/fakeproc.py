"""The bench's handle on the fake Google APIs running in a child process (bench.fake_server)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent


class FakeProcess:
    """Start with `FakeProcess(latency_ms)`; `url`, `call(op, ...)`, `stats()`,
    `reset_stats()`, `edit(id, tab, a1, values)`, `stop()`."""

    def __init__(self, latency_ms: float = 0.0, seed: int = 1) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_server", "--latency-ms", str(latency_ms),
             "--seed", str(seed)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            encoding="utf-8",
        )
        first = self.proc.stdout.readline() if self.proc.stdout else ""
        if not first:
            raise RuntimeError("the fake Google process did not start")
        self.url: str = json.loads(first)["url"]
        self.session = requests.Session()

    @property
    def token_uri(self) -> str:
        return f"{self.url}/token"

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op, **args}, ensure_ascii=False) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the fake Google process ended during {op!r}")
        out = json.loads(line)
        if "error" in out or "fake_errors" in out:
            raise RuntimeError(f"fake Google, {op}: {out.get('error') or out['fake_errors']}")
        return out

    # -- the fake's control endpoints (never counted in its stats) ------------------------------

    def _control(self, method: str, path: str, body: Any = None) -> Any:
        response = self.session.request(method, f"{self.url}/_fake/{path}", json=body,
                                        timeout=60)
        response.raise_for_status()
        return response.json()

    def stats(self) -> dict[str, Any]:
        return self._control("GET", "stats")

    def reset_stats(self) -> None:
        self._control("POST", "stats/reset")

    def create_shared_drive_folder(self, member: str) -> str:
        """A folder in a shared drive whose Content manager is `member` (a service account
        creates files nowhere else on Google, nor on the fake)."""
        return self.call("shared_drive_folder", member=member)["id"]

    def edit(self, file_id: str, tab: str, a1: str, values: list[list[Any]],
             user: str = "clerk@example.com") -> None:
        """A person types (USER_ENTERED), as FakeGoogle.edit_cells."""
        self._control("POST", f"edit/{file_id}",
                      {"tab": tab, "a1": a1, "values": values, "user": user})

    def counts(self) -> tuple[int, int, dict[str, int]]:
        """(reads, writes, by kind) since the last reset, OAuth token requests aside."""
        by_kind = {k: n for k, n in self.stats()["by_kind"].items() if k != "POST token"}
        reads = sum(n for k, n in by_kind.items() if k.startswith("GET "))
        return reads, sum(by_kind.values()) - reads, by_kind

    def peak_rss_mb(self) -> float:
        return float(self.call("rss")["peak_rss_mb"])

    def stop(self) -> None:
        self.session.close()
        if self.proc.poll() is None:
            with contextlib.suppress(RuntimeError, OSError, ValueError):
                self.call("quit")  # the process ends without answering
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
