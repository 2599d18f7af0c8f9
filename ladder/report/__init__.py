"""Output formats, streamed: begin, one piece per patient (or error), end. One module per format."""

from __future__ import annotations

from . import csv_report, html, json_report, jsonl_report, text
from .base import Sink

SINKS: dict[str, type[Sink]] = {"text": text.TextSink, "json": json_report.JsonSink,
                                "jsonl": jsonl_report.JsonlSink, "csv": csv_report.CsvSink,
                                "html": html.HtmlSink}
