"""Cohort audits in supervised worker processes: a crash costs a retry, never the audit.

durable_rules can kill its process (segfault, abort) on input it dislikes. Records go to N worker
processes in chunks; results come back in input order. When a worker dies, the pool is rebuilt and
every unfinished chunk is re-run once; a chunk that kills a worker again is re-run one record at a
time, and the record that still kills it becomes an error record naming it. Every input record
yields exactly one result or one error.

Each result is rendered (and counted into a Tally) in the worker that audited it: only the rendered
output and the chunk's counts cross the process boundary, which costs far less than pickling the
nested result and leaves the parent little to do but write.
"""

from __future__ import annotations

import faulthandler
from collections import deque
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Callable, Iterable, Iterator

from .audit import audit_record_item
from .engine import keep_freed_memory
from .readers import Failed, Record, parse, patient_id, printable
from .rulebook import Rulebook
from .summary import Tally

Item = dict[str, Any]  # a result as JSON-ready data: a patient, or {"error": {...}}
Render = Callable[[Item], Any]  # a module-level function, so that it can be sent to the workers
Done = tuple[list[Any], Tally]  # a chunk's rendered results, in order, and their counts
CHUNK = 200
_book: Rulebook | None = None
_render: Render | None = None


def audit_items(records: Iterable[Record | Failed], book: Rulebook, jobs: int = 1) -> Iterator[Item]:
    """Audit records in `jobs` worker processes (0: in this process), yielding items in input order."""
    yield from audit_rendered(records, book, jobs, _as_is, Tally())


def audit_rendered(records: Iterable[Record | Failed], book: Rulebook, jobs: int, render: Render,
                   tally: Tally) -> Iterator[Any]:
    """Audit records in `jobs` worker processes (0: in this process); yield each result as `render`
    makes it, in input order, and count every result into `tally`."""
    if jobs <= 0:
        for record in records:
            item = audit_record_item(record, book)
            tally.add(item)
            yield render(item)
        return
    yield from _Supervisor(book, jobs, render, tally).run(records)


def _as_is(item: Item) -> Item:
    return item


def _init(book: Rulebook, render: Render) -> None:
    global _book, _render
    _book, _render = book, render
    faulthandler.disable()  # a crash here is the supervisor's to report, not a traceback to print
    keep_freed_memory()


def _audit_chunk(chunk: list[Record | Failed]) -> Done:
    assert _book is not None and _render is not None
    outputs, tally = [], Tally()
    for record in chunk:
        item = audit_record_item(record, _book)
        tally.add(item)
        outputs.append(_render(item))
    return outputs, tally


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
    def __init__(self, book: Rulebook, jobs: int, render: Render, tally: Tally) -> None:
        self.book, self.jobs, self.render, self.tally = book, jobs, render, tally
        self.pool = self._pool()
        self.crashes = 0

    def _pool(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.jobs, initializer=_init,
                                   initargs=(self.book, self.render))

    def _outputs(self, done: Done) -> list[Any]:
        outputs, tally = done
        self.tally.merge(tally)
        return outputs

    def _rebuild(self) -> None:
        self.crashes += 1
        self.pool.shutdown(wait=True, cancel_futures=True)
        self.pool = self._pool()

    def run(self, records: Iterable[Record | Failed]) -> Iterator[Any]:
        in_flight: deque[tuple[list[Record | Failed], Future[Done]]] = deque()
        try:
            for chunk in _chunks(records, CHUNK):
                in_flight.append((chunk, self.pool.submit(_audit_chunk, chunk)))
                while len(in_flight) > self.jobs * 3:
                    yield from self._finish(in_flight)
            while in_flight:
                yield from self._finish(in_flight)
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def _finish(self, in_flight: deque[tuple[list[Record | Failed], Future[Done]]]) -> Iterator[Any]:
        chunk, future = in_flight.popleft()
        try:
            yield from self._outputs(future.result())
            return
        except BrokenProcessPool:
            pass
        # A worker died: every unfinished chunk is lost with the pool. Re-run them in order.
        lost = [chunk] + [c for c, _ in in_flight]
        in_flight.clear()
        self._rebuild()
        for again in lost:
            yield from self._retry(again)

    def _retry(self, chunk: list[Record | Failed]) -> Iterator[Any]:
        try:
            yield from self._outputs(self.pool.submit(_audit_chunk, chunk).result())
            return
        except BrokenProcessPool:
            self._rebuild()
        for record in chunk:  # isolate the record that kills the engine
            try:
                yield from self._outputs(self.pool.submit(_audit_chunk, [record]).result())
            except BrokenProcessPool:
                self._rebuild()
                item = _crashed(record)
                self.tally.add(item)
                yield self.render(item)


def _crashed(record: Record | Failed) -> Item:
    try:
        data = parse(record) if isinstance(record, Record) else None
    except Exception:  # noqa: BLE001  the record is already known to be bad
        data = None
    pid = patient_id(data) if isinstance(data, dict) else getattr(data, "id", None)
    return {"error": {"source": printable(record.source), "patient": pid,
                      "message": "the rules engine crashed its worker process on this patient "
                                 "(isolated after a retry)"}}
