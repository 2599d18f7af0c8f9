"""`ladder explain`: one patient's timeline as ladder reads it, and why each finding fired."""

from __future__ import annotations

from typing import Any

from ..facts import PatientFacts
from ..findings import PatientResult
from ..model import History
from .text import VERDICT
from .words import describe, phase_course, where


def render(history: History, derived: PatientFacts, result: PatientResult) -> str:
    out = [f"{history.id}  ({result.source}), audited as of {result.as_of}"]
    if history.anchor:
        out.append(f"  dates anchored: {history.anchor.date} = {history.anchor.meaning}")
    out += ["", "Timeline", *_timeline(history, derived, result.as_of)]
    out += ["", f"Refractory: {VERDICT[result.refractory.status]}  "
                f"({result.refractory.definition})"]
    for phase in result.refractory.evidence["phases"]:
        out.append(f"  phase {_PHASE[phase['status']]:<14} {phase['phase']}")
        for course in phase["courses"]:
            out.append("      " + phase_course(course, result.as_of))
    out += [f"  missing: {item}" for item in result.refractory.missing]
    out += ["", "Findings"]
    for finding in result.findings:
        mark = "" if finding.citation.confirmed else "  [source UNCONFIRMED]"
        out += [f"  {finding.code} {finding.name} ({finding.severity}): {finding.message}",
                f"      because: {finding.citation.source}: {finding.citation.clause}{mark}"]
        out += [f"      {alias}: {describe(fact, result.as_of)}" for alias, fact in finding.evidence.items()]
    return "\n".join(out) + "\n"


_PHASE = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def _timeline(history: History, derived: PatientFacts, as_of: str, source: str | None = None) -> list[str]:
    rows: list[tuple[str, str]] = []
    # An undated course stays where the record lists it, after the course before it: published
    # cases give earlier treatments in order without dates, and the timeline must not reverse them.
    place = ""
    for fact in (f for f in derived.facts if f["type"] == "course" and "alternative_of" not in f):
        place = fact.get("start", place)
        step = f"; step: {fact['step_label']}" if "step_label" in fact else "; not a ladder step"
        stopped = f", stopped: {fact['stop_reason'].replace('_', ' ')}" if "stop_reason" in fact else ""
        course = describe({**fact, "stop_reason": None, "step_label": None}, as_of, source)
        rows.append((place, f"  {_day(fact.get('start'))}  {course.replace(' [', stopped + step + '  [', 1) if '[' in course else course + stopped + step}"))
    for number, a in enumerate(history.assessments):
        what = f"{a.instrument} {a.score}" if a.score is not None else f"clinician: {a.judgement.replace('_', ' ')}"
        tied = f", about course {a.course}" if a.course is not None else ""
        rows.append((str(a.date or "~"), f"  {_day(a.date)}  {what}{tied}" + (f"  ({a.notes})" if a.notes else "")
                     + f"  [{where(history.ref('assessments', number), source)}]"))
    for number, s in enumerate(history.screenings):
        rows.append((str(s.date or "~"), f"  {_day(s.date)}  screening {s.kind.replace('_', ' ')}: {s.result}"
                     f"  [{where(history.ref('screenings', number), source)}]"))
    for number, e in enumerate(history.adverse_events):
        rows.append((str(e.date or "~"), f"  {_day(e.date)}  adverse event: {e.description}"
                     + (f" ({e.drug})" if e.drug else "")
                     + f"  [{where(history.ref('adverse_events', number), source)}]"))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def _day(value: Any) -> str:
    return f"{str(value) if value else 'undated':>10}"
