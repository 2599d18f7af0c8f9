"""Cohort audits: streaming readers, worker processes, nothing lost, summaries."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import importlib
from ladder.cli import main
from ladder.readers import Failed, Record, read_paths
from ladder.synthetic import cohort
from ladder.workers import audit_items

ROOT_CASES = Path(__file__).resolve().parent.parent / "cases"


def write_cohort(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def poisoned_cohort(tmp_path: Path, size: int = 300) -> tuple[Path, int]:
    good = [orjson.dumps(h) for h in cohort(size, seed=3)]
    bad = [b"{not json", b"[1, 2]", orjson.dumps({"id": "neg", "courses": [{"drug": "x", "dose": -5, "unit": "mg"}]}),
           orjson.dumps({"id": "uas", "assessments": [{"instrument": "UAS7", "score": 50, "date": "2024-01-01"}]}),
           orjson.dumps({"id": "typo", "sex": "robot"}), b"\xff\xfe not utf-8",
           b'{"id": "long", "notes": "' + b"x" * (2 * 1024 * 1024) + b'"}']
    lines = good[:100] + bad + good[100:]
    return write_cohort(tmp_path / "cohort.jsonl", lines), len(good) + len(bad)


@pytest.mark.parametrize("jobs", [0, 2])
def test_every_record_yields_exactly_one_result_or_error(tmp_path, book, jobs):
    path, total = poisoned_cohort(tmp_path)
    items = list(audit_items(read_paths([path]), book, jobs))
    errors = [i["error"] for i in items if "error" in i]
    assert len(items) == total and len(errors) == 7
    assert [e["source"] for e in errors] == [f"{path}:{n}" for n in range(101, 108)]
    assert errors[2]["message"] == "courses.0.dose: Input should be greater than 0"
    assert errors[3]["message"] == "assessments.0: Value error, UAS7 score 50 is outside 0-42"
    assert "longer than 1024 kB" in errors[6]["message"]


def test_results_come_back_in_input_order_whatever_the_jobs(tmp_path, book):
    path, _ = poisoned_cohort(tmp_path, 450)
    one = list(audit_items(read_paths([path]), book, 1))
    two = list(audit_items(read_paths([path]), book, 2))
    assert one == two


def test_a_worker_crash_costs_a_retry_and_isolates_the_patient(tmp_path, book, monkeypatch):
    pipeline = importlib.import_module("ladder.audit")  # the module; ladder.audit is the function
    real = pipeline.audit_item

    def crash_on_poison(history, book, source="<memory>", as_of=None, annotate=None):
        if history.id == "syn-3-0000042":
            os.kill(os.getpid(), signal.SIGSEGV)  # as durable_rules does on input it dislikes
        return real(history, book, source, as_of, annotate)

    monkeypatch.setattr(pipeline, "audit_item", crash_on_poison)  # inherited by forked workers
    path = write_cohort(tmp_path / "c.jsonl", [orjson.dumps(h) for h in cohort(500, seed=3)])
    items = list(audit_items(read_paths([path]), book, 2))
    assert len(items) == 500
    [error] = [i["error"] for i in items if "error" in i]
    assert error["patient"] == "syn-3-0000042" and "crashed" in error["message"]
    assert error["source"] == f"{path}:42"


def test_a_crashed_patient_is_counted_as_an_error_in_the_tally(tmp_path, book, monkeypatch):
    from ladder.summary import Tally
    from ladder.workers import audit_rendered
    pipeline = importlib.import_module("ladder.audit")
    real = pipeline.audit_item

    def crash_on_poison(history, book, source="<memory>", as_of=None, annotate=None):
        if history.id == "syn-3-0000007":
            os.kill(os.getpid(), signal.SIGSEGV)
        return real(history, book, source, as_of, annotate)

    monkeypatch.setattr(pipeline, "audit_item", crash_on_poison)
    path = write_cohort(tmp_path / "c.jsonl", [orjson.dumps(h) for h in cohort(30, seed=3)])
    tally = Tally()
    outputs = list(audit_rendered(read_paths([path]), book, 2, json.dumps, tally))
    assert len(outputs) == 30 and (tally.audited, tally.errors) == (29, 1)
    assert sum('"error"' in line for line in outputs) == 1


def test_tallies_of_chunks_merge_into_the_tally_of_the_whole(tmp_path, book):
    from ladder.summary import Tally
    path, _ = poisoned_cohort(tmp_path, 60)
    items = list(audit_items(read_paths([path]), book, 0))
    whole, first, second = Tally(), Tally(), Tally()
    for number, item in enumerate(items):
        whole.add(item)
        (first if number < 30 else second).add(item)
    first.merge(second)
    assert first == whole and whole.errors == 7


def test_the_summary_lists_steps_in_ladder_order(tmp_path, book):
    from ladder.summary import Tally
    path = write_cohort(tmp_path / "c.jsonl", [orjson.dumps(h) for h in cohort(300, seed=4)])
    tally = Tally()
    for item in audit_items(read_paths([path]), book, 0):
        tally.add(item)
    ladder_order = [step.code for step in book.steps]
    listed = [step.split()[0] for step in tally.as_dict()["steps"]]
    assert listed == [code for code in ladder_order if code in listed] and len(listed) >= 4


def test_cli_jsonl_and_summary_say_read_equals_audited_plus_errors(tmp_path):
    path, total = poisoned_cohort(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, ["audit", str(path), "--format", "jsonl", "--jobs", "2"])
    assert result.exit_code == 2  # unreadable records
    lines = result.output.splitlines()
    assert len(lines) == total
    out = tmp_path / "findings.jsonl"
    out.write_text(result.output)
    summary = runner.invoke(main, ["summary", str(out), "--format", "json", "--min-cell", "0"])
    data = json.loads(summary.output)
    assert (data["read"], data["audited"], data["errors"]) == (total, total - 7, 7)
    assert sum(data["refractory"].values()) == total - 7


def test_summary_suppresses_small_cells(tmp_path):
    out = tmp_path / "f.jsonl"
    runner = CliRunner()
    path = write_cohort(tmp_path / "c.jsonl", [orjson.dumps(h) for h in cohort(40, seed=5)])
    out.write_text(runner.invoke(main, ["audit", str(path), "--format", "jsonl"]).output)
    text = runner.invoke(main, ["summary", str(out), "--min-cell", "5"]).output
    data = json.loads(runner.invoke(main, ["summary", str(out), "--format", "json"]).output)
    assert data["min_cell"] == 5
    counts = [v for v in data["refractory"].values()] + [r["patients"] for r in data["checks"].values()]
    assert all(c in (0, "<5", "*") or c >= 5 for c in counts)
    assert "<5" in json.dumps(data) and "shown as <5" in text


def test_cli_csv_output_has_a_row_per_finding_and_error(tmp_path):
    path, total = poisoned_cohort(tmp_path, 20)
    result = CliRunner().invoke(main, ["audit", str(path), "--format", "csv", "--jobs", "0"])
    rows = list(csv.DictReader(io.StringIO(result.output)))
    assert sum(r["code"] == "ERROR" for r in rows) == 7
    assert len({r["source"] for r in rows}) == total


CSV_PATIENTS = "patient_id,sex,age,comorbidities\np1,female,40,hypertension;asthma\np2,male,70,\n"
CSV_COURSES = ("patient_id,drug,dose,unit,frequency,start,end,stop_reason\n"
               "p1,omalizumab,300,mg,every 4 weeks,2023-01-01,2023-07-01,ineffective\n"
               "p2,upadacitinib,15,mg,daily,2024-01-01,,\n"
               "p1,ciclosporin,3,mg/kg/day,daily,2023-07-01,2023-10-01,ineffective\n"
               "p9,cetirizine,10,mg,daily,,,\n")
CSV_ASSESSMENTS = "patient_id,date,instrument,score,judgement\np1,2023-06-30,UAS7,30,\n"
CSV_EVENTS = ("patient_id,type,date,drug,description,kind,result\n"
              "p2,screening,2023-12-01,,,tb,negative\np1,adverse_event,2023-09-20,ciclosporin,raised BP,,\n")


def export(tmp_path: Path, **tables: str) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    for name, text in tables.items():
        (folder / f"{name}.csv").write_text(text)
    return folder


def test_csv_export_joins_tables_by_patient_id_and_reports_orphans(tmp_path, book):
    folder = export(tmp_path, patients=CSV_PATIENTS, courses=CSV_COURSES,
                    assessments=CSV_ASSESSMENTS, events=CSV_EVENTS)
    records = list(read_paths([folder]))
    p1, p2, orphan = records
    assert isinstance(p1, Record) and [c["drug"] for c in p1.data["courses"]] == ["omalizumab", "ciclosporin"]
    assert p1.data["comorbidities"] == ["hypertension", "asthma"]
    # Each child row says where it came from: the file and row (read into findings' evidence).
    assert p2.data["screenings"] == [{"date": "2023-12-01", "kind": "tb", "result": "negative",
                                      "source": f"{folder / 'events.csv'}:2"}]
    assert [c["source"] for c in p1.data["courses"]] == [f"{folder / 'courses.csv'}:{n}" for n in (2, 4)]
    assert isinstance(orphan, Failed) and orphan.patient == "p9"
    assert orphan.message == "courses.csv row 5: patient_id 'p9' is not in patients.csv"
    from ladder.audit import audit_record
    result = audit_record(p1, book)
    assert "CSA001" in {f.code for f in result.findings}


def test_csv_errors_name_the_file_row_and_field(tmp_path, book):
    from ladder.audit import audit_record
    folder = export(tmp_path, patients="patient_id\np1\n",
                    courses="patient_id,drug,dose,unit\np1,cetirizine,ten,mg\n")
    error = audit_record(next(iter(read_paths([folder]))), book)
    assert error.message == "courses.csv row 2: dose: Input should be a valid number, unable to parse string as a number"
    (tmp_path / "b").mkdir()
    [failed] = list(read_paths([export(tmp_path / "b", patients="patient_id,colour\np1,red\n")]))
    assert "unknown columns colour" in failed.message


def test_a_suppressed_cell_cannot_be_recovered_from_the_total():
    """With 2 met, 30 not met and 10 indeterminate of 42 audited, '<5' for met was 42 - 30 - 10."""
    from ladder.summary import Tally
    tally = Tally(audited=42)
    tally.verdicts.update({"met": 2, "not_met": 30, "indeterminate": 10})
    tally.steps.update({"JAK x": 3, "BIO y": 39})
    data = tally.as_dict(5)
    assert data["refractory"] == {"met": "<5", "not_met": 30, "indeterminate": "*"}
    assert data["steps"] == {"BIO y": "*", "JAK x": "<5"}
    assert tally.as_dict(0)["refractory"]["met"] == 2


def test_the_summary_shows_every_definition(tmp_path):
    out = tmp_path / "f.jsonl"
    runner = CliRunner()
    out.write_text(runner.invoke(main, ["audit", str(ROOT_CASES / "seed"), "--format", "jsonl",
                                        "--as-of", "2026-12-02"]).output)
    data = json.loads(runner.invoke(main, ["summary", str(out), "--format", "json", "--min-cell", "0"]).output)
    assert data["definitions"]["antihistamine-refractory"]["met"] >= 1
    assert sum(data["definitions"]["refractory to licensed add-on therapy"].values()) == 6
    text = runner.invoke(main, ["summary", str(out), "--min-cell", "0"]).output
    assert "antihistamine-refractory" in text and "refractory to licensed add-on therapy" in text


@pytest.mark.parametrize("jobs", ["0", "2"])
def test_a_patient_id_seen_twice_is_a_warning_naming_both_sources(tmp_path, jobs):
    lines = [orjson.dumps(h) for h in cohort(30, seed=3)]
    lines.append(lines[4])  # the same patient again, as line 31
    path = write_cohort(tmp_path / "c.jsonl", lines)
    result = CliRunner().invoke(main, ["audit", str(path), "--format", "json", "--jobs", jobs])
    warning = f"WARNING patient id 'syn-3-0000005' appears 2 times: {path}:5, {path}:31"
    assert warning in result.stderr
    document = json.loads(result.stdout)
    assert document["warnings"] == [{"duplicate_patient_id": "syn-3-0000005",
                                     "sources": [f"{path}:5", f"{path}:31"]}]
    clean = CliRunner().invoke(main, ["audit", str(write_cohort(tmp_path / "d.jsonl", lines[:30])),
                                      "--format", "json"])
    assert "warnings" not in json.loads(clean.stdout) and "WARNING" not in clean.stderr


def test_summary_of_two_audits_under_two_packs_crosstabs_who_moves(tmp_path):
    runner = CliRunner()
    seed = str(ROOT_CASES / "seed")
    first, second = tmp_path / "intl.jsonl", tmp_path / "us.jsonl"
    first.write_text(runner.invoke(main, ["audit", seed, "--format", "jsonl", "--as-of", "2026-12-02"]).stdout)
    second.write_text(runner.invoke(main, ["audit", seed, "--format", "jsonl", "--as-of", "2026-12-02",
                                           "--rules", "csu-us-2014"]).stdout)
    data = json.loads(runner.invoke(main, ["summary", str(first), str(second), "--format", "json",
                                           "--min-cell", "0"]).stdout)
    assert data["patients"] == 6 and data["steps"] == {"JAK": {"US4": 6}}
    assert sum(n for row in data["refractory"].values() for n in row.values()) == 6
    assert "antihistamine-refractory" in data["definitions"]
    other = tmp_path / "other.jsonl"
    other.write_text(second.read_text().splitlines(keepends=True)[1] + second.read_text().splitlines(keepends=True)[0])
    refused = runner.invoke(main, ["summary", str(first), str(other)])
    assert refused.exit_code == 2 and "not audits of one cohort" in refused.output


def test_a_hidden_cell_of_a_crosstab_cannot_be_recovered_from_the_patients_shown(tmp_path):
    from ladder.compare import crosstab
    def item(pid, step, status):
        return orjson.dumps({"id": pid, "source": "x", "step": {"code": step, "label": step, "rank": 1},
                             "refractory": {"status": status, "missing": []}, "findings": []})
    a = [item(f"p{n}", "BIO" if n < 20 else "JAK", "not_met") for n in range(22)]
    b = [item(f"p{n}", "US4", "not_met") for n in range(22)]
    first = write_cohort(tmp_path / "a.jsonl", a)
    second = write_cohort(tmp_path / "b.jsonl", b)
    data = crosstab(first, second, 5)
    assert data["steps"] == {"BIO": {"US4": "*"}, "JAK": {"US4": "<5"}}
