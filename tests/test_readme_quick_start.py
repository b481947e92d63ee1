"""The README's Quick start: one fenced block of exactly two lines, each of which works on
its own in a fresh shell from the system python3 (it makes the virtual environment itself),
and the second of which is what .ci/run executes."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quick_start_lines() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)^## ", text, re.M | re.S).group(1)
    blocks = re.findall(r"^```[a-z]*\n(.*?)^```", section, re.M | re.S)
    assert len(blocks) == 1, "the Quick start holds one fenced block"
    return [line for line in blocks[0].splitlines() if line.strip()]


def test_quick_start_is_two_self_contained_lines():
    demo, tests = quick_start_lines()
    for line in (demo, tests):
        steps = [step.strip() for step in line.split("&&")]
        # Each line makes (or reuses) the venv from the system python3 and installs into it:
        # never a bare `pip install` into an externally managed Python.
        assert steps[0] == "python3 -m venv .venv"
        assert steps[1].startswith(".venv/bin/pip install ")
        assert not any(re.match(r"(pip|python|pytest|cchc-sync)\b", s) for s in steps)
    assert shlex.split(demo.split("&&")[1]) == [".venv/bin/pip", "install", "."]
    assert demo.split("&&")[-1].strip() == ".venv/bin/cchc-sync demo"
    assert shlex.split(tests.split("&&")[1]) == [".venv/bin/pip", "install", ".[test]"]
    # pytest's options (workers, quiet) come from pyproject's addopts, not from this line.
    assert tests.endswith("&& .venv/bin/python -m pytest")


def test_ci_runs_the_readme_test_line():
    """.ci/run extracts line 2 of the block with its own parser: the same line comes out."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    program = re.search(r"<<'PY'\n(.*?)\nPY\n", ci, re.S).group(1)
    done = subprocess.run(["python3", "-c", program], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout.strip() == quick_start_lines()[1]
    assert 'eval "$test_command"' in ci
