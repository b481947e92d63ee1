"""A tiny formula evaluator for the fake Sheets API.

Faithful enough for tests: numbers, strings, TRUE/FALSE, ``+ - * / ^ & %``, comparisons,
cell and range references (``A1``, ``$B$2``, ``Sheet2!A1:B3``, ``'My tab'!C:C``) and a few
functions (SUM, AVERAGE, MIN, MAX, COUNT, COUNTA, PRODUCT, ROUND, ABS, INT, MOD, IF, AND, OR,
NOT, LEN, UPPER, LOWER, CONCATENATE). Errors come back as Google's error values
(``#NAME?`` for an unknown function, ``#DIV/0!``, ``#VALUE!``, ``#REF!``, ``#ERROR!`` for a
parse error).
Simplified: no array results, no dates arithmetic helpers, no locale-specific separators,
recalculation is "all formulas of the spreadsheet, a few passes" rather than a dependency
graph.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from cchc_sync.testing.fake_google import a1

ERROR_TEXT = {
    "NAME": "#NAME?",
    "DIV_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "ERROR": "#ERROR!",
    "N_A": "#N/A",
    "NUM": "#NUM!",
    "NULL_VALUE": "#NULL!",
}


class FormulaError(Exception):
    def __init__(self, type_: str, message: str):
        super().__init__(message)
        self.type = type_
        self.message = message


# resolver(sheet_title_or_None, r0, c0, r1, c1) -> rows of python values
Resolver = Callable[[str | None, int, int, int | None, int | None], list[list[Any]]]

_TOKEN_RE = re.compile(
    r"""\s*(?:
    (?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
  | (?P<str>"(?:[^"]|"")*")
  | (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][A-Za-z0-9_.]*)!)?
        (?:\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d*)?|\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3}
           |\$?\d+:\$?\d+))
  | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
  | (?P<op><>|<=|>=|[-+*/^&%(),:=<>;])
    )""",
    re.X,
)


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if not m or m.end() == pos:
            raise FormulaError("ERROR", "Formula parse error.")
        pos = m.end()
        kind = m.lastgroup or "op"
        out.append((kind, m.group(kind)))
    return out


class _Parser:
    def __init__(self, text: str, resolve: Resolver):
        self.toks = _tokens(text)
        self.i = 0
        self.resolve = resolve

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (value is not None and tok[1] != value):
            raise FormulaError("ERROR", "Formula parse error.")
        self.i += 1
        return tok

    def parse(self) -> Any:
        value = self.comparison()
        if self.peek() is not None:
            raise FormulaError("ERROR", "Formula parse error.")
        return value

    def comparison(self) -> Any:
        left = self.concat()
        while (tok := self.peek()) and tok[1] in ("=", "<>", "<", ">", "<=", ">="):
            self.take()
            right = self.concat()
            left = _compare(tok[1], _scalar(left), _scalar(right))
        return left

    def concat(self) -> Any:
        left = self.additive()
        while (tok := self.peek()) and tok[1] == "&":
            self.take()
            left = _text(_scalar(left)) + _text(_scalar(self.additive()))
        return left

    def additive(self) -> Any:
        left = self.term()
        while (tok := self.peek()) and tok[1] in "+-" and tok[0] == "op":
            self.take()
            right = _num(_scalar(self.term()))
            left = _num(_scalar(left)) + (right if tok[1] == "+" else -right)
        return left

    def term(self) -> Any:
        left = self.power()
        while (tok := self.peek()) and tok[1] in ("*", "/"):
            self.take()
            right = _num(_scalar(self.power()))
            if tok[1] == "*":
                left = _num(_scalar(left)) * right
            else:
                if right == 0:
                    raise FormulaError("DIV_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero.")
                left = _num(_scalar(left)) / right
        return left

    def power(self) -> Any:
        left = self.unary()
        while (tok := self.peek()) and tok[1] == "^":
            self.take()
            left = _num(_scalar(left)) ** _num(_scalar(self.unary()))
        return left

    def unary(self) -> Any:
        tok = self.peek()
        if tok and tok[1] in ("-", "+"):
            self.take()
            value = _num(_scalar(self.unary()))
            return -value if tok[1] == "-" else value
        value = self.primary()
        while (tok := self.peek()) and tok[1] == "%":
            self.take()
            value = _num(_scalar(value)) / 100
        return value

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "str":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            nxt = self.peek()
            if nxt and nxt[1] == "(" and "!" not in text and ":" not in text:
                return self.call(text.upper())
            return self.reference(text)
        if kind == "name":
            nxt = self.peek()
            if nxt and nxt[1] == "(":
                return self.call(text.upper())
            if text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
            raise FormulaError("NAME", f"Unknown range name: '{text}'.")
        if text == "(":
            value = self.comparison()
            self.take(")")
            return value
        raise FormulaError("ERROR", "Formula parse error.")

    def reference(self, text: str) -> Any:
        title, ref = a1.split_sheet(text.replace("$", ""))
        try:
            rect = a1.parse_ref(ref or "")
        except a1.A1Error as exc:
            raise FormulaError("ERROR", "Formula parse error.") from exc
        rows = self.resolve(title, rect.r0, rect.c0, rect.r1, rect.c1)
        single = ":" not in (ref or "")
        if single:
            return rows[0][0] if rows and rows[0] else None
        return rows

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        if (ahead := self.peek()) and ahead[1] != ")":
            while True:
                args.append(self.comparison())
                tok = self.peek()
                if tok and tok[1] in (",", ";"):
                    self.take()
                    continue
                break
        self.take(")")
        fn = _FUNCTIONS.get(name)
        if fn is None:
            raise FormulaError("NAME", f"Unknown function: '{name.lower()}'.")
        return fn(args)


def _flatten(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for arg in args:
        if isinstance(arg, list):
            for row in arg:
                out.extend(row)
        else:
            out.append(arg)
    return out


def _numbers(args: list[Any]) -> list[float]:
    out: list[float] = []
    for arg in args:
        if isinstance(arg, list):
            out.extend(v for v in _flatten([arg]) if isinstance(v, float | int) and not
                       isinstance(v, bool))
        else:
            out.append(_num(arg))
    return out


def _scalar(value: Any) -> Any:
    if isinstance(value, list):
        if len(value) == 1 and len(value[0]) == 1:
            return value[0][0]
        raise FormulaError("VALUE", "An array value could not be found.")
    return value


def _num(value: Any) -> float:
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        raise FormulaError(
            "VALUE", f"Function ADD parameter 1 expects number values. But '{value}' is a text "
            "and cannot be coerced to a number.") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _compare(op: str, a: Any, b: Any) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        a, b = _text(a).lower(), _text(b).lower()
    else:
        a, b = _num(a), _num(b)
    return {
        "=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b,
    }[op]


def _round(args: list[Any]) -> float:
    value = _num(_scalar(args[0]))
    places = int(_num(_scalar(args[1]))) if len(args) > 1 else 0
    factor = 10.0**places
    return math.floor(abs(value) * factor + 0.5) / factor * (1 if value >= 0 else -1)


def _average(args: list[Any]) -> float:
    nums = _numbers(args)
    if not nums:
        raise FormulaError("DIV_BY_ZERO", "Evaluation of function AVERAGE caused a divide by "
                           "zero error.")
    return sum(nums) / len(nums)


def _mod(args: list[Any]) -> float:
    a, b = _num(_scalar(args[0])), _num(_scalar(args[1]))
    if b == 0:
        raise FormulaError("DIV_BY_ZERO", "Function MOD parameter 2 cannot be zero.")
    return a - b * math.floor(a / b)


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "SUM": lambda a: float(sum(_numbers(a))),
    "AVERAGE": _average,
    "MIN": lambda a: min(_numbers(a), default=0.0),
    "MAX": lambda a: max(_numbers(a), default=0.0),
    "COUNT": lambda a: float(len(_numbers(a))),
    "COUNTA": lambda a: float(sum(1 for v in _flatten(a) if v not in (None, ""))),
    "PRODUCT": lambda a: float(math.prod(_numbers(a))),
    "ROUND": _round,
    "ABS": lambda a: abs(_num(_scalar(a[0]))),
    "INT": lambda a: float(math.floor(_num(_scalar(a[0])))),
    "MOD": _mod,
    "IF": lambda a: (a[1] if len(a) > 1 else True) if _truthy(_scalar(a[0]))
    else (a[2] if len(a) > 2 else False),
    "AND": lambda a: all(_truthy(v) for v in _flatten(a)),
    "OR": lambda a: any(_truthy(v) for v in _flatten(a)),
    "NOT": lambda a: not _truthy(_scalar(a[0])),
    "LEN": lambda a: float(len(_text(_scalar(a[0])))),
    "UPPER": lambda a: _text(_scalar(a[0])).upper(),
    "LOWER": lambda a: _text(_scalar(a[0])).lower(),
    "CONCATENATE": lambda a: "".join(_text(v) for v in _flatten(a)),
}


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        raise FormulaError("VALUE", f"Function IF parameter 1 expects boolean values. But "
                           f"'{value}' is a text and cannot be coerced to a boolean.")
    return bool(_num(value))


def evaluate(formula: str, resolve: Resolver) -> dict[str, Any]:
    """Evaluate ``=...``; returns an ExtendedValue for the cell's effectiveValue."""
    try:
        value = _scalar(_Parser(formula.lstrip("=").strip(), resolve).parse())
    except FormulaError as err:
        return {"errorValue": {"type": err.type, "message": err.message}}
    except (OverflowError, ValueError, RecursionError, IndexError):
        return {"errorValue": {"type": "NUM", "message": "Invalid numeric result."}}
    if isinstance(value, dict) and "errorValue" in value:
        return value
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        if math.isnan(value) or math.isinf(value):
            return {"errorValue": {"type": "NUM", "message": "Invalid numeric result."}}
        return {"numberValue": float(value)}
    if value is None:
        return {"numberValue": 0.0}
    return {"stringValue": str(value)}
