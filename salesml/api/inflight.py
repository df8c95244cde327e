"""How many bytes of loads the server holds at once, across every request.

Each body a load takes in (JSON rows, an uploaded file) is held whole and grows several-fold
as it is parsed, so a few large bodies at once would take the server's memory several times
over the upload limit. The bodies in flight together may come to the upload limit; a load
that would pass it while others are in flight is told to come back (503 with Retry-After)
instead of piling up in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from starlette.exceptions import HTTPException

# Seconds a refused load is told to wait: about what one large load takes.
RETRY_AFTER_SECONDS = 10


class InFlight:
    """The bytes of load bodies held by requests in progress."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.used = 0

    @contextmanager
    def hold(self, limit: int) -> Iterator[Callable[[int], None]]:
        """A share of the budget for one request, grown as its body arrives (the callable
        takes the body's size so far) and given back when the block ends."""
        held = 0

        def grow(size: int) -> None:
            nonlocal held
            if size <= held:
                return
            with self._lock:
                # A load on its own always goes ahead: the upload limit bounds it already.
                if self.used > held and self.used + size - held > limit:
                    raise HTTPException(
                        503,
                        f"the server is taking in {self.used / 2**20:,.0f} MB of other loads, "
                        f"and this one would pass the {limit / 2**20:,.0f} MB they may hold at "
                        "once; send it again in a moment",
                        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                    )
                self.used += size - held
            held = size

        try:
            yield grow
        finally:
            with self._lock:
                self.used -= held
