"""A load in a thread of its own, for a page that may be left while it runs."""

from __future__ import annotations

import threading
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from salesml import db
from salesml.audit import Actor
from salesml.errors import SalesMLError
from salesml.ingest.load import load_prepared
from salesml.ingest.progress import LoadProgress
from salesml.ingest.summary import IngestSummary, PreparedBatch


class BackgroundLoad:
    """A load in a thread of its own: the page that started it may be left and come back to.

    The load is one transaction as ever, so a server stopped mid-way keeps none of it.
    """

    def __init__(
        self,
        engine: Engine,
        prepared: PreparedBatch,
        *,
        by: Actor | None = None,
        on_finish: Callable[[], None] | None = None,
    ) -> None:
        self.file_name = prepared.summary.file_name
        self.progress = 0.0
        self.latest: LoadProgress | None = None
        self.summary: IngestSummary | None = None
        self.error: SalesMLError | None = None
        self._done = threading.Event()
        work = (engine, prepared, by, on_finish)
        threading.Thread(target=self._run, args=work, name="load", daemon=True).start()

    def _run(self, engine, prepared, by, on_finish) -> None:
        try:
            self.summary = load_prepared(engine, prepared, progress=self._advance, by=by)
            self.progress = 1.0
        except SalesMLError as exc:
            self.error = exc
        except sa.exc.SQLAlchemyError as exc:
            self.error = db.database_error(exc, engine)
        except Exception as exc:  # one line for the user, never a thread's traceback
            self.error = SalesMLError(f"the load failed: {type(exc).__name__}: {exc}")
        finally:
            try:
                if on_finish:
                    on_finish()
            finally:
                self._done.set()

    def _advance(self, latest: LoadProgress) -> None:
        self.progress, self.latest = latest.share, latest

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to `timeout` seconds for the load to end; True once it has."""
        return self._done.wait(timeout)
