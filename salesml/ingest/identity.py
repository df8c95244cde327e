"""The key every sales line carries: its normalised values and its place among equal lines.

Two lines are the same sale when their parsed date, product, category, whole quantity and
revenue in cents agree and they are the n-th such line of their file. The key does not
depend on how the file wrote its values ('20' or '20.00', 02/01/2024 or 2024-01-02), on the
order or number of its columns, or on its format, so a re-export of loaded sales adds
nothing, while an order of two identical lines keeps both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_EPOCH = np.datetime64("1970-01-01", "D")


def identities(
    dates: np.ndarray,
    products: np.ndarray,
    categories: np.ndarray,
    quantities: np.ndarray,
    cents: np.ndarray,
) -> np.ndarray:
    """A 64-bit hash of each line's normalised values (equal values, equal hash)."""
    values = pd.DataFrame(
        {
            "day": (np.asarray(dates).astype("datetime64[D]") - _EPOCH).astype(np.int64),
            "product": pd.Series(products, dtype=object).to_numpy(),
            "category": pd.Series(categories, dtype=object).to_numpy(),
            "quantity": np.asarray(quantities, dtype=np.int64),
            "cents": np.asarray(cents, dtype=np.int64),
        }
    )
    return pd.util.hash_pandas_object(values, index=False).to_numpy()


def occurrences(identity: np.ndarray) -> np.ndarray:
    """Each line's number among the lines with the same identity before it (0, 1, ...)."""
    return pd.Series(identity).groupby(identity, sort=False).cumcount().to_numpy()


def row_keys(identity: np.ndarray, occurrence: np.ndarray) -> np.ndarray:
    """The stored key: identity and occurrence hashed together, as a signed 64-bit integer."""
    pairs = pd.DataFrame(
        {"identity": np.asarray(identity, dtype=np.uint64), "n": np.asarray(occurrence, np.int64)}
    )
    return pd.util.hash_pandas_object(pairs, index=False).to_numpy().view(np.int64)


def cents(amounts: np.ndarray) -> np.ndarray:
    """Amounts in whole cents: the nearest cent of the binary value, ties to even.

    This is how every salesml release has stored revenue (numpy's round to 2 places), so a
    line loaded before and loaded again gets the key it was given when it was stored.
    3 x 2.55 is 7.6499999... in binary and 7.65 here; 177.225 is 177.22499... and 177.22.
    """
    return np.rint(np.round(np.asarray(amounts, dtype=float), 2) * 100).astype(np.int64)
