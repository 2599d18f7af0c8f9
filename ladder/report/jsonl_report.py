"""JSON Lines: one patient per line, as in the JSON report; an unreadable record is {"error": {...}}."""

from __future__ import annotations

from typing import Any

import orjson

from .base import StreamSink


class JsonlSink(StreamSink):
    @staticmethod
    def render(item: dict[str, Any]) -> bytes:
        return orjson.dumps(item, option=orjson.OPT_APPEND_NEWLINE)  # UTF-8, written as it is
