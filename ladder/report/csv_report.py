"""CSV: one row per finding. A patient with no finding still gets a row (empty finding columns), and
an unreadable record a row with code ERROR, so no input record is missing from the table."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from .base import StreamSink
from .words import where

# `records`, last (columns are only ever added at the end): where in the source record the
# finding's evidence came from (FHIR resources, CSV file:row, the case file's items), "; "-separated.
COLUMNS = ["patient", "source", "step", "refractory", "code", "name", "severity", "message",
           "citation", "evidence", "as_of", "records"]


class CsvSink(StreamSink):
    def begin(self, ladder: str, rules: dict[str, str], as_of: str) -> str:
        return _rows([COLUMNS])

    @staticmethod
    def render(item: dict[str, Any]) -> str:
        if "error" in item:
            error = item["error"]
            return _rows([[error["patient"] or "", error["source"], "", "", "ERROR", "", "",
                           error["message"], "", "", "", ""]])
        head = [item["id"], item["source"], item["step"]["code"], item["refractory"]["status"]]
        rows = [head + [f["code"], f["name"], f["severity"], f["message"], _cited(f["citation"]),
                        orjson.dumps(f["evidence"]).decode(), item["as_of"], _records(f, item["source"])]
                for f in item["findings"]]
        return _rows(rows or [head + [""] * 6 + [item["as_of"], ""]])


def _records(finding: dict[str, Any], source: str) -> str:
    found: list[str] = []
    for fact in finding["evidence"].values():
        ref = fact.get("ref")
        if ref:
            place = where(ref, source)
            if place not in found:
                found.append(place)
    return "; ".join(found)


def _cited(citation: dict[str, Any]) -> str:
    return citation["source"] + ("" if citation["confirmed"] else " (UNCONFIRMED)")


def _rows(rows: list[list[Any]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()
