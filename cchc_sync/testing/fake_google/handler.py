"""The fake's HTTP request handler: reads a request, counts it, applies the injected faults
and the checks Google makes before an API sees a request (payload size, authentication,
strictness, the account's refusals), calls the method's handler under the store's lock and
writes the answer in one write. `FakeGoogle` (server.py) makes a subclass per server that
knows its fake."""

from __future__ import annotations

import contextlib
import socket
import sys
import time
import traceback
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from cchc_sync.testing.fake_google import auth, shared_drives, strict, user_oauth
from cchc_sync.testing.fake_google.accounts import account_refusal
from cchc_sync.testing.fake_google.ctx import Ctx
from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.faults import HTML_PAGE
from cchc_sync.testing.fake_google.jsonwire import encode_json
from cchc_sync.testing.fake_google.routes import route

if TYPE_CHECKING:
    from cchc_sync.testing.fake_google.server import FakeGoogle

JSON_TYPE = "application/json; charset=UTF-8"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ESF"
    sys_version = ""
    fake: FakeGoogle  # set on the subclass made per server
    # http.server's own buffer of the answer's head (not in its type stubs): _send adds the
    # body to it so head and body leave in one write.
    _headers_buffer: list[bytes]
    _cut: str | None

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.fake.verbose:
            super().log_message(format, *args)

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_PATCH(self) -> None:  # noqa: N802
        self._handle("PATCH")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None, *,
              cut: str | None = None) -> None:
        """`cut`: "truncated" sends the first half of the body as if it were all of it,
        "short" declares the whole body, sends half and closes the connection."""
        headers = dict(headers or {})
        if body is None:
            data = b""
        elif isinstance(body, bytes):
            data = body
        else:
            data = encode_json(body)
            headers.setdefault("Content-Type", JSON_TYPE)
        declared = len(data)
        if cut in ("truncated", "short"):
            data = data[: len(data) // 2]
            declared = len(data) if cut == "truncated" else declared
            self.close_connection = cut == "short"
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(declared))
        # one write for head and body: no Nagle / delayed-ACK stall on keep-alive sockets
        self._headers_buffer.append(b"\r\n")
        if data and self.command != "HEAD":
            self._headers_buffer.append(data)
        self.flush_headers()

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        fake = self.fake
        if parts.path.startswith("/_fake/"):
            status, out = fake._control(method, parts.path, body)
            self._send(status, out)
            return
        hit = route(method, parts.path)
        kind = hit[0] if hit else f"{method} unknown"
        family = hit[1] if hit else "sheets"
        fake.stats_.count(kind)
        if fake.faults.latency():
            time.sleep(fake.faults.latency())
        for hook in list(fake.hooks):
            hook(kind, parts.path)
        if fake.faults.drop_connection():
            fake.stats_.record(kind, method, parts.path, 0, True, size=len(body))
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self._cut = None
        status, out, headers, faulted = self._serve(method, kind, family, hit, parts, query, body)
        fake.stats_.record(kind, method, parts.path, status, faulted, size=len(body),
                           query=parts.query, body=body)
        self._send(status, out, headers, cut=self._cut)

    def _serve(self, method: str, kind: str, family: str, hit: Any, parts: SplitResult,
               query: dict[str, list[str]], body: bytes
               ) -> tuple[int, Any, dict[str, str], bool]:
        fake = self.fake
        if hit is None:
            err = ApiError(404, f"Method not found: {method} {parts.path}")
            return 404, err.sheets_body(), {}, False
        if family != "token" and len(body) > fake.max_request_bytes:
            # Google's front end refuses it before authentication or the API look at it.
            err = ApiError(400, "Request payload size exceeds the limit: "
                                f"{fake.max_request_bytes} bytes.")
            return 400, err.drive_body() if family == "drive" else err.sheets_body(), {}, False
        if family == "oauth":
            with fake.store.lock:
                if kind == "GET oauth.authorize":
                    status, out, headers = user_oauth.authorize(fake.store.oauth, query)
                else:
                    form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
                    token = (query.get("token") or [form.get("token", "")])[-1]
                    status, out, headers = user_oauth.revoke(fake.store, fake.store.oauth, token)
            return status, out, headers, False
        if family == "token":
            failing = fake.faults.token_failure()
            if failing:
                error = "internal_failure" if failing >= 429 else "invalid_grant"
                return failing, {"error": error,
                                 "error_description": "Injected token endpoint failure."}, {}, True
            status, out, headers = auth.token(
                fake.store, auth.with_basic_client(body, self.headers.get("Authorization")))
            return status, out, headers, False
        failing = fake.faults.api_failure(kind)
        shape = fake.faults.shape() if failing else None
        if failing and shape == "html":  # a shape is drawn only for a failing request
            return failing, HTML_PAGE, {"Content-Type": "text/html; charset=utf-8"}, True
        refusal = fake.faults.refusal(family) if failing else None
        if refusal is not None:
            return 403, refusal, {}, True
        if shape in ("truncated", "short"):
            self._cut = shape  # served for real below, its answer cut on the way out
            failing = None
        if failing:
            err = fake.faults.error(failing, method, family)
            return (err.code, err.drive_body() if family == "drive" else err.sheets_body(),
                    err.headers, True)
        try:
            service = "drive.googleapis.com" if family == "drive" else "sheets.googleapis.com"
            if fake.require_auth:
                caller, scopes = auth.authenticate(fake.store, self.headers.get("Authorization"),
                                                   service)
            else:
                caller, scopes = fake.default_account, set(fake.default_scopes)
            ctx = Ctx(store=fake.store, method=method, parts=parts.path.split("/")[1:],
                      raw_parts=parts.path.split("/")[1:], query=query, body=body,
                      caller=caller, scopes=scopes, headers=dict(self.headers.items()))
            if fake.strict:
                strict.check(kind, query, ctx.parsed())
            refused = account_refusal(
                fake, family, kind, caller, into_shared_drive=shared_drives
                .creates_in_shared_drive(fake.store, kind, ctx.parsed()))
            if refused is not None:
                return refused.code, refused.raw_body(), {}, False
            with fake.store.lock:
                status, out, headers = hit[2](ctx, *hit[3])
                # Encoded before the lock is released: an answer shares the stored state's
                # dicts (render.cell_data), which another request may replace meanwhile.
                if out is not None and not isinstance(out, bytes):
                    out = encode_json(out, pretty=ctx.query.get("prettyPrint") != ["false"])
                    headers = {**headers}
                    headers.setdefault("Content-Type", JSON_TYPE)
            return status, out, headers, False
        except ApiError as err:
            body_out = err.drive_body() if family == "drive" else err.sheets_body()
            return err.code, body_out, err.headers, False
        except Exception:  # a bug in the fake: answer like Google's 500, keep the traceback
            text = traceback.format_exc()
            fake.errors.append(text)
            print(text, file=sys.stderr)
            internal = ApiError(500, "Internal error encountered.")
            answer = internal.drive_body() if family == "drive" else internal.sheets_body()
            return 500, answer, {}, False
