"""User names unique whatever their case; e-mail addresses matched exactly on MySQL.

MySQL compared users.email under utf8mb4_general_ci, so an address with an accent more or
less (eve@exámple.com) found the user of eve@example.com. The column now compares bytes, as
SQLite's does. name_key, computed by the database as lower(name), carries a unique index:
'Ana' cannot be added beside 'ana' by any writer.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from salesml.errors import UserNameClashError
from salesml.migrations import live

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME_KEY = "uq_users_name_key"


def name_type(length: int) -> sa.types.TypeEngine:
    # Compares exactly (case, accents, trailing spaces) on MySQL as it does on SQLite.
    return sa.String(length).with_variant(mysql.VARCHAR(length, collation="utf8mb4_bin"), "mysql")


def _mysql() -> bool:
    return op.get_bind().dialect.name in ("mysql", "mariadb")


def upgrade() -> None:
    if _mysql():
        # Changes nothing stored; run again, it does the same.
        op.execute("ALTER TABLE users MODIFY email VARCHAR(255) COLLATE utf8mb4_bin NULL")
    if "name_key" not in live.columns("users"):
        # A plain ALTER TABLE on both backends (a virtual column): SQLite's batch copy of
        # users would delete every API token through the foreign key's cascade.
        op.execute(
            "ALTER TABLE users ADD COLUMN name_key VARCHAR(64)"
            + (" COLLATE utf8mb4_bin" if _mysql() else "")
            + " GENERATED ALWAYS AS (lower(name)) VIRTUAL"
        )
    _refuse_names_differing_in_case()
    live.create_index(NAME_KEY, "users", ["name_key"], unique=True)


def _refuse_names_differing_in_case() -> None:
    # Compared through name_key itself, so exactly as the unique index will compare them.
    clash = (
        op.get_bind()
        .exec_driver_sql(
            "SELECT a.id, a.name, b.id, b.name FROM users a JOIN users b "
            "ON a.name_key = b.name_key AND a.id < b.id ORDER BY a.id, b.id LIMIT 1"
        )
        .first()
    )
    if clash is None:
        return
    first_id, first, second_id, second = clash
    # The command line needs the upgraded schema itself, so the rename is done in SQL.
    raise UserNameClashError(
        f"users {first!r} (id {first_id}) and {second!r} (id {second_id}) differ only in case, "
        "and user names must now differ in more than that: rename one in the database "
        f"(UPDATE users SET name = 'new name' WHERE id = {second_id}), then start again"
    )


def downgrade() -> None:
    live.drop_index(NAME_KEY, "users")
    if "name_key" in live.columns("users"):
        op.execute("ALTER TABLE users DROP COLUMN name_key")
    if _mysql():
        # Back to the table's own collation, as 0005 made it.
        op.execute("ALTER TABLE users MODIFY email VARCHAR(255) NULL")
