"""The values salesml's options choose from and the counts a load reports, importable
without pandas or SQLAlchemy.

The command line builds its parser from these, so `python -m salesml --help` starts without
the data stack; the modules that check a value (series, ingest, auth) import them from here,
and the database, the ingest summary and the API's bodies take their counters from here.
"""

from __future__ import annotations

# The fields a sales line has, in the order a mapping lists them (salesml.ingest).
FIELDS = ("date", "product_name", "category", "quantity", "revenue", "unit_price", "currency")
# How series are aggregated and what they measure (salesml.series).
LEVELS = ("total", "category", "product")
TARGETS = ("revenue", "quantity")
# The frequency codes of salesml.frequencies.FREQUENCIES, which holds every fact about each.
FREQS = ("D", "W", "M", "Q")
# Users' roles, each allowed what the one before it is, and more (salesml.auth).
ROLES = ("viewer", "analyst", "admin")

# The counts of a load's summary, in its order: how every row read was accounted for
# (read = loaded + rejected + duplicate + already present) and what was changed on the way.
# True for the counts the batch's row in the database keeps (salesml.ingest, salesml.db).
_COUNTERS = {
    "rows_read": True,
    "rows_loaded": True,
    "rows_rejected": True,
    "rows_duplicate": True,
    "rows_already_present": True,
    "rows_imputed": True,
    "imputed_quantity": False,
    "imputed_revenue": False,
    "rows_returns": True,
    "rows_sign_mismatch": False,
    "rows_rounded": False,
}
SUMMARY_COUNTERS = tuple(_COUNTERS)
BATCH_COUNTERS = tuple(name for name, kept in _COUNTERS.items() if kept)
