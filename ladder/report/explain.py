"""`ladder explain`: one patient's timeline as ladder reads it, and why each finding fired."""

from __future__ import annotations

from typing import Any

from ..facts import PatientFacts
from ..findings import PatientResult
from ..model import History
from .text import VERDICT


def render(history: History, derived: PatientFacts, result: PatientResult) -> str:
    out = [f"{history.id}  ({result.source}), audited as of {result.as_of}"]
    if history.anchor:
        out.append(f"  dates anchored: {history.anchor.date} = {history.anchor.meaning}")
    out += ["", "Timeline", *_timeline(history, derived)]
    out += ["", f"Refractory: {VERDICT[result.refractory.status]}  "
                f"({result.refractory.definition})"]
    for phase in result.refractory.evidence["phases"]:
        out.append(f"  phase {phase['status']:<8} {phase['phase']}")
        for course in phase["courses"]:
            out.append("      " + _pairs(course))
    out += [f"  missing: {item}" for item in result.refractory.missing]
    out += ["", "Findings"]
    for finding in result.findings:
        mark = "" if finding.citation.confirmed else "  [source UNCONFIRMED]"
        out += [f"  {finding.code} {finding.name} ({finding.severity}): {finding.message}",
                f"      because: {finding.citation.source}: {finding.citation.clause}{mark}"]
        out += [f"      {alias}: {_pairs(fact)}" for alias, fact in finding.evidence.items()]
    return "\n".join(out) + "\n"


def _timeline(history: History, derived: PatientFacts) -> list[str]:
    rows: list[tuple[str, str]] = []
    # An undated course stays where the record lists it, after the course before it: published
    # cases give earlier treatments in order without dates, and the timeline must not reverse them.
    place = ""
    for fact in (f for f in derived.facts if f["type"] == "course"):
        place = fact.get("start", place)
        when = f"{fact.get('start', '?'):>10} .. {fact.get('end', 'ongoing' if fact.get('ongoing') == 'yes' else '?'):<10}"
        dose = (f"{fact['dose']:g} {fact['unit']}" if "dose" in fact else "dose ?")
        schedule = (f"every {fact['interval_days']:g} d" if "interval_days" in fact
                    else fact.get("schedule", "frequency ?"))
        extra = [f"{fact['days']} days" if "days" in fact else "duration ?",
                 f"step {fact['step']}" if "step" in fact else "no step",
                 f"{fact['multiple']:g}x standard" if "multiple" in fact else "",
                 f"stopped: {fact['stop_reason']}" if "stop_reason" in fact else ""]
        rows.append((place, f"  {when}  {fact['written']}: {dose}, {schedule}; "
                     + ", ".join(e for e in extra if e)))
    for a in history.assessments:
        what = f"{a.instrument} {a.score}" if a.score is not None else f"clinician: {a.judgement}"
        rows.append((str(a.date or "?"), f"  {str(a.date or '?'):>10}                 {what}"
                     + (f"  ({a.notes})" if a.notes else "")))
    for s in history.screenings:
        rows.append((str(s.date or "?"), f"  {str(s.date or '?'):>10}                 "
                     f"screening {s.kind}: {s.result}"))
    for e in history.adverse_events:
        rows.append((str(e.date or "?"), f"  {str(e.date or '?'):>10}                 "
                     f"adverse event: {e.description}" + (f" ({e.drug})" if e.drug else "")))
    return [row for _, row in sorted(rows, key=lambda r: r[0])]


def _pairs(fact: dict[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in fact.items() if key not in ("type",))
