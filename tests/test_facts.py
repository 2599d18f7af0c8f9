"""The temporal abstraction: edges of every window, three-valued verdicts, episodes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ladder.facts import derivation
from ladder.drugs import default_index
from ladder.facts import derive
from ladder.model import History

START = date(2023, 1, 2)


def history(courses=(), assessments=(), **extra) -> History:
    return History.model_validate({"id": "p", "courses": list(courses),
                                   "assessments": list(assessments), **extra})


def oma(days: int, start: date = START, every: str = "every 4 weeks", **extra) -> dict:
    return {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": every,
            "start": start, "end": start + timedelta(days=days), **extra}


def uas7(score: int, on: date) -> dict:
    return {"instrument": "UAS7", "score": score, "date": on}


def kinds(derived, kind):
    return [f for f in derived.facts if f["type"] == kind]


def refractory(*courses, assessments=(), as_of=None, **extra):
    return derive(history(courses, assessments, **extra), BOOK, as_of=as_of).verdict


@pytest.fixture(autouse=True, scope="module")
def _book(book):
    global BOOK
    BOOK = book


def test_cetirizine_multiple_and_step():
    course = kinds(derive(history([{"drug": "cetirizine", "dose": 10, "unit": "mg",
                                    "frequency": "four times daily"}]), BOOK), "course")[0]
    assert (course["daily_mg"], course["multiple"], course["step"]) == (40, 4, "AH4")


def test_unknown_dose_places_a_course_at_its_lowest_step_and_says_it_is_uncertain():
    course = kinds(derive(history([{"drug": "cetirizine"}]), BOOK), "course")[0]
    assert (course["step"], course["step_certain"]) == ("AH1", "no")
    assert "multiple" not in course and "days" not in course


@pytest.mark.parametrize("days, verdict", [(83, "too_short"), (84, "adequate")])
def test_omalizumab_trial_boundary(days, verdict):
    trial = kinds(derive(history([oma(days)]), BOOK), "trial")[0]
    assert trial["verdict"] == verdict


def test_dose_change_within_an_episode_is_one_trial():
    courses = [{"drug": "ciclosporin", "dose": 1, "unit": "mg/kg/day", "frequency": "daily",
                "start": START, "end": START + timedelta(days=30)},
               {"drug": "ciclosporin", "dose": 3, "unit": "mg/kg/day", "frequency": "daily",
                "start": START + timedelta(days=30), "end": START + timedelta(days=90)}]
    derived = derive(history(courses), BOOK)
    trials = kinds(derived, "trial")
    assert len(trials) == 1 and trials[0]["days"] == 90 and trials[0]["verdict"] == "adequate"
    assert [c["continues"] for c in kinds(derived, "course")] == ["no", "yes"]


@pytest.mark.parametrize("q4w_days, q2w_days, status", [
    (168, 84, "met"), (167, 84, "not_met"), (168, 83, "not_met")])
def test_refractory_boundaries(q4w_days, q2w_days, status):
    second = START + timedelta(days=q4w_days)
    verdict = refractory(oma(q4w_days), oma(q2w_days, second, "every 2 weeks"),
                         assessments=[uas7(30, second), uas7(25, second + timedelta(days=q2w_days))])
    assert verdict.status == status


def test_control_during_omalizumab_means_not_refractory():
    second = START + timedelta(days=180)
    verdict = refractory(oma(180), oma(90, second, "every 2 weeks"),
                         assessments=[uas7(6, second), uas7(25, second + timedelta(days=90))])
    assert verdict.status == "not_met" and "controlled on" in verdict.reason


def test_baseline_on_the_first_day_is_not_the_response():
    verdict = refractory(oma(180), assessments=[uas7(40, START)])
    assert verdict.phases[0].status is None  # response unknown, not "uncontrolled"


def test_unknown_schedule_is_indeterminate_never_no():
    verdict = refractory({"drug": "omalizumab", "start": START, "end": START + timedelta(days=300)})
    assert verdict.status == "indeterminate"
    assert any("omalizumab (course 1): dose, frequency," in m for m in verdict.missing)


def test_a_later_phase_implies_the_earlier_one():
    verdict = refractory({"drug": "omalizumab", "dose": 300, "unit": "mg",
                          "frequency": "every 2 weeks", "stop_reason": "ineffective"})
    assert verdict.status == "indeterminate"
    assert verdict.phases[0].status is None


def test_escalation_straight_into_the_next_phase_means_the_first_did_not_respond():
    second = START + timedelta(days=180)
    verdict = refractory(oma(180), oma(90, second, "every 2 weeks"),
                         assessments=[uas7(25, second + timedelta(days=90))])
    assert verdict.status == "met"
    assert verdict.phases[0].evidence[0]["outcome_basis"] == "escalated to the next phase"
    assert "without control (escalated to the next phase) (course 1)" in verdict.reason


def test_a_gap_before_the_next_phase_is_no_evidence_of_how_the_first_went():
    later = START + timedelta(days=400)
    verdict = refractory(oma(180), oma(90, later, "every 2 weeks"),
                         assessments=[uas7(25, later + timedelta(days=90))])
    assert verdict.status == "indeterminate"
    assert verdict.missing == ["omalizumab (course 1): a UAS7/UCT during the course (dated, or tied "
                               "to the course), or why it stopped"]


def undated(every: str, days: int, **extra) -> dict:
    return {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": every,
            "duration_days": days, **extra}


@pytest.mark.parametrize("listed, status", [((4, 2), "met"), ((2, 4), "not_met")])
def test_wholly_undated_courses_are_ordered_as_listed(listed, status):
    course = {4: undated("every 4 weeks", 180), 2: undated("every 2 weeks", 90, stop_reason="ineffective")}
    verdict = refractory(*(course[weeks] for weeks in listed))
    assert verdict.status == status


def test_no_omalizumab_at_all_is_not_met():
    verdict = refractory({"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily"})
    assert verdict.status == "not_met"


@pytest.mark.parametrize("score, status", [(0, "complete"), (6, "well_controlled"), (7, "uncontrolled")])
def test_uas7_bands(score, status):
    control = kinds(derive(history(assessments=[uas7(score, START)]), BOOK), "control")[0]
    assert control["status"] == status


@pytest.mark.parametrize("score, status", [(16, "complete"), (12, "well_controlled"), (11, "uncontrolled")])
def test_uct_bands(score, status):
    control = kinds(derive(history(assessments=[{"instrument": "UCT", "score": score,
                                                 "date": START}]), BOOK), "control")[0]
    assert control["status"] == status


def test_a_score_outranks_a_judgement_on_the_same_day_and_undated_scores_are_not_used():
    derived = derive(history(assessments=[
        uas7(20, START), {"instrument": "clinician", "judgement": "responded", "date": START},
        {"instrument": "UAS7", "score": 0}]), BOOK)
    assert kinds(derived, "control")[0]["score"] == 20


def test_escalation_pairs_each_step_with_the_step_below():
    derived = derive(history([
        {"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily",
         "start": START, "end": START + timedelta(days=5)}, oma(100, START + timedelta(days=5))]), BOOK)
    [escalation] = kinds(derived, "escalation")
    assert (escalation["from_step"], escalation["to_step"], escalation["from_verdict"]) == (
        "AH1", "BIO", "too_short")


def test_facts_are_pure_and_deterministic():
    h = history([oma(100)], [uas7(20, START + timedelta(days=50))])
    assert derive(h, BOOK).facts == derive(h, BOOK).facts


def test_every_fact_uses_only_declared_fields():
    from ladder.fact_kinds import FACT_FIELDS
    h = history([oma(100), {"drug": "ciclosporin"}], [uas7(20, START)],
                comorbidities=["hypertension"], screenings=[{"kind": "tb"}], age=70)
    for fact in derive(h, BOOK).facts:
        assert set(fact) - {"type"} <= set(FACT_FIELDS[fact["type"]]), fact


@pytest.mark.parametrize("dose, every, status", [
    (300, "every 2 weeks", "met"), (600, "every 4 weeks", "met"), (450, "every 4 weeks", "not_met"),
    (150, "every 2 weeks", "not_met")])
def test_the_second_phase_is_a_dose_intensity(dose, every, status):
    second = START + timedelta(days=180)
    optimised = {**oma(90, second, every), "dose": dose}
    verdict = refractory(oma(180), optimised,
                         assessments=[uas7(30, second), uas7(25, second + timedelta(days=90))])
    assert verdict.status == status


def test_consecutive_prescriptions_of_one_phase_add_up():
    # Six months of 4-weekly omalizumab written as two 3-month prescriptions, then 2-weekly.
    middle, second = START + timedelta(days=91), START + timedelta(days=182)
    verdict = refractory(oma(91), oma(91, middle), oma(90, second, "every 2 weeks"),
                         assessments=[uas7(30, second), uas7(25, second + timedelta(days=90))])
    assert verdict.status == "met"
    assert verdict.phases[0].evidence[0]["id"] == "course-1 + course-2"
    assert verdict.phases[0].evidence[0]["days"] == 182


def test_a_run_is_judged_by_its_last_assessment_and_only_joins_qualifying_courses():
    middle, second = START + timedelta(days=91), START + timedelta(days=182)
    responded = refractory(oma(91), oma(91, middle), oma(90, second, "every 2 weeks"),
                           assessments=[uas7(30, middle), uas7(4, second)])
    assert responded.status == "not_met" and "controlled on" in responded.reason
    low_first = refractory({**oma(91), "dose": 150}, oma(91, middle), oma(90, second, "every 2 weeks"),
                           assessments=[uas7(30, second), uas7(25, second + timedelta(days=90))])
    assert low_first.status == "not_met" and "lasted 91 days" in low_first.reason


@pytest.mark.parametrize("after_end, status", [(14, "met"), (15, "indeterminate")])
def test_the_follow_up_visit_within_one_dosing_interval_tells_how_a_course_went(after_end, status):
    second = START + timedelta(days=180)
    end = second + timedelta(days=90)
    verdict = refractory(oma(180, stop_reason="ineffective"), oma(90, second, "every 2 weeks"),
                         assessments=[uas7(28, end + timedelta(days=after_end))])
    assert verdict.status == status


def test_a_score_after_the_next_treatment_began_is_not_the_last_ones_response():
    second = START + timedelta(days=180)
    end = second + timedelta(days=90)
    jak = {"drug": "upadacitinib", "dose": 15, "unit": "mg", "frequency": "daily",
           "start": end + timedelta(days=3), "ongoing": True}
    verdict = refractory(oma(180, stop_reason="ineffective"), oma(90, second, "every 2 weeks"), jak,
                         assessments=[uas7(28, end + timedelta(days=10))])
    assert verdict.status == "indeterminate"


def test_a_course_of_unknown_dose_leaves_open_only_the_steps_it_could_reach():
    courses = kinds(derive(history([{"drug": "cetirizine"}]), BOOK), "course")
    steps = {f["code"]: f["reached"] for f in derivation._steps(BOOK, courses)}
    assert (steps["AH1"], steps["AH4"], steps["BIO"], steps["CSA"]) == ("yes", "unknown", "no", "no")


def test_only_the_steps_and_drug_classes_a_check_asks_about_are_derived():
    """The default pack asks of step facts only about AH4 and BIO and of drug classes only about
    the licensed add-ons (LAD006) and systemic corticosteroids (STE002): other such facts could match no check."""
    derived = derive(history([{"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily"}]), BOOK)
    assert [f["code"] for f in kinds(derived, "step")] == ["AH4", "BIO"]  # LAD004, LAD007
    assert sorted(f["class"] for f in kinds(derived, "drug_class")) == [
        "anti_ige", "anti_il4r", "btk_inhibitor", "systemic_corticosteroid"]
    every_class = derivation._drug_classes(kinds(derived, "course"), default_index())
    assert len(every_class) == len(default_index().catalog.classes)


def test_only_ciclosporin_is_the_ciclosporin_step():
    derived = derive(history([{"drug": "tacrolimus", "dose": 2, "unit": "mg", "frequency": "twice daily"}],
                             comorbidities=["hypertension"]), BOOK)
    [course] = kinds(derived, "course")
    assert course["class"] == "calcineurin_inhibitor" and "step" not in course


def test_a_start_and_a_written_length_give_the_course_its_dates():
    course = kinds(derive(history([{**oma(1), "end": None, "duration": "6 months"}]), BOOK), "course")[0]
    assert (course["days"], course["end_day"] - course["start_day"]) == (183, 183)
    second = START + timedelta(days=183)
    verdict = refractory({**oma(1), "end": None, "duration": "6 months"},
                         {**oma(1, second, "every 2 weeks"), "end": None, "duration": "3 months"},
                         assessments=[uas7(30, second), uas7(28, second + timedelta(days=90))])
    assert verdict.status == "met"


@pytest.mark.parametrize("q4w_first, status", [(True, "met"), (False, "indeterminate")])
def test_an_undated_course_listed_before_a_dated_one_came_first(q4w_first, status):
    dated = {**oma(90, START, "every 2 weeks"), "stop_reason": "ineffective"}
    earlier = undated("every 4 weeks", 180, stop_reason="ineffective")
    verdict = refractory(*((earlier, dated) if q4w_first else (dated, earlier)))
    assert verdict.status == status


def test_an_ongoing_phase_too_short_so_far_is_indeterminate_with_the_days_so_far():
    """It read "not met" before: a patient 60 days into 2-weekly dosing, still uncontrolled, may
    become refractory; the verdict cannot be given yet."""
    second = START + timedelta(days=180)
    ongoing = {**oma(1, second, "every 2 weeks"), "end": None, "ongoing": True}
    verdict = refractory(oma(180, stop_reason="ineffective"), ongoing,
                         assessments=[uas7(30, second + timedelta(days=60))])
    assert verdict.status == "indeterminate"
    assert verdict.missing == ["omalizumab (course 2): ongoing: 60 days so far of the 84 required"]


def test_a_gap_within_one_dosing_interval_is_still_treatment():
    # Renewed 19 days after the first prescription ended: within the 4-week interval, so the episode
    # runs from the first start to the last end (201 days), not the 182 prescribed days added up.
    renewed, second = START + timedelta(days=110), START + timedelta(days=201)
    derived = derive(history([oma(91), oma(91, renewed)]), BOOK)
    assert [t["days"] for t in kinds(derived, "trial")] == [201]
    verdict = refractory(oma(91), oma(91, renewed, stop_reason="ineffective"),
                         oma(90, second, "every 2 weeks", stop_reason="ineffective"))
    assert verdict.status == "met" and verdict.phases[0].evidence[0]["days"] == 201


# Issue "Clinical truth" section 1: refractory verdicts. Each of these read wrongly before.

def test_a_course_stopped_in_remission_ends_the_run():
    """Three 2-month 4-weekly courses, the first two stopped in remission, then 12 weeks 2-weekly
    without control read 'met: 183 days (course-1 + course-2 + course-3)'."""
    second, third = START + timedelta(days=61), START + timedelta(days=122)
    q2w = START + timedelta(days=183)
    verdict = refractory(oma(61, stop_reason="remission"), oma(61, second, stop_reason="remission"),
                         oma(61, third), oma(84, q2w, "every 2 weeks", stop_reason="ineffective"),
                         assessments=[uas7(30, q2w - timedelta(days=1)), uas7(30, q2w + timedelta(days=84))])
    assert verdict.status == "not_met"
    assert "course-1 + course-2" not in str(verdict.phases[0].evidence)


def test_a_course_whose_last_assessment_shows_control_ends_the_run():
    second, q2w = START + timedelta(days=91), START + timedelta(days=182)
    verdict = refractory(oma(91), oma(91, second), oma(84, q2w, "every 2 weeks", stop_reason="ineffective"),
                         assessments=[uas7(3, START + timedelta(days=90)), uas7(30, q2w - timedelta(days=1))])
    assert verdict.status == "not_met"
    assert not any(" + " in e["id"] for e in verdict.phases[0].evidence)


def test_a_stated_gap_makes_undated_courses_separate_trials():
    first = undated("every 4 weeks", 91)
    again = {**undated("every 4 weeks", 91), "gap_before": "1 year"}
    q2w = undated("every 2 weeks", 90, stop_reason="ineffective")
    assert refractory(first, again, q2w).status == "not_met"  # neither run reaches 6 months
    assert refractory(first, undated("every 4 weeks", 91), q2w).status == "met"  # joined: 182 days


def test_no_room_for_the_first_phase_before_the_second_is_not_met():
    """150 mg, then 300 mg every 2 weeks two weeks later: the record shows the episode's start, so
    there was no time for 6 months of 4-weekly dosing (it read 'cannot be determined')."""
    q2w = START + timedelta(days=14)
    loading = {"drug": "omalizumab", "dose": 150, "unit": "mg", "frequency": "every 4 weeks",
               "start": START, "end": q2w}
    verdict = refractory(loading, oma(120, q2w, "every 2 weeks", stop_reason="ineffective"))
    assert verdict.status == "not_met"
    assert "14 days before" in verdict.phases[0].reason and "no room" in verdict.phases[0].reason


def test_a_record_declared_incomplete_leaves_a_missing_later_phase_unknown():
    six = oma(182, stop_reason="ineffective")
    assert refractory(six).status == "not_met"
    verdict = refractory(six, complete=False)
    assert verdict.status == "indeterminate"
    assert any("declared incomplete" in m for m in verdict.missing)


def test_an_ongoing_course_runs_to_the_audit_date_not_the_last_recorded_date():
    ongoing = {**oma(1), "end": None, "ongoing": True}
    derived = derive(history([ongoing]), BOOK, as_of=START + timedelta(days=365))
    [course] = [f for f in derived.facts if f["type"] == "course"]
    assert course["days"] == 365
    until = derive(history([ongoing], observed_until=START + timedelta(days=100)), BOOK,
                   as_of=START + timedelta(days=365))
    assert [f["days"] for f in until.facts if f["type"] == "course"] == [100]


def test_the_reason_names_the_deciding_check():
    """A patient controlled on 2-weekly dosing after 74 days read 'not yet: 74 days of 84'."""
    q2w = START + timedelta(days=182)
    verdict = refractory(oma(182, stop_reason="ineffective"), oma(74, q2w, "every 2 weeks"),
                         assessments=[uas7(2, q2w + timedelta(days=74))])
    assert verdict.status == "not_met"
    assert "controlled on" in verdict.reason and "74 days" not in verdict.reason


# Section 2: reading responses.

def test_an_undated_assessment_tied_to_a_course_reaches_the_verdict():
    q4w, q2w = undated("every 4 weeks", 182), undated("every 2 weeks", 90, stop_reason="ineffective")
    assert refractory(q4w, q2w).status == "met"
    responded = {"instrument": "clinician", "judgement": "responded", "course": 1}
    verdict = refractory(q4w, q2w, assessments=[responded])
    assert verdict.status == "not_met" and "controlled" in verdict.reason


def test_a_dated_response_inside_an_open_ended_course_counts():
    open_ended = {**oma(1), "end": None}
    verdict = refractory(open_ended, assessments=[uas7(0, START + timedelta(days=100))])
    assert verdict.status == "not_met" and "controlled on" in verdict.reason


def test_a_score_older_than_the_current_treatment_is_not_control_now():
    later = START + timedelta(days=30)
    derived = derive(history([oma(200, later)], [uas7(30, START)]), BOOK)
    [control] = [f for f in derived.facts if f["type"] == "control"]
    assert control["status"] == "stale" and control["current_drug"] == "omalizumab"


def test_missing_names_only_what_is_missing():
    """A course with a start and no end asked for 'start and end dates'."""
    verdict = refractory({**oma(1), "end": None}, oma(90, START + timedelta(days=200), "every 2 weeks"))
    assert verdict.status == "indeterminate"
    assert verdict.missing[0].startswith("omalizumab (course 1): end date (or how long it lasted)")


# Section 3 and 5: trials and the 2026 ladder.

def test_ciclosporin_below_its_step_dose_is_not_an_adequate_trial():
    """1 mg/kg/day for 16 weeks read 'adequate trial'; the pack's source gives about 3-5 mg/kg/day."""
    low = {"drug": "ciclosporin", "dose": 1, "unit": "mg/kg/day", "frequency": "daily",
           "start": START, "end": START + timedelta(days=112)}
    [trial] = kinds(derive(history([low]), BOOK), "trial")
    assert trial["verdict"] == "under_dosed" and trial["min_dose_text"] == "3 mg/kg/day"
    in_mg = {**low, "dose": 200, "unit": "mg"}
    [trial] = kinds(derive(history([in_mg]), BOOK), "trial")
    assert trial["verdict"] == "unknown" and "dose in mg/kg/day" in trial["missing"]


def test_a_trial_dose_is_judged_per_course_not_as_the_episodes_highest():
    """150 mg monthly for 16 weeks then one 300 mg dose read 'adequate trial, 140 days'."""
    low = {**oma(112), "dose": 150}
    one = oma(28, START + timedelta(days=112), stop_reason="adverse_event")
    [trial] = kinds(derive(history([low, one]), BOOK), "trial")
    assert trial["verdict"] == "under_dosed"


def test_dupilumab_and_remibrutinib_are_the_licensed_add_on_step_not_above_ciclosporin():
    for drug, dose, every in (("dupilumab", 300, "every 2 weeks"), ("remibrutinib", 25, "twice daily")):
        course = {"drug": drug, "dose": dose, "unit": "mg", "frequency": every, "start": START,
                  "end": START + timedelta(days=120)}
        [fact] = kinds(derive(history([course]), BOOK), "course")
        assert fact["step"] == "BIO"
        [trial] = kinds(derive(history([course]), BOOK), "trial")
        assert trial["verdict"] == "adequate"  # omalizumab's 300 mg is not their dose
    jak = {"drug": "abrocitinib", "dose": 100, "unit": "mg", "frequency": "daily", "start": START}
    [fact] = kinds(derive(history([jak]), BOOK), "course")
    assert fact["step"] == "JAK" and fact["step_rank"] > BOOK.step_ranks["CSA"]


def test_a_pregnancy_with_no_end_continues_to_the_audit_date():
    import ladder
    jak = {"drug": "baricitinib", "dose": 4, "unit": "mg", "frequency": "daily", "start": "2025-03-01",
           "end": "2025-05-01"}
    pregnant = {"name": "pregnancy", "onset": "2025-01-10"}
    report = ladder.audit({"id": "p", "courses": [jak], "comorbidities": [pregnant]}, as_of=date(2025, 6, 1))
    assert "PRG001" in {f.code for f in report.patients[0].findings}
    before = {**pregnant, "onset": "2025-06-01"}
    report = ladder.audit({"id": "p", "courses": [jak], "comorbidities": [before]}, as_of=date(2025, 7, 1))
    assert "PRG001" not in {f.code for f in report.patients[0].findings}


def test_a_lower_dose_after_a_remission_is_a_taper_not_under_dosing():
    """300 mg stopped in remission, then 150 mg: a new episode (re-treatment) at a lower dose read
    as TRL003 under-dosed."""
    taper = {**oma(120, START + timedelta(days=182)), "dose": 150}
    derived = derive(history([oma(182, stop_reason="remission"), taper]), BOOK)
    assert [t["verdict"] for t in kinds(derived, "trial")] == ["adequate", "step_down"]


def test_a_trial_finding_cites_its_steps_clause():
    """A ciclosporin trial finding carried the antihistamine/omalizumab clause (R3, R19 / R23)."""
    import ladder
    low = {"drug": "ciclosporin", "dose": 1, "unit": "mg/kg/day", "frequency": "daily",
           "start": "2024-01-01", "end": "2024-05-01"}
    [finding] = [f for f in ladder.audit({"id": "x", "courses": [low]}).patients[0].findings if f.code == "TRL003"]
    assert finding.citation.source == "R30, R31" and finding.citation.confirmed is False


def test_ciclosporin_before_omalizumab_is_a_deviation_even_when_omalizumab_follows():
    import ladder
    csa = {"drug": "ciclosporin", "dose": 3, "unit": "mg/kg/day", "frequency": "daily",
           "start": "2023-01-01", "end": "2023-04-01"}
    later = {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 4 weeks",
             "start": "2023-06-01", "end": "2023-12-01"}
    codes = {f.code for f in ladder.audit({"id": "x", "courses": [csa, later]}).patients[0].findings}
    assert "LAD007" in codes and "LAD006" not in codes


def test_a_later_step_on_record_leaves_an_earlier_definition_unknown_not_failed():
    """A patient on omalizumab with no antihistamine on record read 'antihistamine-refractory: not
    met'; the later step implies the antihistamines came first (the pack's implied_by)."""
    derived = derive(history([oma(182, stop_reason="ineffective")]), BOOK)
    [(spec, verdict)] = [(s, v) for s, v in derived.definitions if s.id == "antihistamine-refractory"]
    assert verdict.status == "indeterminate" and "later step: omalizumab" in verdict.missing[0]
    alone = derive(history([{"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily",
                             "start": START, "end": START + timedelta(days=30)}]), BOOK)
    assert [v.status for s, v in alone.definitions if s.id == "antihistamine-refractory"] == ["not_met"]


def test_a_brand_of_another_drug_leaves_the_course_uncertain_between_the_two(book):
    """'Neoral (abrocitinib)': ciclosporin's brand beside a JAK inhibitor was read as abrocitinib alone,
    reaching the JAK step; the drug is uncertain, so the step is the lower (ciclosporin's) and the JAK
    step unknown, never silently one of them."""
    facts = derive(history([{"drug": "Neoral (abrocitinib)", "dose": 100, "unit": "mg", "frequency": "daily",
                             "start": "2024-01-01", "end": "2024-04-01"}]), BOOK).facts
    [course] = [f for f in facts if f["type"] == "course" and "alternative_of" not in f]
    assert (course["step"], course["step_certain"], course["alternative"]) == ("CSA", "no", "ciclosporin")
    patient = next(f for f in facts if f["type"] == "patient")
    assert patient["step"] == "CSA"  # not JAK: the record does not say which drug was given
    # Where both drugs sit on one step (two JAK inhibitors), the step stands.
    facts = derive(history([{"drug": "abrocitinib (Xeljanz)", "dose": 100, "unit": "mg", "frequency": "daily",
                             "start": "2024-01-01", "end": "2024-04-01"}]), BOOK).facts
    [course] = [f for f in facts if f["type"] == "course"]
    assert (course["step"], course["step_certain"]) == ("JAK", "yes")


def test_an_uncertain_drugs_checks_are_judged_for_both_readings():
    """'Neoral (abrocitinib)' in a hypertensive patient: the JAK checks were judged and the ciclosporin
    ones silently not; both readings are judged now, once each, and never against each other."""
    import datetime as dt

    import ladder
    report = ladder.audit({"id": "x", "comorbidities": ["hypertension"], "courses": [
        {"drug": "Neoral (abrocitinib)", "dose": 100, "unit": "mg", "frequency": "daily", "start": "2024-01-01",
         "end": "2024-04-01"}]}, as_of=dt.date(2026, 12, 2))
    codes = [f.code for f in report.patients[0].findings]
    assert {"CSA001", "JAK001", "JAK002", "DQ001"} <= set(codes)
    assert "JAK011" not in codes  # the two readings of one course do not "overlap"
    assert codes.count("JAK001") == 1 and report.patients[0].step.code == "CSA"
    same_class = ladder.audit({"id": "y", "courses": [
        {"drug": "abrocitinib (Xeljanz)", "dose": 100, "unit": "mg", "frequency": "daily", "start": "2024-01-01",
         "end": "2024-04-01"}]}, as_of=dt.date(2026, 12, 2))
    assert [f.code for f in same_class.patients[0].findings].count("JAK001") == 1
