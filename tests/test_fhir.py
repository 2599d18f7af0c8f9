"""FHIR R4 bundles in: the seed patients give the same report as their YAML, administrations and
prescriptions become courses, and what cannot be mapped is reported per resource."""

from __future__ import annotations

import datetime as dt

import orjson
import pytest

import ladder
from ladder.audit import audit_record_item
from ladder.readers import Record, parse, read_paths
from ladder.readers.fhir_values import SYSTEM

from .conftest import ROOT

SUBJECT = {"reference": "Patient/f1"}


def bundle(*resources: dict) -> dict:
    patient = {"resourceType": "Patient", "id": "f1", "gender": "female", "birthDate": "1970-06-01"}
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [{"resource": r} for r in (patient, *resources)]}


def given(day: dt.date, dose: float = 300, rid: str = "") -> dict:
    return {"resourceType": "MedicationAdministration", "id": rid or f"a{day}", "status": "completed",
            "subject": SUBJECT, "effectiveDateTime": day.isoformat(),
            "medicationCodeableConcept": {"coding": [{"system": "http://www.whocc.no/atc", "code": "R03DX05"}]},
            "dosage": {"dose": {"value": dose, "unit": "mg"}}}


def uas7(day: dt.date, score: int) -> dict:
    return {"resourceType": "Observation", "id": f"o{day}", "status": "final", "subject": SUBJECT,
            "code": {"coding": [{"system": SYSTEM, "code": "UAS7"}]}, "valueInteger": score,
            "effectiveDateTime": day.isoformat()}


def history(data: dict) -> dict:
    return parse(Record("test", data))  # type: ignore[return-value]


@pytest.mark.parametrize("n", range(1, 7))
def test_seed_fhir_and_yaml_give_the_same_report(n):
    yaml_report = ladder.audit(ROOT / f"cases/seed/patient-{n}.yaml").model_dump(mode="json")
    fhir_report = ladder.audit(ROOT / f"cases/fhir/seed-{n}.json").model_dump(mode="json")
    assert not fhir_report["errors"]
    refs = {}
    for name, report in (("yaml", yaml_report), ("fhir", fhir_report)):
        report["patients"][0].pop("source")
        refs[name] = _pop_refs(report)
    assert yaml_report == fhir_report
    # Where each item came from: its place in the case file, or the FHIR resource it was read from.
    assert refs["yaml"] and all(r.startswith("#/") for r in refs["yaml"])
    assert refs["fhir"] and all(r.split("/")[0] in FHIR_TYPES for r in refs["fhir"])


FHIR_TYPES = {"MedicationStatement", "MedicationRequest", "MedicationAdministration", "Observation",
              "Condition", "AdverseEvent", "AllergyIntolerance"}


def _pop_refs(node):
    """Remove (and return) every ref in a report: the one part that differs by input format."""
    found = []
    if isinstance(node, dict):
        for key in ("ref", "from_ref"):
            if isinstance(node.get(key), str):
                found.append(node.pop(key))
        for value in node.values():
            found += _pop_refs(value)
    elif isinstance(node, list):
        for value in node:
            found += _pop_refs(value)
    return found


def test_repeated_administrations_become_courses_split_where_the_interval_changes(book):
    start = dt.date(2023, 1, 2)
    q4w = [start + dt.timedelta(days=28 * i) for i in range(7)]
    q2w = [q4w[-1] + dt.timedelta(days=28) + dt.timedelta(days=14 * i) for i in range(7)]
    data = bundle(*[given(d) for d in q4w + q2w], uas7(q4w[-1] + dt.timedelta(days=27), 30),
                  uas7(q2w[-1] + dt.timedelta(days=13), 28))
    courses = history(data)["courses"]
    assert [(c["drug"], c["frequency"], c["start"], c["end"]) for c in courses] == [
        ("omalizumab", "every 4 weeks", "2023-01-02", "2023-07-31"),   # 8 doses; the 8th is 4 weeks on
        ("omalizumab", "every 2 weeks", "2023-07-31", "2023-10-23")]
    item = audit_record_item(Record("b.json", data), book)
    assert item["refractory"]["status"] == "met"
    assert item["step"]["code"] == "OMA+"


def test_a_dose_change_also_starts_a_new_course():
    start = dt.date(2023, 1, 2)
    doses = [given(start + dt.timedelta(days=28 * i), 150 if i < 3 else 300) for i in range(6)]
    assert [c["dose"] for c in history(bundle(*doses))["courses"]] == [150, 300]


def test_a_prescription_with_a_validity_period_is_a_course():
    request = {"resourceType": "MedicationRequest", "id": "r1", "status": "completed", "intent": "order",
               "subject": SUBJECT, "authoredOn": "2023-01-01",
               "medicationCodeableConcept": {"text": "Zyrtec"},
               "dispenseRequest": {"validityPeriod": {"start": "2023-01-01", "end": "2023-02-01"}},
               "dosageInstruction": [{"timing": {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}},
                                      "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg"}}]}]}
    [course] = history(bundle(request))["courses"]
    assert course == {"drug": "Zyrtec", "dose": 10.0, "unit": "mg", "frequency": "four times daily",
                      "start": "2023-01-01", "end": "2023-02-01", "source": "MedicationRequest/r1"}


def test_what_cannot_be_mapped_is_reported_per_resource(book):
    statement = {"resourceType": "MedicationStatement", "id": "ms1", "status": "completed", "subject": SUBJECT,
                 "medicationCodeableConcept": {"text": "cetirizine"},
                 "dosage": [{"text": "two tablets when itchy"}]}
    odd = {"resourceType": "Observation", "id": "o9", "status": "final", "subject": SUBJECT,
           "code": {"text": "DLQI"}, "valueInteger": 12}
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished",
                 "class": {"code": "AMB"}, "subject": SUBJECT}
    item = audit_record_item(Record("b.json", bundle(statement, odd, encounter)), book)
    messages = {f["message"] for f in item["findings"] if f["code"] == "DQ005"}
    assert messages == {"MedicationStatement/ms1: dosage only in free text: 'two tablets when itchy'",
                        "Observation/o9: code 'DLQI' is not a score or screening ladder knows",
                        "Encounter/e1: resource type not used by ladder"}


def test_a_partial_date_is_unknown_and_said_so_never_the_first_of_the_month(book):
    statement = {"resourceType": "MedicationStatement", "id": "ms2", "status": "completed",
                 "subject": SUBJECT, "medicationCodeableConcept": {"text": "omalizumab"},
                 "effectivePeriod": {"start": "2023-04", "end": "2023-10-15"}}
    score = {**uas7(dt.date(2023, 5, 1), 30), "effectiveDateTime": "2023"}
    dose = {**given(dt.date(2023, 1, 1)), "effectiveDateTime": "2023-01"}
    item = audit_record_item(Record("b.json", bundle(statement, score, dose)), book)
    assert "error" not in item
    messages = {f["message"] for f in item["findings"] if f["code"] == "DQ005"}
    assert messages == {
        "MedicationStatement/ms2: effectivePeriod.start 2023-04 is not a full date: read as unknown",
        "Observation/o2023-05-01: effectiveDateTime 2023 is not a full date: read as unknown",
        "MedicationAdministration/a2023-01-01: administration without a full date (2023-01)"}
    [course] = history(bundle(statement))["courses"]
    assert "start" not in course and course["end"] == "2023-10-15"


def test_a_timing_it_cannot_read_is_reported_not_dropped():
    statement = {"resourceType": "MedicationStatement", "id": "ms3", "status": "completed",
                 "subject": SUBJECT, "medicationCodeableConcept": {"text": "omalizumab"},
                 "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 0, "periodUnit": "wk"}}}]}
    assert history(bundle(statement))["unmapped"] == ["MedicationStatement/ms3: timing.repeat period 0 wk not read"]


def test_intolerance_is_an_adverse_event_not_a_failure():
    allergy = {"resourceType": "AllergyIntolerance", "id": "ai1", "type": "intolerance", "patient": SUBJECT,
               "code": {"text": "omalizumab"}, "recordedDate": "2023-03-01"}
    assert history(bundle(allergy))["adverse_events"] == [
        {"description": "intolerance: omalizumab", "drug": "omalizumab", "date": "2023-03-01",
         "source": "AllergyIntolerance/ai1"}]


def test_age_from_the_birth_date_at_the_last_record():
    data = history(bundle(uas7(dt.date(2024, 5, 31), 10)))
    assert (data["birth_year"], data["age"]) == (1970, 53)


def test_an_invalid_bundle_is_an_error_naming_the_field(book):
    bad = bundle({"resourceType": "Observation", "id": "o1", "status": "final", "code": {"text": "UAS7"},
                  "valueInteger": "lots"})
    item = audit_record_item(Record("b.json", bad), book)
    assert item["error"]["message"].startswith("not a valid FHIR R4 Bundle: entry.1.resource")


def test_ndjson_of_bundles_and_invalid_values_name_the_resource(tmp_path, book):
    bad_dose = bundle({"resourceType": "MedicationStatement", "id": "ms7", "status": "completed",
                       "subject": SUBJECT, "medicationCodeableConcept": {"text": "cetirizine"},
                       "dosage": [{"doseAndRate": [{"doseQuantity": {"value": -10, "unit": "mg"}}]}]})
    path = tmp_path / "bundles.ndjson"
    seed = orjson.loads((ROOT / "cases/fhir/seed-1.json").read_bytes())
    path.write_bytes(orjson.dumps(seed) + b"\n" + orjson.dumps(bad_dose) + b"\n")
    items = [audit_record_item(r, book) for r in read_paths([path])]
    assert items[0]["id"] == "seed-1" and items[0]["refractory"]["status"] == "met"
    assert items[1]["error"] == {"source": f"{path}:2", "patient": "f1",
                                 "message": "MedicationStatement/ms7: dose: Input should be greater than 0"}


def test_the_library_takes_a_bundle_as_a_mapping():
    data = orjson.loads((ROOT / "cases/fhir/seed-5.json").read_bytes())
    report = ladder.audit(data)
    assert report.patients[0].id == "seed-5" and report.patients[0].refractory.status == "not_met"
    assert ladder.audit([data, {"id": "plain"}]).patients[1].id == "plain"


@pytest.mark.parametrize("condition, fires", [
    ({}, True),                                                             # no end: still pregnant
    ({"abatementDateTime": "2024-05-01"}, False),                            # delivered before the JAK
    ({"clinicalStatus": {"coding": [{"code": "resolved"}]}}, False),         # ended, day not recorded
    ({"clinicalStatus": {"coding": [{"code": "active"}]}}, True)])
def test_a_conditions_abatement_and_clinical_status_are_read(book, condition, fires):
    """A pregnancy's abatementDateTime was ignored: it ran on to the audit date, and a JAK inhibitor
    started months after delivery read as given in pregnancy (critical PRG001)."""
    pregnancy = {"resourceType": "Condition", "id": "c1", "subject": SUBJECT, "code": {"text": "pregnancy"},
                 "onsetDateTime": "2024-01-01", **condition}
    jak = {"resourceType": "MedicationStatement", "id": "m1", "status": "completed", "subject": SUBJECT,
           "medicationCodeableConcept": {"text": "abrocitinib"}, "effectivePeriod": {"start": "2024-06-01", "end": "2024-09-01"},
           "dosage": [{"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
                       "doseAndRate": [{"doseQuantity": {"value": 100, "unit": "mg"}}]}]}
    item = audit_record_item(Record("b.json", bundle(pregnancy, jak)), book, dt.date(2026, 12, 2))
    assert ("PRG001" in {f["code"] for f in item["findings"]}) is fires
