"""Every finding points at its source, whatever the input format: FHIR resourceType/id, CSV file and
row, and a case file's or JSON Lines line's item (a JSON Pointer read against the file)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ladder.cli import main

from .test_cohort import CSV_ASSESSMENTS, CSV_COURSES, CSV_EVENTS, CSV_PATIENTS, export


def refs(report: dict) -> dict[str, set[str]]:
    """Each patient's record references, from every finding's evidence."""
    return {p["id"]: {fact["ref"] for f in p["findings"] for fact in f["evidence"].values() if "ref" in fact}
            for p in report["patients"]}


def audit_json(*paths: str) -> dict:
    result = CliRunner().invoke(main, ["audit", *paths, "--format", "json", "--exit-zero"])
    return json.loads(result.output)


def test_csv_findings_name_the_file_and_row(tmp_path):
    folder = export(tmp_path, patients=CSV_PATIENTS, courses=CSV_COURSES, assessments=CSV_ASSESSMENTS,
                    events=CSV_EVENTS)
    found = refs(audit_json(str(folder)))
    assert f"{folder / 'courses.csv'}:4" in found["p1"]   # ciclosporin with hypertension (CSA001)
    assert f"{folder / 'courses.csv'}:3" in found["p2"]   # the JAK inhibitor


def test_json_lines_and_case_file_findings_name_the_item(tmp_path):
    cohort = tmp_path / "c.jsonl"
    cohort.write_text('{"id": "a", "courses": [{"drug": "cetirizine"}, {"drug": "abrocitinib", "dose": 100, '
                      '"unit": "mg", "frequency": "daily", "start": "2024-01-01", "source": "EHR order 8812"}]}\n')
    report = audit_json(str(cohort))
    assert report["patients"][0]["source"] == f"{cohort}:1"
    assert {"#/courses/0", "EHR order 8812"} <= refs(report)["a"]  # its own source when it gives one
    text = CliRunner().invoke(main, ["audit", str(cohort), "--exit-zero"]).output
    assert "[EHR order 8812]" in text  # a warning's evidence in the text report names it
    assert "#/courses/0" in refs(audit_json("cases/seed/patient-1.yaml"))["seed-1"]


def test_fhir_findings_name_the_resource():
    found = refs(audit_json("cases/fhir/seed-1.json"))["seed-1"]
    assert {"MedicationStatement/course-2", "Observation/screening-1"} <= found


def test_the_csv_report_names_each_findings_records():
    import csv
    import io
    output = CliRunner().invoke(main, ["audit", "cases/fhir/seed-1.json", "--format", "csv", "--exit-zero"]).output
    rows = list(csv.DictReader(io.StringIO(output)))
    assert list(rows[0])[-1] == "records"  # added at the end: earlier columns keep their places
    jak008 = [r["records"] for r in rows if r["code"] == "JAK008"]
    assert jak008 and all(r.startswith("Observation/screening-") for r in jak008)
