"""A saved model's forecast of a set of series, computed once to a horizon and sliced.

Past the horizon a model cached when fitted, a forecast means a recursive pass of its ML
members (about half a second for one series). A saved model never changes, so its forecast
of a set of series to the longest horizon offered (or to its cached horizon) is computed
once, kept here, and every shorter horizon is the first steps of each series: the same
values, as each step only depends on the steps before it.

What-if adjustments are applied to the slice by the caller: they are cheap, and a promotion
period must lie within the horizon asked for. Kept forecasts are bounded by KEPT_POINTS rows
over every model, the least recently used going first.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

# Forecast rows kept over every model and set of series (about 250 bytes each).
KEPT_POINTS = 100_000

Key = tuple[int, int, tuple[str, ...] | None]

_lock = threading.Lock()
_kept: OrderedDict[Key, tuple[weakref.ref, pd.DataFrame]] = OrderedDict()
_computing: dict[Key, threading.Lock] = {}


def _key(model: Any, through: int, ids: Sequence[str] | None) -> Key:
    # The model forecasts each series once, in sorted order, however they were asked for.
    return id(model), through, None if ids is None else tuple(sorted({str(uid) for uid in ids}))


def sliced(
    model: Any,
    horizon: int,
    ids: Sequence[str] | None,
    *,
    through: int,
    compute: Callable[[int], pd.DataFrame],
) -> pd.DataFrame:
    """The forecast table to `horizon`: the first steps of compute(through), computed once.

    compute(h) returns the model's table for these series to h periods, each series' rows
    together and in step order.
    """
    key = _key(model, through, ids)
    found = _find(model, key)
    if found is None:
        with _lock:
            computing = _computing.setdefault(key, threading.Lock())
        # Requests arriving together for the same series wait for one computation.
        try:
            with computing:
                found = _find(model, key)
                if found is None:
                    found = compute(through)
                    _keep(model, key, found)
                    return _first_steps(found, horizon, through)
        finally:
            with _lock:
                if _computing.get(key) is computing:
                    del _computing[key]
    return _first_steps(found, horizon, through)


def holds(model: Any, ids: Sequence[str] | None, *, through: int) -> bool:
    """Whether the model's forecast of these series to `through` periods is kept."""
    return _find(model, _key(model, through, ids)) is not None


def kept_points() -> int:
    """Forecast rows kept, over every model."""
    with _lock:
        return sum(len(table) for _, table in _kept.values())


def clear() -> None:
    """Forget every kept forecast."""
    with _lock:
        _kept.clear()


def _find(model: Any, key: Key) -> pd.DataFrame | None:
    with _lock:
        kept = _kept.get(key)
        if kept is None:
            return None
        if kept[0]() is not model:  # another model at a freed one's address
            del _kept[key]
            return None
        _kept.move_to_end(key)
        return kept[1]


def _keep(model: Any, key: Key, table: pd.DataFrame) -> None:
    if len(table) > KEPT_POINTS:
        return
    with _lock:
        _kept[key] = (weakref.ref(model), table)
        total = sum(len(kept) for _, kept in _kept.values())
        while total > KEPT_POINTS:
            _, (_, dropped) = _kept.popitem(last=False)
            total -= len(dropped)


def _first_steps(table: pd.DataFrame, horizon: int, through: int) -> pd.DataFrame:
    if horizon == through:
        return table.copy()
    wanted = np.arange(len(table)) % through < horizon
    return table[wanted].reset_index(drop=True)
