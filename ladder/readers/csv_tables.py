"""Long-format CSV exports, as a registry writes them: a folder with patients.csv and, optionally,
courses.csv, assessments.csv and events.csv, joined by patient_id (columns in README.md).

The child tables are loaded into a temporary SQLite file indexed by patient_id, so patients stream
out one by one in patients.csv order with memory flat whatever the export's size or row order.
An empty cell is unknown. A child row whose patient is not in patients.csv is an error record.
"""

from __future__ import annotations

import csv
import sqlite3
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

if TYPE_CHECKING:
    from . import Failed, Record

FOLDER = "<csv export>"
PATIENT_COLUMNS = ("patient_id", "sex", "age", "birth_year", "diagnosis", "onset", "angioedema",
                   "comorbidities", "notes")
CHILD_TABLES: dict[str, tuple[str, ...]] = {
    "courses": ("patient_id", "drug", "dose", "unit", "frequency", "dose_multiple", "start", "end",
                "duration_days", "duration", "ongoing", "stop_reason", "notes"),
    "assessments": ("patient_id", "date", "instrument", "score", "judgement", "notes"),
    "events": ("patient_id", "type", "date", "drug", "description", "kind", "result", "notes"),
}
_EVENT_TYPES = {"adverse_event": "adverse_events", "screening": "screenings"}


def is_export(folder: Path) -> bool:
    return (folder / "patients.csv").is_file()


def read(folder: Path) -> Iterator["Record | Failed"]:
    from . import Failed

    with tempfile.TemporaryDirectory(prefix="ladder-csv-") as scratch:
        db = sqlite3.connect(Path(scratch) / "children.sqlite")
        try:
            for table, columns in CHILD_TABLES.items():
                path = folder / f"{table}.csv"
                if path.is_file():
                    problem = _load(db, path, table, columns)
                    if problem:
                        yield Failed(str(path), None, problem)
                        return
            yield from _patients(db, folder)
        except (OSError, UnicodeDecodeError, csv.Error) as error:
            yield Failed(str(folder), None, f"cannot read the export: {error}")
        finally:
            db.close()


def _load(db: sqlite3.Connection, path: Path, table: str, columns: tuple[str, ...]) -> str | None:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = _rows(handle)
        header = next(rows, (0, [], None))[1] or []
        unknown = [c for c in header if c not in columns]
        if unknown or "patient_id" not in header:
            return (f"unknown columns {', '.join(unknown)}; " if unknown else "no patient_id column; ") + \
                   f"{table}.csv takes {', '.join(columns)}"
        db.execute(f"CREATE TABLE {table} (patient_id TEXT, row INTEGER, cells TEXT, problem TEXT)")
        db.execute(f"CREATE INDEX {table}_patient ON {table} (patient_id)")
        key = header.index("patient_id")
        batch = []
        for number, cells, problem in rows:
            batch.append((cells[key] if key < len(cells) else "", number,
                          "\x1f".join([*header, "\x1e", *cells]), problem))
            if len(batch) >= 5000:
                db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", batch)
                batch.clear()
        db.executemany(f"INSERT INTO {table} VALUES (?, ?, ?, ?)", batch)
    return None


class _Lines:
    """The file's lines, remembering the last one read: when the csv module refuses a row, what
    can be read of that line still names its patient."""

    def __init__(self, handle: Any) -> None:
        self.handle, self.last = handle, ""

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        self.last = next(self.handle)
        return self.last


def _rows(handle: Any) -> Iterator[tuple[int, list[str], str | None]]:
    """(row number, cells, problem) for each row; a row the csv module refuses (a cell longer than
    its field limit, a stray NUL) is that row's problem, and reading goes on with the next line."""
    lines = _Lines(handle)
    reader = csv.reader(lines)
    number = 0
    while True:
        number += 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            prefix = lines.last[:4096].split("\n")[0]  # the start of the line, for the row's ids
            try:
                cells = next(csv.reader([prefix]), [])
            except csv.Error:
                cells = []
            yield number, cells[:-1], f"row {number} cannot be read: {error}"
            continue
        if not cells:  # a blank line is no row
            number -= 1
            continue
        yield number, cells, None


def _patients(db: sqlite3.Connection, folder: Path) -> Iterator["Record | Failed"]:
    from . import Failed, Record

    path = folder / "patients.csv"
    tables = [t for t in CHILD_TABLES if (folder / f"{t}.csv").is_file()]
    seen: set[str] = set()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = _rows(handle)
        header = next(rows, (0, [], None))[1] or []
        unknown = [c for c in header if c not in PATIENT_COLUMNS]
        if unknown or "patient_id" not in header:
            yield Failed(str(path), None, f"unknown columns {', '.join(unknown) or '(none)'} or no "
                                          f"patient_id; patients.csv takes {', '.join(PATIENT_COLUMNS)}")
            return
        key = header.index("patient_id")
        for number, cells, problem in rows:
            source = f"{path}:{number}"
            pid = (cells[key] if key < len(cells) else "").strip()
            if problem or len(cells) > len(header):
                yield Failed(source, pid or None, problem or "more cells than columns")
                seen.add(pid)
                continue
            if not pid or pid in seen:
                yield Failed(source, pid or None, "patient_id is empty" if not pid
                             else f"patient_id {pid} appears twice in patients.csv")
                continue
            seen.add(pid)
            history = _history(dict(zip(header, cells, strict=False)), pid)
            problems = []
            for table in tables:
                for child_row, packed, child_problem in db.execute(
                        f"SELECT row, cells, problem FROM {table} WHERE patient_id = ? ORDER BY row", (pid,)):
                    if child_problem:
                        problems.append(f"{table}.csv {child_problem}")
                    else:
                        _add_child(history, table, _cells(packed), child_row, folder)
            if problems:  # the patient's record is incomplete: judged on part of it, a verdict misleads
                yield Failed(source, pid, "; ".join(problems))
                continue
            yield Record(source, history)
    for table in tables:
        orphans = db.execute(f"SELECT patient_id, group_concat(row) FROM {table} GROUP BY patient_id")
        for pid, numbers in orphans:
            if pid not in seen:
                rows = numbers.split(",")
                yield Failed(f"{folder / (table + '.csv')}:{rows[0]}", pid or None,
                             f"{table}.csv row{'s' if len(rows) > 1 else ''} {', '.join(rows)}: "
                             f"patient_id {pid!r} is not in patients.csv")


def _cells(packed: str) -> dict[str, str]:
    parts = packed.split("\x1f")
    cut = parts.index("\x1e")
    return {k: v.strip() for k, v in zip(parts[:cut], parts[cut + 1:], strict=False) if v.strip()}


def _history(row: dict[str, str], pid: str) -> dict[str, Any]:
    cells = {k: v.strip() for k, v in row.items() if v and v.strip()}
    history: dict[str, Any] = {"id": pid}
    for key in ("sex", "age", "birth_year", "notes"):
        if key in cells:
            history[key] = cells[key]
    diagnosis = {k: cells[c] for k, c in (("name", "diagnosis"), ("onset", "onset"),
                                          ("angioedema", "angioedema")) if c in cells}
    if diagnosis:
        history["diagnosis"] = diagnosis
    if "comorbidities" in cells:
        history["comorbidities"] = [c.strip() for c in cells["comorbidities"].split(";") if c.strip()]
    return history


def _add_child(history: dict[str, Any], table: str, cells: dict[str, str], row: int, folder: Path) -> None:
    cells.pop("patient_id", None)
    cells.setdefault("source", f"{folder / (table + '.csv')}:{row}")  # where the item came from
    if table == "events":
        kind = cells.pop("type", None)
        table = _EVENT_TYPES.get(kind or "", "events")
        if table == "adverse_events":
            cells.pop("kind", None), cells.pop("result", None)
            cells.pop("notes", None)
        else:
            cells.pop("drug", None), cells.pop("description", None)
        if table == "events":  # an unknown event type: keep it so validation names the row
            cells["type"] = kind or ""
    history.setdefault(table, []).append(cells)
    history.setdefault("_rows", {})[f"{table}.{len(history[table]) - 1}"] = f"{table}.csv row {row}"
