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
    day: int
    date: str
    status: str
    label: str
    instrument: str
    strength: str  # "score" or "clinician judgement"
    score: int | None = None
    judgement: str | None = None

    def evidence(self) -> dict[str, Any]:
        out = {"date": self.date, "instrument": self.instrument, "status": self.status,
               "label": self.label, "strength": self.strength}
        if self.score is not None:
            out["score"] = self.score
        if self.judgement:
            out["judgement"] = self.judgement
        return out


def readings(history: History, spec: ControlSpec) -> list[Reading]:
    """Dated assessments that say something about control, oldest first (AAS7 measures
    angioedema, not wheals and itch, so the pack's control bands do not apply to it)."""
    out = []
    for assessment in history.assessments:
        reading = _reading(assessment, spec)
        if reading:
            out.append(reading)
    return sorted(out, key=lambda r: (r.day, r.strength == "score"))


def _reading(assessment: Assessment, spec: ControlSpec) -> Reading | None:
    when = day(assessment.date)
    if when is None:
        return None
    date = assessment.date.isoformat()  # type: ignore[union-attr]
    if assessment.instrument == "clinician":
        status = spec.clinician[assessment.judgement]  # type: ignore[index]
        label = f"clinician: {assessment.judgement.replace('_', ' ')}"  # type: ignore[union-attr]
        return Reading(when, date, status, label, "clinician", "clinician judgement",
                       judgement=assessment.judgement)
    bands = spec.instruments.get(assessment.instrument)  # type: ignore[call-overload]
    if bands is None:
        return None
    for band in bands.bands:
        if band.min <= assessment.score <= band.max:  # type: ignore[operator]
            return Reading(when, date, band.status, band.label, assessment.instrument, "score",
                           score=assessment.score)
    return None


def latest_in(readings_: list[Reading], start: int | None, end: int | None) -> Reading | None:
    """The last reading after `start` and up to `end`: the response to a course, not its baseline."""
    if start is None or end is None:
        return None
    inside = [r for r in readings_ if start < r.day <= end]
    return inside[-1] if inside else None


def control_fact(readings_: list[Reading]) -> dict[str, Any]:
    if not readings_:
        return {"id": "control", "type": "control", "status": "unknown"}
    latest = readings_[-1]
    return {"id": "control", "type": "control", **latest.evidence()}
