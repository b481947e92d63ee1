"""The dependency direction of docs/architecture.md ("Layers"), checked on the real code.

import-linter's contracts live in pyproject.toml ([tool.importlinter]); this test runs the
`lint-imports` command exactly as a developer would, so CI checks them through the plain
test command. A second check keeps imports out of function bodies: an import hidden in a
function is how a cycle hides from a reader (import-linter sees it, a reader does not).
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "cchc_sync"
LAZY_MARK = "noqa: PLC0415"
"""An import deliberately left inside a function (an optional heavy library) carries this
mark and a comment saying why."""


def test_import_contracts_hold():
    command = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = subprocess.run(
        [command, "--config", str(PACKAGE.parent / "pyproject.toml")],
        cwd=PACKAGE.parent, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def _function_imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import of cchc_sync inside a function body."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cchc_sync"):
                found.append((node.lineno, node.module or ""))
            elif isinstance(node, ast.Import):
                found += [(node.lineno, a.name) for a in node.names
                          if a.name.startswith("cchc_sync")]
    return found


def test_no_imports_hidden_in_functions():
    hidden = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "testing" in path.relative_to(PACKAGE).parts:
            continue  # the test kit is not part of the product's layering
        lines = path.read_text(encoding="utf-8").splitlines()
        for lineno, module in _function_imports(path):
            line, above = lines[lineno - 1], lines[lineno - 2].strip()
            if LAZY_MARK in line and above.startswith("#"):
                continue
            hidden.append(f"{path.relative_to(PACKAGE.parent)}:{lineno} imports {module}")
    assert hidden == []


def test_the_check_sees_a_hidden_import(tmp_path):
    """The function-body check itself finds what it is meant to find."""
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from cchc_sync.app import pipeline\n    return pipeline\n")
    assert _function_imports(sample) == [(2, "cchc_sync.app")]
