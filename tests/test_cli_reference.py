"""docs/cli.md is the reference the parser gives: every command, argument and option."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from salesml.cli import build_parser, reference

DOC = Path(__file__).resolve().parents[1] / "docs" / "cli.md"


def test_docs_cli_md_is_the_reference_the_parser_generates():
    assert DOC.read_text() == reference.markdown(), "run `make reference` to update docs/cli.md"


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(path, parser) of every command and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, command in action.choices.items():
                yield (*path, name), command
                yield from commands(command, (*path, name))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("path", "command"),
    [pytest.param(path, command, id=" ".join(path)) for path, command in commands(build_parser())],
)
def test_the_reference_names_each_command_with_every_option_and_its_help(path, command):
    text = reference.markdown()
    section = text.split(f"## `python -m salesml {' '.join(path)}`\n", 1)[1].split("\n## ")[0]
    for action in command._actions:
        for flag in action.option_strings:
            if flag not in ("-h", "--help"):
                assert f"`{flag}" in section, flag
        if (
            action.help
            and action.help != argparse.SUPPRESS
            and action.option_strings != ["-h", "--help"]
        ):
            assert action.help.replace("%%", "%") in section


def test_the_reference_says_what_is_required_and_what_an_option_defaults_to():
    text = reference.markdown()
    assert "| `--horizon HORIZON` | periods to forecast (required) |" in text
    assert "| `--level {total,category,product}` |" in text
    assert "(default: total) |" in text
