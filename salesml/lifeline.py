"""A worker process dies with the server that started it, and takes its own children along.

The server starts each worker (`python -m salesml train`) as the leader of a process group
of its own, naming itself in SALESML_WORKER_OF. The worker then calls hold() first thing:

- the kernel sends it SIGKILL when the server's thread that started it ends, however the
  server ended (a SIGKILL included): Linux's parent-death signal, prctl(PR_SET_PDEATHSIG);
- a small watcher process, forked before anything else, waits on a pipe only the worker
  holds open. When the worker ends, however it ended, the pipe closes and the watcher kills
  the worker's whole process group: the processes statsforecast, joblib or multiprocessing
  forked for it would otherwise sit idle for minutes holding their copy of its memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys

# Set by the server in a worker's environment: the server's process id.
WORKER_OF = "SALESML_WORKER_OF"
_PR_SET_PDEATHSIG = 1


def hold_if_worker() -> None:
    """hold() when this process is a server's worker (SALESML_WORKER_OF is set)."""
    parent = os.environ.pop(WORKER_OF, "")
    if parent.isdigit():
        hold(int(parent))


def die_with_parent() -> None:
    """Have the kernel kill this process when the thread of the parent that forked it ends
    (Linux; nothing elsewhere)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def hold(parent: int) -> None:
    """Die with the parent process `parent`; take every process of this group along."""
    die_with_parent()
    # The parent may have died before the signal was asked for: then nobody would send it.
    if os.getppid() != parent:
        os._exit(1)
    if os.getpgrp() == os.getpid():  # only a group of our own: never the caller's shell's
        _watch_group()


def _watch_group() -> None:
    read_end, write_end = os.pipe()
    if os.fork() == 0:  # the watcher
        os.close(write_end)
        _wait_and_kill(read_end)
    os.close(read_end)
    os.set_inheritable(write_end, False)  # a program a child execs does not hold it
    # Nor do the worker's forked children, or the pipe would stay open while they live.
    os.register_at_fork(after_in_child=lambda: _close(write_end))


def _wait_and_kill(read_end: int) -> None:
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # the server reads the worker's output until every copy closes
            os.dup2(devnull, fd)
        while os.read(read_end, 1):
            pass
        os.killpg(os.getpgrp(), signal.SIGKILL)  # the watcher too
    finally:
        os._exit(0)


def _close(fd: int) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
