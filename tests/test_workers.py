"""Supervised workers under attack: exceptions, killed workers, a worker dying mid-write, a killed
parent. Every input record yields one result or one error, in order, within a bounded time."""

from __future__ import annotations

import gc
import importlib
import os
import random
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import orjson

from ladder.pool import Died, Worker, collect
from ladder.readers import read_paths
from ladder.synthetic import cohort
from ladder.workers import CHUNK, audit_items

LADDER = [sys.executable, "-m", "ladder.cli"]


def write_cohort(path: Path, size: int, poison_every: int = 0) -> Path:
    lines = []
    for number, history in enumerate(cohort(size, seed=5)):
        if poison_every and number % poison_every == poison_every // 2:
            history = {**history, "id": f"poison-{number}"}
        lines.append(orjson.dumps(history))
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def test_one_overflowing_record_per_chunk_is_that_records_error(tmp_path, book, monkeypatch):
    """An OverflowError in a worker ended the whole audit before (10,200 of 20,000 records lost)."""
    pipeline = importlib.import_module("ladder.audit")
    real = pipeline.audit_item

    def overflow(history, book, source="<memory>", as_of=None, annotate=None):
        if history.id.startswith("poison-"):
            raise OverflowError("date value out of range")
        return real(history, book, source, as_of, annotate)

    monkeypatch.setattr(pipeline, "audit_item", overflow)  # inherited by the forked workers
    path = write_cohort(tmp_path / "c.jsonl", 5 * CHUNK, poison_every=CHUNK)
    items = list(audit_items(read_paths([path]), book, 2))
    assert len(items) == 5 * CHUNK
    assert [i.get("id") or i["error"]["patient"] for i in items] == [
        orjson.loads(line)["id"] for line in path.read_bytes().splitlines()]
    errors = [i["error"] for i in items if "error" in i]
    assert len(errors) == 5 and all("OverflowError" in e["message"] for e in errors)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_workers_killed_again_and_again_lose_nothing(tmp_path):
    """A second kill during submission raised BrokenProcessPool and lost up to 14,800 records; a
    worker dying mid-write hung the audit for ever. Kill workers at random moments, many times."""
    size = 20000
    path = write_cohort(tmp_path / "c.jsonl", size)
    with (tmp_path / "bad.jsonl").open("wb") as bad:
        bad.write(b'{"id": "bad", "courses": [{"drug": "x", "dose": 1e308, "unit": "mg"}]}\n')
    process = subprocess.Popen([*LADDER, "audit", str(path), str(tmp_path / "bad.jsonl"), "--jobs", "2",
                                "--format", "jsonl", "--no-progress"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kills, chance = 0, random.Random(11)

    def killer() -> None:
        nonlocal kills
        while process.poll() is None and kills < 12:
            time.sleep(chance.uniform(0.01, 0.3))
            workers = _children(process.pid)
            if workers:
                try:
                    os.kill(chance.choice(workers), signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass

    thread = threading.Thread(target=killer)
    thread.start()
    try:
        out, err = process.communicate(timeout=240)
    finally:
        process.kill()
        thread.join()
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert kills >= 3 and b"Traceback" not in err, err.decode()[-2000:]
    assert len(lines) == size + 1
    ids = [line.get("id") or line["error"]["patient"] for line in lines]
    assert ids == [orjson.loads(line)["id"] for line in path.read_bytes().splitlines()] + ["bad"]
    assert lines[-1]["error"]["message"].startswith("courses.0.dose")
    assert process.returncode == 2


def test_a_worker_dying_mid_write_is_seen_not_waited_for():
    """The old pool read a result the dead worker never finished, with no timeout: a hang."""
    worker = Worker(_half_answer, _nothing, (), [])
    worker.send("job", "task", timeout=60)
    began = time.monotonic()
    [(same, job, answer)] = collect([worker])
    assert same is worker and job == "job"
    assert isinstance(answer, Died) and "crashed" in answer.reason
    assert time.monotonic() - began < 30


def test_a_worker_past_its_deadline_is_stopped():
    worker = Worker(_spin, _nothing, (), [])
    worker.send("job", "task", timeout=0.5)
    answers = []
    while not answers:
        answers = collect([worker])
    [(_, _, answer)] = answers
    assert isinstance(answer, Died) and "in time" in answer.reason
    assert not _running(worker.pid)


def test_killing_the_parent_leaves_no_worker_running(tmp_path):
    path = write_cohort(tmp_path / "c.jsonl", 20000)
    process = subprocess.Popen([*LADDER, "audit", str(path), "--jobs", "2", "--format", "jsonl",
                                "--no-progress"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    process.stdout.readline()  # the workers are at work
    workers = _children(process.pid)
    assert len(workers) == 2
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(pid) for pid in workers)


def _nothing() -> None:
    pass


def _half_answer(task: str) -> None:
    """Start an answer and die before finishing it, as a worker killed mid-write does."""
    from multiprocessing.connection import Connection
    [results] = [c for c in gc.get_objects() if isinstance(c, Connection) and not c.closed and c.writable]
    results._send(struct.pack("!i", 1_000_000) + b"partial")
    os._exit(1)


def _spin(task: str) -> None:
    while True:
        pass


def test_every_worker_has_work_while_chunks_remain(tmp_path, book, monkeypatch):
    """The first version of the pool kept one chunk in flight: 2 jobs ran at 1.00x one."""
    import ladder.workers as workers
    seen = []
    real = workers.collect

    def watching(busy, timeout=None):
        seen.append(len(busy))
        return real(busy, timeout)
    monkeypatch.setattr(workers, "collect", watching)
    path = write_cohort(tmp_path / "c.jsonl", 6 * CHUNK)
    assert len(list(audit_items(read_paths([path]), book, 2))) == 6 * CHUNK
    assert max(seen) == 2
