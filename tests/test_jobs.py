"""Background trainings: a bounded number run at once, the rest wait, each one's state is kept."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from salesml.errors import JobNotFoundError, QueueFullError, SchemaError
from salesml.jobs import JobQueue, in_subprocess


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.fixture
def queue():
    jobs = JobQueue(workers=1)
    yield jobs
    jobs.shutdown()


def test_a_job_runs_reports_progress_and_records_the_model(queue):
    release = threading.Event()

    def task(progress):
        progress("backtesting")
        release.wait(10)
        return 42

    job = queue.submit(task, {"horizon": 3})
    wait_until(lambda: queue.get(job.id).progress == "backtesting")
    assert queue.get(job.id).status == "running"
    release.set()
    wait_until(lambda: queue.get(job.id).status == "done")
    done = queue.get(job.id)
    assert (done.model_id, done.error, done.request) == (42, None, {"horizon": 3})
    assert done.created_at <= done.started_at <= done.finished_at


def test_trainings_beyond_the_limit_wait_in_order(queue):
    release = threading.Event()
    first = queue.submit(lambda progress: release.wait(10) and 1, {})
    second = queue.submit(lambda progress: 2, {})
    wait_until(lambda: queue.get(first.id).status == "running")
    assert queue.get(second.id).status == "queued"
    release.set()
    wait_until(lambda: queue.get(second.id).status == "done")
    assert [job.id for job in queue.list()] == [second.id, first.id]


def test_a_failed_job_keeps_our_message(queue):
    def task(progress):
        raise SchemaError("there are no sales to train on")

    job = queue.submit(task, {})
    wait_until(lambda: queue.get(job.id).status == "failed")
    assert queue.get(job.id).error == "there are no sales to train on"


def test_an_unexpected_failure_is_one_line_without_a_password(queue):
    def task(progress):
        raise RuntimeError("gone: mysql+pymysql://u:hunter2@db/sales\nmore")

    job = queue.submit(task, {})
    wait_until(lambda: queue.get(job.id).status == "failed")
    error = queue.get(job.id).error
    assert error.startswith("unexpected RuntimeError: gone:")
    assert "hunter2" not in error and "more" not in error


def test_an_unknown_job_is_a_lookup_error(queue):
    with pytest.raises(JobNotFoundError, match="no training job 'nope'"):
        queue.get("nope")


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_a_task_in_a_process_relays_progress_and_returns_its_result(queue):
    seen = []
    task = in_subprocess(
        python("import sys; print('backtesting', file=sys.stderr); print('41')"),
        result=lambda output: int(output) + 1,
    )
    assert task(seen.append) == 42
    assert seen == ["backtesting"]


def test_a_process_failing_or_dying_fails_the_job_with_the_reason(queue):
    refused = queue.submit(
        in_subprocess(python("import sys; sys.exit('error: cannot use 7')"), result=int), {}
    )
    died = queue.submit(in_subprocess(python("import os; os._exit(3)"), result=int), {})
    wait_until(lambda: queue.get(died.id).status == "failed", timeout=60)
    assert queue.get(refused.id).error == "cannot use 7"
    assert "exit code 3" in queue.get(died.id).error


def test_beyond_the_waiting_limit_a_training_is_refused():
    release = threading.Event()
    jobs = JobQueue(workers=1, max_waiting=2)
    try:
        running = jobs.submit(lambda progress: release.wait(10) and 1, {})
        wait_until(lambda: jobs.get(running.id).status == "running")
        jobs.submit(lambda progress: 1, {}), jobs.submit(lambda progress: 1, {})
        with pytest.raises(QueueFullError, match="2 trainings are waiting"):
            jobs.submit(lambda progress: 1, {})
    finally:
        release.set()
        jobs.shutdown()
