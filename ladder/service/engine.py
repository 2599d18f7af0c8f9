"""The service's audits run in supervised worker processes: an engine crash costs one answer (a card
saying the audit failed), never the service.

The service is multi-threaded (the server's event loop, its request threads), and a fork of a
threaded process can inherit a lock another thread held and hang on it: workers are started by a
forkserver (a clean process that imports ladder once and forks each worker from itself), which
ends, and its workers with it, when the service does.
"""

from __future__ import annotations

import faulthandler
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from ..audit import audit_item
from ..errors import LadderError
from ..model import History
from ..pool import Died, Worker, collect
from ..rulebook import Rulebook

TIMEOUT = 60.0  # seconds one audit may take (a few milliseconds is usual)
_book: Rulebook | None = None


class AuditFailed(Exception):
    """The engine died (or overran) on this record; the service answers with a card saying so."""


def audit_one(history: History) -> dict[str, Any]:
    """A worker's task: one history -> its result item, or {"error": message} for a ladder error."""
    assert _book is not None
    try:
        return audit_item(history, _book, "cds-hooks")
    except LadderError as error:
        return {"error": error.message}
    except Exception as error:  # noqa: BLE001  any failure is this call's, reported, never raised
        return {"error": f"ladder could not audit this record ({type(error).__name__})"}


def _init(book: Rulebook) -> None:
    global _book
    _book = book
    faulthandler.disable()  # a crash here is the supervisor's to report, not a traceback to print


def _context() -> Any:
    """A forkserver where there is one (Linux, macOS), preloaded with ladder and the engine."""
    import multiprocessing
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["ladder.service.engine"])
    return context


class Audits:
    """`workers` supervised processes answering one audit at a time each; a dead one is replaced."""

    def __init__(self, book: Rulebook, workers: int = 1,
                 handle: Callable[[History], dict[str, Any]] = audit_one) -> None:
        self.book, self.handle = book, handle  # handle: a seam for tests that crash the engine
        self._forker = ThreadPoolExecutor(1, thread_name_prefix="ladder-forker")
        self._context = _context()
        self._lock = threading.Lock()
        self._all: list[Worker] = []
        self._idle: queue.Queue[Worker] = queue.Queue()
        for _ in range(workers):
            self._idle.put(self._start())

    def _start(self) -> Worker:
        def start() -> Worker:
            with self._lock:
                siblings = [c for w in self._all for c in (w.tasks, w.results)]
                worker = Worker(self.handle, _init, (self.book,), siblings, self._context)
                self._all.append(worker)
                return worker
        return self._forker.submit(start).result()

    def _forget(self, worker: Worker) -> None:
        with self._lock:
            self._all.remove(worker)

    def audit(self, history: History) -> dict[str, Any]:
        """The result item; AuditFailed when the engine died on it; LadderError for its own errors."""
        worker = self._idle.get()
        try:
            if not worker.send(history, history, TIMEOUT):  # it had died while idle
                self._forget(worker)
                worker = self._start()
                if not worker.send(history, history, TIMEOUT):
                    raise AuditFailed("the rules engine could not be started")
            answers: list[tuple[Worker, Any, Any]] = []
            while not answers:
                answers = collect([worker])
            answer = answers[0][2]
            if isinstance(answer, Died):
                self._forget(worker)
                worker = self._start()
                raise AuditFailed(answer.reason)
            if isinstance(answer, dict) and "error" in answer and len(answer) == 1:
                raise LadderError(answer["error"])
            return answer
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        with self._lock:
            for worker in self._all:
                worker.stop()
            self._all.clear()
        self._forker.shutdown()
