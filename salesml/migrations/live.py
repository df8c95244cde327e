"""Schema operations that look at the live database first, so a migration can run again.

MySQL commits every CREATE, ALTER and DROP at once: a migration killed between two of
them leaves the first in place. Each operation here does its work only when the live
schema still lacks it, so running the interrupted migration again finishes the job.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def _inspector() -> sa.Inspector:
    return sa.inspect(op.get_bind())  # a fresh inspector: nothing cached from before a change


def has_table(table: str) -> bool:
    """Whether the table exists."""
    return table in _inspector().get_table_names()


def columns(table: str) -> set[str]:
    """The names of a table's columns."""
    return {column["name"] for column in _inspector().get_columns(table)}


def indexes(table: str) -> set[str]:
    """The names of a table's indexes and unique constraints."""
    inspector = _inspector()
    names = {index["name"] for index in inspector.get_indexes(table)}
    return names | {unique["name"] for unique in inspector.get_unique_constraints(table)}


def foreign_keys(table: str) -> set[str]:
    """The names of a table's foreign keys."""
    return {fk["name"] for fk in _inspector().get_foreign_keys(table) if fk["name"]}


def create_table(table: str, *items: sa.SchemaItem, **options) -> None:
    """op.create_table, unless the table exists."""
    if not has_table(table):
        op.create_table(table, *items, **options)


def drop_table(table: str) -> None:
    """op.drop_table, unless the table is gone."""
    if has_table(table):
        op.drop_table(table)


def create_index(name: str, table: str, fields: list[str], **options) -> None:
    """op.create_index, unless an index of that name exists."""
    if name not in indexes(table):
        op.create_index(name, table, fields, **options)


def drop_index(name: str, table: str) -> None:
    """op.drop_index, unless the index is gone."""
    if name in indexes(table):
        op.drop_index(name, table_name=table)
