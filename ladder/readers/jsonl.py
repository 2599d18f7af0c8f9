"""JSON Lines cohorts: one history per line, streamed (memory stays flat whatever the file size).
Each line is handed on as bytes and parsed in the audit stage (see `parse_line`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

import orjson

if TYPE_CHECKING:
    from . import Failed, Record

MAX_LINE = 1024 * 1024  # a history is a few kB; a longer line is an error, never read whole


def read(path: Path) -> Iterator["Record | Failed"]:
    from . import Failed, Record

    try:
        handle = path.open("rb")
    except OSError as error:
        yield Failed(str(path), None, f"cannot read: {error.strerror}")
        return
    with handle:
        number = 0
        while True:
            line = handle.readline(MAX_LINE + 1)
            if not line:
                return
            number += 1
            source = f"{path}:{number}"
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while line and not line.endswith(b"\n"):  # skip the rest of the long line
                    line = handle.readline(MAX_LINE)
                yield Failed(source, None, f"line longer than {MAX_LINE // 1024} kB")
                continue
            if line.strip():
                # Parsed in the audit stage, so that a cohort's worker processes share the work.
                yield Record(source, line)


def parse_line(line: bytes) -> dict[str, Any]:
    """One JSON Lines record as a mapping; ValueError saying what is wrong otherwise."""
    try:
        data = orjson.loads(line)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"not valid JSON: {error}") from None
    if not isinstance(data, dict):
        raise ValueError("a line holds one patient history (a JSON object)")
    return data
