"""Property-based tests: generated bad input thrown at every reader and at the pipeline. Nothing may
raise an unhandled exception or hang; every record yields exactly one result or one error."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ladder.audit import audit_record_item
from ladder.readers import read_paths
from ladder.pack_loader import load_rules

BOOK = load_rules()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) |
                      st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)
dates = st.one_of(st.dates().map(str), st.text(max_size=12), st.none())
courses = st.fixed_dictionaries({"drug": st.sampled_from(["omalizumab", "cetirizine", "Xeljanz", "zz", ""])},
                                optional={"dose": scalars, "unit": st.sampled_from(["mg", "mg/kg/day", "g", None]),
                                          "frequency": st.sampled_from(["daily", "every 2 weeks", "weird", None]),
                                          "start": dates, "end": dates, "ongoing": st.booleans(),
                                          "duration_days": scalars, "dose_multiple": scalars,
                                          "stop_reason": st.sampled_from(["ineffective", "bad", None])})
assessments = st.fixed_dictionaries({"instrument": st.sampled_from(["UAS7", "UCT", "AAS7", "clinician", "X"])},
                                    optional={"score": scalars, "date": dates,
                                              "judgement": st.sampled_from(["responded", "partial", "meh"])})
histories = st.fixed_dictionaries({"id": st.one_of(st.text(min_size=1, max_size=10), scalars)},
                                  optional={"age": scalars, "sex": st.sampled_from(["female", "x"]),
                                            "courses": st.lists(courses, max_size=5),
                                            "assessments": st.lists(assessments, max_size=4),
                                            "comorbidities": st.lists(st.text(max_size=15), max_size=3),
                                            "screenings": st.lists(st.fixed_dictionaries(
                                                {"kind": st.sampled_from(["tb", "hiv", "xx"])}), max_size=2),
                                            "extra": values})


def one_each(paths: list[Path]) -> list[dict]:
    items = [audit_record_item(record, BOOK) for record in read_paths(paths)]
    for item in items:
        assert ("error" in item) != ("id" in item)
    return items


@FAST
@given(history=histories)
def test_generated_histories_yield_a_result_or_an_error(history):
    from ladder.readers import Record
    item = audit_record_item(Record("gen", history), BOOK)
    assert ("error" in item) != ("findings" in item)


@FAST
@given(blob=st.binary(max_size=400))
def test_any_bytes_as_a_case_file(tmp_path, blob):
    path = tmp_path / "case.yaml"
    path.write_bytes(blob)
    assert len(one_each([path])) == 1


@FAST
@given(lines=st.lists(st.one_of(st.binary(max_size=80), histories.map(lambda h: json.dumps(h, default=str).encode())),
                      max_size=8))
def test_any_lines_as_json_lines(tmp_path, lines):
    path = tmp_path / "cohort.jsonl"
    path.write_bytes(b"\n".join(line.replace(b"\n", b" ") for line in lines) + b"\n")
    expected = sum(1 for line in lines if line.replace(b"\n", b" ").strip())
    assert len(one_each([path])) == expected


@FAST
@given(patients=st.text(max_size=200), courses=st.text(max_size=200))
def test_any_text_as_a_csv_export(tmp_path, patients, courses):
    folder = tmp_path / "export"
    folder.mkdir(exist_ok=True)
    (folder / "patients.csv").write_text("patient_id,age\n" + patients)
    (folder / "courses.csv").write_text("patient_id,drug,dose,unit\n" + courses)
    one_each([folder])


# FHIR: bundles of the resources ladder maps, with valid, partial and invalid values in the places
# records get wrong (dates of every precision, odd units, free-text dosages, missing codes).
fhir_dates = st.one_of(st.dates(dt.date(1990, 1, 1), dt.date(2030, 1, 1)).map(str),
                       st.sampled_from(["2023", "2023-04", "2023-04-01T10:00:00Z"]), st.text(max_size=10))
ids = st.from_regex(r"[a-z0-9]{1,4}", fullmatch=True)
numbers = st.one_of(st.integers(-5, 700), st.floats(0, 700), scalars)
quantity = st.fixed_dictionaries({}, optional={"value": numbers, "unit": st.sampled_from(["mg", "mg/kg", "g", None])})
medication = st.one_of(st.fixed_dictionaries({"text": st.sampled_from(["omalizumab", "Zyrtec", "??", ""])}),
                       st.fixed_dictionaries({"coding": st.lists(st.fixed_dictionaries(
                           {"system": st.sampled_from(["http://www.whocc.no/atc", "x"]),
                            "code": st.sampled_from(["R03DX05", "L04AF03", "Z99"])}), max_size=2)}))
dosage = st.fixed_dictionaries({}, optional={
    "text": st.text(max_size=15), "doseQuantity": quantity,
    "timing": st.fixed_dictionaries({"repeat": st.fixed_dictionaries({}, optional={
        "frequency": numbers, "period": numbers, "periodUnit": st.sampled_from(["d", "wk", "mo", "h", "x"])})})})
resources = st.one_of(
    st.fixed_dictionaries({"resourceType": st.just("MedicationStatement"), "id": ids,
                           "status": st.sampled_from(["active", "completed", "stopped", "bogus"]),
                           "subject": st.just({"reference": "Patient/p"}), "medicationCodeableConcept": medication},
                          optional={"effectivePeriod": st.fixed_dictionaries({}, optional={"start": fhir_dates, "end": fhir_dates}),
                                    "effectiveDateTime": fhir_dates, "dosage": st.lists(dosage, max_size=2)}),
    st.fixed_dictionaries({"resourceType": st.just("MedicationAdministration"), "id": ids,
                           "status": st.just("completed"), "subject": st.just({"reference": "Patient/p"}),
                           "medicationCodeableConcept": medication, "effectiveDateTime": fhir_dates},
                          optional={"dosage": st.fixed_dictionaries({}, optional={"dose": quantity})}),
    st.fixed_dictionaries({"resourceType": st.just("Observation"), "id": ids,
                           "status": st.just("final"),
                           "code": st.fixed_dictionaries({"coding": st.just([{"system": "https://ladder.invalid/fhir/CodeSystem/csu",
                                                                              "code": "UAS7"}])})},
                          optional={"valueInteger": numbers, "effectiveDateTime": fhir_dates}),
    st.fixed_dictionaries({"resourceType": st.just("Condition"), "id": ids, "subject": st.just({"reference": "Patient/p"}),
                           "code": st.fixed_dictionaries({"text": st.sampled_from(["hypertension", "urticaria", ""])})},
                          optional={"onsetDateTime": fhir_dates}),
    st.fixed_dictionaries({"resourceType": st.just("AdverseEvent"), "id": ids, "actuality": st.just("actual"),
                           "subject": st.just({"reference": "Patient/p"})}, optional={"date": fhir_dates}),
    st.fixed_dictionaries({"resourceType": st.just("AllergyIntolerance"), "id": ids,
                           "patient": st.just({"reference": "Patient/p"})},
                          optional={"recordedDate": fhir_dates, "extra": values}),
)
bundles = st.fixed_dictionaries({"resourceType": st.just("Bundle"), "type": st.sampled_from(["collection", "nonsense"]),
                                 "entry": st.lists(resources.map(lambda r: {"resource": r}), max_size=5)})


@settings(FAST, max_examples=200)
@given(bundle=bundles)
def test_generated_fhir_bundles_yield_a_result_or_an_error(bundle):
    from ladder.readers import Record
    item = audit_record_item(Record("gen.json", bundle), BOOK)
    assert ("error" in item) != ("findings" in item)
    event("audited" if "findings" in item else "error record")


day = st.dates(dt.date(2018, 1, 1), dt.date(2026, 11, 30))
valid_courses = st.builds(
    lambda drug, dose, every, start, days, how: {
        "drug": drug, "dose": dose, "unit": "mg", "frequency": every,
        **({"start": str(start)} if how != "undated" else {}),
        **({"end": str(start + dt.timedelta(days=days))} if how == "dated" else {}),
        **({"ongoing": True} if how == "ongoing" else {}),
        **({"duration_days": days} if how in ("undated", "length") else {})},
    st.sampled_from(["omalizumab", "cetirizine", "ciclosporin", "abrocitinib", "Xolair (dupilumab)", "prednisolone",
                     "montelukast", "<b>x</b>"]),
    st.sampled_from([10, 150, 300, 600]), st.sampled_from(["daily", "every 2 weeks", "every 4 weeks", "as needed"]),
    day, st.integers(1, 400), st.sampled_from(["dated", "ongoing", "undated", "length", "start only"]))
valid_histories = st.fixed_dictionaries(
    {"id": st.text(min_size=1, max_size=12).filter(str.strip), "courses": st.lists(valid_courses, max_size=6)},
    optional={"age": st.integers(0, 100),
              "assessments": st.lists(st.builds(lambda d, n: {"instrument": "UAS7", "score": n, "date": str(d)},
                                                day, st.integers(0, 42)), max_size=4),
              "screenings": st.lists(st.builds(lambda k, d, r: {"kind": k, "date": str(d), "result": r},
                                               st.sampled_from(["tb", "hepatitis_b"]), day,
                                               st.sampled_from(["negative", "positive", "unknown"])), max_size=2),
              "adverse_events": st.lists(st.builds(lambda d, t: {"date": str(d), "description": t or "x"},
                                                   day, st.text(max_size=30)), max_size=2)})


@FAST
@given(history=valid_histories)
def test_generated_histories_draw_their_timeline_and_page_without_raising(history):
    """The HTML path: the timeline's data, its figure and the patient's section, for any record that
    audits (and the text wording of every finding's evidence)."""
    from ladder.readers import Record
    from ladder.report.html import HtmlSink
    from ladder.report.text import patient_block
    from ladder.report.timeline import model
    item = audit_record_item(Record("gen", history), BOOK, dt.date(2026, 12, 2), model)
    event("audited" if "error" not in item else "input error")
    if "error" in item:
        return
    assert item["timeline"] is not None and len(item["timeline"]["bars"]) == len(history.get("courses", []))
    kind, (section, _, path) = HtmlSink.render(item)
    assert kind == "patient" and "could not be drawn" not in section and path
    patient_block(item)
