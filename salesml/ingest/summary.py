"""What a load is given and what it reports: the cleaning options, the summary of how every
row went, and a file prepared for loading."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from salesml import db

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


@dataclass
class IngestSummary:
    """How every row read was accounted for; read = loaded + rejected + duplicate + present."""

    file_name: str
    file_sha256: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rows_already_present: int = 0
    rows_imputed: int = 0
    imputed_quantity: int = 0
    imputed_revenue: int = 0
    rows_returns: int = 0
    rows_sign_mismatch: int = 0
    rows_rounded: int = 0
    batch_id: int | None = None
    mapping: dict[str, str] = field(default_factory=dict)
    encoding: str = ""
    date_order: str = ""
    decimal_mark: str = ""
    currency: str = ""
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        """The summary as plain JSON-ready values."""
        return asdict(self)


@dataclass
class PreparedBatch:
    """A validated, cleaned file ready to load, with its row-level rejection report."""

    summary: IngestSummary
    rows: pd.DataFrame  # date, product_name, category, quantity, revenue, row_key
    rejections: pd.DataFrame  # row_number, column_name, reason, raw_value


def summary_counts(summary: IngestSummary) -> dict[str, int]:
    """The counters stored on the ingest_batches row."""
    return {name: getattr(summary, name) for name in db.BATCH_COUNTERS}
