"""Fault injection and request statistics for the fake.

Stats count every Sheets, Drive and token request that reaches the fake, including the ones
answered with an injected fault, a 401 or any other error (a request whose connection is
dropped by ``reset_connection_rate`` is counted too). Control requests (``/_fake/...``) and
the Python helpers (``edit_cells``, ``spreadsheet()``...) are never counted. Kinds are
``"<METHOD> <api method>"``: ``GET spreadsheets.get``, ``POST spreadsheets.create``,
``POST spreadsheets.batchUpdate``, ``GET values.get``, ``GET values.batchGet``,
``PUT values.update``, ``POST values.batchUpdate``, ``POST values.clear``,
``POST values.batchClear``, ``POST values.append``, ``POST sheets.copyTo``,
``GET drive.files.list``, ``GET drive.files.get``, ``POST drive.files.create``,
``POST drive.files.copy``, ``PATCH drive.files.update``, ``DELETE drive.files.delete``,
``GET drive.files.export``, ``GET|POST drive.permissions.*``, ``DELETE
drive.permissions.delete``, ``GET|POST drive.comments.*``, ``PUT drive.files.import``,
``POST token``; anything else is ``<METHOD> unknown``.

Faults (``set_faults``): ``status`` + ``rate`` (fraction of Sheets/Drive requests answered
with that status and Google's body for it: 429 RESOURCE_EXHAUSTED "Quota exceeded for quota
metric 'Read requests' ...", 500 INTERNAL, 503 UNAVAILABLE, Drive's ``errors`` list for
Drive), ``retry_after`` (seconds, sent as ``Retry-After``), ``count`` (fail exactly the next N
eligible requests instead of a rate), ``skip`` (let the next N eligible requests through
first: fail the middle of a multi-request write), ``kinds`` (only these kinds, e.g. ``["GET
values.batchGet"]``), ``latency_ms`` (every API and token request waits), ``reset_connection_rate``
(close the socket without answering), ``token_status`` (the token endpoint answers that
status; 400 and 401 with ``invalid_grant``, as for a revoked key or sign-in), ``seed``
(deterministic draws).

``shape`` picks what a faulted request gets instead of the plain error body for its status
(eligibility as above: ``count``/``rate``, ``skip``, ``kinds``):

- ``"storageQuotaExceeded"``: 403 with Google's body for a service account creating a file
  outside a shared drive ("Service Accounts do not have storage quota. Leverage shared
  drives ...", domain ``usageLimits``: a gspread-style back-off takes it for a rate limit);
- ``"SERVICE_DISABLED"``: 403 PERMISSION_DENIED "Google Sheets API has not been used in
  project ... before or it is disabled. Enable it by visiting <activation link> ...", with
  the ``google.rpc.ErrorInfo`` (reason SERVICE_DISABLED, metadata.activationUrl) and Help
  details; on Drive also ``errors[0]`` reason ``accessNotConfigured`` (domain usageLimits).
  Both bodies are accounts.py's (which refuses whole APIs or every create); a fault picks
  the requests instead (``kinds``, ``count``);
- ``"html"``: a proxy's HTML page instead of Google's answer (status ``status`` or 502;
  the request never reaches the API);
- ``"truncated"``: the request is served, its JSON answer cut in half (a Content-Length of
  the cut: the client gets a body that is not JSON);
- ``"short"``: the request is served, the full Content-Length declared, half the bytes
  sent and the connection closed (the client's read fails mid-body).
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from cchc_sync.testing.fake_google.accounts import account_refusal
from cchc_sync.testing.fake_google.errors import ApiError

PROJECT = "project_number:000000000000"


@dataclass
class FaultConfig:
    status: int | None = None
    rate: float = 0.0
    retry_after: float | None = None
    count: int | None = None
    skip: int = 0
    kinds: list[str] | None = None
    latency_ms: float = 0.0
    reset_connection_rate: float = 0.0
    token_status: int | None = None
    seed: int | None = None
    shape: str | None = None
    rng: random.Random = field(default_factory=random.Random, repr=False)


class Faults:
    KEYS = ("status", "rate", "retry_after", "count", "skip", "kinds", "latency_ms",
            "reset_connection_rate", "token_status", "seed", "shape")
    SHAPES = ("storageQuotaExceeded", "SERVICE_DISABLED", "html", "truncated", "short")
    SHAPE_STATUS = {"storageQuotaExceeded": 403, "SERVICE_DISABLED": 403, "html": 502,
                    "truncated": 200, "short": 200}

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.cfg = FaultConfig()

    def set(self, **options: Any) -> dict[str, Any]:
        unknown = set(options) - set(self.KEYS)
        if unknown:
            raise ValueError(f"unknown fault options: {sorted(unknown)}")
        shape = options.get("shape")
        if shape is not None:
            if shape not in self.SHAPES:
                raise ValueError(f"unknown fault shape {shape!r}: one of {self.SHAPES}")
            options.setdefault("status", self.SHAPE_STATUS[shape])
        with self.lock:
            for key, value in options.items():
                setattr(self.cfg, key, value)
            if "seed" in options:
                self.cfg.rng = random.Random(options["seed"])
            if options.get("status") is not None and "rate" not in options and \
                    options.get("count") is None and self.cfg.rate == 0:
                self.cfg.rate = 1.0
            return self.describe()

    def clear(self) -> None:
        with self.lock:
            self.cfg = FaultConfig()

    def describe(self) -> dict[str, Any]:
        return {k: getattr(self.cfg, k) for k in self.KEYS}

    def latency(self) -> float:
        return self.cfg.latency_ms / 1000.0

    def drop_connection(self) -> bool:
        with self.lock:
            rate = self.cfg.reset_connection_rate
            return rate > 0 and self.cfg.rng.random() < rate

    def token_failure(self) -> int | None:
        return self.cfg.token_status

    def api_failure(self, kind: str) -> int | None:
        """Status to answer instead of serving this request, or None."""
        with self.lock:
            cfg = self.cfg
            if cfg.status is None:
                return None
            if cfg.kinds and not any(kind == k or kind.endswith(" " + k) for k in cfg.kinds):
                return None
            if cfg.skip > 0:
                cfg.skip -= 1
                return None
            if cfg.count is not None:
                if cfg.count <= 0:
                    return None
                cfg.count -= 1
                return cfg.status
            if cfg.rate > 0 and cfg.rng.random() < cfg.rate:
                return cfg.status
            return None

    def shape(self) -> str | None:
        """The configured answer shape of a faulted request (see the module docstring)."""
        return self.cfg.shape

    def refusal(self, family: str) -> dict[str, Any] | None:
        """The body of a 403 shape: what accounts.py answers when the account or project
        refuses (the same bodies as `disabled_apis` / `service_account_storage`), here for
        the requests the fault selects."""
        shape = self.cfg.shape
        if shape == "SERVICE_DISABLED":
            project = SimpleNamespace(disabled_apis={family}, service_account_storage=True)
            found = account_refusal(project, family, "", "")
        elif shape == "storageQuotaExceeded":
            project = SimpleNamespace(disabled_apis=set(), service_account_storage=False)
            found = account_refusal(project, family, "POST drive.files.create",
                                    "cchc@project.iam.gserviceaccount.com")
        else:
            return None
        return found.body if found is not None else None

    def error(self, status: int, method: str, family: str) -> ApiError:
        headers = {}
        if self.cfg.retry_after is not None:
            value = self.cfg.retry_after
            headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
        if status == 429:
            if family == "drive":
                return ApiError(429, "Rate Limit Exceeded", domain="usageLimits",
                                reason="rateLimitExceeded", headers=headers)
            what = "Read" if method == "GET" else "Write"
            metric = "read_requests" if what == "Read" else "write_requests"
            message = (f"Quota exceeded for quota metric '{what} requests' and limit '{what} "
                       f"requests per minute per user' of service 'sheets.googleapis.com' for "
                       f"consumer '{PROJECT}'.")
            details: list[dict[str, Any]] = [
                {"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                 "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com",
                 "metadata": {"quota_metric": f"sheets.googleapis.com/{metric}",
                              "quota_limit": f"{what}RequestsPerMinutePerUser",
                              "quota_limit_value": "60", "service": "sheets.googleapis.com",
                              "consumer": "projects/000000000000",
                              "quota_location": "global"}},
                {"@type": "type.googleapis.com/google.rpc.Help",
                 "links": [{"description": "Request a higher quota limit.",
                            "url": "https://cloud.google.com/docs/quotas/help/request_increase"}]},
            ]
            return ApiError(429, message, details=details, headers=headers)
        if status == 403 and family == "drive":
            return ApiError(403, "User rate limit exceeded.", domain="usageLimits",
                            reason="userRateLimitExceeded", headers=headers)
        messages = {
            500: "Internal error encountered.",
            502: "Bad Gateway",
            503: "The service is currently unavailable.",
            504: "The request timed out. Please try again.",
            408: "The request timed out. Please try again.",
        }
        return ApiError(status, messages.get(status, "Injected fault."), headers=headers)


HTML_PAGE = (b"<!DOCTYPE html>\n<html lang=\"vi\"><head><meta charset=\"utf-8\">"
             b"<title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>"
             b"<p>The proxy server received an invalid response from an upstream server."
             b"</p><hr><address>squid</address></body></html>\n")
"""What a proxy answers in Google's place."""


class Stats:
    def __init__(self, keep: int = 2000) -> None:
        self.lock = threading.Lock()
        self.by_kind: Counter[str] = Counter()
        self.by_status: Counter[int] = Counter()
        self.log: list[dict[str, Any]] = []
        self.keep = keep
        self.bodies = False
        """Also log each request's query string and body (tests comparing requests turn it
        on: off by default, a master write's body can be megabytes)."""

    def count(self, kind: str) -> None:
        with self.lock:
            self.by_kind[kind] += 1

    def record(self, kind: str, method: str, path: str, status: int, faulted: bool, *,
               size: int = 0, query: str = "", body: bytes = b"") -> None:
        with self.lock:
            self.by_status[status] += 1
            entry = {"kind": kind, "method": method, "path": path, "status": status,
                     "faulted": faulted, "bytes": size}
            if self.bodies:
                entry.update(query=query, body=body.decode("utf-8", "replace"))
            self.log.append(entry)
            del self.log[: -self.keep]

    def reset(self) -> None:
        with self.lock:
            self.by_kind.clear()
            self.by_status.clear()
            self.log.clear()

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            by_kind = dict(sorted(self.by_kind.items()))
            out: dict[str, Any] = {
                "total": sum(by_kind.values()),
                "by_kind": by_kind,
                "by_status": {str(k): v for k, v in sorted(self.by_status.items())},
            }
            out.update(by_kind)
            return out
