"""JSON Lines: one patient per line, as in the JSON report; an unreadable record is {"error": {...}}."""

from __future__ import annotations

from typing import Any

import orjson

from ..summary import Tally


class JsonlSink:
    def begin(self, ladder: str, rules: dict[str, str]) -> str:
        return ""

    def item(self, item: dict[str, Any]) -> str:
        return orjson.dumps(item).decode() + "\n"

    def end(self, tally: Tally) -> str:
        return ""
