"""Screenings judged for the courses that need them: is there a result, is it dated before the
start (within the pack's window), and is it positive? One `screen` fact per screening group and new
course of a drug class the pack names (`screenings: {group: {before: [classes]}}`), with a status:

- positive:   a positive result dated on or before the course's end (or while it is ongoing), or
              undated (it cannot be placed after the course): the most serious reading wins
- valid:      a negative result dated on or before the start, within the window when one is set
- late:       results only after the start
- stale:      negative results only from before the window
- incomplete: screenings on record, none with both a date and a result (or the course's start is
              unknown, so no date can be compared with it)
- none:       no screening of the group on record
"""

from __future__ import annotations

from typing import Any

from ..model import History, Screening
from ..rulebook import Rulebook, ScreeningGroup
from .courses import day

Fact = dict[str, Any]


def screens(history: History, book: Rulebook, courses: list[Fact]) -> list[Fact]:
    out = []
    for group, spec in book.screenings.items():
        if not spec.before:
            continue
        found = [s for s in history.screenings if s.kind in spec.kinds]
        for course in courses:
            if course["class"] in spec.before and course["continues"] == "no":
                out.append(_screen(group, spec, course, found, history))
    return out


def screening_ref(history: History, screening: Screening) -> str:
    """Where a screening came from (found by identity: two alike screenings are two records)."""
    return history.ref("screenings", next(n for n, s in enumerate(history.screenings) if s is screening))


def _screen(group: str, spec: ScreeningGroup, course: Fact, found: list[Screening], history: History) -> Fact:
    fact: Fact = {"id": f"screen-{group}-{course['id']}", "type": "screen", "group": group,
                  "label": spec.label or group,
                  "course": course["id"], "drug": course["drug"], "start": course.get("start", "not recorded")}
    if spec.window_days is not None:
        fact["window_days"] = spec.window_days
    status, which = _judged(spec, course, found)
    fact["status"] = status
    if which is not None:
        fact.update(kind=which.kind, result=which.result, date=which.date.isoformat() if which.date else "undated",
                    ref=screening_ref(history, which))
        if which.date and "start_day" in course:
            fact["days_before"] = course["start_day"] - day(which.date)  # type: ignore[operator]
    return fact


def _judged(spec: ScreeningGroup, course: Fact, found: list[Screening]) -> tuple[str, Screening | None]:
    if not found:
        return "none", None
    end = course.get("end_day")  # absent while ongoing or unknown: any later date is "during"
    positive = [s for s in found if s.result == "positive" and (s.date is None or end is None or day(s.date) <= end)]
    if positive:
        return "positive", positive[-1]
    start = course.get("start_day")
    dated = sorted((s for s in found if s.date is not None and s.result != "unknown"), key=lambda s: s.date)  # type: ignore[arg-type,return-value]
    if start is None or not dated:
        return "incomplete", found[-1]
    before = [s for s in dated if day(s.date) <= start]
    if not before:
        return "late", dated[0]
    latest = before[-1]
    if spec.window_days is not None and start - day(latest.date) > spec.window_days:  # type: ignore[operator]
        return "stale", latest
    return "valid", latest
