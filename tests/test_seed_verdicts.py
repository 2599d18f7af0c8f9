"""The six seed patients, read as a careful clinician reads the case series (shared/seed)."""

from __future__ import annotations

import pytest

import ladder

from .conftest import ROOT


@pytest.fixture(scope="module")
def seed() -> dict[str, ladder.PatientResult]:
    report = ladder.audit(ROOT / "cases" / "seed")
    assert not report.errors
    return {p.id: p for p in report.patients}


@pytest.mark.parametrize("patient, status", [
    ("seed-1", "met"),            # 6 months q4w + 12 weeks q2w, no improvement at either
    ("seed-2", "indeterminate"),  # omalizumab without dose, schedule, duration or response
    ("seed-3", "indeterminate"),  # q2w of unknown length; no 4-weekly phase on record
    ("seed-4", "not_met"),        # 6 months q4w, then ciclosporin: never 2-weekly
    ("seed-5", "not_met"),        # three 4-weekly doses, stopped for adverse reactions
    ("seed-6", "not_met"),        # no omalizumab at all
])
def test_refractory_verdict(seed, patient, status):
    assert seed[patient].refractory.status == status


def test_indeterminate_verdicts_name_what_is_missing(seed):
    assert any("omalizumab (course 3): dose, frequency," in m for m in seed["seed-2"].refractory.missing)
    assert any("omalizumab 300 mg every 4 weeks" in m for m in seed["seed-3"].refractory.missing)
    assert any("start date and end date" in m for m in seed["seed-3"].refractory.missing)


def test_every_seed_patient_reached_the_jak_step(seed):
    assert {p.step.code for p in seed.values()} == {"JAK"}


@pytest.mark.parametrize("patient, code", [
    ("seed-1", "DQ001"),   # abrocitinib written as Xeljanz (tofacitinib)
    ("seed-4", "CSA001"),  # ciclosporin with hypertension
    ("seed-5", "STE001"),  # prednisone 25 mg daily for a month
    ("seed-5", "TRL005"),  # omalizumab stopped for adverse reactions
    ("seed-6", "LAD006"),  # abrocitinib and ciclosporin with no licensed add-on
    ("seed-6", "STE002"),  # intermittent corticosteroids
    ("seed-6", "CSA001"),
])
def test_key_findings(seed, patient, code):
    assert code in {f.code for f in seed[patient].findings}


def test_seed_patients_were_screened_so_no_screening_findings(seed):
    fired = {f.code for p in seed.values() for f in p.findings}
    assert not fired & {"JAK002", "JAK003", "JAK004"}


def test_a_three_day_steroid_course_is_not_flagged(seed):
    assert "STE001" not in {f.code for f in seed["seed-1"].findings}
