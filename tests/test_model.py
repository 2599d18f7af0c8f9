from __future__ import annotations

import pytest
from pydantic import ValidationError

from ladder.errors import pydantic_messages
from ladder.model import History, duration_days, interval_days


def errors(data: dict) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        History.model_validate({"id": "p", **data})
    return pydantic_messages(caught.value)


@pytest.mark.parametrize("text, days", [
    ("daily", 1), ("Twice daily", 0.5), ("every other day", 2), ("every 2 weeks", 14),
    ("every 4 weeks", 28), ("every 1 month", 28), ("qid", 0.25), ("as needed", None),
    ("intermittent", None), ("monthly", 28), ("every month", 28), ("every two weeks", 14),
    ("q2w", 14), ("q4w", 28), ("Q 4 weeks", 28), ("4-weekly", 28), ("every 2 wks", 14),
    ("fortnightly", 14), ("twice weekly", 3.5), ("q12h", 0.5), ("every 8 hours", 1 / 3)])
def test_frequencies(text, days):
    assert interval_days(text) == days


@pytest.mark.parametrize("text", ["biweekly", "2 daily", "q w", "every now and then"])
def test_ambiguous_frequencies_are_errors_never_guesses(text):
    with pytest.raises(ValueError, match="cannot read frequency"):
        interval_days(text)


@pytest.mark.parametrize("text, days", [
    ("10 days", 10), ("12 weeks", 84), ("6 months", 183), ("3 months", 91), ("for six months", 183),
    ("1 year", 365), ("1.5 years", 548), ("24 wks", 168)])
def test_durations_as_records_write_them(text, days):
    assert duration_days(text) == days


@pytest.mark.parametrize("text", ["3-6 months", "months", "a while", "6"])
def test_unreadable_durations_are_errors_never_guesses(text):
    with pytest.raises(ValueError, match="cannot read duration"):
        duration_days(text)


def test_a_duration_is_given_once():
    assert errors({"courses": [{"drug": "omalizumab", "duration": "6 months", "duration_days": 183}]}) == [
        "courses.0: Value error, give duration or duration_days, not both"]


@pytest.mark.parametrize("course", [{"duration_days": 10**23}, {"duration": "99999999999 years"}])
def test_a_course_longer_than_the_calendar_is_an_error(course):
    [message] = errors({"courses": [{"drug": "cetirizine", **course}]})
    assert message.startswith("courses.0: Value error, a course of ") and "longer than the calendar" in message


def test_unreadable_frequency_is_an_error_naming_the_field():
    assert errors({"courses": [{"drug": "cetirizine", "frequency": "sometimes"}]}) == [
        "courses.0.frequency: Value error, cannot read frequency 'sometimes': use e.g. 'daily', "
        "'twice daily', 'every other day', 'every 2 weeks', 'every 4 weeks', 'as needed' or 'intermittent'"]


def test_vocabulary_terms_read_however_they_are_cased_or_spaced():
    history = History.model_validate({
        "id": "p", "sex": "Female",
        "courses": [{"drug": "omalizumab", "dose": 300, "unit": "MG", "stop_reason": "Adverse event"}],
        "assessments": [{"instrument": "uas-7", "score": 30, "date": "2024-01-01"},
                        {"instrument": "Clinician", "judgement": "no response", "date": "2024-01-01"}],
        "screenings": [{"kind": "Hepatitis B", "result": "Negative"}]})
    assert (history.sex, history.courses[0].unit, history.courses[0].stop_reason) == ("female", "mg", "adverse_event")
    assert [a.instrument for a in history.assessments] == ["UAS7", "clinician"]
    assert (history.assessments[1].judgement, history.screenings[0].kind) == ("no_response", "hepatitis_b")
    assert errors({"sex": "fem"}) == ["sex: Input should be 'female', 'male', 'other' or 'unknown'"]


def test_uas7_out_of_range():
    assert errors({"assessments": [{"instrument": "UAS7", "score": 50, "date": "2024-01-01"}]}) == [
        "assessments.0: Value error, UAS7 score 50 is outside 0-42"]


def test_unknown_keys_are_rejected():
    assert errors({"courses": [{"drug": "cetirizine", "dosage": 10}]}) == [
        "courses.0.dosage: Extra inputs are not permitted"]


def test_negative_dose_and_dose_without_unit():
    assert errors({"courses": [{"drug": "x", "dose": -1, "unit": "mg"}]}) == [
        "courses.0.dose: Input should be greater than 0"]
    assert errors({"courses": [{"drug": "x", "dose": 10}]}) == [
        "courses.0: Value error, a dose needs its unit (mg, mg/kg/day or mg/kg)"]


def test_clinician_assessment_needs_a_judgement():
    assert errors({"assessments": [{"instrument": "clinician"}]}) == [
        "assessments.0: Value error, a clinician assessment needs a judgement (responded, partial or no_response)"]


def test_unknown_stays_unknown():
    history = History.model_validate({"id": "p", "courses": [{"drug": "omalizumab"}]})
    course = history.courses[0]
    assert (course.dose, course.frequency, course.start, course.end, course.stop_reason) == (
        None, None, None, None, None)


def test_comorbidities_may_be_plain_names():
    history = History.model_validate({"id": "p", "comorbidities": ["hypertension"]})
    assert history.comorbidities[0].name == "hypertension"


@pytest.mark.parametrize("written, days", [("bd", 0.5), ("b.d.", 0.5), ("tds", 1 / 3), ("qds", 0.25),
                                           ("nocte", 1.0), ("od", 1.0), ("q4w", 28.0),
                                           ("every 1.5 weeks", 10.5)])
def test_schedules_as_clinicians_abbreviate_them(written, days):
    from ladder.model import interval_days
    assert interval_days(written) == pytest.approx(days)


def test_prn_is_as_needed_and_f_m_are_sexes():
    from ladder.model import History, irregular
    assert irregular("prn") == "as needed" and irregular("PRN") == "as needed"
    assert History.model_validate({"id": "x", "sex": "F"}).sex == "female"
    assert History.model_validate({"id": "x", "sex": "m"}).sex == "male"
