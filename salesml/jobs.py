"""Trainings run in the background: a queue, a few worker threads, and each job's state."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from salesml.db import mask_url
from salesml.errors import JobNotFoundError, SalesMLError

# Finished jobs kept for GET /jobs/{id}; the oldest finished ones are forgotten first.
KEPT_JOBS = 1_000
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

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="salesml-train")
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, task: Task, request: dict) -> Job:
        """Queue a task; return its job at once."""
        job = Job(id=uuid.uuid4().hex, status=QUEUED, request=request)
        with self._lock:
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
        """Stop taking jobs; queued ones are dropped, running ones finish."""
        self._pool.shutdown(wait=False, cancel_futures=True)

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
