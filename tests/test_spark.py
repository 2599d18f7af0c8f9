"""The Spark integration, in Spark local mode, on the cohort the single-machine audit uses."""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter

import orjson
import pytest

from ladder.readers import read_paths
from ladder.pack_loader import load_rules
from ladder.spark import rows_of
from ladder.synthetic import cohort
from ladder.workers import audit_items

pyspark = pytest.importorskip("pyspark", reason="install the spark extra: pip install -e '.[spark]'")
if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
    pytest.skip("Spark needs Java 17 (a JDK on PATH or JAVA_HOME); none found", allow_module_level=True)


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession
    # Executors must run the Python that has ladder installed, as a cluster's would.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (SparkSession.builder.master("local[2]").appName("ladder-test")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2")
               .getOrCreate())
    yield session
    session.stop()


def without_source(rows):
    return Counter(orjson.dumps({k: v for k, v in row.items() if k != "source"}, option=orjson.OPT_SORT_KEYS)
                   for row in rows)


def test_spark_gives_the_same_results_as_the_single_machine_audit(spark, tmp_path):
    from ladder.spark import audit_dataframe
    path = tmp_path / "cohort.jsonl"
    lines = [orjson.dumps(h) for h in cohort(300, seed=3)]
    lines[10:10] = [b"{not json", orjson.dumps({"id": "neg", "courses": [{"drug": "x", "dose": -5, "unit": "mg"}]})]
    path.write_bytes(b"\n".join(lines) + b"\n")

    local = [pair for item in audit_items(read_paths([path]), load_rules(), jobs=0) for pair in rows_of(item)]
    findings, verdicts = audit_dataframe(spark.read.text(str(path)).repartition(3), column="value")
    spark_findings = [row.asDict() for row in findings.collect()]
    spark_verdicts = [row.asDict() for row in verdicts.collect()]

    assert len(spark_verdicts) == len(lines) == 302
    assert without_source(spark_verdicts) == without_source(r for kind, r in local if kind == "verdict")
    assert without_source(spark_findings) == without_source(r for kind, r in local if kind == "finding")
    assert sum(v["error"] is not None for v in spark_verdicts) == 2
