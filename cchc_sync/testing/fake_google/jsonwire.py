"""The fake's JSON answers as bytes, as Google's front end writes them."""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring
from typing import Any

_WHOLE = 2**53
"""A float of integral value below this is written as an integer, as Google writes one."""


def encode_json(body: Any, *, pretty: bool = True) -> bytes:
    """`body` as JSON with two-space indents and whole floats as integers: the bytes of
    ``json.dumps(body, ensure_ascii=False, indent=2)`` after turning each whole float into
    an int. json's own encoder writes indented JSON in pure Python through nested
    generators, three times slower than this one pass; tests/test_fake_google_units.py
    holds the two equal. `pretty` False (a request's `prettyPrint=false`, which Google
    honours): no whitespace at all, as ``separators=(",", ":")`` writes it."""
    out: list[str] = []
    if pretty:
        _emit(body, out.append, "\n", "  ", ": ")
    else:
        _emit(body, out.append, "", "", ":")
    return "".join(out).encode("utf-8")


def _emit(obj: Any, append: Callable[[str], Any], indent: str, step: str, colon: str
          ) -> None:
    if isinstance(obj, str):
        append(encode_basestring(obj))
    elif isinstance(obj, dict):
        if not obj:
            append("{}")
            return
        inner = indent + step
        sep = "{" + inner
        for key, value in obj.items():
            append(sep)
            append(encode_basestring(key if isinstance(key, str) else _key(key)))
            append(colon)
            _emit(value, append, inner, step, colon)
            sep = "," + inner
        append(indent + "}")
    elif isinstance(obj, list | tuple):
        if not obj:
            append("[]")
            return
        inner = indent + step
        sep = "[" + inner
        for value in obj:
            append(sep)
            _emit(value, append, inner, step, colon)
            sep = "," + inner
        append(indent + "]")
    else:
        append(_scalar(obj))


def _scalar(obj: Any) -> str:
    if obj is None:
        return "null"
    if obj is True:
        return "true"
    if obj is False:
        return "false"
    if isinstance(obj, int):
        return int.__repr__(obj)
    if isinstance(obj, float):
        if obj.is_integer() and abs(obj) < _WHOLE:
            return int.__repr__(int(obj))
        if obj != obj:
            return "NaN"
        if obj in (float("inf"), float("-inf")):
            return "Infinity" if obj > 0 else "-Infinity"
        return float.__repr__(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def _key(key: Any) -> str:
    """A dict key that is not a string, as json writes it."""
    if isinstance(key, float) and key.is_integer():
        return float.__repr__(key)  # json leaves a whole float key as it is: "2.0"
    if key is None or isinstance(key, int | float):
        return _scalar(key)
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")
