"""The refractory definition, phase by phase, in three values: met, not met, or indeterminate.

Each phase of the pack's definition asks for a course that (1) qualifies (drug, dose, interval),
(2) lasted at least the phase's minimum, (3) ended without control, and (4) for a later phase, began
after the earlier phase's course. Each of these is True, False or unknown; a phase is met when some
course makes all four True, not met when every course makes one False, and unknown otherwise, with
what is missing named. A course whose dose or interval is unknown might qualify: it keeps the phase
unknown rather than reading as "no".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .. import conditions
from ..rulebook import Phase, RefractorySpec
from .control import Reading, latest_in

Fact = dict[str, Any]
_UNCONTROLLED_STOP = {"ineffective"}
_CONTROLLED_STOP = {"remission"}


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
    for phase in spec.phases:
        previous = results[-1].course if results else None
        results.append(_phase(phase, courses, readings, previous))
    _apply_implication(spec, courses, results)
    status = conditions.all3(r.status for r in results)
    missing = list(dict.fromkeys(m for r in results if r.status is None for m in r.missing))
    if status is True:
        return Verdict("met", [], "; then ".join(_documented(r) for r in results), results)
    if status is False:
        failed = next(r for r in results if r.status is False)
        return Verdict("not_met", [], f"{failed.label}: {failed.reason}", results)
    return Verdict("indeterminate", missing, "; ".join(missing), results)


def _phase(phase: Phase, courses: list[Fact], readings: list[Reading],
           previous: Fact | None) -> PhaseResult:
    result = PhaseResult(phase.label, False, reason="no qualifying course is recorded")
    qualify = _compiled(phase)
    for course in courses:
        qualifies = qualify(course)
        if qualifies is False:
            continue
        checks = {"qualifies": (qualifies, "dose and frequency"),
                  "duration": _long_enough(course, phase.min_days),
                  "outcome": _uncontrolled(course, readings),
                  "order": _after(course, previous) if phase.after_previous else (True, "")}
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


def _after(course: Fact, previous: Fact | None) -> tuple[bool | None, str]:
    if previous is None:
        return None, "evidence that it followed the earlier phase"
    if previous is course:  # one course of unknown schedule stands for both phases: already named
        return None, ""
    start, before = course.get("start_day"), previous.get("start_day")
    if start is None or before is None:
        return None, "start date (to order the phases)"
    return start >= before, "began before the earlier phase"


def _evidence(course: Fact, checks: dict[str, tuple[bool | None, str]]) -> dict[str, Any]:
    keys = ("id", "drug", "dose", "unit", "interval_days", "start", "end", "days", "stop_reason")
    out = {key: course[key] for key in keys if key in course}
    out.update({name: {True: "yes", False: "no", None: "unknown"}[value]
                for name, (value, _) in checks.items()})
    return out


def _name(course: Fact) -> str:
    return f"{course.get('written', course.get('drug'))} ({course['id']})"


def _documented(result: PhaseResult) -> str:
    course = result.course or {}
    return (f"{course.get('drug')} {course.get('dose', '?')} {course.get('unit', '')} every "
            f"{course.get('interval_days', '?')} days for {course.get('days')} days from "
            f"{course.get('start', 'an unrecorded date')} without control ({course['id']})")


_PHASE_TESTS: dict[int, tuple[Phase, conditions.Predicate]] = {}


def _compiled(phase: Phase) -> conditions.Predicate:
    """A phase's course condition, compiled once (the phase is kept so its id is never reused)."""
    if id(phase) not in _PHASE_TESTS:
        _PHASE_TESTS[id(phase)] = (phase, conditions.compile_python(phase.course))
    return _PHASE_TESTS[id(phase)][1]
