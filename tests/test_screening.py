"""Screenings are judged, not just found (issue "Clinical truth" section 4): a result dated on or
before the start, within the pack's window; a positive TB or hepatitis screen before or during a
JAK inhibitor is critical; an undated or result-less one is a warning, never silence."""

from __future__ import annotations

import datetime as dt

import pytest

import ladder

JAK = {"drug": "abrocitinib", "dose": 100, "unit": "mg", "frequency": "daily",
       "start": "2024-01-01", "end": "2024-04-01"}


def codes(*screenings, course=JAK):
    report = ladder.audit({"id": "p", "courses": [course], "screenings": list(screenings)},
                          as_of=dt.date(2026, 12, 2))
    return sorted(f.code for f in report.patients[0].findings if f.code.startswith("JAK") and f.code != "JAK001")


def tb(date=None, result="unknown"):
    return {"kind": "tb", **({"date": date} if date else {}), "result": result}


HEP = {"kind": "hepatitis_b", "date": "2023-12-01", "result": "negative"}


@pytest.mark.parametrize("screening, expected", [
    (tb("2023-12-15", "positive"), ["JAK006"]),                 # positive before: it passed silently
    (tb("2024-02-15", "positive"), ["JAK005", "JAK006"]),       # positive during (and only after start)
    (tb("2024-06-01", "positive"), ["JAK005"]),                 # positive after the course ended
    (tb(None, "positive"), ["JAK006"]),                         # undated positive cannot be placed after
    (tb("2023-12-15", "negative"), []),
    (tb("2022-06-01", "negative"), ["JAK009"]),                 # more than a year before the start
    (tb("2023-12-15"), ["JAK008"]),                             # dated, no result
    (tb(None, "negative"), ["JAK008"]),                         # a result, no date
])
def test_a_tb_screening_is_judged_by_its_result_and_date(screening, expected):
    assert codes(screening, HEP) == expected


def test_no_tb_screening_is_critical_and_hepatitis_positive_is_critical():
    assert codes(HEP) == ["JAK002"]
    assert codes(tb("2023-12-15", "negative"), {**HEP, "result": "positive"}) == ["JAK007"]
    assert codes(tb("2023-12-15", "negative"), {"kind": "hepatitis"}) == ["JAK008"]


def test_an_ongoing_course_counts_a_later_positive_as_during():
    ongoing = {**JAK, "end": None, "ongoing": True}
    assert codes(tb("2023-12-15", "negative"), tb("2025-01-10", "positive"), HEP, course=ongoing) == ["JAK006"]


def test_a_course_of_unknown_start_cannot_be_satisfied_by_a_date():
    undated = {**JAK, "start": None, "end": None}
    assert "JAK008" in codes(tb("2023-12-15", "negative"), HEP, course=undated)
