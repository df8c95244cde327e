"""How far a load has come, reported as it goes: for a progress bar, a log line or a page
left and come back to."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class LoadProgress:
    """How far a load has come: its stage, the share of it done, lines stored, time taken."""

    stage: str  # "checking" (reading the file for what holds for all of it) or "loading"
    share: float
    rows: int
    seconds: float

    @property
    def seconds_left(self) -> float | None:
        """The time left at the pace so far (None until there is a pace)."""
        if self.share <= 0.02 or self.seconds < 1:
            return None
        return self.seconds * (1 - self.share) / self.share

    def describe(self) -> str:
        """One line: 'loading: 45%, 120,000 rows/s, about 38 s left'."""
        parts = [f"{self.stage}: {self.share:.0%}"]
        if self.rows and self.seconds > 0:
            parts.append(f"{self.rows / self.seconds:,.0f} rows/s")
        left = self.seconds_left
        if left is not None and self.share < 1:
            parts.append(f"about {left:,.0f} s left")
        return ", ".join(parts)


class Clock:
    """Reports progress: each stage's share of the whole load given by `stage`."""

    def __init__(self, progress: Callable[[LoadProgress], None] | None) -> None:
        self.progress = progress
        self.started = time.monotonic()
        self.name, self.base, self.weight = "loading", 0.0, 1.0

    def stage(self, name: str, base: float, weight: float) -> None:
        self.name, self.base, self.weight = name, base, weight

    def report(self, share: float, rows: int = 0) -> None:
        if self.progress:
            done = min(1.0, self.base + self.weight * share)
            elapsed = time.monotonic() - self.started
            self.progress(LoadProgress(self.name, done, rows, elapsed))
