"""JSON Lines: one patient per line, as in the JSON report; an unreadable record is {"error": {...}}."""

from __future__ import annotations

from typing import Any

import orjson

from .base import StreamSink


class JsonlSink(StreamSink):
    @staticmethod
    def render(item: dict[str, Any]) -> str:
        return orjson.dumps(item).decode() + "\n"
