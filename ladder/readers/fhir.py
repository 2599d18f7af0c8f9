"""FHIR R4 Bundles -> patient histories (parsed with fhir.resources' R4B models, which read R4).

Mapped: Patient (gender, birthDate), Condition (CSU by ICD-10 L50.1/L50.8 or SNOMED 126485001, else
a comorbidity), MedicationStatement / MedicationRequest / MedicationAdministration (medication by
text, coding display or ATC code; Dosage doseQuantity and timing.repeat), Observation (UAS7, UCT,
AAS7, a clinician's response judgement and infection screenings, by ladder's local code system,
since LOINC has no code for these scores), AdverseEvent and AllergyIntolerance (intolerance, not
failure). Repeated administrations become courses: the interval between doses is derived, and a
change of interval or dose starts a new course. What cannot be mapped is listed per resource in the
history's `unmapped`, which the default pack reports (DQ005); nothing is dropped silently.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from pydantic import ValidationError

from ..model import schedule_words

from .fhir_values import (_UNITS, _administered_course, _age, _code, _extension,
                          _extension_text, _full_day, _put, _ref, _runs, _text)

SCORES = {"UAS7", "UCT", "AAS7"}
SCREENINGS = {"tb-screening": "tb", "hepatitis-b-screening": "hepatitis_b",
              "hepatitis-c-screening": "hepatitis_c", "hepatitis-screening": "hepatitis",
              "hiv-screening": "hiv"}
CSU_CODES = {"L50.1", "L50.8", "126485001"}
_UNIT_DAYS = {"d": 1, "wk": 7, "mo": 28, "h": 1 / 24, "min": 1 / 1440, "s": 1 / 86400, "a": 365}
_STOP_WORDS = [("ineffective", "ineffective"), ("no response", "ineffective"), ("efficacy", "ineffective"),
               ("adverse", "adverse_event"), ("side effect", "adverse_event"),
               ("intoleran", "intolerance"), ("remission", "remission"), ("patient", "patient_choice"),
               ("switch", "planned_switch")]
_GENDER = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
_MEDICATION_TYPES = ("MedicationStatement", "MedicationRequest", "MedicationAdministration")


def is_bundle(data: Any) -> bool:
    return isinstance(data, dict) and data.get("resourceType") == "Bundle"


def history_from_bundle(data: dict[str, Any]) -> dict[str, Any]:
    """A history mapping (for the model to validate) from one patient's Bundle.
    Raises ValueError naming the resource and field when the Bundle is not valid FHIR."""
    from fhir.resources.R4B.bundle import Bundle

    wrong = _wrong_resource_type(data)
    if wrong:
        raise ValueError(f"not a valid FHIR R4 Bundle: {wrong}")
    try:
        bundle = Bundle.model_validate(data)
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(f"not a valid FHIR R4 Bundle: {where}: {first['msg']}") from None
    except (TypeError, KeyError, AttributeError) as error:  # fhir.resources' own validators, on odd shapes
        raise ValueError(f"not a valid FHIR R4 Bundle: {type(error).__name__}: {error}") from None
    resources = [entry.resource for entry in bundle.entry or [] if entry.resource is not None]
    return _Mapper(bundle, resources).history()


def _wrong_resource_type(data: Any) -> str | None:
    """Where a resourceType is not an R4 type (fhir.resources' validators raise KeyError or TypeError
    for it instead of a validation error), walked without recursion."""
    from fhir.resources.R4B import get_fhir_model_class

    stack: list[tuple[str, Any]] = [("", data)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            if "resourceType" in node:
                kind = node["resourceType"]
                try:
                    get_fhir_model_class(kind) if isinstance(kind, str) else None
                except (ValueError, KeyError):
                    kind = None
                if not isinstance(kind, str):
                    return f"{where or 'resourceType'}: {node['resourceType']!r} is not an R4 resource type"
            stack.extend((f"{where}.{key}".lstrip("."), value) for key, value in node.items()
                         if isinstance(value, (dict, list)))
        elif isinstance(node, list):
            stack.extend((f"{where}.{index}", value) for index, value in enumerate(node)
                         if isinstance(value, (dict, list)))
    return None


class _Mapper:
    def __init__(self, bundle: Any, resources: list[Any]) -> None:
        self.bundle, self.resources = bundle, resources
        self.by_ref = {f"{r.get_resource_type()}/{r.id}": r for r in resources if r.id}
        self.out: dict[str, Any] = {"courses": [], "assessments": [], "adverse_events": [],
                                    "screenings": [], "comorbidities": [], "unmapped": []}
        self.rows: dict[str, str] = {}
        self.course_refs: dict[str, int] = {}  # "MedicationStatement/x" -> the course's position from 1

    def history(self) -> dict[str, Any]:
        administrations = []
        for resource in self.resources:
            kind = resource.get_resource_type()
            handler = getattr(self, f"_{kind}", None)
            if kind == "MedicationAdministration":
                administrations.append(resource)
            elif handler:
                handler(resource)
            elif kind != "Medication":
                self._unmapped(resource, "resource type not used by ladder")
        self._administrations(administrations)
        self._judged_courses()
        out = {k: v for k, v in self.out.items() if v}
        out.setdefault("id", self.bundle.id or "unidentified")
        if "birth" in out:
            out.update(_age(out.pop("birth"), self._last_date()))
        out["_rows"] = self.rows
        return out

    # --- resources

    def _Patient(self, patient: Any) -> None:
        self.out["id"] = patient.id or self.bundle.id or "unidentified"
        if patient.gender:
            self.out["sex"] = _GENDER.get(patient.gender, "unknown")
        if patient.birthDate:
            self.out["birth"] = str(patient.birthDate)
        anchor = _extension(patient, "anchor")  # published cases: relative times anchored to a date
        if anchor is not None and anchor.valueDate:
            self.out["anchor"] = {"date": anchor.valueDate.isoformat(), "meaning": _extension_text(anchor)}
        until = _extension(patient, "observed-until")  # how far the record reaches
        if until is not None and until.valueDate:
            self.out["observed_until"] = until.valueDate.isoformat()
        complete = _extension(patient, "record-complete")
        if complete is not None and complete.valueBoolean is not None:
            self.out["complete"] = complete.valueBoolean

    def _Condition(self, condition: Any) -> None:
        codes = {c.code for c in (condition.code.coding or [])} if condition.code else set()
        name = _text(condition.code) or "unnamed condition"
        onset = self._when(condition, condition.onsetDateTime, "onsetDateTime")
        if codes & CSU_CODES or "urticaria" in name.lower():
            diagnosis = {"name": name}
            if onset:
                diagnosis["onset"] = onset
            angioedema = _extension(condition, "angioedema")
            if angioedema is not None and angioedema.valueCode:
                diagnosis["angioedema"] = angioedema.valueCode
            self.out["diagnosis"] = diagnosis
            return
        entry = {"name": name, "source": _ref(condition)}
        icd = next((c.code for c in condition.code.coding or [] if "icd" in (c.system or "").lower()), None) \
            if condition.code else None
        if icd:
            entry["code"] = icd
        if onset:
            entry["onset"] = onset
        ended = self._when(condition, condition.abatementDateTime, "abatementDateTime")
        if ended:
            entry["end"] = ended  # a pregnancy's delivery, a condition's resolution
        # clinicalStatus: codes of http://terminology.hl7.org/CodeSystem/condition-clinical
        status = next((c.code for c in condition.clinicalStatus.coding or [] if c.code), None) \
            if condition.clinicalStatus else None
        if status in ("active", "recurrence", "relapse", "inactive", "remission", "resolved"):
            entry["status"] = "active" if status in ("active", "recurrence", "relapse") else "resolved"
        self.out["comorbidities"].append(entry)

    def _MedicationStatement(self, statement: Any) -> None:
        course = self._medication(statement, statement.dosage[0] if statement.dosage else None)
        period = statement.effectivePeriod
        if period:
            _put(course, "start", self._when(statement, period.start, "effectivePeriod.start"))
            _put(course, "end", self._when(statement, period.end, "effectivePeriod.end"))
        else:
            _put(course, "start", self._when(statement, statement.effectiveDateTime, "effectiveDateTime"))
        self._status(statement, course)
        self._add_course(statement, course)

    def _MedicationRequest(self, request: Any) -> None:
        dosage = request.dosageInstruction[0] if request.dosageInstruction else None
        course = self._medication(request, dosage)
        bounds = dosage.timing.repeat.boundsPeriod if dosage and dosage.timing and dosage.timing.repeat else None
        validity = request.dispenseRequest.validityPeriod if request.dispenseRequest else None
        period = bounds or validity
        _put(course, "start", self._when(request, period.start, "period start") if period
             else self._when(request, request.authoredOn, "authoredOn"))
        if period:
            _put(course, "end", self._when(request, period.end, "period end"))
        self._status(request, course)
        self._add_course(request, course)

    def _Observation(self, observation: Any) -> None:
        code = _code(observation.code)
        when = self._when(observation, observation.effectiveDateTime, "effectiveDateTime") \
            if observation.effectiveDateTime else self._when(
                observation, observation.effectivePeriod.end if observation.effectivePeriod else None,
                "effectivePeriod.end")
        if code in SCORES:
            value = observation.valueInteger if observation.valueInteger is not None else (
                observation.valueQuantity.value if observation.valueQuantity else None)
            if value is None:
                return self._unmapped(observation, f"{code} without a value")
            entry: dict[str, Any] = {"instrument": code, "score": int(value)}
        elif code == "clinician-response":
            entry = {"instrument": "clinician", "judgement": _code(observation.valueCodeableConcept)}
        elif code in SCREENINGS:
            entry = {"kind": SCREENINGS[code], "source": _ref(observation)}
            result = _code(observation.valueCodeableConcept)
            if result in ("negative", "positive"):
                entry["result"] = result
            _put(entry, "date", when)
            self._note(observation, entry)
            self.out["screenings"].append(entry)
            return None
        else:
            return self._unmapped(observation, f"code {code or _text(observation.code)!r} is not a "
                                               f"score or screening ladder knows")
        _put(entry, "date", when)
        entry["source"] = _ref(observation)
        focus = [f.reference for f in observation.focus or [] if f.reference]
        if focus:  # Observation.focus: the course the score or judgement is about (resolved below)
            entry["course"] = focus[0]
        self._note(observation, entry)
        self.rows[f"assessments.{len(self.out['assessments'])}"] = _ref(observation)
        self.out["assessments"].append(entry)
        return None

    def _AdverseEvent(self, event: Any) -> None:
        entry = {"description": _text(event.event) or "adverse event", "source": _ref(event)}
        _put(entry, "date", self._when(event, event.date, "date"))
        for suspect in event.suspectEntity or []:
            target = self.by_ref.get(suspect.instance.reference or "") if suspect.instance else None
            if target is not None and target.get_resource_type() in (*_MEDICATION_TYPES, "Medication"):
                entry["drug"] = self._drug_name(target) if target.get_resource_type() != "Medication" \
                    else _text(target.code)
        self.out["adverse_events"].append(entry)

    def _AllergyIntolerance(self, allergy: Any) -> None:
        entry = {"description": f"{allergy.type or 'allergy or intolerance'}: {_text(allergy.code) or 'unnamed'}",
                 "drug": _text(allergy.code) or None, "source": _ref(allergy)}
        _put(entry, "date", self._when(allergy, allergy.onsetDateTime or allergy.recordedDate, "date"))
        self.out["adverse_events"].append({k: v for k, v in entry.items() if v})

    # --- medications

    def _drug_name(self, resource: Any) -> str | None:
        concept = resource.medicationCodeableConcept
        if concept is None and resource.medicationReference is not None:
            medication = self.by_ref.get(resource.medicationReference.reference or "")
            concept = medication.code if medication is not None else None
        if concept is None:
            return None
        from ..drugs import default_index
        for coding in concept.coding or []:
            if "atc" in (coding.system or "").lower():
                drug = default_index().by_atc(coding.code or "")
                if drug:
                    return drug.generic
        return _text(concept)

    def _medication(self, resource: Any, dosage: Any) -> dict[str, Any]:
        name = self._drug_name(resource)
        if not name:
            self._unmapped(resource, "medication has no text, display or known ATC code")
        course: dict[str, Any] = {"drug": name or "unnamed medication"}
        if dosage is not None:
            course.update(self._dosage(resource, dosage))
        schedule = _extension(resource, "schedule")  # 'intermittent': no FHIR Timing says it
        if schedule is not None and schedule.valueCode:
            course["frequency"] = schedule.valueCode
        multiple = _extension(resource, "dose-multiple")
        if multiple is not None and multiple.valueDecimal is not None:
            course["dose_multiple"] = float(multiple.valueDecimal)
        duration = _extension(resource, "duration-days")
        if duration is not None and duration.valueInteger is not None:
            course["duration_days"] = duration.valueInteger
        gap = _extension(resource, "gap-before")  # 'restarted a year later'
        if gap is not None and gap.valueString:
            course["gap_before"] = gap.valueString
        self._note(resource, course)
        return course

    def _dosage(self, resource: Any, dosage: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        quantity = dosage.doseAndRate[0].doseQuantity if dosage.doseAndRate else None
        if quantity is not None and quantity.value is not None:
            unit = _UNITS.get((quantity.code or quantity.unit or "").strip())
            if unit:
                out.update(dose=float(quantity.value), unit=unit)
            else:
                self._unmapped(resource, f"dose unit {quantity.unit or quantity.code!r} not mg, mg/kg or mg/kg/d")
        repeat = dosage.timing.repeat if dosage.timing else None
        if dosage.asNeededBoolean:
            out["frequency"] = "as needed"
        elif repeat is not None and repeat.period and repeat.periodUnit in _UNIT_DAYS:
            every = float(repeat.period) * _UNIT_DAYS[repeat.periodUnit] / (repeat.frequency or 1)
            out["frequency"] = schedule_words(every)
        elif repeat is not None and (repeat.period is not None or repeat.periodUnit):
            self._unmapped(resource, f"timing.repeat period {repeat.period} {repeat.periodUnit} not read")
        if dosage.text and ("frequency" not in out or "dose" not in out):
            self._unmapped(resource, f"dosage only in free text: {dosage.text!r}")
        return out

    def _status(self, resource: Any, course: dict[str, Any]) -> None:
        if resource.status in ("active", "in-progress", "on-hold") and "end" not in course:
            course["ongoing"] = True
        reasons = getattr(resource, "statusReason", None)
        reason = reasons[0] if isinstance(reasons, list) and reasons else reasons
        text = (_text(reason) or "").lower() if reason is not None else ""
        if text:
            course["stop_reason"] = next((value for word, value in _STOP_WORDS if word in text), "unknown")

    def _administrations(self, administrations: list[Any]) -> None:
        """Doses given one by one -> courses: a new course when the interval or the dose changes."""
        by_drug: dict[str, list[tuple[dt.date, Any, Any]]] = defaultdict(list)
        for given in administrations:
            when = given.effectiveDateTime or (given.effectivePeriod.start if given.effectivePeriod else None)
            day = _full_day(when)
            if day is None:
                self._unmapped(given, f"administration without a full date ({when or 'none'})")
                continue
            by_drug[self._drug_name(given) or "unnamed medication"].append((day, given, given.dosage))
        for drug, doses in by_drug.items():
            doses.sort(key=lambda d: d[0])
            runs = _runs(doses)
            for position, run in enumerate(runs):
                course = _administered_course(drug, run)
                if position + 1 < len(runs) and course.get("end", "") > runs[position + 1][0][0].isoformat():
                    course["end"] = runs[position + 1][0][0].isoformat()  # the next schedule took over
                course["source"] = _administered(run)
                self._add_course(run[0][1], course)

    def _add_course(self, resource: Any, course: dict[str, Any]) -> None:
        self.rows[f"courses.{len(self.out['courses'])}"] = _ref(resource)
        course.setdefault("source", _ref(resource))
        self.out["courses"].append(course)
        self.course_refs[_ref(resource)] = len(self.out["courses"])

    def _judged_courses(self) -> None:
        """An assessment's focus, a reference to a medication resource, as that course's position."""
        for number, entry in enumerate(self.out["assessments"]):
            if "course" in entry:
                reference = entry.pop("course")
                if reference in self.course_refs:
                    entry["course"] = self.course_refs[reference]
                else:
                    self.out["unmapped"].append(f"{self.rows[f'assessments.{number}']}: focus "
                                                f"{reference} is not a course ladder read")

    def _note(self, resource: Any, entry: dict[str, Any]) -> None:
        notes = [n.text for n in getattr(resource, "note", None) or [] if n.text]
        if notes:
            entry["notes"] = " ".join(notes)

    def _when(self, resource: Any, value: Any, what: str) -> str | None:
        """A full date as ISO text. FHIR allows '2023-04' or '2023': such a date is unknown, and the
        resource says so (never read as the first of the month)."""
        day = _full_day(value)
        if value and day is None:
            self._unmapped(resource, f"{what} {value} is not a full date: read as unknown")
        return day.isoformat() if day else None

    def _unmapped(self, resource: Any, why: str) -> None:
        self.out["unmapped"].append(f"{_ref(resource)}: {why}")

    def _last_date(self) -> dt.date | None:
        found = [c.get(k) for c in self.out["courses"] for k in ("start", "end")]
        found += [a.get("date") for a in self.out["assessments"]]
        dates = [dt.date.fromisoformat(d) for d in found if d]
        return max(dates) if dates else None


def _administered(run: list[tuple[dt.date, Any, Any]]) -> str:
    """The administrations grouped into one course: each named, or the first and last of a long run."""
    refs = [_ref(dose[1]) for dose in run]
    text = ", ".join(refs)
    return text if len(text) <= 400 else f"{refs[0]} .. {refs[-1]} ({len(refs)} administrations)"
