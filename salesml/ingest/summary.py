"""What a load is given and what it reports: the cleaning options, the summary of how every
row went, and a file prepared for loading."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, make_dataclass
from typing import TYPE_CHECKING

from salesml.choices import BATCH_COUNTERS, SUMMARY_COUNTERS

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class IngestOptions:
    """How to clean a file: the choices a user can make, with the seed's defaults."""

    date_format: str | None = None
    impute_missing: bool = True
    drop_returns: bool = False
    keep_duplicates: bool = False
    decimal: str | None = None  # '.' or ','; None: decided from the data
    currency: str | None = None  # the amounts' currency; None: the file's, else the default
    default_currency: str = ""  # when neither the user nor the file says (SALESML_CURRENCY)


def _as_dict(summary: IngestSummary) -> dict[str, object]:
    """The summary as plain JSON-ready values."""
    return asdict(summary)


# A dataclass whose counters are salesml.choices.SUMMARY_COUNTERS, each an int from 0.
IngestSummary = make_dataclass(
    "IngestSummary",
    [
        ("file_name", str),
        ("file_sha256", str),
        *((name, int, field(default=0)) for name in SUMMARY_COUNTERS),
        ("batch_id", int | None, field(default=None)),
        ("mapping", dict[str, str], field(default_factory=dict)),
        ("encoding", str, field(default="")),
        ("date_order", str, field(default="")),
        ("decimal_mark", str, field(default="")),
        ("currency", str, field(default="")),
        ("notes", list[str], field(default_factory=list)),
    ],
    namespace={
        "__doc__": "How every row read was accounted for; "
        "read = loaded + rejected + duplicate + present.",
        "__module__": __name__,
        "as_dict": _as_dict,
    },
)


@dataclass
class PreparedBatch:
    """A validated, cleaned file ready to load, with its row-level rejection report."""

    summary: IngestSummary
    rows: pd.DataFrame  # date, product_name, category, quantity, revenue, row_key
    rejections: pd.DataFrame  # row_number, column_name, reason, raw_value


def summary_counts(summary: IngestSummary) -> dict[str, int]:
    """The counters stored on the ingest_batches row."""
    return {name: getattr(summary, name) for name in BATCH_COUNTERS}
