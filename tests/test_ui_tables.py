"""The Team page's tables (salesml.ui.tables): what an admin sees of users and tokens."""

from __future__ import annotations

import datetime as dt

from salesml import db
from salesml.auth import TokenInfo
from salesml.ui.tables import tokens_frame, users_frame

ADDED = dt.datetime(2024, 3, 1, 9, 30)


def test_the_users_table_shows_a_missing_email_as_blank_and_a_disabled_user_as_disabled():
    users = [
        db.User(name="ana", role="admin", email="ana@example.com", disabled=False),
        db.User(name="bob", role="viewer", email=None, disabled=True),
    ]
    for user in users:
        user.created_at = ADDED
    table = users_frame(users)
    assert table.to_dict("records") == [
        {
            "name": "ana",
            "role": "admin",
            "e-mail": "ana@example.com",
            "state": "active",
            "added": ADDED,
        },
        {"name": "bob", "role": "viewer", "e-mail": "", "state": "disabled", "added": ADDED},
    ]


def test_the_tokens_table_shows_a_token_by_its_prefix_only_with_its_state():
    revoked = TokenInfo(
        id=7,
        prefix="sml_ab12",
        user="bob",
        role="viewer",
        label="nightly ETL",
        created_at=ADDED,
        expires_at=None,
        revoked_at=ADDED,
    )
    row = tokens_frame([revoked]).to_dict("records")[0]
    assert row["token"] == "sml_ab12…"
    assert (row["user"], row["label"], row["state"]) == ("bob", "nightly ETL", "revoked")
