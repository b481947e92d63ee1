"""The request as the endpoint handlers see it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import Store

Response = tuple[int, Any, dict[str, str]]
_UNPARSED: Any = object()
NOT_JSON: Any = object()
"""Ctx.parsed() of a body that is not JSON."""


@dataclass
class Ctx:
    store: Store
    method: str
    parts: list[str]  # path segments, percent-decoded
    raw_parts: list[str]  # path segments as sent
    query: dict[str, list[str]]
    body: bytes
    caller: str = ""
    scopes: set[str] = field(default_factory=set)
    headers: dict[str, str] = field(default_factory=dict)
    _parsed: Any = field(default=_UNPARSED, repr=False)

    def parsed(self) -> Any:
        """The body parsed as JSON, once per request (the strict checks and the handler
        both read it); None when it is empty, NOT_JSON when it does not parse."""
        if self._parsed is _UNPARSED:
            try:
                self._parsed = json.loads(self.body) if self.body.strip() else None
            except (ValueError, UnicodeDecodeError):
                self._parsed = NOT_JSON
        return self._parsed

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else default

    def args(self, name: str) -> list[str]:
        return list(self.query.get(name, []))

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.arg(name)
        if value is None or value == "":
            return default
        return value.lower() in ("true", "1", "yes")

    def json(self) -> dict[str, Any]:
        if not self.body or not self.body.strip():
            return {}
        data = self.parsed()
        if data is NOT_JSON:
            raise ApiError(400, "Invalid JSON payload received. Unexpected token.")
        if not isinstance(data, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")
        return data


def ok(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return status, body, headers or {}
