"""What the API's handlers work with: settings, the engine, loaded models, the training queue."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from salesml import db, registry
from salesml.api.inflight import InFlight
from salesml.config import Settings
from salesml.db import SavedModel
from salesml.jobs import JobQueue

# Loaded models kept per process, as the app's cache keeps them.
KEPT_MODELS = 8


@dataclass
class Services:
    """The handlers' dependencies; the server shares the app's engine and model cache."""

    settings: Settings
    engine: Callable[[], Engine]
    load_model: Callable[[int], tuple[Any, SavedModel]]
    # The model and its record if this process holds it loaded already, else None.
    loaded: Callable[[int], tuple[Any, SavedModel] | None]
    forget_models: Callable[[], None]
    jobs: JobQueue
    # Called after the data changed (a load, a delete, a saved model or forecast).
    changed: Callable[[], None] = field(default=lambda: None)
    # The bytes of load bodies the server holds at once.
    loads: InFlight = field(default_factory=InFlight)


def standalone(settings: Settings) -> Services:
    """Services for the API on its own (tests, tools): one engine, an LRU of loaded models."""
    engines: dict[str, Engine] = {}
    lock = threading.Lock()

    def engine() -> Engine:
        with lock:
            if settings.database_url not in engines:
                created = db.create_engine_for(settings.database_url)
                try:
                    db.init_db(created)
                except BaseException:
                    created.dispose()
                    raise
                engines[settings.database_url] = created  # only once it works: a retry retries
            return engines[settings.database_url]

    models = ModelCache(
        lambda model_id: registry.load_model(engine(), model_id, model_dir=settings.model_dir)
    )
    return Services(
        settings=settings,
        engine=engine,
        load_model=models.get,
        loaded=models.peek,
        forget_models=models.clear,
        jobs=JobQueue(settings.max_trainings),
    )


class ModelCache:
    """The last few models loaded, by id; a model file is read and checked once."""

    def __init__(self, load: Callable[[int], tuple[Any, SavedModel]], size: int = KEPT_MODELS):
        self._load = load
        self._size = size
        self._kept: OrderedDict[int, tuple[Any, SavedModel]] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[int, threading.Lock] = {}
        # Bumped by clear(): a load that began before it does not put its model back.
        self._generation = 0

    def get(self, model_id: int) -> tuple[Any, SavedModel]:
        """The loaded model and its record."""
        with self._lock:
            if model_id in self._kept:
                self._kept.move_to_end(model_id)
                return self._kept[model_id]
            loading = self._loading.setdefault(model_id, threading.Lock())
            generation = self._generation
        # Requests arriving together for a model not yet loaded wait for one load.
        try:
            with loading:
                kept = self.peek(model_id)
                if kept is not None:
                    return kept
                loaded = self._load(model_id)
                with self._lock:
                    if generation == self._generation:
                        self._kept[model_id] = loaded
                        while len(self._kept) > self._size:
                            self._kept.popitem(last=False)
                return loaded
        finally:
            with self._lock:
                if self._loading.get(model_id) is loading:
                    del self._loading[model_id]

    def peek(self, model_id: int) -> tuple[Any, SavedModel] | None:
        """The loaded model and its record if kept, without loading it."""
        with self._lock:
            return self._kept.get(model_id)

    def clear(self) -> None:
        """Forget every loaded model (after a delete)."""
        with self._lock:
            self._kept.clear()
            self._generation += 1
