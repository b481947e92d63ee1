"""`cchc-sync --help`, and the help of every command, in Vietnamese — click's own words
(Usage, Options, [required], the type names of values) included — through real
`cchc-sync` processes (tests/cli_process.py)."""

from __future__ import annotations

import re

import click
import pytest

from cchc_sync.app.cli import cli
from tests import cli_process

ENGLISH = re.compile(
    r"\b(Usage|Options|Commands|Arguments|Show|show|required|default|the|and|of|with|to|for|"
    r"FILE|TEXT|PATH|DIRECTORY|OPTIONS|COMMAND|ARGS|version)\b"
)
"""Words of click's English help and of English sentences; a help line holding one is
English a coordinator would read."""
OPTION = re.compile(r"--?[\w-]+")
VIETNAMESE_LETTERS = re.compile(r"[ăâđêôơưáàảãạấầẩẫậắằẳẵặéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụ"
                                r"ứừửữựýỳỷỹỵ]")


def command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            paths += command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def every_option() -> list[tuple[str, click.Option]]:
    found = []
    for path in command_paths(cli):
        command: click.Command = cli
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        found += [(" ".join(path) or "cchc-sync", p) for p in command.params
                  if isinstance(p, click.Option)]
    return found


@pytest.mark.parametrize("path", command_paths(cli), ids=lambda p: " ".join(p) or "cchc-sync")
def test_every_help_page_is_vietnamese(path):
    done = cli_process.run([*path, "--help"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert text.startswith(f"Cách dùng: {' '.join(('cchc-sync', *path))} [TÙY_CHỌN]"), text
    assert "\nTùy chọn:\n" in text
    assert "Hiện hướng dẫn này rồi thoát." in text
    # Option names (--compare-with, --version) are what is typed, not read.
    english = [line for line in text.splitlines() if ENGLISH.search(OPTION.sub("", line))]
    assert not english, english
    description = text.split("\n\n")[1]
    assert VIETNAMESE_LETTERS.search(description), description


def test_groups_list_their_commands_under_a_vietnamese_heading():
    done = cli_process.run(["--help"], capture_output=True, text=True, timeout=300)
    assert "\nLệnh:\n" in done.stdout
    assert "cchc-sync [TÙY_CHỌN] LỆNH [THAM_SỐ]..." in done.stdout
    for name in cli.commands:
        assert f"\n  {name} " in done.stdout


def test_every_option_says_what_it_is_for():
    """An option without help shows as a bare line a coordinator cannot read."""
    bare = [(where, p.opts) for where, p in every_option() if not p.help and not p.hidden]
    assert not bare, bare


def test_version_and_a_value_type_in_vietnamese():
    version = cli_process.run(["--version"], capture_output=True, text=True, timeout=300)
    assert re.fullmatch(r"cchc-sync, phiên bản \S+\n", version.stdout), version.stdout
    init = cli_process.run(["init", "--help"], capture_output=True, text=True, timeout=300)
    assert "--units TỆP" in init.stdout and "[bắt buộc]" in init.stdout
    assert "cchc-sync init [TÙY_CHỌN] THƯ_MỤC" in init.stdout
