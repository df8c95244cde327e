"""Lines that repeat: a line equal in every cell to one before it anywhere in the file is a
duplicate, and equal lines that load each get their own key (salesml.ingest.identity)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from salesml.ingest import identity
from salesml.ingest.summary import IngestOptions


def identify(frame, accepted: np.ndarray, options: IngestOptions, values: tuple, seen: Seen):
    """Which accepted lines load, which repeat an earlier line exactly, and the loaded keys.

    A line repeats another when every cell of it is the same, as in the file; the key of a
    loaded line is its normalised values and their occurrence (salesml.ingest.identity).
    """
    positions = np.flatnonzero(accepted)
    dates, product, category, quantity, cents = (np.asarray(v)[positions] for v in values)
    ident = identity.identities(dates, product, category, quantity.astype(np.int64), cents)
    duplicate = np.zeros(len(frame), dtype=bool)
    if not options.keep_duplicates:
        repeat = seen.repeats(_line_hash(frame.iloc[positions]))
        duplicate[positions[repeat]] = True
        ident = ident[~repeat]
    keep = accepted & ~duplicate
    return keep, duplicate, identity.row_keys(ident, seen.occurrences(ident))


def _line_hash(frame: pd.DataFrame) -> np.ndarray:
    """A hash of each line's cells as text: equal for equal lines, wherever in the file."""
    hashes = {}
    for index, column in enumerate(frame.columns):
        codes, uniques = pd.factorize(frame[column], use_na_sentinel=True)
        text = pd.Series(uniques, dtype=object).astype(str)
        hashed = pd.util.hash_pandas_object(text, index=False).to_numpy()
        hashes[f"c{index}"] = np.append(hashed, np.uint64(0))[codes]
    return pd.util.hash_pandas_object(pd.DataFrame(hashes), index=False).to_numpy()


class Seen:
    """The lines of a file's parts prepared so far: the hashes of their cells, and how often
    each identity occurred (8 bytes a line each)."""

    def __init__(self) -> None:
        self.lines = _HashSet()
        self.identities = _HashSet()
        self.more: dict[int, int] = {}  # identities seen more than once: how often

    def repeats(self, hashes: np.ndarray) -> np.ndarray:
        """Which lines repeat one before them, in this part or an earlier one."""
        repeat = pd.Series(hashes).duplicated().to_numpy() | self.lines.contains(hashes)
        self.lines.add(hashes)
        return repeat

    def occurrences(self, ident: np.ndarray) -> np.ndarray:
        """Each identity's number among the equal ones before it (0, 1, ...) in the file."""
        before = self.identities.contains(ident).astype(np.int64)
        if self.more:
            before += pd.Series(ident).map(self.more).fillna(1).astype(np.int64).to_numpy() - 1
        within = identity.occurrences(ident)
        occurrence = before + within
        if (before > 0).any() or (within > 0).any():
            totals = pd.Series(occurrence + 1, index=ident).groupby(level=0).max()
            self.more.update({int(k): int(v) for k, v in totals[totals > 1].items()})
        self.identities.add(ident)
        return occurrence


class _HashSet:
    """Distinct 64-bit hashes, as a few sorted arrays that merge as they grow (each about
    half the one before), so that adding a part's hashes costs about its own size."""

    def __init__(self) -> None:
        self.runs: list[np.ndarray] = []

    def contains(self, values: np.ndarray) -> np.ndarray:
        found = np.zeros(len(values), dtype=bool)
        if not self.runs or not len(values):
            return found
        # Sorted needles: each search starts where the one before ended.
        order = np.argsort(values, kind="stable")
        needles = values[order]
        hit = np.zeros(len(values), dtype=bool)
        for run in self.runs:
            position = np.minimum(np.searchsorted(run, needles), run.size - 1)
            hit |= run[position] == needles
        found[order] = hit
        return found

    def add(self, values: np.ndarray) -> None:
        self.runs.append(_distinct_sorted(values))
        while len(self.runs) > 1 and self.runs[-1].size * 2 >= self.runs[-2].size:
            newer, older = self.runs.pop(), self.runs.pop()
            # Two sorted runs: the stable (merge) sort joins them in one pass.
            self.runs.append(_distinct_sorted(np.concatenate([older, newer]), kind="stable"))


def _distinct_sorted(values: np.ndarray, kind: str = "quicksort") -> np.ndarray:
    ordered = np.sort(values, kind=kind)
    return ordered[np.append(True, ordered[1:] != ordered[:-1])] if ordered.size else ordered
