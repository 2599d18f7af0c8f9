"""The refractory definition, phase by phase, in three values: met, not met, or indeterminate.

Each phase of the pack's definition asks for a course that (1) qualifies (drug, dose, interval),
(2) lasted at least the phase's minimum, (3) ended without control, and (4) for a later phase, began
after the earlier phase's course (by dates, or for wholly undated courses by the order the record
lists them). Each of these is True, False or unknown; a phase is met when some
course makes all four True, not met when every course makes one False, and unknown otherwise, with
what is missing named. A course whose dose or interval is unknown might qualify: it keeps the phase
unknown rather than reading as "no". For a phase the pack marks `implied_by_next`, a course the
record shows escalated straight into the next phase (e.g. 4-weekly to 2-weekly omalizumab) counts as
uncontrolled when nothing else says how it went: escalation is what the guideline prescribes for an
inadequate response. The evidence says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import conditions
from ..rulebook import Phase, RefractorySpec
from .control import Reading, latest_in
from .courses import continues

Fact = dict[str, Any]
_UNCONTROLLED_STOP = {"ineffective"}
_CONTROLLED_STOP = {"remission"}
_ESCALATED = "escalated to the next phase"


@dataclass
class PhaseResult:
    label: str
    status: bool | None
    course: Fact | None = None  # the course that decided the phase, when one did
    missing: list[str] = field(default_factory=list)
    reason: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verdict:
    status: str  # met, not_met, indeterminate
    missing: list[str]
    reason: str
    phases: list[PhaseResult]


def evaluate(spec: RefractorySpec, courses: list[Fact], readings: list[Reading]) -> Verdict:
    results: list[PhaseResult] = []
    for number, phase in enumerate(spec.phases):
        previous = results[-1].course if results else None
        following = spec.phases[number + 1] if phase.implied_by_next and number + 1 < len(
            spec.phases) else None
        results.append(_phase(phase, courses, readings, previous, following))
    _apply_implication(spec, courses, results)
    status = conditions.all3(r.status for r in results)
    missing = list(dict.fromkeys(m for r in results if r.status is None for m in r.missing))
    if status is True:
        return Verdict("met", [], "; then ".join(_documented(r) for r in results), results)
    if status is False:
        failed = next(r for r in results if r.status is False)
        return Verdict("not_met", [], f"{failed.label}: {failed.reason}", results)
    return Verdict("indeterminate", missing, "; ".join(missing), results)


def _phase(phase: Phase, courses: list[Fact], readings: list[Reading], previous: Fact | None,
           following: Phase | None) -> PhaseResult:
    result = PhaseResult(phase.label, False, reason="no qualifying course is recorded")
    qualify = _compiled(phase)
    for position, course in enumerate(courses):
        qualifies = qualify(course)
        if qualifies is False:
            continue
        outcome = _uncontrolled(course, readings)
        if outcome[0] is None and following and _escalated(courses, position, following):
            outcome = (True, _ESCALATED)
        checks = {"qualifies": (qualifies, _unrecorded(course)),
                  "duration": _long_enough(course, phase.min_days),
                  "outcome": outcome,
                  "order": _after(courses, course, previous) if phase.after_previous else (True, "")}
        verdict = conditions.all3(value for value, _ in checks.values())
        result.evidence.append(_evidence(course, checks))
        if verdict is True and result.status is not True:
            result.status, result.course, result.reason = True, course, "documented"
        elif verdict is None and result.status is False:
            result.status, result.course = None, course
        if verdict is None:
            result.missing.append(f"{_name(course)}: " + ", ".join(
                why for value, why in checks.values() if value is None and why))
        elif verdict is False and result.status is False:
            result.reason = next(why for value, why in checks.values() if value is False)
    if result.status is True:
        result.missing = []
    return result


def _apply_implication(spec: RefractorySpec, courses: list[Fact], results: list[PhaseResult]) -> None:
    """A phase with no course of its own is unknown, not failed, when the record shows the patient
    in the next phase: the pack says the next phase implies this one came first."""
    for position, phase in enumerate(spec.phases[:-1]):
        here, after = results[position], results[position + 1]
        if phase.implied_by_next and here.status is False and not here.evidence \
                and after.evidence:
            here.status = None
            here.missing.append(f"a record of {phase.label} (the record shows the next phase)")


def _unrecorded(course: Fact) -> str:
    """What a course that might qualify lacks: the parts of its schedule the record leaves out."""
    absent = [name for key, name in (("dose", "dose"), ("unit", "dose unit"),
                                     ("interval_days", "frequency"))
              if key not in course and not (key == "unit" and "dose" not in course)]
    return ", ".join(absent) or "dose and frequency"


def _escalated(courses: list[Fact], position: int, following: Phase) -> bool:
    """The next course of the same drug qualifies for the next phase and continues this one."""
    course = courses[position]
    after = next((c for c in courses[position + 1:] if c["drug"] == course["drug"]), None)
    return after is not None and _compiled(following)(after) is True and continues(course, after)


def _long_enough(course: Fact, min_days: int) -> tuple[bool | None, str]:
    days = course.get("days")
    if days is None:
        return None, "start and end dates"
    return days >= min_days, f"lasted {days} days, under the {min_days} days required"


def _uncontrolled(course: Fact, readings: list[Reading]) -> tuple[bool | None, str]:
    reading = latest_in(readings, course.get("start_day"), course.get("end_day"))
    if reading:
        return reading.status == "uncontrolled", f"controlled on {reading.date} ({reading.label})"
    stop = course.get("stop_reason")
    if stop in _UNCONTROLLED_STOP:
        return True, ""
    if stop in _CONTROLLED_STOP:
        return False, "stopped in remission"
    return None, "a dated UAS7/UCT during the course, or why it stopped"


def _after(courses: list[Fact], course: Fact, previous: Fact | None) -> tuple[bool | None, str]:
    if previous is None:
        return None, "evidence that it followed the earlier phase"
    if previous is course:  # one course of unknown schedule stands for both phases: already named
        return None, ""
    start, before = course.get("start_day"), previous.get("start_day")
    if start is not None and before is not None:
        return start >= before, "began before the earlier phase"
    if not any(key in fact for key in ("start_day", "end_day") for fact in (course, previous)):
        # Wholly undated courses, as published cases give them: the record's order is the sequence.
        later = _index(courses, course) > _index(courses, previous)
        return later, "listed before the earlier phase (no dates to order them)"
    return None, "start date (to order the phases)"


def _index(courses: list[Fact], course: Fact) -> int:
    return next(n for n, c in enumerate(courses) if c is course)


def _evidence(course: Fact, checks: dict[str, tuple[bool | None, str]]) -> dict[str, Any]:
    keys = ("id", "drug", "dose", "unit", "interval_days", "start", "end", "days", "stop_reason")
    out = {key: course[key] for key in keys if key in course}
    out.update({name: {True: "yes", False: "no", None: "unknown"}[value]
                for name, (value, _) in checks.items()})
    if checks["outcome"] == (True, _ESCALATED):
        out["outcome_basis"] = _ESCALATED
    return out


def _name(course: Fact) -> str:
    return f"{course.get('written', course.get('drug'))} ({course['id']})"


def _documented(result: PhaseResult) -> str:
    course = result.course or {}
    basis = next((e["outcome_basis"] for e in result.evidence
                  if e["id"] == course.get("id") and "outcome_basis" in e), None)
    return (f"{course.get('drug')} {course.get('dose', '?')} {course.get('unit', '')} every "
            f"{course.get('interval_days', '?')} days for {course.get('days')} days from "
            f"{course.get('start', 'an unrecorded date')} without control"
            f"{f' ({basis})' if basis else ''} ({course['id']})")


_PHASE_TESTS: dict[int, tuple[Phase, conditions.Predicate]] = {}


def _compiled(phase: Phase) -> conditions.Predicate:
    """A phase's course condition, compiled once (the phase is kept so its id is never reused)."""
    if id(phase) not in _PHASE_TESTS:
        _PHASE_TESTS[id(phase)] = (phase, conditions.compile_python(phase.course))
    return _PHASE_TESTS[id(phase)][1]
