"""Worker processes ladder supervises itself: each with its own pipes, watched for death and time.

durable_rules can kill its process (segfault, abort) on input it dislikes, so audits that must not
take their caller down run in workers. concurrent.futures' pool was not enough: its shared result
queue hangs for ever when a worker dies mid-write, and it raises BrokenProcessPool wherever the
breakage surfaces (submit as well as result). Here every worker has a task pipe and a result pipe
that only it and the parent hold (inherited copies are closed in the child), so a worker that dies
mid-write is an end-of-file on its own pipe, its exit is seen through its process sentinel, and a
task running past its deadline gets the worker killed. On Linux a worker also dies with the thread
that started it (PR_SET_PDEATHSIG), so killing the parent never leaves a worker spinning.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
import time
from multiprocessing.connection import Connection, wait
from typing import Any, Callable

_CONTEXT = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")


class Died:
    """A task's answer when its worker died (or was killed at its deadline) before answering."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Died({self.reason!r})"


class Worker:
    """One worker process running `handle(task)` for each task sent to it, one at a time."""

    def __init__(self, handle: Callable[[Any], Any], init: Callable[..., None], args: tuple[Any, ...],
                 siblings: list[Connection], context: Any = None) -> None:
        """`context`: how to start it (default: fork on Linux). A multi-threaded parent (the service)
        passes a forkserver context: a fork of a threaded process may inherit locks other threads
        held, and the worker would hang on them; a forkserver's worker inherits nothing of ours."""
        context = context or _CONTEXT
        tasks_in, self.tasks = context.Pipe(duplex=False)
        self.results, results_out = context.Pipe(duplex=False)
        forked = context.get_start_method() == "fork"
        # A forked child holds copies of the parent's pipe ends, which it closes; a child started
        # any other way holds none (sending them would give it copies), and its parent is the server.
        inherited = [*siblings, self.tasks, self.results] if forked else []
        self.process = context.Process(
            target=_serve, args=(tasks_in, results_out, handle, init, args, inherited, os.getpid() if forked else 0),
            daemon=True, name="ladder-worker")
        self.process.start()
        self.pid = self.process.pid
        tasks_in.close()
        results_out.close()
        self.job: Any = None  # what the parent is waiting for, when busy
        self.deadline = 0.0

    def send(self, job: Any, task: Any, timeout: float) -> bool:
        """Give an idle worker a task; `job` is the parent's own note of it. False when the worker
        died while idle (it is reaped: start another and give the task to that one)."""
        try:
            self.tasks.send(task)
        except OSError:  # a broken pipe: nobody is reading
            self.kill()
            return False
        self.job, self.deadline = job, time.monotonic() + timeout
        return True

    def stop(self) -> None:
        """End the worker: politely when idle, by force when it does not go."""
        try:
            if self.job is None:
                self.tasks.send(None)
        except OSError:
            pass
        self.process.join(timeout=2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join()
        self._close()

    def _close(self) -> None:
        self.tasks.close()
        self.results.close()
        self.process.close()


def collect(busy: list[Worker], timeout: float | None = None) -> list[tuple[Worker, Any, Any]]:
    """Wait until at least one busy worker answers, dies or passes its deadline (or `timeout`
    passes); return (worker, job, answer or Died) for each. A dead or overdue worker is reaped here
    (killed and closed): start another in its place."""
    if not busy:
        return []
    deadline = min(w.deadline for w in busy)
    wait_for = max(0.0, deadline - time.monotonic())
    if timeout is not None:
        wait_for = min(wait_for, timeout)
    ready = set(wait([w.results for w in busy] + [w.process.sentinel for w in busy], timeout=wait_for))
    now, answers = time.monotonic(), []
    for worker in busy:
        if worker.results in ready:
            try:
                answer = worker.results.recv()
                answers.append((worker, worker.job, answer))
                worker.job = None
                continue
            except (EOFError, OSError):  # it died mid-write: its pipe ended with it
                answer = Died("the rules engine crashed its worker process")
        elif worker.process.sentinel in ready:
            answer = Died("the rules engine crashed its worker process")
        elif now >= worker.deadline:
            answer = Died("its worker did not finish in time and was stopped")
        else:
            continue
        worker.kill()
        answers.append((worker, worker.job, answer))
    return answers


def _serve(tasks: Connection, results: Connection, handle: Callable[[Any], Any], init: Callable[..., None],
           args: tuple[Any, ...], inherited: list[Connection], parent: int) -> None:
    for connection in inherited:  # copies the fork made; only the parent may hold these ends
        connection.close()
    _die_with(parent)
    init(*args)
    while True:
        try:
            task = tasks.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if task is None:
            return
        results.send(handle(task))


def _die_with(parent: int) -> None:
    """Ask Linux to kill this worker when the thread that started it ends, so that a killed parent
    never leaves a worker running; elsewhere a worker ends when its task pipe does."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if parent and os.getppid() != parent:  # the parent died before the request took hold
        os._exit(1)
