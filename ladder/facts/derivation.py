"""History -> facts: every fact the engine is told about one patient, and the verdicts derived on
the way. Pure: no I/O, no clock (the audit date is given); the only module state is caches of pure
functions (per pack, per drug name, per schedule), which a cohort writes again and again."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

from .. import conditions
from ..drugs import DrugIndex, default_index
from ..model import History
from ..rulebook import Rulebook, Step
from . import refractory
from .control import control_fact, readings
from .courses import Fact, alternative_readings, course_facts, episode_days, now_day, step_tests
from .next_step import next_fact
from .reactions import reactions
from .screening import screening_ref, screens

_NOT_TOLERATED = {"adverse_event", "intolerance"}
# The record fields a ladder verdict needs from a course, and what to call them.
_NEEDED = (("dose", "dose"), ("interval_days", "frequency"), ("days", "dates or duration"))


@dataclass
class PatientFacts:
    """Everything the engine is told about one patient, and the verdicts derived on the way."""

    facts: list[Fact]
    patient: Fact
    verdict: refractory.Verdict
    definitions: list[tuple[Any, refractory.Verdict]] = field(default_factory=list)  # (spec, verdict)


def derive(history: History, book: Rulebook, index: DrugIndex | None = None,
           as_of: date | None = None) -> PatientFacts:
    """The facts of one history, audited as of `as_of` (an ongoing course runs to it, or to the
    record's observed_until; with neither, to the record's last date)."""
    index = index or default_index()
    now = now_day(history, as_of)  # the day an ongoing course or an open condition runs to
    courses, issues = course_facts(history, book, index, now)
    readings_of_both = alternative_readings(courses, book, index)
    seen = readings(history, book.control)
    trials = _trials(courses, book)
    verdict = refractory.evaluate(book.refractory, courses, seen, history.complete)
    patient = _patient(history, courses)
    control = control_fact(seen, _current(courses))
    others = [(spec, refractory.evaluate(spec, courses, seen, history.complete)) for spec in book.definitions]
    facts: list[Fact] = [
        patient, *courses, *readings_of_both, *trials, *_escalations(courses, trials),
        # Only the steps and drug classes some check asks about: another could match no check.
        *_steps(book, courses, _asked_for(book, "step", "code")),
        *_conditions(history, book, now), *_screenings(history, book), *screens(history, book, courses + readings_of_both),
        *reactions(history, index),
        *_drug_classes(courses, index, _asked_for(book, "drug_class", "class")),
        control, *next_fact(book, patient, trials, control),
        _refractory_fact(book, verdict), *issues,
        *({"id": f"definition-{n}", "type": "definition", "definition": spec.id, "label": spec.label or spec.id,
           "status": other.status, "missing": "; ".join(other.missing), "reason": other.reason}
          for n, (spec, other) in enumerate(others, start=1)), *_missing_values(courses),
        *({"id": f"dq-unmapped-{n}", "type": "dq", "issue": "unmapped", "detail": what}
          for n, what in enumerate(history.unmapped, start=1)),
        *({"id": f"dq-exception-{n}", "type": "dq", "issue": "unknown_exception",
           "detail": f"an exception is documented for {e.code!r}, which no check of {book.pack.id} has"}
          for n, e in enumerate(history.exceptions, start=1)
          if e.code.upper() not in {c.code for c in book.checks}),
    ]
    return PatientFacts(facts, patient, verdict, others)


def _current(courses: list[Fact]) -> list[Fact]:
    """The current treatment: the course begun last (of those dated) and the earlier courses of its
    episode (a dose step-down continues the treatment that controlled the disease), first first."""
    dated = [c for c in courses if "start_day" in c]
    if not dated:
        return []
    episode = [max(dated, key=lambda c: c["start_day"])]
    while episode[0]["continues"] == "yes":
        position = courses.index(episode[0])
        earlier = next((c for c in reversed(courses[:position]) if c["drug"] == episode[0]["drug"]), None)
        if earlier is None:
            break
        episode.insert(0, earlier)
    return episode


def _patient(history: History, courses: list[Fact]) -> Fact:
    top = max((c for c in courses if "step_rank" in c), key=lambda c: c["step_rank"], default=None)
    fact: Fact = {"id": "patient", "type": "patient", "sex": history.sex,
                  "angioedema": history.diagnosis.angioedema, "courses": len(courses),
                  "assessments": len(history.assessments),
                  "step": top["step"] if top else "none",
                  "step_label": top["step_label"] if top else "no ladder step recorded",
                  "step_rank": top["step_rank"] if top else 0}
    if history.age is not None:
        fact["age"] = history.age
    return fact


def _trials(courses: list[Fact], book: Rulebook) -> list[Fact]:
    """One trial per episode at a step: consecutive courses of one drug at one step (a dose or
    schedule change) are judged together."""
    groups: list[list[Fact]] = []
    for course in courses:
        group = next((g for g in reversed(groups) if g[-1]["drug"] == course["drug"]), None)
        if group and course["continues"] == "yes" and course.get("step") == group[-1].get("step"):
            group.append(course)
        else:
            groups.append([course])
    trials = []
    for number, group in enumerate(groups):
        before = next((g for g in reversed(groups[:number]) if g[-1]["drug"] == group[0]["drug"]), None)
        trial = _trial(group, book, before)
        if trial:
            trials.append(trial)
    return trials


def _trial(group: list[Fact], book: Rulebook, before: list[Fact] | None = None) -> Fact | None:
    """`before`: the previous episode of the same drug, if any (a lower dose after it stopped in
    remission is a deliberate step-down, not an under-dosed trial)."""
    first, last = group[0], group[-1]
    step = _steps_by_code(book).get(first.get("step"))
    if step is None or step.trial is None:
        return None
    spec = step.trial
    days = episode_days(group)
    floor = _dose_floor(spec, first["drug"])
    dosed, dose = _dosed(group, floor, spec.min_days) if floor else (True, None)
    missing = []
    if dosed is None:
        missing.append(f"dose in {floor[1]}")  # type: ignore[index]
    if days is None:
        missing.append("duration (dates or length)")
    short = days is not None and days < spec.min_days
    if dosed is False and _stepped_down(before, group, floor):
        verdict = "step_down"
    elif dosed is False:
        verdict = "under_dosed"
    elif last.get("stop_reason") in _NOT_TOLERATED:
        # Stopped for a reaction: not an adequate trial of a tolerated treatment, however long (three
        # 4-weekly doses, each followed by worsening and chest discomfort, are 12 weeks).
        verdict = "not_tolerated"
    elif short:
        verdict = "ongoing" if last.get("ongoing") == "yes" else "too_short"
    elif missing:
        verdict = "unknown"
    else:
        verdict = "adequate"
    fact: Fact = {"id": f"trial-{first['id']}", "type": "trial", "course": first["id"],
                  "courses": ", ".join(c["id"] for c in group), "drug": first["drug"],
                  "ref": ", ".join(c["ref"] for c in group),
                  "step": step.code, "step_label": step.label, "verdict": verdict,
                  "min_days": spec.min_days, "missing": ", ".join(missing)}
    if floor:
        fact["min_dose_text"] = f"{floor[0]:g} {floor[1]}"
        if dose is not None:
            fact["dose_text"] = f"{dose:g} {floor[1]}"
    for key, value in (("days", days), ("dose", dose if floor and floor[1] == "mg" else None),
                       ("start", first.get("start")), ("end", last.get("end")),
                       ("stop_reason", last.get("stop_reason")),
                       ("min_dose_mg", floor[0] if floor and floor[1] == "mg" else None)):
        if value is not None:
            fact[key] = value
    return fact


def _stepped_down(before: list[Fact] | None, group: list[Fact], floor: tuple[float, str] | None) -> bool:
    """A lower dose given after the same drug controlled the disease (the earlier episode stopped in
    remission): a taper, as the guideline advises for a complete response."""
    if not before or not floor or before[-1].get("stop_reason") != "remission":
        return False
    key = "dose" if floor[1] == "mg" else "mg_per_kg_day"
    earlier, now = before[-1].get(key), group[0].get(key)
    return earlier is not None and now is not None and now < earlier


def _dose_floor(spec: Any, drug: str) -> tuple[float, str] | None:
    """The step's minimum dose for this drug: (amount, unit), or None when the step sets none."""
    if drug in spec.min_dose_mg_by_drug:
        return spec.min_dose_mg_by_drug[drug], "mg"
    if spec.min_dose_mg:
        return spec.min_dose_mg, "mg"
    if spec.min_mg_per_kg_day:
        return spec.min_mg_per_kg_day, "mg/kg/day"
    return None


def _dosed(group: list[Fact], floor: tuple[float, str], min_days: int) -> tuple[bool | None, float | None]:
    """Whether the episode had its step's dose, judged per course: time at a lower dose does not
    count (16 weeks at 150 mg then one 300 mg dose is under-dosed). None when a dose is unknown
    (an amount in mg for a weight-based floor, with no weight, is unknown). Also the highest dose."""
    key = "dose" if floor[1] == "mg" else "mg_per_kg_day"
    doses = [c.get(key) if key != "dose" or c.get("unit") == "mg" else None for c in group]
    if None in doses:
        return None, None
    highest = max(doses)  # type: ignore[type-var]
    adequate = [c for c, d in zip(group, doses) if d >= floor[0]]  # type: ignore[operator]
    if not adequate:
        return False, highest
    at_dose = [c.get("days") for c in adequate]
    if len(adequate) < len(group) and None not in at_dose and sum(at_dose) < min_days:  # type: ignore[arg-type]
        return False, highest
    return True, highest


@lru_cache(maxsize=16)
def _steps_by_code(book: Rulebook) -> dict[str, Step]:
    """The pack's steps by code (looked up for every trial)."""
    return {step.code: step for step in book.steps}


def _escalations(courses: list[Fact], trials: list[Fact]) -> list[Fact]:
    """Each step's first course, paired with the highest lower-step course begun before it."""
    by_course = {course: t for t in trials for course in t["courses"].split(", ")}
    dated = sorted((c for c in courses if "step_rank" in c and "start_day" in c),
                   key=lambda c: (c["start_day"], c["step_rank"]))
    out, seen_steps = [], set()
    for course in dated:
        if course["step"] in seen_steps:
            continue
        seen_steps.add(course["step"])
        earlier = [c for c in dated if c["start_day"] < course["start_day"]
                   and c["step_rank"] < course["step_rank"] and c["id"] in by_course]
        if not earlier:
            continue
        source = max(earlier, key=lambda c: (c["step_rank"], c["start_day"]))
        trial = by_course[source["id"]]
        fact = {"id": f"escalation-{course['id']}", "type": "escalation",
                "from_course": source["id"], "from_drug": source["drug"],
                "from_step": source["step"], "from_verdict": trial["verdict"],
                "min_days": trial["min_days"], "to_course": course["id"],
                "to_drug": course["drug"], "to_step": course["step"], "to_start": course["start"],
                "gap_days": course["start_day"] - source["start_day"],
                "from_ref": source["ref"], "ref": course["ref"]}
        if "days" in source:
            fact["from_days"] = source["days"]
        out.append(fact)
    return out


def _steps(book: Rulebook, courses: list[Fact], codes: frozenset[str] | None = None) -> list[Fact]:
    """A fact per step (of `codes`, or every step): reached yes, no, or unknown."""
    at_step: dict[str, list[Fact]] = {}
    for course in courses:
        if "step" in course:
            at_step.setdefault(course["step"], []).append(course)
    uncertain = [c for c in courses if c.get("step_certain") == "no"]
    out = []
    for code, test, template in _step_facts(book, codes):
        found = at_step.get(code, [])
        # A course placed lower only because its dose or schedule is unknown might have reached
        # this step (an antihistamine of unknown dose might be up-dosed; never omalizumab).
        fact = {**template, "reached": "yes" if found else (
            "unknown" if any(test(c) is None for c in uncertain) else "no")}
        first = min((c["start_day"] for c in found if "start_day" in c), default=None)
        if first is not None:
            fact["first_start_day"] = first
            fact["first_start"] = next(c["start"] for c in found if c.get("start_day") == first)
        out.append(fact)
    return out


@lru_cache(maxsize=16)
def _step_facts(book: Rulebook, codes: frozenset[str] | None) -> list[tuple[str, conditions.Predicate, Fact]]:
    """Each step's (of `codes`, or all) code, compiled match, and the fields of its fact that never
    change."""
    return [(step.code, test, {"id": f"step-{step.code}", "type": "step", "code": step.code,
                               "label": step.label, "rank": rank})
            for rank, step, test in step_tests(book) if codes is None or step.code in codes]


@lru_cache(maxsize=64)
def _asked_for(book: Rulebook, kind: str, field: str) -> frozenset[Any] | None:
    """The values of `field` that the pack's checks ask of a `kind` fact, or None when some check
    takes any value (most patients have no course of most drug classes, and the checks name two)."""
    values: set[Any] = set()
    for check in book.checks:
        for _, pattern_kind, condition in check.patterns:
            if pattern_kind == kind:
                plain = dict(conditions.plain_tests(condition))
                if field not in plain:
                    return None
                values.update(plain[field])
    return frozenset(values)


def _conditions(history: History, book: Rulebook, now: int | None) -> list[Fact]:
    """Comorbidities the pack's checks know, matched by name (contained words) or code prefix."""
    known = [(number, condition, _categories(book, condition.name, condition.code))
             for number, condition in enumerate(history.comorbidities, start=1)]
    return [{"id": f"condition-{category}-{number}", "type": "condition", "category": category,
             "name": condition.name, "ref": history.ref("comorbidities", number - 1), **_span(condition, now)}
            for category in book.conditions for number, condition, categories in known
            if category in categories]


def _span(condition: Any, now: int | None) -> Fact:
    """A condition's dates as day numbers: from its onset to its end; with an onset and no end it
    continues to the audit date, unless the record says it has ended (status resolved): then its
    end is unknown, and no overlap with it can be judged."""
    out: Fact = {"status": condition.status or ("resolved" if condition.end else "unknown")}
    if condition.onset:
        out.update(onset=condition.onset.isoformat(), onset_day=condition.onset.toordinal())
        if condition.end is None and now is not None and condition.status != "resolved":
            out.update(end="ongoing", end_day=max(now, out["onset_day"]))
    if condition.end:
        out.update(end=condition.end.isoformat(), end_day=condition.end.toordinal())
    return out


@lru_cache(maxsize=4096)  # a cohort writes a few hundred comorbidities
def _categories(book: Rulebook, name: str, code: str | None) -> tuple[str, ...]:
    """The pack's condition categories a comorbidity falls in."""
    written = f" {' '.join(name.lower().split())} "
    return tuple(category for category, spec in book.conditions.items()
                 if any(f" {known.lower()} " in written for known in spec.names)
                 or (code and any(code.upper().startswith(prefix.upper()) for prefix in spec.codes)))


def _screenings(history: History, book: Rulebook) -> list[Fact]:
    out = []
    for group, spec in book.screenings.items():
        kinds = spec.kinds
        found = [s for s in history.screenings if s.kind in kinds]
        fact: Fact = {"id": f"screening-{group}", "type": "screening", "group": group,
                      "documented": "yes" if found else "no", "kinds": ", ".join(kinds)}
        dated = sorted((s for s in found if s.date), key=lambda s: s.date)  # type: ignore[arg-type,return-value]
        if dated:
            fact["date"], fact["result"] = dated[-1].date.isoformat(), dated[-1].result  # type: ignore[union-attr]
            fact["first_day"] = dated[0].date.toordinal()  # type: ignore[union-attr]
            fact["ref"] = screening_ref(history, dated[-1])
        elif found:
            fact["result"], fact["ref"] = found[-1].result, screening_ref(history, found[-1])
        if found:
            fact["undated"] = "yes" if len(dated) < len(found) else "no"
        out.append(fact)
    return out


def _drug_classes(courses: list[Fact], index: DrugIndex,
                  classes: frozenset[str] | None = None) -> list[Fact]:
    """One fact per catalog class (of `classes`, or every class), present or not, so a check can
    ask for 'no omalizumab' without a negation (durable_rules' none() depends on assertion order)."""
    members: dict[str, list[Fact]] = {}
    for course in courses:
        members.setdefault(course["class"], []).append(course)
    out = []
    for cls, absent in _class_facts(index, classes):
        found = members.get(cls)
        if not found:
            out.append(dict(absent))
            continue
        fact: Fact = {**absent, "courses": len(found),
                      "use": f"{len(found)} courses" if len(found) > 1 else "intermittent use",
                      "repeated": "yes" if len(found) > 1 or any(
                          c.get("schedule") == "intermittent" for c in found) else "no"}
        durations = [c["days"] for c in found if "days" in c]
        if durations:
            fact["longest_days"] = max(durations)
        out.append(fact)
    return out


@lru_cache(maxsize=16)
def _class_facts(index: DrugIndex, classes: frozenset[str] | None) -> tuple[tuple[str, Fact], ...]:
    """Each catalog class's (of `classes`, or all) fact when the record has no course of it."""
    return tuple((cls, {"id": f"class-{cls}", "type": "drug_class", "class": cls, "label": label,
                        "courses": 0, "repeated": "no"})
                 for cls, label in index.catalog.classes.items() if classes is None or cls in classes)


def _refractory_fact(book: Rulebook, verdict: refractory.Verdict) -> Fact:
    return {"id": "refractory", "type": "refractory", "status": verdict.status,
            "definition": book.refractory.id, "missing": "; ".join(verdict.missing),
            "reason": verdict.reason}


def _missing_values(courses: list[Fact]) -> list[Fact]:
    """Courses on the ladder whose dose, schedule or dates the record does not give."""
    out = []
    for course in courses:
        if "step" not in course:
            continue
        absent = [name for key, name in _NEEDED if key not in course
                  and not (key == "dose" and "multiple" in course)
                  and not (key == "interval_days" and "schedule" in course)]
        if absent:
            out.append({"id": f"dq-missing-{course['id']}", "type": "dq", "issue": "missing_value",
                        "course": course["id"], "drug": course["written"], "ref": course["ref"],
                        "field": ", ".join(absent),
                        "detail": f"{course['written']}: {', '.join(absent)} not recorded"})
    return out

