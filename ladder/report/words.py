"""Facts in words a clinician reads: dates, "300 mg every 2 weeks", "daily", "no response",
"ongoing (as of 2026-12-02)", and where in the record each came from. Never the engine's own fields
(day numbers, ranks, fact ids): the JSON report keeps those for machines."""

from __future__ import annotations

from typing import Any, Callable

from ..model import schedule_words

Fact = dict[str, Any]

TRIAL_VERDICTS = {"adequate": "adequate trial", "too_short": "too short", "under_dosed": "under-dosed",
                  "step_down": "deliberate step-down", "not_tolerated": "not tolerated",
                  "ongoing": "ongoing, short of the minimum so far", "unknown": "cannot be judged"}
SCREEN_STATUS = {"positive": "POSITIVE", "valid": "negative, in time", "late": "only after the start",
                 "stale": "too old before the start", "incomplete": "no dated result",
                 "none": "none on record"}
_CONTROL = {"complete": "complete control", "well_controlled": "well controlled",
            "uncontrolled": "not controlled", "stale": "not assessed on the current treatment",
            "unknown": "not assessed"}
_STATUS = {"met": "met", "not_met": "not met", "indeterminate": "cannot be determined"}


def schedule(interval_days: float | None, written: str | None = None) -> str:
    """Days between doses as a clinician writes them: daily, every 2 weeks, every 10 days."""
    if interval_days is None:
        return written or "schedule not recorded"
    return schedule_words(interval_days)


def dose(fact: Fact) -> str:
    if "dose" in fact:
        return f"{fact['dose']:g} {fact.get('unit', '')}".strip()
    if "multiple" in fact:
        return f"{fact['multiple']:g}x the standard dose"
    return "dose not recorded"


def regimen(fact: Fact) -> str:
    """The drug as written with its dose and schedule, saying plainly what the record leaves out:
    'omalizumab 300 mg every 4 weeks', 'cetirizine daily, dose not recorded'."""
    name = fact.get("written", fact.get("drug", "a drug"))
    known_dose = "dose" in fact or "multiple" in fact
    known_schedule = "interval_days" in fact or bool(fact.get("schedule"))
    if known_dose and known_schedule:
        return f"{name} {dose(fact)} {schedule(fact.get('interval_days'), fact.get('schedule'))}"
    if known_dose:
        return f"{name} {dose(fact)}, schedule not recorded"
    if known_schedule:
        return f"{name} {schedule(fact.get('interval_days'), fact.get('schedule'))}, dose not recorded"
    return f"{name}, dose and schedule not recorded"


def span(fact: Fact, as_of: str | None = None) -> str:
    """From when to when: '2024-01-01 to 2024-04-01 (91 days)', 'from 2024-01-01, ongoing (as of
    2026-12-02)', 'for 12 weeks, dates not recorded'."""
    start, end, days = fact.get("start"), fact.get("end"), fact.get("days")
    length = f" ({days} days)" if days is not None else ""
    if fact.get("ongoing") == "yes":
        begun = f"from {start}, " if start else "start not recorded, "
        return f"{begun}ongoing" + (f" (as of {as_of})" if as_of else "") + length
    if start and end:
        return f"{start} to {end}{length}"
    if start:
        return f"from {start} for {days} days (end from the stated length)" if days is not None \
            else f"from {start}, end not recorded"
    if end:
        return f"until {end}, start not recorded{length}"
    return f"for {days} days, dates not recorded" if days is not None else "dates not recorded"


def where(ref: str | None, source: str | None = None) -> str:
    """A record reference as a reader follows it: a case-file place is read against the file."""
    if not ref:
        return ""
    return f"{source}{ref}" if source and ref.startswith("#") else ref


def describe(fact: Fact, as_of: str | None = None, source: str | None = None) -> str:
    """One fact as a sentence, with where it came from in brackets."""
    try:
        words = _DESCRIBERS.get(fact.get("type", ""), _plain)(fact, as_of)
    except (KeyError, TypeError, AttributeError):  # a fact of a shape this module does not know yet
        words = _plain(fact, as_of)  # its fields as they are: a report is never lost for its wording
    place = where(fact.get("ref"), source)
    return f"{words} [{place}]" if place else words


def _course(fact: Fact, as_of: str | None) -> str:
    text = f"{regimen(fact)}, {span(fact, as_of)}"
    if fact.get("stop_reason"):
        text += f", stopped: {fact['stop_reason'].replace('_', ' ')}"
    if fact.get("step_label"):
        text += f"; step: {fact['step_label']}"
    return text


def _trial(fact: Fact, as_of: str | None) -> str:
    days = f", {fact['days']} days" if "days" in fact else ""
    dosed = f", {fact['dose_text']} (at least {fact['min_dose_text']})" if "dose_text" in fact else ""
    when = f" from {fact['start']}" if fact.get("start") else ""
    return (f"{fact['drug']} trial at {fact['step_label']}{when}: {TRIAL_VERDICTS.get(fact['verdict'], fact['verdict'])}"
            f"{days} (at least {fact['min_days']}){dosed}"
            + (f"; not recorded: {fact['missing']}" if fact.get("missing") else ""))


def _escalation(fact: Fact, as_of: str | None) -> str:
    return (f"{fact['from_drug']} ({TRIAL_VERDICTS.get(fact['from_verdict'], fact['from_verdict'])}) "
            f"then {fact['to_drug']} from {fact['to_start']}, {fact['gap_days']} days after the earlier start")


def _screen(fact: Fact, as_of: str | None) -> str:
    text = f"{fact['label']} screening for {fact['drug']} (start {fact['start']}): " \
           f"{SCREEN_STATUS.get(fact['status'], fact['status'])}"
    if "kind" in fact:
        text += f"; {fact['kind'].replace('_', ' ')} {fact['result']}, {fact['date']}"
        if "days_before" in fact:
            text += f" ({fact['days_before']} days before the start)"
    return text


def _screening(fact: Fact, as_of: str | None) -> str:
    if fact.get("documented") != "yes":
        return f"{fact['group']} screening: none on record"
    return f"{fact['group']} screening: latest {fact.get('result', 'unknown')}, {fact.get('date', 'undated')}"


def _control(fact: Fact, as_of: str | None) -> str:
    status = _CONTROL.get(fact["status"], fact["status"].replace("_", " "))
    if "label" not in fact:
        return f"control: {status}"
    what = f"{fact['instrument']} {fact['score']}" if "score" in fact else fact["label"]
    text = f"{what} on {fact.get('date', 'an undated day')}: " + (
        fact["label"] if "score" in fact and fact["status"] != "stale" else status)
    if fact["status"] == "stale":
        text += f" (the current treatment, {fact['current_drug']}, began {fact['current_start']})"
    return text


def _reaction(fact: Fact, as_of: str | None) -> str:
    drug = f" to {fact['drug']}" if "drug" in fact else ""
    return f"{fact['kind'].replace('_', ' ')}{drug} on {fact.get('date', 'an undated day')}: {fact['description']}"


def _condition(fact: Fact, as_of: str | None) -> str:
    text = f"{fact['name']} ({fact['category'].replace('_', ' ')})"
    if "onset" in fact:
        ended = fact.get("end") not in (None, "ongoing")
        text += f" from {fact['onset']}" + (f" to {fact['end']}" if ended else
                                           ", ended (date not recorded)" if fact.get("status") == "resolved"
                                           else ", continuing")
    return text


def _patient(fact: Fact, as_of: str | None) -> str:
    age = f", age {fact['age']}" if "age" in fact else ""
    return (f"{fact['sex']}{age}; {fact['courses']} courses, {fact['assessments']} assessments; "
            f"highest step: {fact['step_label']}")


def _verdict(fact: Fact, as_of: str | None) -> str:
    return f"{fact.get('label', fact.get('definition'))}: {_STATUS.get(fact['status'], fact['status'])}" \
           + (f"; {fact['reason']}" if fact.get("reason") else "")


def _step(fact: Fact, as_of: str | None) -> str:
    first = f", first on {fact['first_start']}" if fact.get("first_start") else ""
    return f"step {fact['label']}: reached {fact['reached']}{first}"


def _drug_class(fact: Fact, as_of: str | None) -> str:
    return f"{fact['label']}: {fact.get('use', 'none on record') if fact['courses'] else 'none on record'}"


def _next(fact: Fact, as_of: str | None) -> str:
    return f"after {fact['step_label']}: {fact['action']}; the guideline offers {fact['offers']}"


def _dq(fact: Fact, as_of: str | None) -> str:
    return str(fact.get("detail", fact.get("issue", "")))


_INTERNAL = {"id", "type", "start_day", "end_day", "step_rank", "sid", "day", "first_day", "onset_day",
             "first_start_day", "ref", "from_ref", "continues", "recognised", "step_certain", "reading_of",
             "alternative_of"}


def _plain(fact: Fact, as_of: str | None) -> str:
    return ", ".join(f"{key.replace('_', ' ')} {value}" for key, value in fact.items() if key not in _INTERNAL)


_DESCRIBERS: dict[str, Callable[[Fact, str | None], str]] = {
    "course": _course, "trial": _trial, "escalation": _escalation, "screen": _screen,
    "screening": _screening, "control": _control, "reaction": _reaction, "condition": _condition,
    "patient": _patient, "refractory": _verdict, "definition": _verdict, "step": _step,
    "drug_class": _drug_class, "next": _next, "dq": _dq}


def phase_course(course: Fact, as_of: str | None = None, source: str | None = None) -> str:
    """A course as a refractory phase weighed it: the course, then each check's answer."""
    checks = {k: v for k, v in course.items() if v in ("yes", "no", "unknown") and k not in ("ongoing", "stop_reason")}
    judged = ", ".join(f"{name.replace('_', ' ')}: {value}" for name, value in checks.items())
    text = _course(course, as_of)
    place = where(course.get("ref"), source)
    return text + (f" [{place}]" if place else "") + (f"; {judged}" if judged else "")
