"""One patient's treatment history as a picture's data: lanes (the ladder's steps in order, then drugs
outside the ladder and corticosteroids), a bar per course, scores with the pack's control bands,
events, and the findings placed on their dates. Plain JSON-ready data, made in the worker that
audited the patient; the HTML (plotly) and PNG/SVG (matplotlib) pictures are drawn from it.

Undated courses are kept apart, in the record's order, and said to be undated: a picture must not
place them on a date the record does not give.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..facts import PatientFacts
from ..findings import first_date
from ..model import History
from ..rulebook import Rulebook
from .words import regimen

OUTSIDE = "outside the ladder"
STEROIDS = "corticosteroids"


def model(history: History, derived: PatientFacts, item: dict[str, Any], book: Rulebook) -> dict[str, Any]:
    courses = [f for f in derived.facts if f["type"] == "course" and "alternative_of" not in f]
    phases = _phases(item)
    bars = [_bar(number, course, item["as_of"], phases) for number, course in enumerate(courses, start=1)]
    used = {bar["lane"] for bar in bars}
    lanes = [lane_name(step.label) for step in book.steps] + [lane for lane in (OUTSIDE, STEROIDS) if lane in used]
    scores = [{"date": a.date.isoformat(), "instrument": a.instrument, "score": a.score,
               "ref": history.ref("assessments", n)}
              for n, a in enumerate(history.assessments) if a.date and a.score is not None]
    bands = {name: [{"min": b.min, "max": b.max, "status": b.status, "label": b.label} for b in spec.bands]
             for name, spec in book.control.instruments.items()
             if any(s["instrument"] == name for s in scores)}
    return {"id": item["id"], "as_of": item["as_of"], "lanes": lanes, "bars": bars, "scores": scores,
            "bands": bands, "events": _events(history, bars),
            "findings": [_finding(f) for f in item["findings"]]}


def lane_name(label: str) -> str:
    """A step's label as a lane's name: its words before any bracket ('licensed add-on (omalizumab
    300 mg every 4 weeks; ...)' -> 'licensed add-on'); the bars and the hover text carry the rest."""
    return label.split(" (")[0].strip() or label


def _phases(item: dict[str, Any]) -> dict[str, str]:
    """Each course the refractory verdict weighed -> the phase and how it was judged."""
    out = {}
    for number, phase in enumerate(item["refractory"]["evidence"]["phases"], start=1):
        for course in phase["courses"]:
            for one in str(course["id"]).split(" + "):
                out[one] = f"phase {number} {phase['status'].replace('_', ' ')}: {phase['phase']}"
    return out


def _bar(number: int, course: dict[str, Any], as_of: str, phases: dict[str, str]) -> dict[str, Any]:
    if "step_label" in course:
        lane = lane_name(course["step_label"])
    else:
        lane = STEROIDS if course.get("class") == "systemic_corticosteroid" else OUTSIDE
    end = course.get("end")
    if end is None and "start" in course and "end_day" in course:
        # ongoing (to the audit date), or a start and a stated length ("from 2024-02-01 for 6 months")
        end = dt.date.fromordinal(course["end_day"]).isoformat()
    dated = "start" in course and end is not None
    label = regimen(course)
    return {"n": number, "lane": lane, "label": label, "drug": course["written"],
            "start": course.get("start"), "end": end, "dated": dated,
            "ongoing": course.get("ongoing") == "yes", "days": course.get("days"),
            "stop": (course.get("stop_reason") or "").replace("_", " ") or None,
            "ref": course.get("ref"), "phase": phases.get(course["id"]),
            "when": ("ongoing as of " + as_of) if course.get("ongoing") == "yes" else (
                f"from {course['start']}, end not recorded" if "start" in course and end is None else
                ("end from the stated length" if "start" in course and "end" not in course else None))}


def _events(history: History, bars: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = [{"date": e.date.isoformat() if e.date else None, "kind": "adverse event",
            "label": e.description + (f" ({e.drug})" if e.drug else ""), "ref": history.ref("adverse_events", n)}
           for n, e in enumerate(history.adverse_events)]
    out += [{"date": s.date.isoformat() if s.date else None, "kind": "screening",
             "label": f"{s.kind.replace('_', ' ')} screening: {s.result}", "ref": history.ref("screenings", n)}
            for n, s in enumerate(history.screenings)]
    out += [{"date": a.date.isoformat(), "kind": "clinician judgement",
             "label": f"clinician: {str(a.judgement).replace('_', ' ')}", "ref": history.ref("assessments", n)}
            for n, a in enumerate(history.assessments) if a.date and a.judgement]
    out += [{"date": bar["end"], "kind": "stopped", "label": f"{bar['drug']} stopped: {bar['stop']}",
             "ref": bar["ref"]} for bar in bars if bar["stop"] and bar["dated"]]
    return out


def _finding(finding: dict[str, Any]) -> dict[str, Any]:
    date = first_date(finding["evidence"])
    citation = finding["citation"]
    return {"code": finding["code"], "severity": finding["severity"], "message": finding["message"],
            "date": date if date[:1].isdigit() else None,
            "citation": f"{citation['source']}: {citation['clause']}"
                        + ("" if citation["confirmed"] else " (UNCONFIRMED)"),
            "accepted": bool(finding.get("accepted"))}
