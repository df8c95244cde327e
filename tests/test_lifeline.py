"""A training worker, and every process it started, dies with the server that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest

from salesml import db, demo
from tests.e2e.conftest import serve_app

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")

ROOT = Path(__file__).resolve().parents[1]
GONE_WITHIN = 5.0


def _stat(pid: int) -> tuple[str, int, int] | None:
    """A process's state, parent and process group, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    state, ppid, pgrp = text[text.rindex(")") + 2 :].split()[:3]
    return state, int(ppid), int(pgrp)


def alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] not in ("Z", "X")


def descendants(pid: int) -> set[int]:
    """Every living process below pid."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
            parents[int(entry.name)] = stat[1]
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return {p for p in found if alive(p)}


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def assert_all_die(pids: set[int], within: float = GONE_WITHIN) -> None:
    """Every process in pids, and whatever they start meanwhile, ends within the time."""
    deadline = time.monotonic() + within
    watched = set(pids)
    while time.monotonic() < deadline:
        for pid in list(watched):
            watched |= descendants(pid)
        if not any(alive(pid) for pid in watched):
            return
        time.sleep(0.05)
    left = sorted(pid for pid in watched if alive(pid))
    for pid in left:  # not left behind by the test either
        os.kill(pid, signal.SIGKILL)
    pytest.fail(f"{len(left)} of {len(watched)} processes outlived their server: {left}")


# The server's side of a training: the job queue running a worker process.
SERVER = """
import sys, time
from salesml.jobs import JobQueue, in_subprocess
queue = JobQueue(workers=1)
queue.submit(in_subprocess([sys.executable, "-c", sys.argv[1]], result=int), {})
time.sleep(120)
"""
# A worker starting children the ways the forecasting libraries do: forked (multiprocessing,
# statsforecast), through a fork server, and through joblib's loky (fork and exec).
WORKER = """
from salesml import lifeline
lifeline.hold_if_worker()
import multiprocessing, os, sys, time
from concurrent.futures import ProcessPoolExecutor
from joblib.externals.loky import get_reusable_executor
pool = multiprocessing.get_context("fork").Pool(2)
pool.map_async(time.sleep, [120, 120])
served = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("forkserver"))
served.submit(time.sleep, 120)
loky = get_reusable_executor(2)
loky.submit(time.sleep, 120).running()
time.sleep(2)
open(os.environ["READY"], "w").close()
time.sleep(120)
"""


def start_server(tmp_path) -> tuple[subprocess.Popen, Path]:
    """A server process whose worker starts its children, and the file it makes when ready."""
    ready = tmp_path / "ready"
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, textwrap.dedent(WORKER)],
        cwd=ROOT,
        env={**os.environ, "READY": str(ready)},
    )
    return server, ready


@pytest.mark.slow
def test_a_worker_and_every_process_it_started_die_when_its_server_is_killed(tmp_path):
    server, ready = start_server(tmp_path)
    try:
        wait_for(ready.exists, 60, "the worker did not start its children")
        started = descendants(server.pid)
        assert len(started) >= 6  # the worker, its 2 + 2 pool processes, the fork server
    finally:
        server.kill()
        server.wait()
    assert_all_die(started)


@pytest.mark.slow
def test_a_killed_workers_children_die_with_it(tmp_path):
    server, ready = start_server(tmp_path)
    try:
        wait_for(ready.exists, 60, "the worker did not start its children")
        (worker,) = [p for p in descendants(server.pid) if _stat(p)[1] == server.pid]
        started = descendants(worker)
        os.kill(worker, signal.SIGKILL)
        assert_all_die(started)
    finally:
        server.kill()
        server.wait()


def command_line(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_training_started_through_the_api_ends_when_the_server_is_killed(tmp_path):
    database_url = f"sqlite:///{tmp_path / 'salesml.db'}"
    engine = db.create_engine_for(database_url)
    db.init_db(engine)
    demo.load_demo(engine)
    engine.dispose()
    with serve_app(database_url, tmp_path / "data") as app:
        # This server, by its port: the session may run other servers of its own.
        port = app.url.rsplit(":", 1)[1].encode()
        (server,) = [
            p
            for p in descendants(os.getpid())
            if b"serve" in command_line(p) and port in command_line(p).split(b"\0")
        ]
        post(f"{app.url}/api/v1/models", {"level": "product", "freq": "M", "horizon": 12})

        def workers() -> list[int]:
            return [
                p
                for p in descendants(server)
                if (_stat(p) or ("", 0, 0))[1] == server and b"train" in command_line(p)
            ]

        wait_for(workers, 30, "no training worker started")
        time.sleep(1.0)  # into the training: its imports done, its children started
        started = {*workers(), *[p for w in workers() for p in descendants(w)]}
        os.kill(server, signal.SIGKILL)
        assert_all_die(started)


# The app's own server trains the Train page's models in the page's thread: statsforecast
# forks its pool from the server process itself.
APP_SERVER = """
import multiprocessing, os, time
import salesml.ui.training  # what the Train page imports before it trains
from concurrent.futures import ProcessPoolExecutor
pool = ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("fork"))
list(pool.map(abs, [1, 2]))
open(os.environ["READY"], "w").close()
time.sleep(120)
"""


@pytest.mark.slow
def test_processes_the_app_server_forks_to_train_die_when_it_is_killed(tmp_path):
    ready = tmp_path / "ready"
    server = subprocess.Popen(
        [sys.executable, "-c", APP_SERVER], cwd=ROOT, env={**os.environ, "READY": str(ready)}
    )
    try:
        wait_for(ready.exists, 60, "the server did not start its pool")
        started = descendants(server.pid)
        assert len(started) == 2
    finally:
        server.kill()
        server.wait()
    assert_all_die(started)


@pytest.mark.slow
def test_a_page_run_trains_after_an_earlier_page_runs_thread_ended():
    """The parent-death signal the app's forked workers ask for follows the thread that
    forked them: a worker pool kept past the page run that started it would be killed."""
    import threading

    import salesml.ui.training  # noqa: F401  the fork hooks every page run trains with
    from tests.test_report import REQUEST, monthly, train

    frame = monthly([f"product {i}" for i in range(6)], length=40)
    forks: list[int] = []
    os.register_at_fork(after_in_parent=lambda: forks.append(os.getpid()))
    chosen, left = [], []
    before = descendants(os.getpid())  # whatever else this test session started

    def page_run() -> None:
        chosen.append(train(frame, REQUEST).forecaster.combination_.name)
        left.append(descendants(os.getpid()) - before)

    for _ in range(2):  # each in a thread of its own, as Streamlit runs each page run
        thread = threading.Thread(target=page_run)
        thread.start()
        thread.join(timeout=300)
        assert not thread.is_alive(), "the training in a later page run never finished"
    assert len(forks) >= 2  # statsforecast forked its workers in each run
    assert len(chosen) == 2 and chosen[0] == chosen[1]
    # No worker outlives the run that forked it, so none is killed when that thread ends.
    assert left == [set(), set()]
