"""Audits on Apache Spark: a DataFrame of histories (one JSON history per row) in, a findings table
(one row per finding) and a verdict table (one row per patient or error) out.

    from ladder.spark import audit_dataframe
    findings, verdicts = audit_dataframe(spark.read.text("cohort.jsonl"), column="value")

The work runs in `mapPartitions`; each executor's Python worker compiles the rule pack once and
keeps it (Spark reuses its Python workers), exactly as `ladder audit` does per worker process.
Install with `pip install 'ladder[spark]'` (pyspark; Spark needs Java 17).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Iterator

import orjson

from .audit import audit_record_item
from .engine import keep_freed_memory
from .readers import Record
from .pack_loader import parse_rules
from .rulebook import Rulebook

FINDING_COLUMNS = ["patient", "source", "code", "name", "severity", "message", "citation", "evidence"]
VERDICT_COLUMNS = ["patient", "source", "step", "refractory", "missing", "findings", "error"]
_books: dict[str, Rulebook] = {}


def _book(pack_text: str, origin: str) -> Rulebook:
    if pack_text not in _books:
        _books[pack_text] = parse_rules(pack_text, origin)
    return _books[pack_text]


def audit_partition(rows: Iterable[Any], column: str, pack_text: str, origin: str,
                    id_column: str | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """Audit one partition's rows: ("verdict", {...}) per row and ("finding", {...}) per finding."""
    book = _book(pack_text, origin)
    keep_freed_memory()  # a Spark Python worker runs partition after partition of patients
    for number, row in enumerate(rows):
        value = row[column]
        source = f"row {row[id_column]}" if id_column else f"partition row {number + 1}"
        raw = value.encode() if isinstance(value, str) else bytes(value or b"")
        item = audit_record_item(Record(source, raw), book)
        yield from rows_of(item)


def rows_of(item: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """A result as table rows: one verdict row, and one row per finding."""
    if "error" in item:
        error = item["error"]
        yield "verdict", {"patient": error["patient"], "source": error["source"], "step": None,
                          "refractory": None, "missing": None, "findings": 0, "error": error["message"]}
        return
    yield "verdict", {"patient": item["id"], "source": item["source"], "step": item["step"]["code"],
                      "refractory": item["refractory"]["status"],
                      "missing": "; ".join(item["refractory"]["missing"]),
                      "findings": len(item["findings"]), "error": None}
    for finding in item["findings"]:
        yield "finding", {"patient": item["id"], "source": item["source"], "code": finding["code"],
                          "name": finding["name"], "severity": finding["severity"],
                          "message": finding["message"], "citation": finding["citation"]["source"],
                          "evidence": orjson.dumps(finding["evidence"]).decode()}


def audit_dataframe(frame: Any, column: str = "history", rules: str | Path | None = None,
                    id_column: str | None = None) -> tuple[Any, Any]:
    """(findings, verdicts) DataFrames for a DataFrame whose `column` holds JSON histories."""
    from pyspark.sql.types import IntegerType, StringType, StructField, StructType

    from .pack_loader import load_rules

    book = load_rules(rules)
    origin = book.origin
    pack_text = Path(origin).read_text(encoding="utf-8") if origin != "<string>" else None
    if pack_text is None:
        raise ValueError("pass the rule pack as a path or a packaged pack's name")
    keep = [column] + ([id_column] if id_column else [])
    tagged = frame.select(*keep).rdd.mapPartitions(
        lambda rows: audit_partition(rows, column, pack_text, origin, id_column)).cache()
    text = StructType([StructField(name, StringType()) for name in FINDING_COLUMNS])
    verdict = StructType([StructField(name, IntegerType() if name == "findings" else StringType())
                          for name in VERDICT_COLUMNS])
    spark = frame.sparkSession
    findings = spark.createDataFrame(
        tagged.filter(lambda pair: pair[0] == "finding").map(lambda pair: [pair[1][c] for c in FINDING_COLUMNS]), text)
    verdicts = spark.createDataFrame(
        tagged.filter(lambda pair: pair[0] == "verdict").map(lambda pair: [pair[1][c] for c in VERDICT_COLUMNS]), verdict)
    return findings, verdicts
