"""Output formats, streamed: begin, one piece per patient (or error), end. One module per format."""

from __future__ import annotations

from typing import Any, Protocol

from ..summary import Tally
from . import csv_report, json_report, jsonl_report, text

Item = dict[str, Any]


class Sink(Protocol):
    def begin(self, ladder: str, rules: dict[str, str]) -> str: ...
    def item(self, item: Item) -> str: ...
    def end(self, tally: Tally) -> str: ...


SINKS: dict[str, type[Sink]] = {"text": text.TextSink, "json": json_report.JsonSink,
                                "jsonl": jsonl_report.JsonlSink, "csv": csv_report.CsvSink}
