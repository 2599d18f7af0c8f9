"""Input readers: files -> histories. Readers never judge; every record read yields Loaded or Failed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..model import History
from . import cases


@dataclass(frozen=True)
class Loaded:
    source: str
    history: History


@dataclass(frozen=True)
class Failed:
    source: str
    patient: str | None
    message: str


Reader = Callable[[Path], Iterator["Loaded | Failed"]]

# One reader per file format, chosen by the file's ending.
READERS: dict[str, Reader] = {".yaml": cases.read, ".yml": cases.read, ".json": cases.read}


def read_paths(paths: Iterable[Path]) -> Iterator[Loaded | Failed]:
    """Read files and folders (recursively, in sorted order, readable formats only)."""
    for path in paths:
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in READERS)
            if not files:
                yield Failed(str(path), None, "no case files (.yaml, .yml, .json) in this folder")
            for file in files:
                yield from READERS[file.suffix](file)
        elif not path.exists():
            yield Failed(str(path), None, "no such file or folder")
        elif path.suffix in READERS:
            yield from READERS[path.suffix](path)
        else:
            yield Failed(str(path), None,
                         f"cannot read {path.suffix or 'extensionless'} files; "
                         f"ladder reads {', '.join(READERS)}")
