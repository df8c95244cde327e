"""The audit log: who loaded, deleted, trained, saved and changed users, and when."""

from __future__ import annotations

import datetime as dt
import getpass
import os
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import db

# Entries the app and `python -m salesml audit` show by default, newest first.
DEFAULT_LIMIT = 200


@dataclass(frozen=True)
class Actor:
    """Who did something, and through which face: the app, the API or the command line."""

    name: str
    via: str

    def __str__(self) -> str:
        return f"{self.name} ({self.via})"


def command_line_actor() -> Actor:
    """The command line acts as the operating-system user who runs it.

    A training the API starts runs as a command of its own; the API names the user who
    asked for it in SALESML_ACTOR (and SALESML_ACTOR_VIA=api).
    """
    name = os.environ.get("SALESML_ACTOR")
    if name:
        return Actor(name[:100], os.environ.get("SALESML_ACTOR_VIA", "cli")[:10])
    try:
        return Actor(getpass.getuser()[:100], "cli")
    except (KeyError, OSError):  # no user name in the environment nor the password database
        return Actor(f"uid {os.getuid()}", "cli")


def now() -> dt.datetime:
    """The time entries are stamped with: UTC, to the second, without a zone (as stored)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


def record(
    conn: sa.Connection, by: Actor | None, action: str, target: str, detail: str = ""
) -> None:
    """Add an entry inside the caller's transaction: it stands or falls with the change.

    The app, the API and the command line always say who acts; a library call that names
    no one (`by=None`, a script of the user's own) is not recorded.
    """
    if by is None:
        return
    conn.execute(
        sa.insert(db.AuditEntry).values(
            at=now(),
            actor=by.name[:100],
            via=by.via[:10],
            action=action[:40],
            target=target[:255],
            detail=detail[:255],
        )
    )


def record_now(
    engine: Engine, by: Actor | None, action: str, target: str, detail: str = ""
) -> None:
    """Add an entry in a transaction of its own (after a change that kept its own)."""
    with db.translated(engine), engine.begin() as conn:
        record(conn, by, action, target, detail)


def entries(engine: Engine, *, limit: int = DEFAULT_LIMIT) -> list[db.AuditEntry]:
    """The newest entries first."""
    query = sa.select(db.AuditEntry).order_by(db.AuditEntry.id.desc()).limit(limit)
    with db.translated(engine), sa.orm.Session(engine) as session:
        found = list(session.scalars(query))
        session.expunge_all()
    return found
