"""The values salesml's options choose from, importable without pandas or SQLAlchemy.

The command line builds its parser from these, so `python -m salesml --help` starts without
the data stack; the modules that check a value (series, ingest, auth) import them from here.
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
