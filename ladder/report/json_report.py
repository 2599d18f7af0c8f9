"""The JSON report (the stable contract in README.md): one document, so it holds every patient in
memory until the end. For cohorts use JSON Lines."""

from __future__ import annotations

import json
from typing import Any

from ..summary import Tally


class JsonSink:
    def __init__(self) -> None:
        self.document: dict[str, Any] = {}

    def begin(self, ladder: str, rules: dict[str, str], as_of: str) -> str:
        self.document = {"ladder": ladder, "as_of": as_of, "rules": rules, "patients": [], "errors": []}
        return ""

    @staticmethod
    def render(item: dict[str, Any]) -> dict[str, Any]:
        return item

    def write(self, item: dict[str, Any]) -> str:
        if "error" in item:
            self.document["errors"].append(item["error"])
        else:
            self.document["patients"].append(item)
        return ""

    def end(self, tally: Tally) -> str:
        return json.dumps(self.document, indent=2, ensure_ascii=False) + "\n"
