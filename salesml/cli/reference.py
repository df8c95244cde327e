"""docs/cli.md, written from the parser so that it cannot drift from the command line."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from salesml.cli.parser import PROG, build_parser

TITLE = "# Command-line reference"
INTRO = (
    "Every command of `python -m salesml`, with its arguments and options; "
    "`python -m salesml COMMAND --help` says the same."
)
NOTE = "<!-- generated from the parser by `make reference`: edit salesml/cli, not this file -->"


def markdown(parser: argparse.ArgumentParser | None = None) -> str:
    """Every command with its help, and a table of its arguments and options."""
    parser = parser or build_parser()
    lines = [TITLE, "", NOTE, "", INTRO, ""]
    lines += _section(parser, PROG, level=0)
    for path, command, text in _commands(parser, ()):
        lines += [f"## `{PROG} {' '.join(path)}`", "", _escaped(text), ""]
        lines += _section(command, f"{PROG} {' '.join(path)}", level=2)
    return "\n".join(lines).rstrip() + "\n"


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """(path, parser, help) of each command under parser, in the order --help lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help or "" for choice in action._choices_actions}
            for name, command in action.choices.items():
                yield (*path, name), command, helps.get(name, "")
                yield from _commands(command, (*path, name))


def _section(parser: argparse.ArgumentParser, prefix: str, *, level: int) -> list[str]:
    """The synopsis and the table of arguments and options of one command."""
    shown = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    words = [_invocation(a) for a in shown if not a.option_strings]
    synopsis = " ".join([prefix, *words] + (["[options]"] if _options(shown) else []))
    lines = [f"`{synopsis}`", ""]
    rows = [a for a in shown if not isinstance(a, argparse._SubParsersAction)]
    if rows:
        formatter = parser._get_formatter()
        lines += ["| argument | what it does |", "|---|---|"]
        for action in rows:
            text = formatter._expand_help(action) if action.help else ""
            lines.append(
                f"| `{_escaped(_invocation(action))}` | {_escaped(_noted(action, text))} |"
            )
        lines.append("")
    return lines


def _noted(action: argparse.Action, text: str) -> str:
    """The help, with "required" or the default when an option has one and the help is silent."""
    if not action.option_strings:
        return text
    if action.required:
        return f"{text} (required)".strip()
    silent = action.default is None or action.default is False or action.default in ([], "")
    if not silent and "default" not in text:
        return f"{text} (default: {action.default})".strip()
    return text


def _options(actions: list[argparse.Action]) -> bool:
    return any(action.option_strings for action in actions)


def _invocation(action: argparse.Action) -> str:
    """How the argument is written: `FILE`, `--map FIELD=COLUMN`, `--level {total,...}`."""
    if isinstance(action, argparse._SubParsersAction):
        return action.metavar or "COMMAND"
    if action.metavar is not None:
        value = action.metavar
    elif action.choices is not None:
        value = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        value = action.dest.upper() if action.option_strings else action.dest
    if not action.option_strings:
        return value
    flags = ", ".join(action.option_strings)
    return flags if action.nargs == 0 else f"{flags} {value}"


def _escaped(text: str) -> str:
    return text.replace("|", "\\|")


def main(path: str = "docs/cli.md") -> None:
    """Rewrite the reference at path."""
    from pathlib import Path

    Path(path).write_text(markdown())


if __name__ == "__main__":
    import sys

    main(*sys.argv[1:])
