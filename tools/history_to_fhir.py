"""Write a ladder case file as a FHIR R4 Bundle (collection), with ladder's local codes and
extensions where FHIR has no element (README: FHIR). Used to build cases/fhir/ from cases/seed/:

    .venv/bin/python tools/history_to_fhir.py cases/seed/patient-1.yaml > cases/fhir/seed-1.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from ladder.model import History, interval_days
from ladder.readers.fhir_values import EXTENSION, SYSTEM

STOP_TEXT = {"ineffective": "ineffective", "adverse_event": "adverse event", "intolerance": "intolerance",
             "remission": "remission", "patient_choice": "patient choice",
             "planned_switch": "planned switch", "unknown": "unknown"}
SCREENING_CODES = {"tb": "tb-screening", "hepatitis_b": "hepatitis-b-screening",
                   "hepatitis_c": "hepatitis-c-screening", "hepatitis": "hepatitis-screening",
                   "hiv": "hiv-screening"}


def local(code: str) -> dict[str, Any]:
    return {"coding": [{"system": SYSTEM, "code": code}], "text": code}


def bundle(history: History) -> dict[str, Any]:
    pid = history.id
    subject = {"reference": f"Patient/{pid}"}
    patient: dict[str, Any] = {"resourceType": "Patient", "id": pid, "gender": history.sex}
    last = max([d for c in history.courses for d in (c.start, c.end) if d] +
               [a.date for a in history.assessments if a.date], default=None)
    if history.age is not None and last is not None:
        patient["birthDate"] = str(last.year - history.age)  # the year only: age at the last record
    extensions: list[dict[str, Any]] = []
    if history.anchor:
        extensions.append({"url": EXTENSION + "anchor", "valueDate": history.anchor.date.isoformat(),
                           "extension": [{"url": "meaning", "valueString": history.anchor.meaning}]})
    if history.observed_until:
        extensions.append({"url": EXTENSION + "observed-until", "valueDate": history.observed_until.isoformat()})
    if history.complete is not None:
        extensions.append({"url": EXTENSION + "record-complete", "valueBoolean": history.complete})
    if extensions:
        patient["extension"] = extensions
    resources: list[dict[str, Any]] = [patient]
    diagnosis = history.diagnosis
    condition: dict[str, Any] = {"resourceType": "Condition", "id": "csu", "subject": subject,
                                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm",
                                                      "code": "L50.1"}], "text": diagnosis.name},
                                 "extension": [{"url": EXTENSION + "angioedema", "valueCode": diagnosis.angioedema}]}
    if diagnosis.onset:
        condition["onsetDateTime"] = diagnosis.onset.isoformat()
    resources.append(condition)
    for n, comorbidity in enumerate(history.comorbidities, start=1):
        code: dict[str, Any] = {"text": comorbidity.name}
        if comorbidity.code:
            code["coding"] = [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": comorbidity.code}]
        resource: dict[str, Any] = {"resourceType": "Condition", "id": f"comorbidity-{n}", "subject": subject,
                                    "code": code}
        if comorbidity.onset:
            resource["onsetDateTime"] = comorbidity.onset.isoformat()
        if comorbidity.end:
            resource["abatementDateTime"] = comorbidity.end.isoformat()
        if comorbidity.status:
            resource["clinicalStatus"] = {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": comorbidity.status}]}
        resources.append(resource)
    course_ids = {}
    for n, course in enumerate(history.courses, start=1):
        statement = medication_statement(course, f"course-{n}", subject)
        course_ids.setdefault(course.drug, statement["id"])
        resources.append(statement)
    for n, a in enumerate(history.assessments, start=1):
        observation: dict[str, Any] = {"resourceType": "Observation", "id": f"assessment-{n}", "status": "final",
                                       "subject": subject}
        if a.instrument == "clinician":
            observation.update(code=local("clinician-response"), valueCodeableConcept=local(a.judgement))
        else:
            observation.update(code=local(a.instrument), valueInteger=a.score)
        if a.course is not None:
            position = history.course_index(a.course)
            observation["focus"] = [{"reference": f"MedicationStatement/course-{position + 1}"}]
        finish(observation, a.date, a.notes)
        resources.append(observation)
    for n, s in enumerate(history.screenings, start=1):
        observation = {"resourceType": "Observation", "id": f"screening-{n}", "status": "final",
                       "subject": subject, "code": local(SCREENING_CODES[s.kind])}
        if s.result != "unknown":
            observation["valueCodeableConcept"] = local(s.result)
        finish(observation, s.date, s.notes)
        resources.append(observation)
    for n, e in enumerate(history.adverse_events, start=1):
        event: dict[str, Any] = {"resourceType": "AdverseEvent", "id": f"adverse-event-{n}", "actuality": "actual",
                                 "subject": subject, "event": {"text": e.description}}
        if e.date:
            event["date"] = e.date.isoformat()
        if e.drug in course_ids:
            event["suspectEntity"] = [{"instance": {"reference": f"MedicationStatement/{course_ids[e.drug]}"}}]
        resources.append(event)
    return {"resourceType": "Bundle", "id": pid, "type": "collection",
            "entry": [{"fullUrl": f"urn:ladder:{r['resourceType']}/{r['id']}", "resource": r} for r in resources]}


def medication_statement(course: Any, rid: str, subject: dict[str, str]) -> dict[str, Any]:
    status = "active" if course.ongoing else ("completed" if course.end else "unknown")
    statement: dict[str, Any] = {"resourceType": "MedicationStatement", "id": rid, "status": status,
                                 "subject": subject, "medicationCodeableConcept": {"text": course.drug}}
    if course.start or course.end:
        statement["effectivePeriod"] = {k: v.isoformat() for k, v in (("start", course.start), ("end", course.end)) if v}
    if course.stop_reason:
        statement["statusReason"] = [{"text": STOP_TEXT[course.stop_reason]}]
    dosage: dict[str, Any] = {}
    if course.dose is not None:
        dosage["doseAndRate"] = [{"doseQuantity": {"value": course.dose,
                                                   "unit": "mg/kg/d" if course.unit == "mg/kg/day" else course.unit}}]
    extensions = []
    if course.frequency:
        every = interval_days(course.frequency)
        if course.frequency == "as needed":
            dosage["asNeededBoolean"] = True
        elif every is None:
            extensions.append({"url": EXTENSION + "schedule", "valueCode": course.frequency})
        elif every < 1:
            dosage["timing"] = {"repeat": {"frequency": round(1 / every), "period": 1, "periodUnit": "d"}}
        elif every % 7 == 0:
            dosage["timing"] = {"repeat": {"frequency": 1, "period": int(every // 7), "periodUnit": "wk"}}
        else:
            dosage["timing"] = {"repeat": {"frequency": 1, "period": every, "periodUnit": "d"}}
    if dosage:
        statement["dosage"] = [dosage]
    if course.dose_multiple is not None:
        extensions.append({"url": EXTENSION + "dose-multiple", "valueDecimal": course.dose_multiple})
    if course.duration_days is not None:
        extensions.append({"url": EXTENSION + "duration-days", "valueInteger": course.duration_days})
    if course.gap_before is not None:
        extensions.append({"url": EXTENSION + "gap-before", "valueString": course.gap_before})
    if extensions:
        statement["extension"] = extensions
    if course.notes:
        statement["note"] = [{"text": course.notes}]
    return statement


def finish(resource: dict[str, Any], date: Any, notes: str | None) -> None:
    if date:
        resource["effectiveDateTime"] = date.isoformat()
    if notes:
        resource["note"] = [{"text": notes}]


if __name__ == "__main__":
    data = yaml.safe_load(Path(sys.argv[1]).read_text(encoding="utf-8"))
    print(json.dumps(bundle(History.model_validate(data)), indent=2, ensure_ascii=False))
