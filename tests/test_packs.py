"""The packs that ship: each validates with its examples, and where they differ, they differ as
their guidelines do (issue 12)."""

from __future__ import annotations

import datetime as dt

import pytest

import ladder
from ladder.pack_loader import packaged_packs
from ladder.selftest import example_failures

AS_OF = dt.date(2026, 12, 2)


@pytest.mark.parametrize("name", sorted(packaged_packs()))
def test_every_shipped_pack_validates_and_its_examples_hold(name):
    assert example_failures(ladder.load_rules(name)) == []


def audit(pack: str, *courses: dict) -> ladder.PatientResult:
    return ladder.audit({"id": "p", "courses": list(courses)}, rules=pack, as_of=AS_OF).patients[0]


FAMOTIDINE = {"drug": "famotidine", "dose": 40, "unit": "mg", "frequency": "daily", "start": "2024-01-01",
              "end": "2024-02-01"}
OMALIZUMAB_150 = {"drug": "omalizumab", "dose": 150, "unit": "mg", "frequency": "every 4 weeks",
                  "start": "2024-01-01", "end": "2024-07-01"}


def test_an_h2_antagonist_is_a_step_in_the_us_pack_and_outside_the_international_ladder():
    us, intl = audit("csu-us-2014", FAMOTIDINE), audit("csu-international", FAMOTIDINE)
    assert us.step.code == "US2" and "AH003" not in {f.code for f in us.findings}
    assert intl.step.code == "none" and "AH003" in {f.code for f in intl.findings}


def test_omalizumab_150_mg_is_on_label_in_the_us_pack_only():
    us, intl = audit("csu-us-2014", OMALIZUMAB_150), audit("csu-international", OMALIZUMAB_150)
    assert "TRL003" not in {f.code for f in us.findings}
    assert "TRL003" in {f.code for f in intl.findings}


def test_cyclosporine_beside_omalizumab_is_no_deviation_in_the_us_pack():
    csa = {"drug": "ciclosporin", "dose": 3, "unit": "mg/kg/day", "frequency": "daily", "start": "2024-01-01",
           "end": "2024-04-01"}
    assert "LAD006" not in {f.code for f in audit("csu-us-2014", csa).findings}
    assert "LAD006" in {f.code for f in audit("csu-international", csa).findings}


def test_the_japanese_ceiling_is_2x_and_its_standard_doses_are_japans():
    olopatadine_3x = {"drug": "olopatadine", "dose": 10, "unit": "mg", "frequency": "three times daily",
                      "start": "2024-01-01", "end": "2024-02-01"}
    jp = {f.code for f in audit("csu-japan-2018", olopatadine_3x).findings}
    assert "JPN001" in jp and "AH001" not in jp  # 30 mg a day is 3x Japan's 10 mg
    fexofenadine_240 = {"drug": "fexofenadine", "dose": 120, "unit": "mg", "frequency": "twice daily",
                        "start": "2024-01-01", "end": "2024-02-01"}
    assert audit("csu-japan-2018", fexofenadine_240).step.code == "JP1X"  # 2x of 120 mg
    assert audit("csu-international", fexofenadine_240).step.code == "AH4"  # 1.33x of 180 mg


def test_in_japan_auxiliary_agents_are_step_2_and_a_month_of_prednisolone_is_allowed():
    tranexamic = {"drug": "Transamin", "dose": 750, "unit": "mg", "frequency": "daily", "start": "2024-01-01",
                  "end": "2024-02-01"}
    assert audit("csu-japan-2018", tranexamic).step.code == "JP2"
    prednisolone = {"drug": "prednisolone", "dose": 10, "unit": "mg", "frequency": "daily",
                    "start": "2024-01-01", "end": "2024-01-25"}
    assert "STE001" in {f.code for f in audit("csu-international", prednisolone).findings}
    assert not {"STE001", "JPN002"} & {f.code for f in audit("csu-japan-2018", prednisolone).findings}


def test_in_china_methotrexate_and_tripterygium_are_later_line_options_not_outside_the_ladder():
    mtx = {"drug": "methotrexate", "dose": 15, "unit": "mg", "frequency": "weekly", "start": "2024-01-01",
           "end": "2024-04-01"}
    cn, intl = audit("csu-china-2022", mtx), audit("csu-international", mtx)
    assert cn.step.code == "CN5" and "LAD005" not in {f.code for f in cn.findings}
    assert intl.step.code == "none" and "LAD005" in {f.code for f in intl.findings}


def test_cetirizine_30_mg_is_above_the_japanese_ceiling_only():
    cetirizine_30 = {"drug": "cetirizine", "dose": 30, "unit": "mg", "frequency": "daily", "start": "2024-01-01",
                     "end": "2024-02-01"}
    assert "JPN001" in {f.code for f in audit("csu-japan-2018", cetirizine_30).findings}
    assert not {"AH001", "JPN001"} & {f.code for f in audit("csu-international", cetirizine_30).findings}


def test_tripterygium_is_a_step_in_china_and_lad005_internationally():
    tripterygium = {"drug": "tripterygium glycosides", "dose": 20, "unit": "mg", "frequency": "three times daily",
                    "start": "2024-01-01", "end": "2024-03-01"}
    assert audit("csu-china-2022", tripterygium).step.code == "CN5"
    assert "LAD005" in {f.code for f in audit("csu-international", tripterygium).findings}


def test_what_the_ladder_offers_next_differs_by_pack():
    history = {"id": "p", "courses": [{"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily",
                                       "start": "2024-01-01", "end": "2024-02-01"}],
               "assessments": [{"instrument": "UAS7", "score": 24, "date": "2024-01-30"}]}
    offers = {}
    for pack in ("csu-international", "csu-japan-2018", "csu-us-2014"):
        [finding] = [f for f in ladder.audit(history, rules=pack, as_of=AS_OF).patients[0].findings if f.code == "NXT001"]
        offers[pack] = finding.message
    assert "up to four times" in offers["csu-international"] and "at most 2x" in offers["csu-japan-2018"]
    assert "H2 antagonist" in offers["csu-us-2014"]


@pytest.mark.parametrize("name", sorted(packaged_packs()))
def test_each_pack_description_cites_its_sources(name):
    book = ladder.load_rules(name)
    assert "Sources:" in book.pack.description
    cited = book.pack.description.split("Sources:")[1]
    assert any(key in cited for key in book.sources)
