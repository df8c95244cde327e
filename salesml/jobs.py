"""Trainings run in the background: a queue, a few worker threads, and each job's state."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from salesml.db import mask_url
from salesml.errors import JobNotFoundError, QueueFullError, SalesMLError, TrainingFailedError
from salesml.lifeline import WORKER_OF

# Where `python -m salesml` runs from: the project root.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Finished jobs kept for GET /jobs/{id}; the oldest finished ones are forgotten first.
KEPT_JOBS = 1_000
# Trainings waiting for a worker; more are refused rather than stacked up.
MAX_WAITING = 20
QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


@dataclass(frozen=True)
class Job:
    """One training job as a client sees it (a snapshot; the queue holds the live state)."""

    id: str
    status: str
    request: dict
    progress: str = "waiting for a free worker"
    model_id: int | None = None
    error: str | None = None
    created_at: dt.datetime = field(default_factory=lambda: _now())
    started_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None


# A task trains and saves; it reports progress in words and returns the saved model's id.
Task = Callable[[Callable[[str], None]], int]


class JobQueue:
    """At most `workers` tasks run at once; the rest wait in submission order."""

    def __init__(self, workers: int = 1, *, max_waiting: int = MAX_WAITING) -> None:
        self.workers = workers
        self.max_waiting = max_waiting
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="salesml-train")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, task: Task, request: dict) -> Job:
        """Queue a task; return its job at once."""
        job = Job(id=uuid.uuid4().hex, status=QUEUED, request=request)
        with self._lock:
            waiting = sum(j.status == QUEUED for j in self._jobs.values())
            if waiting >= self.max_waiting:
                raise QueueFullError(
                    f"{waiting} trainings are waiting already; try again when some have finished"
                )
            self._jobs[job.id] = job
            self._forget_old()
        self._pool.submit(self._run, job.id, task)
        return job

    def get(self, job_id: str) -> Job:
        """The job's current state."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise JobNotFoundError(f"there is no training job {job_id!r}")
        return job

    def list(self) -> list[Job]:
        """Every kept job, newest first."""
        with self._lock:
            return list(reversed(self._jobs.values()))

    def shutdown(self) -> None:
        """Stop taking jobs: queued ones are dropped, running ones stopped."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        stop_workers()

    def _update(self, job_id: str, **changes) -> None:
        with self._lock:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)

    def _run(self, job_id: str, task: Task) -> None:
        self._update(job_id, status=RUNNING, progress="starting", started_at=_now())
        try:
            model_id = task(lambda text: self._update(job_id, progress=text))
        except SalesMLError as exc:
            self._fail(job_id, str(exc))
        except Exception as exc:  # a worker never dies with a traceback the client cannot see
            reason = mask_url(str(exc).splitlines()[0] if str(exc) else "")
            self._fail(job_id, f"unexpected {type(exc).__name__}: {reason}")
        else:
            self._update(
                job_id, status=DONE, model_id=model_id, progress="saved", finished_at=_now()
            )

    def _fail(self, job_id: str, error: str) -> None:
        self._update(job_id, status=FAILED, error=error, progress="failed", finished_at=_now())

    def _forget_old(self) -> None:
        finished = [j.id for j in self._jobs.values() if j.status in (DONE, FAILED)]
        for job_id in finished[: max(0, len(self._jobs) - KEPT_JOBS)]:
            del self._jobs[job_id]


def _now() -> dt.datetime:
    return dt.datetime.now().replace(microsecond=0)


_workers_lock = threading.Lock()
_workers: set[subprocess.Popen] = set()


def stop_workers() -> None:
    """Stop every worker process still running (the server is stopping)."""
    with _workers_lock:
        running = list(_workers)
    for process in running:
        if process.poll() is None:
            process.terminate()


def in_subprocess(
    argv: list[str], *, result: Callable[[str], int], env: dict[str, str] | None = None
) -> Task:
    """A task running a command in a process of its own: each line it writes to stderr is
    progress, a last line `error: ...` the reason it failed, and result(stdout) its outcome.

    A training in a thread of the server would hold the interpreter lock the requests need
    (forecasts at 8 clients: 108 requests/s and a p99 of 160 ms during a training); in its
    own process it leaves the server's lock, and a core, to them.
    """

    def task(progress: Callable[[str], None]) -> int:
        # A process group of its own, naming this process: salesml.lifeline ends the worker,
        # and every process it started, when this process ends, even by SIGKILL. (The
        # kernel's parent-death signal follows the thread that started it: this one, which
        # waits for the worker to end.)
        process = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, **(env or {}), WORKER_OF: str(os.getpid())},
            cwd=PROJECT_ROOT,
            start_new_session=True,
        )
        with _workers_lock:
            _workers.add(process)
        try:
            output, error = _follow(process, progress)
        finally:
            if process.poll() is None:
                process.terminate()
            process.wait()
            with _workers_lock:
                _workers.discard(process)
        if process.returncode:
            raise TrainingFailedError(
                error or f"the training process ended with exit code {process.returncode}"
            )
        return result(output)

    return task


def _follow(process: subprocess.Popen, progress: Callable[[str], None]) -> tuple[str, str]:
    """Relay stderr lines as progress until the process ends; its stdout and error line."""
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.append(process.stdout.read()), daemon=True)
    reader.start()
    error = ""
    for line in process.stderr:
        line = line.strip()
        if line.startswith("error: "):
            error = line.removeprefix("error: ")
        elif line and not line[0].isspace() and "Warning" not in line and line != "warn(":
            progress(line)
    reader.join()
    return "".join(output), error
