"""Cohort audits in supervised worker processes: a crash costs a retry, never the audit.

durable_rules can kill its process (segfault, abort) on input it dislikes. Records go to N worker
processes in chunks; results come back in input order. When a worker dies, the pool is rebuilt and
every unfinished chunk is re-run once; a chunk that kills a worker again is re-run one record at a
time, and the record that still kills it becomes an error record naming it. Every input record
yields exactly one result or one error.
"""

from __future__ import annotations

import faulthandler
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Iterable, Iterator

from .audit import audit_record_item
from .readers import Failed, Record, parse, patient_id
from .rulebook import Rulebook

Item = dict[str, Any]  # a result as JSON-ready data: a patient, or {"error": {...}}
CHUNK = 200
_book: Rulebook | None = None


def audit_items(records: Iterable[Record | Failed], book: Rulebook, jobs: int = 1) -> Iterator[Item]:
    """Audit records in `jobs` worker processes (0: in this process), yielding items in input order."""
    if jobs <= 0:
        for record in records:
            yield audit_record_item(record, book)
        return
    yield from _Supervisor(book, jobs).run(records)


def _init(book: Rulebook) -> None:
    global _book
    _book = book
    faulthandler.disable()  # a crash here is the supervisor's to report, not a traceback to print


def _audit_chunk(chunk: list[Record | Failed]) -> list[Item]:
    assert _book is not None
    return [audit_record_item(record, _book) for record in chunk]


def _chunks(records: Iterable[Record | Failed], size: int) -> Iterator[list[Record | Failed]]:
    chunk: list[Record | Failed] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class _Supervisor:
    def __init__(self, book: Rulebook, jobs: int) -> None:
        self.book, self.jobs = book, jobs
        self.pool = self._pool()
        self.crashes = 0

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, initializer=_init, initargs=(self.book,))

    def _rebuild(self) -> None:
        self.crashes += 1
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()

    def run(self, records: Iterable[Record | Failed]) -> Iterator[Item]:
        in_flight: deque[tuple[list[Record | Failed], Future[list[Item]]]] = deque()
        try:
            for chunk in _chunks(records, CHUNK):
                in_flight.append((chunk, self.pool.submit(_audit_chunk, chunk)))
                while len(in_flight) > self.jobs * 3:
                    yield from self._finish(in_flight)
            while in_flight:
                yield from self._finish(in_flight)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _finish(self, in_flight: deque[tuple[list[Record | Failed], Future[list[Item]]]]) -> Iterator[Item]:
        chunk, future = in_flight.popleft()
        try:
            yield from future.result()
            return
        except BrokenProcessPool:
            pass
        # A worker died: every unfinished chunk is lost with the pool. Re-run them in order.
        lost = [chunk] + [c for c, _ in in_flight]
        in_flight.clear()
        self._rebuild()
        for again in lost:
            yield from self._retry(again)

    def _retry(self, chunk: list[Record | Failed]) -> Iterator[Item]:
        try:
            yield from self.pool.submit(_audit_chunk, chunk).result()
            return
        except BrokenProcessPool:
            self._rebuild()
        for record in chunk:  # isolate the record that kills the engine
            try:
                yield from self.pool.submit(_audit_chunk, [record]).result()
            except BrokenProcessPool:
                self._rebuild()
                yield _crashed(record)


def _crashed(record: Record | Failed) -> Item:
    try:
        data = parse(record) if isinstance(record, Record) else None
    except ValueError:
        data = None
    pid = patient_id(data) if isinstance(data, dict) else getattr(data, "id", None)
    return {"error": {"source": record.source, "patient": pid,
                      "message": "the rules engine crashed its worker process on this patient "
                                 "(isolated after a retry)"}}
