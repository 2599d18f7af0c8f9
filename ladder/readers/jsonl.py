"""JSON Lines cohorts: one history per line, streamed (memory stays flat whatever the file size)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Iterator

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
            if not line.strip():
                continue
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                yield Failed(source, None, f"not valid JSON: {error}")
                continue
            if not isinstance(data, dict):
                yield Failed(source, None, "a line holds one patient history (a JSON object)")
                continue
            yield Record(source, data)
