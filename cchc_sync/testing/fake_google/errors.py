"""Error bodies exactly as Google shapes them.

Sheets (and every google.rpc-style API): ``{"error": {"code", "message", "status"[,
"details"]}}``. Drive v3 adds an ``errors`` list with ``domain``/``reason`` (gspread's
BackOffHTTPClient reads ``errors[0].domain``). gspread's ``APIError.code`` is read from the
body, so the body must carry the code.
"""

from __future__ import annotations

from typing import Any

STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}

DRIVE_REASON = {
    400: ("global", "badRequest"),
    401: ("global", "authError"),
    403: ("global", "forbidden"),
    404: ("global", "notFound"),
    429: ("usageLimits", "rateLimitExceeded"),
    500: ("global", "backendError"),
    503: ("global", "backendError"),
}

NOT_FOUND = "Requested entity was not found."
NO_PERMISSION = "The caller does not have permission"


class ApiError(Exception):
    def __init__(self, code: int, message: str, status: str | None = None,
                 details: list[dict[str, Any]] | None = None, reason: str | None = None,
                 domain: str | None = None, location: str | None = None,
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, "UNKNOWN")
        self.details = details
        self.reason = reason
        self.domain = domain
        self.location = location
        self.headers = headers or {}

    def sheets_body(self) -> dict[str, Any]:
        err: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            err["details"] = self.details
        return {"error": err}

    def drive_body(self) -> dict[str, Any]:
        domain, reason = DRIVE_REASON.get(self.code, ("global", "unknown"))
        item: dict[str, Any] = {
            "message": self.message,
            "domain": self.domain or domain,
            "reason": self.reason or reason,
        }
        if self.location:
            item["location"] = self.location
            item["locationType"] = "parameter"
        return {"error": {"code": self.code, "message": self.message, "errors": [item]}}


def bad_request(message: str, details: list[dict[str, Any]] | None = None) -> ApiError:
    return ApiError(400, message, details=details)


def invalid_value(field: str, value: Any, type_name: str) -> ApiError:
    import json

    shown = json.dumps(value, ensure_ascii=False)
    message = f"Invalid value at '{field}' ({type_name}), {shown}"
    details = [{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": field, "description": message}],
    }]
    return ApiError(400, message, details=details)
