"""The loopback HTTP endpoint that serves the metrics registry (``/metrics``) next to a
health check (``/healthz``).

The registry itself and the counting helpers live in `cchc_sync.domain.telemetry` (backends
count their API traffic there); they are re-exported here for the daemon's callers.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cchc_sync.domain.telemetry import (  # noqa: F401  (re-exported)
    REGISTRY,
    Registry,
    count_request,
    count_status,
    observe_cycle,
    observe_failure,
)

log = logging.getLogger("cchc_sync")

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsServer:
    """``/metrics`` and ``/healthz`` over HTTP on a loopback address, in a daemon thread.

    healthy() decides /healthz: 200 "ok" or 503 "unhealthy". Anything else is 404. Only
    GET and HEAD; no request body is read; nothing but the registry is exposed.
    """

    def __init__(
        self,
        port: int,
        healthy: Callable[[], bool],
        registry: Registry | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        served = registry or REGISTRY

        class Handler(BaseHTTPRequestHandler):
            server_version = "cchc-sync"
            sys_version = ""

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer(send_body=True)

            def do_HEAD(self) -> None:  # noqa: N802
                self._answer(send_body=False)

            def _answer(self, send_body: bool) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    served.set("cchc_sync_up", 1 if healthy() else 0)
                    status, body, ctype = 200, served.render(), CONTENT_TYPE
                elif path == "/healthz":
                    ok = healthy()
                    status = 200 if ok else 503
                    body = "ok\n" if ok else "unhealthy\n"
                    ctype = "text/plain; charset=utf-8"
                else:
                    status, body, ctype = 404, "not found\n", "text/plain; charset=utf-8"
                data = body.encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                if send_body:
                    self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("metrics: " + format, *args)

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="cchc-metrics", daemon=True
        )

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> MetricsServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

