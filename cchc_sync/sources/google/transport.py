"""Every request the Google backend makes goes through `GoogleTransport`: one quota limiter,
one retry layer, one place that turns Google's answers into our exceptions.

- **Limiter**: a rolling one-minute window per kind of request (reads: GET; writes:
  everything else), default 60 each, the per-user quota of the Sheets API (a service
  account is one user). A request waits until fewer than `per_minute` requests of its kind
  were sent in the last 60 s, so no minute ever holds more. Drive requests count too: they
  are few (one listing per cycle), and counting them keeps the arithmetic simple.
- **Retries**: 429, 408, 5xx, Drive's 403 rate-limit reasons, timeouts, dropped
  connections and transient token failures are retried with jittered exponential backoff
  (`min(base * 2**n + U(0, jitter), max_delay)`, or the server's `Retry-After` when it asks
  for longer), at most `max_attempts` times; each retry is logged once, without headers
  (never a token). When the attempts run out `GoogleUnavailable` is raised; the backend turns
  it into UnitUnreachable for one unit or SourceError when nothing works.
- **Errors**: a rejected key or token (401, RefreshError that is not retryable, such as
  `invalid_grant`) is a SourceError: the run cannot continue. Other answers (400, 403,
  404...) become `GoogleApiError` carrying the status, Google's reason and message, at
  once: 403 `storageQuotaExceeded` and `SERVICE_DISABLED`/`accessNotConfigured` are never
  taken for a rate limit although Drive files them under `usageLimits` (PERMANENT_REASONS).
  An answer that is not JSON (a proxy's HTML page, a body cut short) is transient: retried
  like a 503.

`clock`, `sleep` and `rng` are injectable so tests run a 429 storm in milliseconds.
"""

from __future__ import annotations

import collections
import json as _json
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError
from gspread.http_client import FileType, HTTPClient, ParamsType

from cchc_sync.domain import telemetry
from cchc_sync.sources.base import SourceError
from cchc_sync.sources.google.signin import SIGN_IN_AGAIN

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Drive answers some quota errors with 403 and one of these reasons.
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
WINDOW_SECONDS = 60.0


class RequestKind(StrEnum):
    READ = "read"
    WRITE = "write"


PERMANENT_REASONS = frozenset({"storageQuotaExceeded", "SERVICE_DISABLED",
                               "accessNotConfigured"})
"""403 reasons that no wait fixes, although Drive files some under domain `usageLimits`
(as it does its rate limits): a service account owns no Drive storage; the API is not
enabled in the project. Never retried, whatever the domain says."""


class GoogleApiError(Exception):
    """Google answered with an error that retrying will not fix (400, 403, 404, ...)."""

    def __init__(self, status: int, message: str, reason: str = "",
                 activation_url: str = "") -> None:
        super().__init__(f"{status} {reason or ''} {message}".strip())
        self.status = status
        self.message = message
        self.reason = reason
        self.activation_url = activation_url
        """For SERVICE_DISABLED: the console page where the API is enabled."""


class GoogleUnavailable(Exception):
    """Transient failures persisted through every attempt (quota, 5xx, network, an answer
    that is not JSON). Its text is one Vietnamese clause for the coordinator (what failed
    and how often it was tried); the log line before it has the technical detail."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    max_attempts: int = 7
    """Attempts per request, the first included (6 retries: ~1+2+4+8+16+32 s of waiting)."""
    base_delay: float = 1.0
    """Seconds before the first retry; doubled for each next one."""
    max_delay: float = 64.0
    """No single wait is longer, whatever Retry-After says."""
    jitter: float = 1.0
    """Up to this many seconds added at random, so parallel clients do not retry in step."""

    def delay(self, retry: int, retry_after: float | None, rng: Callable[[], float]) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        backoff = self.base_delay * (2**retry) + rng() * self.jitter
        if retry_after is not None:
            backoff = max(backoff, retry_after)
        return min(backoff, self.max_delay)


class QuotaLimiter:
    """At most `per_minute` acquisitions in any rolling 60 seconds."""

    def __init__(self, per_minute: int, *, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        if per_minute < 1:
            raise ValueError("per_minute must be at least 1")
        self.per_minute = per_minute
        self._clock = clock
        self._sleep = sleep
        self._sent: collections.deque[float] = collections.deque()
        self._lock = threading.Lock()
        self.waited = 0.0
        """Seconds spent waiting for the quota, in total (for logs and tests)."""

    def acquire(self) -> float:
        """Wait until a request may be sent; returns how long it waited."""
        with self._lock:
            now = self._clock()
            while self._sent and now - self._sent[0] >= WINDOW_SECONDS:
                self._sent.popleft()
            waited = 0.0
            if len(self._sent) >= self.per_minute:
                oldest = self._sent.popleft()
                waited = oldest + WINDOW_SECONDS - now
                if waited > 0:
                    log.info("Google quota: waiting %.1f s (%d requests in the last minute)",
                             waited, self.per_minute)
                    self._sleep(waited)
                # An injected sleep may not move the clock: count from when the slot freed.
                now = max(self._clock(), oldest + WINDOW_SECONDS)
            self._sent.append(now)
            self.waited += max(waited, 0.0)
            return max(waited, 0.0)


class GoogleTransport(HTTPClient):
    """gspread's HTTP client whose every request is limited and retried.

    gspread's own low-level methods (`values_batch_get`, `values_get`,
    `fetch_sheet_metadata`, `batch_update`) send through `request` below, so they get the
    limiter, the retries and our errors; the calls gspread has no fitting method for (Drive,
    the flag write with its answer's field mask) go through `call`, the same `request`."""

    def __init__(
        self,
        http: HTTPClient,
        *,
        reads_per_minute: int = 60,
        writes_per_minute: int = 60,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
    ) -> None:
        """`http`: the authorised gspread client to send as (its credentials, session and
        timeout are taken; not its retries, if it is a BackOffHTTPClient: one retry layer,
        this one)."""
        auth: Any = getattr(http, "auth", None)
        super().__init__(auth, session=http.session)
        self.auth = auth  # gspread leaves it unset when a session is given
        self.timeout = http.timeout
        self.retry = retry or RetryPolicy()
        self._sleep = sleep
        self._rng = rng
        self.limiters = {
            RequestKind.READ: QuotaLimiter(reads_per_minute, clock=clock, sleep=sleep),
            RequestKind.WRITE: QuotaLimiter(writes_per_minute, clock=clock, sleep=sleep),
        }
        self.sent = collections.Counter[str]()
        """Requests sent (attempts included) by kind: "read" / "write"."""
        self.retries = 0

    def call(self, method: str, url: str, *, params: Mapping[str, Any] | None = None,
             json: Any = None, body: bytes | None = None) -> dict[str, Any]:
        """One API call gspread has no method for; returns the decoded JSON body ({} if
        none). `body`: the request's JSON already encoded (UTF-8), instead of `json`."""
        headers = None
        if body is not None:
            headers = {"Content-Type": "application/json; charset=UTF-8"}
        response = self.request(method, url, params=dict(params) if params else None,
                                json=json, data=body, headers=headers)
        if response.status_code == 204 or not response.content:
            return {}
        answer: dict[str, Any] = response.json()
        return answer

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        """One API request, limited and retried; returns Google's answer once it is JSON
        (or empty). gspread's methods and `call` both come here."""
        kind = RequestKind.READ if method.upper() == "GET" else RequestKind.WRITE
        if json is not None:
            # Compact UTF-8: a master of 200 units stays near Google's advised 2 MB.
            data = _json.dumps(json, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            headers = {**(headers or {}), "Content-Type": "application/json; charset=UTF-8"}
        what = operation(method, endpoint)
        attempt = 0
        while True:
            self.limiters[kind].acquire()
            self.sent[kind] += 1
            telemetry.count_request(what)
            try:
                response = super().request(method, endpoint, params=params, data=data,
                                           files=files, headers=headers)
            except APIError as exc:
                status = exc.response.status_code
                telemetry.count_status(status)
                reason, message, activation = _error_details(exc)
                retryable = reason not in PERMANENT_REASONS and (
                    status in RETRY_STATUSES or (status == 403 and reason in RATE_LIMIT_REASONS))
                if status == 401:
                    raise SourceError(
                        "Google từ chối khoá tài khoản dịch vụ (401: " + message + "); hãy kiểm "
                        "tra tệp khoá và việc bật Google Sheets API, Google Drive API"
                    ) from None
                if not retryable:
                    raise GoogleApiError(status, message, reason, activation) from None
                failure = f"{status} {reason or message}".strip()
                cause = (f"Google báo vượt hạn mức yêu cầu ({status})"
                         if status in (403, 429) else f"máy chủ Google lỗi tạm thời ({status})")
                retry_after = _retry_after(exc.response)
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout,
                    requests.exceptions.ChunkedEncodingError,
                    auth_exceptions.TransportError) as exc:
                failure = f"{type(exc).__name__}"
                cause = ("câu trả lời của Google bị cắt giữa chừng"
                         if isinstance(exc, requests.exceptions.ChunkedEncodingError)
                         else "không kết nối được tới Google (mạng hoặc máy chủ ngắt kết nối)")
                retry_after = None
            except auth_exceptions.RefreshError as exc:
                if not exc.retryable:
                    if "expired or revoked" in str(exc):  # the coordinator's sign-in
                        raise SourceError(SIGN_IN_AGAIN) from None
                    raise SourceError(
                        f"Không lấy được mã truy cập của tài khoản dịch vụ: {_short(exc)}; hãy "
                        "kiểm tra tệp khoá (credentials)"
                    ) from None
                failure = "token endpoint unavailable"
                cause = "máy chủ cấp quyền truy cập của Google không trả lời"
                retry_after = None
            else:
                if response.status_code == 204 or not response.content:
                    return response
                try:
                    # Decoded here to see it is JSON (else retried, below). The caller's
                    # response.json() (gspread's methods, `call`) gets this decoded answer:
                    # decoding it twice was a tenth of a flag write's CPU.
                    response.json = _decoded(response.json())  # type: ignore[method-assign]
                    return response
                except ValueError:
                    # A proxy's HTML page or an answer cut short: the request may well
                    # succeed again (a write is idempotent or checked: flags, master).
                    failure = _not_json(response)
                    cause = ("câu trả lời không phải dữ liệu của Google (trang của máy chủ trung "
                             "gian, hoặc bị cắt giữa chừng)")
                    retry_after = None
            attempt += 1
            if attempt >= self.retry.max_attempts:
                log.warning("Google API %s: %s; giving up after %d attempts", what, failure,
                            attempt)
                raise GoogleUnavailable(f"{cause}, đã thử {attempt} lần")
            delay = self.retry.delay(attempt - 1, retry_after, self._rng)
            self.retries += 1
            log.warning("Google API %s: %s; retry %d/%d in %.1f s", what, failure, attempt,
                        self.retry.max_attempts - 1, delay)
            self._sleep(delay)


def _decoded(answer: Any) -> Callable[..., Any]:
    """A response's `json` method once its body is decoded: the same answer every call."""
    return lambda **_: answer


def sheet_tabs(transport: HTTPClient, spreadsheet_id: str, fields: str
               ) -> list[dict[str, Any]]:
    """One entry per tab of the spreadsheet ({"properties": ..., and what the `fields`
    mask asks}): one spreadsheets.get."""
    data = transport.fetch_sheet_metadata(spreadsheet_id, params={"fields": fields})
    return list(data.get("sheets", []))


def operation(method: str, url: str) -> str:
    """The API method a request calls, as logs and /metrics name it
    ("values.batchGet", "drive.files.list"...)."""
    verb = method.upper()
    path = url.split("?")[0]
    if "/drive/" in path:
        if "/permissions" in path:
            return "drive.permissions.create" if verb == "POST" else f"drive.permissions {verb}"
        listing = path.rstrip("/").endswith("/files")
        return {"GET": "drive.files.list" if listing else "drive.files.get",
                "POST": "drive.files.create", "DELETE": "drive.files.delete"}.get(
                    verb, f"drive.files {verb}")
    if path.endswith(":batchUpdate"):
        return "spreadsheets.batchUpdate"
    if path.endswith("/values:batchGet"):
        return "values.batchGet"
    if "/values/" in path:
        return "values.get" if verb == "GET" else f"values {verb}"
    if verb == "GET":
        return "spreadsheets.get"
    return f"{verb} {path}"


def _error_details(exc: APIError) -> tuple[str, str, str]:
    """(reason, message, activation URL) from Google's error body. The reason is the
    google.rpc.ErrorInfo's where there is one (SERVICE_DISABLED, RATE_LIMIT_EXCEEDED),
    else Drive's errors[0].reason, else the status (PERMISSION_DENIED)."""
    try:
        body = exc.response.json().get("error", {})
    except (ValueError, AttributeError):
        return "", _not_json(exc.response), ""
    if not isinstance(body, dict):
        return "", str(body)[:200], ""
    reason = activation = ""
    for detail in body.get("details") or ():
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith("ErrorInfo"):
            reason = str(detail.get("reason") or "")
            activation = str((detail.get("metadata") or {}).get("activationUrl") or "")
            break
    errors = body.get("errors") or []
    if not reason and errors and isinstance(errors[0], dict):
        reason = str(errors[0].get("reason") or "")
    return (reason or str(body.get("status") or ""), str(body.get("message") or ""),
            activation)


def _not_json(response: requests.Response) -> str:
    """What an answer that is not Google's JSON was, for logs (never its whole body)."""
    kind = response.headers.get("Content-Type", "").split(";")[0].strip() or "no type"
    return f"{response.status_code} answer that is not JSON ({kind}, {len(response.content)} B)"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare from Google; the backoff applies


def _short(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else type(exc).__name__
    return text[:200]
