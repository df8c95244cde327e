"""The API's model cache: one load per model however many ask, nothing kept from failures."""

from __future__ import annotations

import threading
import time

import pytest

from salesml.api.services import ModelCache
from salesml.errors import ModelNotFoundError


def test_requests_arriving_together_share_one_load():
    loads = []

    def load(model_id):
        loads.append(model_id)
        time.sleep(0.2)
        return (f"model {model_id}", None)

    cache = ModelCache(load)
    threads = [threading.Thread(target=cache.get, args=(1,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert loads == [1]
    assert cache.peek(1) == ("model 1", None)


def test_a_failed_load_keeps_nothing_behind():
    def load(model_id):
        raise ModelNotFoundError(f"there is no saved model {model_id}")

    cache = ModelCache(load)
    for model_id in range(100):
        with pytest.raises(ModelNotFoundError):
            cache.get(model_id)
    assert cache._loading == {} and cache.peek(5) is None


def test_a_model_forgotten_while_it_loads_is_not_kept():
    started, release = threading.Event(), threading.Event()

    def load(model_id):
        started.set()
        release.wait(5)
        return ("old model", None)

    cache = ModelCache(load)
    thread = threading.Thread(target=cache.get, args=(1,))
    thread.start()
    started.wait(5)
    cache.clear()  # the model was deleted meanwhile
    release.set()
    thread.join()
    assert cache.peek(1) is None


def test_the_least_recently_used_model_is_dropped_beyond_the_size():
    cache = ModelCache(lambda model_id: (model_id, None), size=2)
    cache.get(1), cache.get(2), cache.get(1), cache.get(3)
    assert [cache.peek(i) is not None for i in (1, 2, 3)] == [True, False, True]
