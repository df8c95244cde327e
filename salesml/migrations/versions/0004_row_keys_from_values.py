"""Row keys from each line's normalised values and occurrence, no longer from its raw text.

The key was a hash of the source line as written, so a re-export of loaded sales with its
columns reordered, as XLSX, or with '20' for '20.00' loaded again. Every stored line gets
the key salesml.ingest.identity gives it: date, product, category, quantity and revenue in cents,
numbered among the stored lines with the same values. Keys depend on the stored values
only, so running this again (after a crash) gives the same keys.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa
from alembic import op

from salesml.ingest import identity

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

CHUNK = 100_000
_NEW_KEYS = "salesml_new_keys"
SELECT = sa.text(
    "SELECT transaction_id, date, product_name, category, quantity, revenue FROM sales_data "
    "WHERE transaction_id > :after ORDER BY transaction_id LIMIT :limit"
)


def upgrade() -> None:
    """Give every stored line its value-based key, through a temporary table of new keys."""
    bind = op.get_bind()
    ids, identities = _read_identities(bind)
    if not len(ids):
        return
    keys = identity.row_keys(identities, identity.occurrences(identities))
    bind.exec_driver_sql(f"DROP {_temporary(bind)} IF EXISTS {_NEW_KEYS}")
    bind.exec_driver_sql(
        f"CREATE TEMPORARY TABLE {_NEW_KEYS} "
        "(transaction_id INTEGER PRIMARY KEY, row_key BIGINT NOT NULL)"
    )
    insert = sa.text(f"INSERT INTO {_NEW_KEYS} VALUES (:id, :key)")
    for start in range(0, len(ids), CHUNK):
        part = slice(start, start + CHUNK)
        rows = zip(ids[part].tolist(), keys[part].tolist(), strict=True)
        bind.execute(insert, [{"id": i, "key": k} for i, k in rows])
    if _mysql(bind):
        bind.exec_driver_sql(
            f"UPDATE sales_data s JOIN {_NEW_KEYS} n ON n.transaction_id = s.transaction_id "
            "SET s.row_key = n.row_key"
        )
    else:
        bind.exec_driver_sql(
            f"UPDATE sales_data SET row_key = (SELECT n.row_key FROM {_NEW_KEYS} n "
            "WHERE n.transaction_id = sales_data.transaction_id)"
        )
    bind.exec_driver_sql(f"DROP {_temporary(bind)} {_NEW_KEYS}")


def _read_identities(bind: sa.Connection) -> tuple[np.ndarray, np.ndarray]:
    """Every stored line's id and identity, in id order, a chunk at a time."""
    ids, identities, after = [], [], 0
    while True:
        rows = bind.execute(SELECT, {"after": after, "limit": CHUNK}).all()
        if not rows:
            break
        frame = pd.DataFrame(
            rows, columns=["id", "date", "product", "category", "quantity", "revenue"]
        )
        ids.append(frame["id"].to_numpy(dtype=np.int64))
        identities.append(
            identity.identities(
                pd.to_datetime(frame["date"].astype(str)).to_numpy().astype("datetime64[D]"),
                frame["product"].to_numpy(dtype=object),
                frame["category"].to_numpy(dtype=object),
                frame["quantity"].to_numpy(dtype=np.int64),
                identity.cents(frame["revenue"].astype(float).to_numpy()),
            )
        )
        after = int(ids[-1][-1])
    if not ids:
        return np.array([], dtype=np.int64), np.array([], dtype=np.uint64)
    return np.concatenate(ids), np.concatenate(identities)


def _temporary(bind: sa.Connection) -> str:
    # MySQL's TEMPORARY keyword keeps the statement from committing; SQLite names the schema.
    return "TEMPORARY TABLE" if _mysql(bind) else "TABLE"


def _mysql(bind: sa.Connection) -> bool:
    return bind.dialect.name == "mysql"


def downgrade() -> None:
    # The raw lines the old keys were hashed from are not stored: the keys stay as they are.
    pass
