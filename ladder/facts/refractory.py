"""The refractory definition, phase by phase, in three values: met, not met, or indeterminate.

Each phase of the pack's definition asks for a course that (1) qualifies (drug, dose, interval), (2)
lasted at least the phase's minimum, (3) ended without control, and (4) for a later phase, began
after the earlier phase's course: by dates; for wholly undated courses, as published cases give
them, by the order the record lists them; and an undated course listed before a dated one came
first. Consecutive courses of one episode that each qualify (six months of 4-weekly omalizumab
written as two prescriptions) are judged as one run, from the first start to the last end, and the
last one's outcome is the run's. The response is read from the last assessment after the run began
and up to one dosing interval after its last dose (the follow-up visit), unless another course began
in between. Each of these is True, False or unknown; a phase is met when some course makes all four
True, not met when every course makes one False, and unknown otherwise, with what is missing named.
A course whose dose or interval is unknown might qualify: it keeps the phase unknown rather than
reading as "no". For a phase the pack marks `implied_by_next`, a course the record shows escalated
straight into the next phase (e.g. 4-weekly to 2-weekly omalizumab) counts as uncontrolled when
nothing else says how it went: escalation is what the guideline prescribes for an inadequate
response. The evidence says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import conditions
from ..model import schedule_words
from ..rulebook import Phase, RefractorySpec
from .control import Reading, latest_in, tied_to
from .courses import continues, episode_days

Fact = dict[str, Any]
_UNCONTROLLED_STOP = {"ineffective"}
_CONTROLLED_STOP = {"remission"}
_ESCALATED = "escalated to the next phase"
_MAX_FOLLOW_UP_DAYS = 28
_OPEN_ENDED = 10 ** 7  # a day number past any date: an open-ended course's window has no end


@dataclass(frozen=True)
class Run:
    """One course, or consecutive courses of one episode, judged together for a phase."""

    first: int  # positions in the record's course list
    last: int
    qualifies: bool | None
    fact: Fact
    joinable: bool = False  # may be joined by the next course of its episode


@dataclass
class PhaseResult:
    label: str
    status: bool | None
    run: Run | None = None  # the course(s) that decided the phase, when one did
    missing: list[str] = field(default_factory=list)
    reason: str = ""
    evidence: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Verdict:
    status: str  # met, not_met, indeterminate
    missing: list[str]
    reason: str
    phases: list[PhaseResult]


def evaluate(spec: RefractorySpec, courses: list[Fact], readings: list[Reading],
             complete: bool | None = None) -> Verdict:
    """`complete` False: the record is declared truncated, so a phase with no course in it is
    unknown (it may lie beyond what the record covers), never "not met"."""
    results: list[PhaseResult] = []
    for number, phase in enumerate(spec.phases):
        previous = results[-1].run if results else None
        following = spec.phases[number + 1] if number + 1 < len(spec.phases) else None
        results.append(_phase(phase, courses, readings, previous, following))
    _apply_implication(spec, courses, results)
    for phase, result in zip(spec.phases, results):
        if phase.implied_by and result.status is False and not result.evidence:
            later = next((c for c in courses if _compiled_condition(phase.implied_by)(c) is True), None)
            if later is not None:
                result.status = None
                result.missing.append(f"a record of {phase.label} (the record shows a later step: "
                                      f"{later.get('written', later['drug'])})")
    if complete is False:
        for result in results:
            if result.status is False and not result.evidence:
                result.status = None
                result.missing.append(f"a record of {result.label} (the record is declared incomplete)")
    status = conditions.all3(r.status for r in results)
    missing = list(dict.fromkeys(m for r in results if r.status is None for m in r.missing))
    if status is True:
        return Verdict("met", [], "; then ".join(_documented(r) for r in results), results)
    if status is False:
        failed = next(r for r in results if r.status is False)
        label = failed.label.removeprefix("then ")  # a later phase's label reads "then ..."
        return Verdict("not_met", [], f"{label}: {failed.reason}", results)
    return Verdict("indeterminate", missing, "; ".join(missing), results)


# When a phase is not met, the reason given is the check that decides it, in this order: a course
# that controlled the disease is the answer whatever its length ("controlled on 2-weekly dosing",
# not "74 days of 84"); then a course that is not the phase's; then the order; then the length.
_DECIDING = ("outcome", "qualifies", "order", "duration")


def _phase(phase: Phase, courses: list[Fact], readings: list[Reading], previous: Run | None,
           following: Phase | None) -> PhaseResult:
    result = PhaseResult(phase.label, False, reason="no qualifying course is recorded")
    later = _compiled(following) if following else None
    for run in _runs(courses, _compiled(phase), later, readings):
        course = run.fact
        outcome = _uncontrolled(run, courses, readings)
        if outcome[0] is None and phase.implied_by_next and later and \
                _escalated(courses, run.last, later):
            outcome = (True, _ESCALATED)
        checks = {"qualifies": (run.qualifies, _unrecorded(course)),
                  "duration": _long_enough(course, phase.min_days),
                  "outcome": outcome,
                  "order": _after(courses, run, previous) if phase.after_previous else (True, "")}
        verdict = conditions.all3(value for value, _ in checks.values())
        result.evidence.append(_evidence(course, checks))
        if verdict is True and result.status is not True:
            result.status, result.run, result.reason = True, run, "documented"
        elif verdict is None and result.status is False:
            result.status, result.run = None, run
        if verdict is None:
            result.missing.append(f"{_name(course)}: " + ", ".join(
                why for value, why in checks.values() if value is None and why))
        elif verdict is False and result.status is False:
            result.reason = next(checks[name][1] for name in _DECIDING if checks[name][0] is False)
    if result.status is True:
        result.missing = []
    return result


def _runs(courses: list[Fact], qualify: conditions.Predicate,
          later: conditions.Predicate | None, readings: list[Reading]) -> list[Run]:
    """The courses that might qualify for a phase, with consecutive qualifying courses of one
    episode joined into one run. A course of unknown schedule stays on its own, and so does one
    that qualifies for the next phase too (600 mg every 4 weeks): it is where that phase begins.
    A course that controlled the disease (its last assessment says so) ends its run: treatment
    given again after a response is a new trial, not more of the same one (so does a stop in
    remission or a stated gap, which end the episode itself: see courses.continues)."""
    runs: list[Run] = []
    for position, course in enumerate(courses):
        qualifies = qualify(course)
        if qualifies is False:
            continue
        last = runs[-1] if runs else None
        joinable = qualifies is True and (later is None or later(course) is False)
        if joinable and last and last.joinable and course["continues"] == "yes" and \
                _previous_of_drug(courses, position) == last.last and \
                _uncontrolled(Run(last.last, last.last, True, courses[last.last]), courses,
                              readings)[0] is not False:
            runs[-1] = Run(last.first, position, True, _joined(courses[last.first:position + 1]),
                           joinable=True)
        else:
            runs.append(Run(position, position, qualifies, course, joinable))
    return runs


def _previous_of_drug(courses: list[Fact], position: int) -> int | None:
    drug = courses[position]["drug"]
    return next((n for n in range(position - 1, -1, -1) if courses[n]["drug"] == drug), None)


def _joined(run: list[Fact]) -> Fact:
    """Consecutive courses as one: the last one's schedule and outcome, the first one's start."""
    first, last = run[0], run[-1]
    fact = {key: value for key, value in last.items() if key not in ("start", "start_day", "days")}
    fact["id"] = " + ".join(c["id"] for c in run)
    fact.update({key: first[key] for key in ("start", "start_day") if key in first})
    days = episode_days(run)
    if days is not None:
        fact["days"] = days
    return fact


def _apply_implication(spec: RefractorySpec, courses: list[Fact], results: list[PhaseResult]) -> None:
    """A phase with no course of its own is unknown, not failed, when the record shows the patient
    in the next phase: the pack says the next phase implies this one came first, perhaps before
    the record begins. Unless the record shows that episode's beginning too, too close before the
    next phase for this one to fit (150 mg, then 300 mg every 2 weeks two weeks later): not met."""
    for position, phase in enumerate(spec.phases[:-1]):
        here, after = results[position], results[position + 1]
        if phase.implied_by_next and here.status is False and not here.evidence \
                and after.evidence:
            room = _room_before(courses, after, phase.min_days)
            if room is not None:
                here.reason = room
                continue
            here.status = None
            here.missing.append(f"a record of {phase.label} (the record shows the next phase)")


def _room_before(courses: list[Fact], after: PhaseResult, min_days: int) -> str | None:
    """Why there was no room for a phase of `min_days` before the next phase's first course, when
    the record shows the episode beginning (a dated earlier course of the drug that the next
    phase's course continues) fewer than `min_days` before it; None when it does not."""
    ids = [e["id"] for e in after.evidence]
    first = next((n for n, c in enumerate(courses) if c["id"] in ids[0].split(" + ")), None)
    if first is None or "start_day" not in courses[first]:
        return None
    begin = first
    while True:
        earlier = next((n for n in range(begin - 1, -1, -1)
                        if courses[n]["drug"] == courses[begin]["drug"]), None)
        if earlier is None or courses[begin]["continues"] != "yes" or "start_day" not in courses[earlier]:
            break
        begin = earlier
    if begin == first:
        return None  # the record does not show the episode's beginning: it may lie before the record
    days = courses[first]["start_day"] - courses[begin]["start_day"]
    if days >= min_days:
        return None
    return (f"the {courses[begin]['drug']} episode began on {courses[begin]['start']}, {days} days "
            f"before {courses[first]['start']}: no room for {min_days} days of it")


def _unrecorded(course: Fact) -> str:
    """What a course that might qualify lacks: the parts of its schedule the record leaves out."""
    absent = [name for key, name in (("dose", "dose"), ("unit", "dose unit"),
                                     ("interval_days", "frequency"))
              if key not in course and not (key == "unit" and "dose" not in course)]
    return ", ".join(absent) or "dose and frequency"


def _escalated(courses: list[Fact], position: int, following: conditions.Predicate) -> bool:
    """The next course of the same drug qualifies for the next phase and continues this one."""
    course = courses[position]
    after = next((c for c in courses[position + 1:] if c["drug"] == course["drug"]), None)
    return after is not None and following(after) is True and continues(course, after)


def _long_enough(course: Fact, min_days: int) -> tuple[bool | None, str]:
    days = course.get("days")
    if days is None:
        missing = [name for key, name in (("start_day", "start date"), ("end_day", "end date"))
                   if key not in course]
        return None, (" and ".join(missing) or "dates") + " (or how long it lasted)"
    if course.get("ongoing") == "yes" and days < min_days:
        return None, f"ongoing: {days} days so far of the {min_days} required"
    return days >= min_days, f"lasted {days} days, under the {min_days} days required"


def _uncontrolled(run: Run, courses: list[Fact], readings: list[Reading]) -> tuple[bool | None, str]:
    """How the run went: the last assessment the record ties to its courses, else the last dated
    one in its window, else why it stopped."""
    course = run.fact
    ids = {c["id"] for c in courses[run.first:run.last + 1] if c["drug"] == course["drug"]}
    reading = tied_to(readings, ids) or latest_in(readings, course.get("start_day"),
                                                  _follow_up(courses[run.last], courses))
    if reading:
        return reading.status == "uncontrolled", f"controlled on {reading.date} ({reading.label})"
    stop = course.get("stop_reason")
    if stop in _UNCONTROLLED_STOP:
        return True, ""
    if stop in _CONTROLLED_STOP:
        return False, "stopped in remission"
    return None, "a UAS7/UCT during the course (dated, or tied to the course), or why it stopped"


def _follow_up(course: Fact, courses: list[Fact]) -> int | None:
    """The last day whose assessment still tells how a course went: its end, or up to one dosing
    interval later (the visit after the last dose, while that dose still acts, at most 4 weeks),
    but no later than the day another course began (that day's score is the new one's baseline).
    A course with a start and no end (open-ended) runs until another course begins, or to the
    last day the record covers."""
    end = course.get("end_day")
    if end is None and "start_day" in course:
        starts = [c["start_day"] for c in courses if c.get("start_day", -1) > course["start_day"]]
        return min(starts) if starts else _OPEN_ENDED
    if end is None or course.get("ongoing") == "yes" or "interval_days" not in course:
        return end
    limit = end + min(int(course["interval_days"]), _MAX_FOLLOW_UP_DAYS)
    starts = [c["start_day"] for c in courses if end <= c.get("start_day", -1) <= limit]
    return min([limit, *starts])


def _after(courses: list[Fact], run: Run, previous: Run | None) -> tuple[bool | None, str]:
    if previous is None:
        return None, "evidence that it followed the earlier phase"
    if run.first <= previous.last and previous.first <= run.last:
        return None, ""  # the same course stands for both phases (its schedule unknown): named
    course, before = run.fact, previous.fact
    start, earlier = course.get("start_day"), before.get("start_day")
    if start is not None and earlier is not None:
        return start >= earlier, "began before the earlier phase"
    undated = [not any(key in fact for key in ("start_day", "end_day")) for fact in (course, before)]
    if all(undated):
        # Wholly undated courses, as published cases give them: the record's order is the sequence.
        return run.first > previous.last, "listed before the earlier phase (no dates to order them)"
    if any(undated) and run.first > previous.last:
        # Published cases date the later treatment and list the earlier ones before it, undated.
        return True, ""
    return None, "start date (to order the phases)"


def _evidence(course: Fact, checks: dict[str, tuple[bool | None, str]]) -> dict[str, Any]:
    keys = ("id", "drug", "dose", "unit", "interval_days", "start", "end", "days", "stop_reason", "ongoing", "ref")
    out = {key: course[key] for key in keys if key in course}
    out.update({name: {True: "yes", False: "no", None: "unknown"}[value]
                for name, (value, _) in checks.items()})
    if checks["outcome"] == (True, _ESCALATED):
        out["outcome_basis"] = _ESCALATED
    return out


def _name(course: Fact) -> str:
    return f"{course.get('written', course.get('drug'))} ({courses_words(course['id'])})"


def courses_words(ids: str) -> str:
    """Ladder's course ids as a reader counts courses in the record: 'course 2', 'courses 2 + 3'."""
    numbers = re.findall(r"course-(\d+)", ids)
    if not numbers:
        return ids
    return f"course {numbers[0]}" if len(numbers) == 1 else f"courses {' + '.join(numbers)}"


def _documented(result: PhaseResult) -> str:
    course = result.run.fact if result.run else {}
    basis = next((e["outcome_basis"] for e in result.evidence
                  if e["id"] == course.get("id") and "outcome_basis" in e), None)
    return (f"{course.get('drug')}{_schedule_words(course)} for {course.get('days')} days from "
            f"{course.get('start', 'an unrecorded date')} without control"
            f"{f' ({basis})' if basis else ''} ({courses_words(course['id'])})")


def _schedule_words(course: Fact) -> str:
    """' 300 mg every 28 days' for one course; nothing for a run of several (its schedule changed);
    a standard-dose multiple when the record gives that instead of an amount."""
    if " + " in course["id"]:
        return ""
    if "dose" in course:
        amount = f" {course['dose']} {course.get('unit', '')}".rstrip()
    elif "multiple" in course:
        amount = f" at {course['multiple']}x the standard dose"
    else:
        amount = ""
    every = course.get("interval_days")
    return amount + ("" if every is None else f" {schedule_words(every)}")


_PHASE_TESTS: dict[int, tuple[Phase, conditions.Predicate]] = {}
_CONDITION_TESTS: dict[str, conditions.Predicate] = {}


def _compiled_condition(condition: dict[str, Any]) -> conditions.Predicate:
    key = repr(sorted(condition.items(), key=str))
    if key not in _CONDITION_TESTS:
        _CONDITION_TESTS[key] = conditions.compile_python(condition)
    return _CONDITION_TESTS[key]


def _compiled(phase: Phase) -> conditions.Predicate:
    """A phase's course condition, compiled once (the phase is kept so its id is never reused)."""
    if id(phase) not in _PHASE_TESTS:
        _PHASE_TESTS[id(phase)] = (phase, conditions.compile_python(phase.course))
    return _PHASE_TESTS[id(phase)][1]
