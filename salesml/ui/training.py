"""Training in the app: inside the page's run, one OpenMP thread, kept for the session."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import streamlit as st
from threadpoolctl import threadpool_limits

from salesml import audit, db, lifeline, runs
from salesml.audit import Actor
from salesml.errors import SalesMLError
from salesml.ui.database import query, settings
from salesml.ui.messages import plain
from salesml.ui.queries import cached_models

if TYPE_CHECKING:
    from salesml.comparisons import Comparison
    from salesml.training import TrainRequest, TrainResult

_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _block_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)


def _unblock_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)


def _default_stop_handlers() -> None:
    lifeline.die_with_parent()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _unblock_stop_signals()


# statsforecast fits in forked worker processes and ends them with SIGTERM when done. A
# worker that inherits the Streamlit server's shutdown handler prints "Stopping..." and lives
# on, so the training would wait for it forever. Forked children get the default handlers;
# the stop signals stay blocked from the fork until then, so an early SIGTERM is not lost.
# They also die with the server (the page's thread that forked them outlives the fit): one
# left waiting for work after a server was killed held a copy of its memory. The signal
# follows that thread, not the server: a process pool kept past the page run that forked it
# would be killed when the run ends. statsforecast ends its pools with each fit and the
# forest trains on joblib's threads, so none is kept.
os.register_at_fork(
    before=_block_stop_signals,
    after_in_parent=_unblock_stop_signals,
    after_in_child=_default_stop_handlers,
)


@dataclass(frozen=True)
class KeptTraining:
    """A training run shown in this browser session: its comparison, request, when it ran,
    its id in the database, and the fitted result while this session still holds it."""

    comparison: Comparison
    request: TrainRequest
    trained_at: dt.datetime
    run_id: int | None = None
    result: TrainResult | None = None  # None for a run reopened from the database
    model_id: int | None = None  # the saved model, once saved


def train(
    request: TrainRequest,
    progress: Callable[[str], None] | None = None,
    *,
    by: Actor | None = None,
) -> TrainResult:
    """Train inside this script run, so a rerun (any widget change) stops it.

    The fit uses one OpenMP thread. The server shares the machine's cores with other
    sessions, the browser and the database, and HistGradientBoosting's team of one thread
    per core spins at every barrier while another process holds a core: on two cores with
    one busy, training the demo data took 6-16 s instead of 3.6-4.2 s with one thread,
    and on an idle machine one thread was no slower. The limit belongs to the script
    run's own thread (OpenMP keeps it per thread) and ends with the training.
    """
    from salesml import training

    with threadpool_limits(1, user_api="openmp"):
        unit = settings().currency
        result = query(
            lambda e: training.train(e, request, progress=progress, default_currency=unit)
        )
    try:
        query(
            lambda e: audit.record_now(
                e, by, "train", training.describe(request), f"{result.seconds:.1f} s"
            )
        )
    except SalesMLError as exc:  # the training stands; saving it is recorded again
        st.toast(plain(f"The training was not written to the audit log: {exc}"))
    return result


def keep_training(result: TrainResult, request: TrainRequest, *, by: Actor | None = None) -> None:
    """Keep a training as a run in the database (its id in the page's address) and for this
    session, so reruns, reloads and links show it without retraining."""
    comparison = result.comparison
    try:
        run_id = query(lambda e: runs.save_run(e, comparison, request, by=by))
    except SalesMLError as exc:  # the comparison stands for this session
        st.toast(plain(f"The training was not kept in the database: {exc}"))
        run_id = None
    kept = KeptTraining(comparison, request, dt.datetime.now(), run_id, result)
    st.session_state["_training"] = kept
    address_run(kept)


def address_run(kept: KeptTraining | None) -> None:
    """Put the shown run's id in the page's address (?run=12), so a link reopens it."""
    if kept is not None and kept.run_id is not None:
        st.query_params["run"] = str(kept.run_id)


def kept_training() -> KeptTraining | None:
    """The run the page's address names (?run=12), else the session's last training, or None.

    Raises SalesMLError when the address names a run that is not there.
    """
    kept = st.session_state.get("_training")
    wanted = st.query_params.get("run")
    if wanted is None or (kept is not None and str(kept.run_id) == wanted):
        return kept
    run_id = runs.parse_id(wanted)
    run = query(lambda e: runs.load_run(e, run_id))
    kept = KeptTraining(
        run.comparison, run.request, run.created_at, run.id, result=None, model_id=run.model_id
    )
    st.session_state["_training"] = kept
    return kept


def save_training(kept: KeptTraining, *, by: Actor | None = None) -> db.SavedModel:
    """Save the kept run's model to the model directory, note it on the run, and refresh the
    saved-models list."""
    from salesml import training

    if kept.result is None:
        raise SalesMLError(
            "this comparison was reopened without its fitted models: press Train to fit them "
            "again, then save"
        )
    model_dir = settings().model_dir
    record = query(
        lambda e: training.save(e, kept.result, kept.request, model_dir=model_dir, by=by)
    )
    cached_models.clear()
    if kept.run_id is not None:
        query(lambda e: runs.attach_model(e, kept.run_id, record.id))
    st.session_state["_training"] = dataclasses.replace(kept, model_id=record.id)
    return record
