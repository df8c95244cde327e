"""The command line's parser: the global options, then each group's commands in turn."""

from __future__ import annotations

import argparse

from salesml.cli import data, models, serve, users

PROG = "python -m salesml"
DESCRIPTION = "`python -m salesml ...`: the command line."


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command, each bound to the function that runs it (`handler`)."""
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION)
    parser.add_argument(
        "--database-url", help="database URL (default: SALESML_DATABASE_URL or data/salesml.db)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (data, models, users, serve):
        group.add_commands(commands)
    return parser
