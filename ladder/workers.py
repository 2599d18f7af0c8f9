"""Cohort audits in supervised worker processes: a crash costs a retry, never the audit.

durable_rules can kill its process (segfault, abort) on input it dislikes. Records go to N worker
processes (ladder.pool: own pipes, watched for death and time) in chunks; results come back in
input order. When a worker dies or overruns, another takes its place and its chunk is re-run once;
a chunk that kills a worker again is re-run one record at a time, and the record that still kills
one becomes an error record naming it. Every input record yields exactly one result or one error,
and no worker's failure, of any kind, ever reaches the caller.

Each result is rendered (and counted into a Tally) in the worker that audited it: only the rendered
output and the chunk's counts cross the process boundary, which costs far less than pickling the
nested result and leaves the parent little to do but write.
"""

from __future__ import annotations

import datetime as dt
import faulthandler
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from .audit import audit_record_item, error_item
from .engine import keep_freed_memory
from .pool import Died, Worker, collect
from .readers import Failed, Record, parse, patient_id
from .rulebook import Rulebook
from .selection import Selection
from .summary import Tally

Item = dict[str, Any]  # a result as JSON-ready data: a patient, or {"error": {...}}
Render = Callable[[Item], Any]  # a module-level function, so that it can be sent to the workers
Done = tuple[list[Any], Tally]  # a chunk's rendered results, in order, and their counts
CHUNK = 200
TIMEOUT = 600.0  # seconds a chunk may take (about 0.2 s is usual): past it the worker is stopped
_book: Rulebook | None = None
_render: Render | None = None
_as_of: dt.date | None = None
_selection = Selection()


def audit_items(records: Iterable[Record | Failed], book: Rulebook, jobs: int = 1,
                as_of: dt.date | None = None) -> Iterator[Item]:
    """Audit records in `jobs` worker processes (0: in this process), yielding items in input order."""
    yield from audit_rendered(records, book, jobs, _as_is, Tally(), as_of)


def audit_rendered(records: Iterable[Record | Failed], book: Rulebook, jobs: int, render: Render,
                   tally: Tally, as_of: dt.date | None = None,
                   selection: Selection = Selection()) -> Iterator[Any]:
    """Audit records in `jobs` worker processes (0: in this process) as of `as_of` (default: today);
    yield each result as `render` makes it, in input order, and count every result into `tally`.
    `selection` drops findings of unselected checks, and hides from the output (not the tally)
    those below its minimum severity."""
    as_of = as_of or dt.date.today()
    if jobs <= 0:
        for record in records:
            output, item = _audited(record, book, render, as_of, selection)
            tally.add(item)
            yield output
        return
    yield from _Supervisor(book, jobs, render, tally, as_of, selection).run(records)


def _as_is(item: Item) -> Item:
    return item


def _init(book: Rulebook, render: Render, as_of: dt.date, selection: Selection) -> None:
    global _book, _render, _as_of, _selection
    _book, _render, _as_of, _selection = book, render, as_of, selection
    faulthandler.disable()  # a crash here is the supervisor's to report, not a traceback to print
    keep_freed_memory()


def _audit_chunk(chunk: list[Record | Failed]) -> Done:
    assert _book is not None and _render is not None
    outputs, tally = [], Tally()
    for record in chunk:
        output, item = _audited(record, _book, _render, _as_of, _selection)
        tally.add(item)
        outputs.append(output)
    return outputs, tally


def _audited(record: Record | Failed, book: Rulebook, render: Render, as_of: dt.date | None,
             selection: Selection) -> tuple[Any, Item]:
    """One record's rendered output and its (selected) result, for the tally."""
    # A format that needs more than the result (the HTML timeline) gives its render an `annotate`.
    item = selection.selected(audit_record_item(record, book, as_of, getattr(render, "annotate", None)))
    try:
        return render(selection.shown(item)), item
    except Exception as error:  # noqa: BLE001  one result that cannot be written is its error
        item = error_item(record.source, None, f"ladder could not write this result "
                                               f"({type(error).__name__}: {error}); please report it")
        return render(item), item


def _chunks(records: Iterable[Record | Failed], size: int) -> Iterator[list[Record | Failed]]:
    chunk: list[Record | Failed] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass
class _Task:
    seq: int  # which chunk
    start: int  # where in it these records begin
    records: list[Record | Failed]
    tries: int = 0


@dataclass
class _Slot:
    outputs: list[Any]
    missing: int


class _Supervisor:
    """Chunks go to idle workers; answers are put back in input order. A chunk whose worker dies is
    re-run once; a chunk that kills a worker again is re-run one record at a time, and a record that
    still kills one becomes an error record naming it. No worker's failure ever reaches the caller."""

    def __init__(self, book: Rulebook, jobs: int, render: Render, tally: Tally, as_of: dt.date,
                 selection: Selection) -> None:
        self.book, self.jobs, self.render, self.tally, self.as_of = book, jobs, render, tally, as_of
        self.selection = selection
        self.workers: list[Worker] = []
        self.crashes = 0

    def _start(self) -> Worker:
        siblings = [c for w in self.workers for c in (w.tasks, w.results)]
        worker = Worker(_audit_chunk, _init, (self.book, self.render, self.as_of, self.selection), siblings)
        self.workers.append(worker)
        return worker

    def run(self, records: Iterable[Record | Failed]) -> Iterator[Any]:
        chunks = enumerate(_chunks(records, CHUNK))
        slots: dict[int, _Slot] = {}
        pending: deque[_Task] = deque()
        idle = [self._start() for _ in range(self.jobs)]
        busy: list[Worker] = []
        done, exhausted = 0, False
        try:
            while True:
                while not exhausted and len(slots) < self.jobs * 3:  # chunks in flight: work queued ahead
                    seq, chunk = next(chunks, (None, None))
                    if chunk is None:
                        exhausted = True
                        break
                    slots[seq] = _Slot([None] * len(chunk), len(chunk))
                    pending.append(_Task(seq, 0, chunk))
                while pending and idle:
                    worker, task = idle.pop(), pending.popleft()
                    if worker.send(task, task.records, TIMEOUT):
                        busy.append(worker)
                    else:  # it died while idle: the task never started, so it is no try
                        self.workers.remove(worker)
                        idle.append(self._start())
                        pending.appendleft(task)
                while done in slots and not slots[done].missing:
                    yield from slots.pop(done).outputs
                    done += 1
                if exhausted and not busy and not pending:
                    return
                for worker, task, answer in collect(busy):
                    busy.remove(worker)
                    if not isinstance(answer, Died):
                        self._fill(slots, task, answer)
                        idle.append(worker)
                        continue
                    self.workers.remove(worker)
                    idle.append(self._start())
                    self._lost(task, answer, slots, pending)
        finally:
            for worker in self.workers:
                worker.stop()
            self.workers.clear()

    def _fill(self, slots: dict[int, _Slot], task: _Task, done: Done) -> None:
        outputs, tally = done
        self.tally.merge(tally)
        slot = slots[task.seq]
        slot.outputs[task.start:task.start + len(outputs)] = outputs
        slot.missing -= len(outputs)

    def _lost(self, task: _Task, died: Died, slots: dict[int, _Slot], pending: deque[_Task]) -> None:
        """A worker died on `task`: retry it, then isolate its records, then name the record."""
        self.crashes += 1
        if task.tries == 0:
            pending.appendleft(_Task(task.seq, task.start, task.records, 1))
        elif len(task.records) > 1:
            pending.extendleft(reversed([_Task(task.seq, task.start + i, [r], 1)
                                         for i, r in enumerate(task.records)]))
        else:
            item = _crashed(task.records[0], died)
            self.tally.add(item)
            slot = slots[task.seq]
            slot.outputs[task.start] = self.render(item)
            slot.missing -= 1


def _crashed(record: Record | Failed, died: Died) -> Item:
    try:
        data = parse(record) if isinstance(record, Record) else None
    except Exception:  # noqa: BLE001  the record is already known to be bad
        data = None
    pid = patient_id(data) if isinstance(data, dict) else getattr(data, "id", None)
    return error_item(record.source, pid, f"ladder could not audit this patient: {died.reason} "
                                          "(isolated after a retry)")
