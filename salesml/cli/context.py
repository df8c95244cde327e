"""What every command runs with: the database the options name, who runs it, how rows print."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from salesml.config import load_settings

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from salesml.audit import Actor


def actor() -> Actor:
    """Who runs this command, as the audit log records it."""
    from salesml.audit import command_line_actor

    return command_line_actor()


def engine(args: argparse.Namespace) -> Engine:
    """The database of --database-url (else the settings'), its schema up to date."""
    from salesml import db

    settings = load_settings()
    found = db.create_engine_for(args.database_url or settings.database_url)
    args.engine = found  # so that a database error can say which database
    db.init_db(found)
    return found


def warn_about_cache(engine: Engine) -> None:
    """Warn on stderr when MySQL's buffer pool is far too small for the sales table."""
    from salesml import db

    advice = db.cache_advice(engine)
    if advice:
        print(f"warning: {advice}", file=sys.stderr)


def print_rows(items: list, columns: Sequence[str], *, as_json: bool, empty: str) -> int:
    """Objects as JSON lines, or as a tab-separated table with a header; `empty` if none."""
    if as_json:
        for item in items:
            print(json.dumps({c: getattr(item, c) for c in columns}, default=str))
    elif not items:
        print(empty)
    else:
        print("\t".join(columns))
        for item in items:
            values = (getattr(item, c) for c in columns)
            print("\t".join("" if value is None else str(value) for value in values))
    return 0
