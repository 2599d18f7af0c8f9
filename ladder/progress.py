"""A progress bar with rate and ETA on stderr (rich), for long cohort audits."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)

T = TypeVar("T")


def count_records(paths: Iterable[Path]) -> int | None:
    """A cheap count of the records ahead, for the ETA: lines of JSON Lines files, case files,
    rows of patients.csv. None when it cannot tell."""
    total = 0
    for path in paths:
        files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
        for file in files:
            if file.suffix in (".jsonl", ".ndjson") or file.name == "patients.csv":
                with file.open("rb") as handle:
                    total += sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
                total -= file.name == "patients.csv"
            elif file.suffix in (".yaml", ".yml", ".json") and "patients.csv" not in {
                    p.name for p in file.parent.iterdir()}:
                total += 1
    return total or None


def progress_wanted(asked: bool | None, to_file: bool, stdout_tty: bool, stderr_tty: bool) -> bool:
    """Whether to show the bar: as asked, else when stderr is a terminal and the report is not
    written to that same terminal (-o, or stdout redirected): results printed under a live bar on
    one screen would be broken up by its redraws."""
    if asked is not None:
        return asked
    return stderr_tty and (to_file or not stdout_tty)


def with_progress(items: Iterable[T], total: int | None) -> Iterator[T]:
    columns = [TextColumn("auditing"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} patients/s"), TimeElapsedColumn(), TimeRemainingColumn()]
    # transient: the bar is cleared when the audit ends, before the summary prints; stdout is never
    # redirected into it (the report stays on stdout). No refresh thread (auto_refresh off: the bar
    # is redrawn here every 200 patients), so that the process stays single-threaded while it forks
    # worker processes (a fork of a threaded process may inherit a lock another thread held).
    with Progress(*columns, console=Console(stderr=True), transient=True, redirect_stdout=False,
                  redirect_stderr=False, auto_refresh=False) as bar:
        task = bar.add_task("audit", total=total, rate="-")
        bar.refresh()
        count = 0
        for count, item in enumerate(items, start=1):
            yield item
            if count % 200 == 0:
                elapsed = bar.tasks[0].elapsed or 1e-9
                bar.update(task, completed=count, rate=f"{count / elapsed:,.0f}")
                bar.refresh()
        bar.update(task, completed=count if total is None else total)
