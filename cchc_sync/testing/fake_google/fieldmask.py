"""Google field masks (``fields=`` parameter and the ``fields`` of update requests).

Faithful: ``a,b.c``, ``a/b/c``, ``files(id,name,lastModifyingUser(me,emailAddress))``, ``*``;
a mask applies to every element of a list; an object on the path of a mask is kept even
when nothing of it survives (Google answers ``{"sheets":[{"properties":{}}]}``).
Simplified: no validation that the named fields exist (Google answers 400 for unknown
fields).
"""

from __future__ import annotations

import copy
from typing import Any

Tree = dict[str, Any] | None  # None = everything below this point


class MaskError(ValueError):
    pass


def parse(mask: str | None) -> Tree:
    if mask is None:
        return None
    text = mask.replace("/", ".").replace(" ", "")
    if text in ("", "*"):
        return None
    pos = 0

    def ident() -> str:
        nonlocal pos
        start = pos
        while pos < len(text) and (text[pos].isalnum() or text[pos] in "_*@"):
            pos += 1
        if start == pos:
            raise MaskError(f"Invalid field selection {mask}")
        return text[start:pos]

    def items() -> Tree:
        nonlocal pos
        tree: dict[str, Any] = {}
        while True:
            path = [ident()]
            while pos < len(text) and text[pos] == ".":
                pos += 1
                path.append(ident())
            sub: Tree = None
            if pos < len(text) and text[pos] == "(":
                pos += 1
                sub = items()
                if pos >= len(text) or text[pos] != ")":
                    raise MaskError(f"Invalid field selection {mask}")
                pos += 1
            if path == ["*"] and sub is None:
                return None
            _insert(tree, path, sub)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return tree

    tree = items()
    if pos != len(text):
        raise MaskError(f"Invalid field selection {mask}")
    return tree


def _insert(tree: dict[str, Any], path: list[str], sub: Tree) -> None:
    node = tree
    for name in path[:-1]:
        if name in node and node[name] is None:
            return
        node = node.setdefault(name, {})
    last = path[-1]
    if sub is None or (last in node and node[last] is None):
        node[last] = None
    else:
        existing = node.setdefault(last, {})
        for k, v in sub.items():
            _insert(existing, [k], v)


def apply(obj: Any, tree: Tree) -> Any:
    """Keep only the masked parts of a response object."""
    if tree is None:
        return obj
    if isinstance(obj, list):
        return [apply(x, tree) for x in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for key, sub in tree.items():
        if key == "*":
            return obj
        if key in obj:
            out[key] = apply(obj[key], sub)
    return out


def paths(tree: Tree, prefix: str = "") -> list[str]:
    if tree is None:
        return [prefix] if prefix else []
    out = []
    for key, sub in tree.items():
        out.extend(paths(sub, f"{prefix}.{key}" if prefix else key))
    return out


def merge(target: dict[str, Any], source: dict[str, Any] | None, tree: Tree) -> None:
    """Update semantics: every masked field of target takes source's value (or is cleared)."""
    source = source or {}
    if tree is None:
        target.clear()
        target.update(copy.deepcopy(source))
        return
    for key, sub in tree.items():
        if key == "*":
            target.clear()
            target.update(copy.deepcopy(source))
            return
        if sub is None:
            if key in source and source[key] is not None:
                target[key] = copy.deepcopy(source[key])
            else:
                target.pop(key, None)
        else:
            child = target.get(key)
            if not isinstance(child, dict):
                child = {}
            merge(child, source.get(key) if isinstance(source.get(key), dict) else None, sub)
            if child:
                target[key] = child
            else:
                target.pop(key, None)
