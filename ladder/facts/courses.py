"""Courses -> course facts: generic drug, class, day numbers, duration, daily dose, multiple, step."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from .. import conditions
from ..drugs import Drug, DrugIndex
from ..model import Course, History, interval_days, irregular
from ..rulebook import Rulebook, Step

Fact = dict[str, Any]


def day(value: date | None) -> int | None:
    return value.toordinal() if value else None


def last_recorded_day(history: History) -> int | None:
    """The last date the record speaks of."""
    dates = [history.anchor.date if history.anchor else None, history.diagnosis.onset]
    dates += [d for c in history.courses for d in (c.start, c.end)]
    dates += [a.date for a in history.assessments] + [s.date for s in history.screenings]
    dates += [e.date for e in history.adverse_events]
    known = [d for d in dates if d]
    return max(known).toordinal() if known else None


def now_day(history: History, as_of: date | None) -> int | None:
    """'Now' for an ongoing course: the last day the record covers when it says so
    (observed_until), else the audit date; never before the record's own last date. With neither
    (a caller that gives no audit date), the record's last date."""
    last = last_recorded_day(history)
    bound = history.observed_until or as_of
    if bound is None:
        return last
    return max(bound.toordinal(), last) if last is not None else bound.toordinal()


def course_facts(history: History, book: Rulebook, index: DrugIndex,
                 now: int | None = None) -> tuple[list[Fact], list[Fact]]:
    """One fact per course (an ongoing one runs to the day `now`, see now_day), and the
    data-quality facts met on the way."""
    courses: list[Fact] = []
    issues: list[Fact] = []
    for number, course in enumerate(history.courses, start=1):
        # The engine's fact ids are ladder's own (durable_rules crashes the process on a duplicate
        # or reserved id); the record's own id travels as data.
        fact, found = _course_fact(course, f"course-{number}", now, index, book.standard_doses)
        if course.id is not None:
            fact["source_id"] = course.id
        fact["ref"] = history.ref("courses", number - 1)  # where it came from: data, never an id
        fact["reading_of"] = fact["id"]  # the record's course this fact reads (one, or two readings)
        for issue in found:
            issue["ref"] = fact["ref"]
        if course.gap_before_days is not None:
            fact["gap_before_days"] = course.gap_before_days
        _assign_step(fact, book, index)
        earlier = next((c for c in reversed(courses) if c["drug"] == fact["drug"]), None)
        fact["continues"] = "yes" if earlier and continues(earlier, fact) else "no"
        courses.append(fact)
        issues.extend(found)
    return courses, issues


def alternative_readings(courses: list[Fact], book: Rulebook, index: DrugIndex) -> list[Fact]:
    """A course whose drug is uncertain between two (a brand of another drug beside the generic) read
    as the other drug too, so that the checks on that drug's class and name are judged for both
    readings ('Neoral (abrocitinib)': the JAK checks and the ciclosporin checks). These facts reach
    the checks only: steps, trials and verdicts count each course once, at the lower step."""
    out = []
    for course in courses:
        other = index.resolve(course["alternative"]).drug if "alternative" in course else None
        if other is None or other.drug_class == course["class"]:
            continue  # of one class (two JAK inhibitors), the checks are the same: judged once
        fact = {key: value for key, value in course.items()
                if key not in ("step", "step_label", "step_rank", "step_certain", "alternative", "atc")}
        fact.update(id=f"{course['id']}-alt", drug=other.generic, **{"class": other.drug_class},
                    alternative_of=course["id"])  # reading_of stays the record's course
        if other.atc:
            fact["atc"] = other.atc
        _assign_step(fact, book)
        out.append(fact)
    return out


def episode_days(group: list[Fact]) -> int | None:
    """Days on consecutive courses of one episode: from the first start to the last end when both
    are dated (a gap within one dosing interval is still treatment), else their lengths added."""
    first, last = group[0], group[-1]
    if first.get("start_day") is not None and last.get("end_day") is not None:
        return last["end_day"] - first["start_day"]
    lengths = [c.get("days") for c in group]
    return None if None in lengths else sum(lengths)  # type: ignore[arg-type]


# Stop reasons that end an episode: the drug was stopped, so giving it again is a re-treatment (a
# new trial), not a continuation. "ineffective" is not among them: a course stopped as ineffective
# and followed at once by a higher dose of the same drug is that episode's escalation.
ENDS_EPISODE = {"remission", "adverse_event", "intolerance", "patient_choice"}


def continues(previous: Fact, course: Fact) -> bool:
    """A course continues the last earlier course of the same drug (a dose or schedule change within
    one episode, not a new trial) when it began as that one ended, within one dosing interval, or
    when neither has any date (consecutive lines of an undated history), unless the record says
    they were separate: the earlier one stopped (remission, a reaction, the patient's choice) or a
    gap is stated before the later one. Otherwise it is a new episode: reporting a check twice is
    safer than missing a new course."""
    if previous["recognised"] == "no" or previous["drug"] != course["drug"]:
        return False
    if previous.get("stop_reason") in ENDS_EPISODE or \
            course.get("gap_before_days", 0) > max(1, previous.get("interval_days", 1)):
        return False
    end, start = previous.get("end_day"), course.get("start_day")
    if end is not None and start is not None:
        return 0 <= start - end <= max(1, previous.get("interval_days", 1))
    undated = ("start_day", "end_day")
    return not any(key in fact for key in undated for fact in (previous, course))


def _course_fact(course: Course, cid: str, now: int | None, index: DrugIndex,
                 standard_doses: dict[str, float] | None = None) -> tuple[Fact, list[Fact]]:
    """The course as a flat fact; a field the record leaves unknown is absent (never None)."""
    drug, head, conflict = _drug_fields(index, course.drug, course.dose, course.unit)
    fact: Fact = {"id": cid, "type": "course", **head}
    if course.stop_reason is not None:
        fact["stop_reason"] = course.stop_reason
    fact["ongoing"] = "yes" if course.ongoing else "no"
    if course.start:
        fact["start"] = course.start.isoformat()
    if course.end:
        fact["end"] = course.end.isoformat()
    issues: list[Fact] = []
    if drug is None:
        hint = index.suggest(course.drug)
        issues.append(_issue("unrecognised_drug", fact, "drug",
                             f"'{course.drug}' is not in the drug catalog"
                             + (f" (did you mean {hint}?)" if hint else "")))
    if conflict:
        brand, other = conflict
        what = f"{other} is named beside it" if brand.lower() == other.lower() else f"{brand} is a brand of {other}"
        alternative = index.resolve(other).drug
        if alternative is not None and alternative.generic != fact["drug"]:
            fact["alternative"] = alternative.generic  # the step is judged for both (_assign_step)
        issues.append(_issue("brand_mismatch", fact, "drug",
                             f"'{course.drug}': {what}, not {fact['drug']}; the drug is uncertain between "
                             f"{fact['drug']} and {other}: where their ladder steps differ, the lower is "
                             f"taken and the higher left unknown; each drug's checks are judged"))
    fact.update(_schedule(course.frequency, course.dose, course.unit, course.dose_multiple,
                          (standard_doses or {}).get(drug.generic, drug.standard_daily_mg) if drug else None))
    _timing(course, fact, now, issues)
    return fact, issues


@lru_cache(maxsize=4096)  # a cohort writes a few hundred drug names and doses
def _drug_fields(index: DrugIndex, written: str, dose: float | None,
                 unit: str | None) -> tuple[Drug | None, Fact, tuple[str, str] | None]:
    """The drug as the catalog knows it, the fields of a course fact that name it and its dose,
    and a brand written beside it that belongs to another drug."""
    match = index.resolve(written)
    drug = match.drug
    head: Fact = {"written": written, "recognised": "yes" if drug else "no",
                  "drug": drug.generic if drug else written,
                  "class": drug.drug_class if drug else "unrecognised"}
    if drug and drug.atc is not None:
        head["atc"] = drug.atc
    if dose is not None:
        head["dose"] = _number(dose)
    if unit is not None:
        head["unit"] = unit
    return drug, head, match.conflicting_brand


@lru_cache(maxsize=4096)  # a cohort writes a few hundred schedules
def _schedule(frequency: str | None, dose: float | None, unit: str | None,
              dose_multiple: float | None, standard_daily_mg: float | None) -> tuple[tuple[str, Any], ...]:
    """The schedule's fields of a course fact: its kind, interval, daily dose and multiple."""
    interval = interval_days(frequency) if frequency else None
    kind = irregular(frequency) if frequency else None
    fact: Fact = {"schedule": kind or ("regular" if interval else None),
                  "interval_days": _number(interval)}
    if dose is not None and interval:
        if unit == "mg":
            fact["daily_mg"] = _number(dose / interval)
        elif unit == "mg/kg":
            fact["mg_per_kg_day"] = _number(dose / interval)
    if unit == "mg/kg/day":
        fact["mg_per_kg_day"] = _number(dose)
    multiple = dose_multiple
    if multiple is None and standard_daily_mg and fact.get("daily_mg") is not None:
        multiple = fact["daily_mg"] / standard_daily_mg
    fact["multiple"] = _number(multiple)
    return tuple((key, value) for key, value in fact.items() if value is not None)


def _timing(course: Course, fact: Fact, now: int | None, issues: list[Fact]) -> None:
    start, length = day(course.start), course.length_days
    end = day(course.end) if course.end else (now if course.ongoing else None)
    if course.ongoing and end is not None and start is not None and end < start:
        end = start  # audited as of a day before it began: no days yet
    if end is None and start is not None and length is not None:
        end = start + length  # "from 2023-01-01 for 6 months"
    backwards = start is not None and end is not None and end < start
    if backwards:
        issues.append(_issue("end_before_start", fact, "end",
                             f"ends {course.end} before it starts {course.start}"))
    if start is not None:
        fact["start_day"] = start
    if end is not None and not backwards:
        fact["end_day"] = end
    if start is not None and end is not None:
        if not backwards:
            fact["days"] = end - start
    elif length is not None:
        fact["days"] = length


@lru_cache(maxsize=16)
def step_tests(book: Rulebook) -> list[tuple[int, Step, conditions.Predicate]]:
    """Each step's `match`, compiled once per pack."""
    return [(rank, step, conditions.compile_python(step.match))
            for rank, step in enumerate(book.steps, start=1)]


@lru_cache(maxsize=16)
def _step_fields(book: Rulebook) -> tuple[str, ...]:
    """The course fields any step's `match` reads: all that decides a course's step."""
    return tuple(sorted(set().union(*(conditions.fields(step.match) for step in book.steps))))


def _assign_step(fact: Fact, book: Rulebook, index: DrugIndex | None = None) -> None:
    """The highest ladder step the course surely qualifies for; uncertain if a higher one might.
    A course whose drug is uncertain between two (a brand of another drug written beside the
    generic) takes the lower of their steps, uncertain when they differ: never silently one drug."""
    placed = _placement(book, tuple(fact.get(field) for field in _step_fields(book)))
    if "alternative" in fact and index is not None:
        other = index.resolve(fact["alternative"]).drug
        if other is not None:
            as_other = {**fact, "drug": other.generic, "class": other.drug_class, "atc": other.atc}
            theirs = _placement(book, tuple(as_other.get(field) for field in _step_fields(book)))
            if theirs is None or placed is None or theirs[:2] != placed[:2]:
                lower = min((p for p in (placed, theirs) if p), key=lambda p: p[0], default=None)
                placed = None if theirs is None or placed is None else (lower[0], lower[1], False)  # type: ignore[index]
                if placed is None:
                    fact["step_certain"] = "no"
    if placed:
        rank, step, certain = placed
        fact.update(step=step.code, step_label=step.label, step_rank=rank,
                    step_certain="yes" if certain else "no")


@lru_cache(maxsize=4096)  # a cohort's courses share a few hundred drug, dose and schedule sets
def _placement(book: Rulebook, values: tuple[Any, ...]) -> tuple[int, Step, bool] | None:
    """The step for a course with these values of `_step_fields`: (rank, step, certain)."""
    course = {field: value for field, value in zip(_step_fields(book), values) if value is not None}
    surely, maybe = None, False
    for rank, step, test in step_tests(book):
        verdict = test(course)
        if verdict is True:
            surely, maybe = (rank, step), False
        elif verdict is None and surely is not None:
            maybe = True
    return (*surely, not maybe) if surely else None


def _issue(kind: str, course: Fact, field: str, detail: str) -> Fact:
    return {"id": f"dq-{kind}-{course['id']}", "type": "dq", "issue": kind, "course": course["id"],
            "drug": course["written"], "field": field, "detail": detail}


def _number(value: float | None) -> float | int | None:
    """Round derived numbers: durable_rules rejects floats in exponent form such as 1e-07."""
    if value is None:
        return None
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded
