"""Drive v3 ``files.list`` ``q`` language (the useful part of it).

Supported: ``and``/``or``/``not``, parentheses; ``name = / != / contains``, ``mimeType = /
!=``, ``trashed = true|false``, ``starred``, ``'ID' in parents`` and gspread's ``parents in
"ID"``, ``'EMAIL' in owners|writers|readers``, ``modifiedTime``/``createdTime`` compared with
``= != < <= > >=`` against RFC 3339 strings, ``sharedWithMe``; strings in single or double
quotes with backslash escapes.
Unsupported terms (fullText, properties, visibility...) answer 400 "Invalid Value" as Drive
does for a bad query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from cchc_sync.testing.fake_google.errors import ApiError
from cchc_sync.testing.fake_google.model import DriveFile, rfc3339

Pred = Callable[[DriveFile, str], bool]

_TOKEN = re.compile(r"""\s*(?:(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")|(?P<op>!=|<=|>=|[=<>()])
                     |(?P<word>[A-Za-z_][A-Za-z0-9_.]*))""", re.X)


def _bad(query: str) -> ApiError:
    return ApiError(400, "Invalid Value", reason="invalid", location="q")


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def parse(query: str) -> Pred:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = query.strip()
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise _bad(query)
        pos = m.end()
        kind = m.lastgroup or "op"
        tokens.append((kind, m.group(kind)))
    i = 0

    def peek() -> tuple[str, str] | None:
        return tokens[i] if i < len(tokens) else None

    def take() -> tuple[str, str]:
        nonlocal i
        if i >= len(tokens):
            raise _bad(query)
        i += 1
        return tokens[i - 1]

    def word(tok: tuple[str, str] | None, value: str) -> bool:
        return tok is not None and tok[0] == "word" and tok[1].lower() == value

    def expr() -> Pred:
        left = conj()
        while word(peek(), "or"):
            take()
            right = conj()
            left = (lambda a, b: lambda f, me: a(f, me) or b(f, me))(left, right)
        return left

    def conj() -> Pred:
        left = unary()
        while word(peek(), "and"):
            take()
            right = unary()
            left = (lambda a, b: lambda f, me: a(f, me) and b(f, me))(left, right)
        return left

    def unary() -> Pred:
        if word(peek(), "not"):
            take()
            inner = unary()
            return lambda f, me: not inner(f, me)
        if peek() == ("op", "("):
            take()
            inner = expr()
            if take() != ("op", ")"):
                raise _bad(query)
            return inner
        return term()

    def term() -> Pred:
        value: Any
        first = take()
        if first[0] == "str":
            value = _unquote(first[1])
            if not word(take(), "in"):
                raise _bad(query)
            collection = take()
            return _membership(collection[1].lower(), value, query)
        if first[0] != "word":
            raise _bad(query)
        field = first[1]
        if field == "sharedWithMe":
            return lambda f, me: f.owner != me
        op = take()
        if word(op, "in") and field == "parents":
            value = _unquote(take()[1])
            return lambda f, me: value in f.parents
        if word(op, "contains"):
            value = _unquote(take()[1])
            if field == "name":
                return lambda f, me: value.lower() in f.name.lower()
            raise _bad(query)
        if op[0] != "op" or op[1] not in ("=", "!=", "<", "<=", ">", ">="):
            raise _bad(query)
        raw = take()
        value = _unquote(raw[1]) if raw[0] == "str" else raw[1]
        getter = _FIELDS.get(field)
        if getter is None:
            raise _bad(query)
        if field in ("trashed", "starred"):
            value = str(value).lower() == "true"
        return _compare(getter, op[1], value)

    pred = expr()
    if i != len(tokens):
        raise _bad(query)
    return pred


def _membership(field: str, value: str, query: str) -> Pred:
    if field == "parents":
        return lambda f, me: value in f.parents
    if field == "owners":
        return lambda f, me: f.owner.lower() == value.lower()
    if field in ("writers", "readers"):
        roles = {"writer", "owner", "fileOrganizer", "organizer"}
        if field == "readers":
            roles |= {"reader", "commenter"}
        return lambda f, me: any(
            p.get("emailAddress", "").lower() == value.lower() and p.get("role") in roles
            for p in f.permissions)
    raise _bad(query)


_FIELDS: dict[str, Callable[[DriveFile], Any]] = {
    "name": lambda f: f.name,
    "mimeType": lambda f: f.mime_type,
    "trashed": lambda f: f.trashed,
    "starred": lambda f: f.starred,
    "modifiedTime": lambda f: rfc3339(f.modified_ms),
    "createdTime": lambda f: rfc3339(f.created_ms),
}


def _compare(getter: Callable[[DriveFile], Any], op: str, value: Any) -> Pred:
    def norm(v: Any) -> Any:
        if isinstance(v, str) and re.match(r"^\d{4}-\d\d-\d\dT", v):
            v = v.rstrip("Z")
            if "." not in v:
                v += ".000"
            return v[:23]
        return v

    def pred(f: DriveFile, me: str) -> bool:
        a, b = norm(getter(f)), norm(value)
        return {"=": a == b, "!=": a != b, "<": a < b, "<=": a <= b, ">": a > b,
                ">=": a >= b}[op]

    return pred
