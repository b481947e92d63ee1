"""`--help` in Vietnamese: click's own words (Usage, Options, Commands, "[required]", the
help and version options) said in Vietnamese by a help formatter, and the classes every
`cchc-sync` command and group is made with so their help uses it.

The texts of our commands and options are Vietnamese where they are declared (`help=`);
this module only covers the words click adds around them. Click translates through
gettext, which would need a compiled catalogue and a Vietnamese locale on the server: a
formatter of our own works whatever the server's language.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import click

HEADINGS = {"Options": "Tùy chọn", "Commands": "Lệnh", "Arguments": "Tham số"}
USAGE_PREFIX = "Cách dùng: "
HELP_OPTION_TEXT = "Hiện hướng dẫn này rồi thoát."
VERSION_HELP = "Hiện phiên bản rồi thoát."
VERSION_MESSAGE = "%(prog)s, phiên bản %(version)s"
# The bracketed extras click appends to an option's help: "[required]", "[default: x]".
EXTRAS = ((re.compile(r"\brequired\b"), "bắt buộc"), (re.compile(r"\bdefault:"), "mặc định:"))
_BRACKETS = re.compile(r"\[[^\[\]]*\]$")
# Click names an option's value by its type: FILE, PATH, TEXT...
METAVARS = {"FILE": "TỆP", "PATH": "ĐƯỜNG_DẪN", "DIRECTORY": "THƯ_MỤC", "TEXT": "CHỮ",
            "INTEGER": "SỐ", "FLOAT": "SỐ"}
_METAVAR = re.compile(r"\b(" + "|".join(METAVARS) + r")\b")
OPTIONS_METAVAR = "[TÙY_CHỌN]"
SUBCOMMAND_METAVAR = "LỆNH [THAM_SỐ]..."


def _extras_in_vietnamese(text: str) -> str:
    match = _BRACKETS.search(text)
    if match is None:
        return text
    said = match.group(0)
    for pattern, word in EXTRAS:
        said = pattern.sub(word, said)
    return text[: match.start()] + said


class VietnameseHelpFormatter(click.HelpFormatter):
    """Click's help layout with its own words in Vietnamese."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, USAGE_PREFIX if prefix is None else prefix)

    def write_heading(self, heading: str) -> None:
        super().write_heading(HEADINGS.get(heading, heading))

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30,
                 col_spacing: int = 2) -> None:
        super().write_dl([(_METAVAR.sub(lambda m: METAVARS[m.group(1)], term),
                           _extras_in_vietnamese(text)) for term, text in rows],
                         col_max, col_spacing)


class VietnameseContext(click.Context):
    formatter_class = VietnameseHelpFormatter


class VietnameseCommand(click.Command):
    context_class = VietnameseContext

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("options_metavar", OPTIONS_METAVAR)
        super().__init__(*args, **kwargs)

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None:
            option.help = HELP_OPTION_TEXT
        return option


class VietnameseGroup(VietnameseCommand, click.Group):
    """A group whose subcommands and subgroups are made Vietnamese too."""

    command_class = VietnameseCommand
    group_class: type[click.Group] | type[type] | None = type  # subgroups: the same class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("subcommand_metavar", SUBCOMMAND_METAVAR)
        super().__init__(*args, **kwargs)


def command(*args: Any, **kwargs: Any) -> Any:
    """`click.command` for a command defined on its own (added to a group later)."""
    return click.command(*args, cls=VietnameseCommand, **kwargs)


def group(*args: Any, **kwargs: Any) -> Any:
    """`click.group` for a group defined on its own (added to the main group later)."""
    return click.group(*args, cls=VietnameseGroup, **kwargs)


version_option = functools.partial(click.version_option, package_name="cchc-sync",
                                   help=VERSION_HELP, message=VERSION_MESSAGE)
