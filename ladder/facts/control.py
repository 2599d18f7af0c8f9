"""Assessments -> disease control: a status per assessment, the latest in a window, the latest overall.

A score (UAS7, UCT) is direct evidence; a clinician's documented judgement is weaker evidence and is
reported as such. On the same day a score outranks a judgement.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ..model import Assessment, History
from ..rulebook import ControlSpec
from .courses import day


class Reading(NamedTuple):  # a tuple: made for every assessment, so cheap to make
    day: int | None  # None: undated, but tied to a course
    date: str
    status: str
    label: str
    instrument: str
    strength: str  # "score" or "clinician judgement"
    score: int | None = None
    judgement: str | None = None
    course: str | None = None  # the course fact it judges, when the record ties it to one
    ref: str | None = None  # where the assessment came from

    def evidence(self) -> dict[str, Any]:
        out = {"date": self.date, "instrument": self.instrument, "status": self.status,
               "label": self.label, "strength": self.strength}
        if self.ref:
            out["ref"] = self.ref
        if self.course:
            out["course"] = self.course
        if self.score is not None:
            out["score"] = self.score
        if self.judgement:
            out["judgement"] = self.judgement
        return out


def readings(history: History, spec: ControlSpec) -> list[Reading]:
    """Assessments that say something about control: dated ones oldest first, then undated ones
    the record ties to a course, in the record's order (an undated one tied to nothing cannot be
    placed and is left out). AAS7 measures angioedema, not wheals and itch, so the pack's control
    bands do not apply to it."""
    out = []
    for number, assessment in enumerate(history.assessments):
        position = history.course_index(assessment.course) if assessment.course is not None else None
        reading = _reading(assessment, spec, None if position is None else f"course-{position + 1}")
        if reading:
            out.append(reading._replace(ref=history.ref("assessments", number)))
    return sorted(out, key=lambda r: (r.day is None, r.day or 0, r.strength == "score"))


def _reading(assessment: Assessment, spec: ControlSpec, course: str | None) -> Reading | None:
    when = day(assessment.date)
    if when is None and course is None:
        return None
    date = assessment.date.isoformat() if assessment.date else "undated"
    if assessment.instrument == "clinician":
        status = spec.clinician[assessment.judgement]  # type: ignore[index]
        label = f"clinician: {assessment.judgement.replace('_', ' ')}"  # type: ignore[union-attr]
        return Reading(when, date, status, label, "clinician", "clinician judgement",
                       judgement=assessment.judgement, course=course)
    bands = spec.instruments.get(assessment.instrument)  # type: ignore[call-overload]
    if bands is None:
        return None
    for band in bands.bands:
        if band.min <= assessment.score <= band.max:  # type: ignore[operator]
            return Reading(when, date, band.status, band.label, assessment.instrument, "score",
                           score=assessment.score, course=course)
    return None


def latest_in(readings_: list[Reading], start: int | None, end: int | None) -> Reading | None:
    """The last reading after `start` and up to `end`: the response to a course, not its baseline."""
    if start is None or end is None:
        return None
    inside = [r for r in readings_ if r.day is not None and start < r.day <= end]
    return inside[-1] if inside else None


def tied_to(readings_: list[Reading], course_ids: set[str]) -> Reading | None:
    """The last reading the record ties to one of these courses (dated ones first, by date)."""
    tied = [r for r in readings_ if r.course in course_ids]
    return tied[-1] if tied else None


def control_fact(readings_: list[Reading], current: list[dict[str, Any]] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    """Control now: the latest reading, unless it predates the current treatment (the courses of
    the episode begun last, first first) and none judges that treatment: then control on it is not
    assessed ("stale"), and the old score is not reported as the patient's state."""
    if not readings_:
        return {"id": "control", "type": "control", "status": "unknown"}
    on_current = tied_to(readings_, {c["id"] for c in current}) if current else None
    dated = [r for r in readings_ if r.day is not None]
    latest = on_current or (dated[-1] if dated else readings_[-1])
    fact = {"id": "control", "type": "control", **latest.evidence()}
    began = current[0] if current else None
    if began and on_current is None and latest.day is not None and "start_day" in began \
            and latest.day <= began["start_day"]:
        fact.update(status="stale", current_drug=began["drug"], current_start=began["start"])
    return fact
