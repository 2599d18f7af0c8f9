"""Input readers: files -> raw patient records. Readers parse; they never validate or judge.

Every record read yields a Record (a history as a mapping, or a History) or a Failed naming the
source (file, and line or row where there is one) and what is wrong. Validation against the model
happens in the audit stage, so that it runs in the worker processes of a cohort audit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..model import History


@dataclass(frozen=True)
class Record:
    source: str
    data: dict[str, Any] | History | bytes  # bytes: a JSON Lines line, parsed in the audit stage


@dataclass(frozen=True)
class Failed:
    source: str
    patient: str | None
    message: str


Reader = Callable[[Path], Iterator["Record | Failed"]]


def _readers() -> dict[str, Reader]:
    from . import cases, csv_tables, jsonl
    return {".yaml": cases.read, ".yml": cases.read, ".json": cases.read,
            ".jsonl": jsonl.read, ".ndjson": jsonl.read, csv_tables.FOLDER: csv_tables.read}


def read_paths(paths: Iterable[Path]) -> Iterator[Record | Failed]:
    """Read files and folders. A folder holding patients.csv is a CSV export; any other folder is
    read recursively, in sorted order, for case files and JSON Lines cohorts."""
    readers = _readers()
    from .csv_tables import FOLDER, is_export
    for path in paths:
        if path.is_dir() and is_export(path):
            yield from readers[FOLDER](path)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in readers)
            if not files:
                yield Failed(str(path), None, "no case files (.yaml, .yml, .json, .jsonl) in this folder")
            for file in files:
                yield from readers[file.suffix](file)
        elif not path.exists():
            yield Failed(str(path), None, "no such file or folder")
        elif path.suffix in readers:
            yield from readers[path.suffix](path)
        else:
            known = ", ".join(k for k in readers if k.startswith("."))
            yield Failed(str(path), None, f"cannot read {path.suffix or 'extensionless'} files; "
                                          f"ladder reads {known} and CSV export folders")


def parse(record: Record) -> dict[str, Any] | History:
    """The record's history as a mapping (or History); ValueError when a raw line is not one."""
    from .fhir import history_from_bundle, is_bundle
    data = record.data
    if isinstance(data, bytes):
        from .jsonl import parse_line
        data = parse_line(data)
    if not isinstance(data, (dict, History)):
        raise ValueError(f"a history is a mapping of fields (a YAML or JSON object), not {type(data).__name__}")
    return history_from_bundle(data) if is_bundle(data) else data


def patient_id(data: Any) -> str | None:
    """The patient id of a raw record, when it has a usable one (for error records)."""
    value = data.get("id") if isinstance(data, dict) else None
    return printable(value) if isinstance(value, str) else None


def printable(text: str) -> str:
    """Text every output can write: a lone surrogate (a YAML escape, a file name of invalid
    UTF-8) is written as its escape instead of failing the whole report."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
