from __future__ import annotations

import pytest

from ladder.drugs import default_index


@pytest.mark.parametrize("written, generic", [
    ("cetirizine", "cetirizine"), ("Zyrtec", "cetirizine"), ("XOLAIR", "omalizumab"),
    ("Omalizamab", "omalizumab"), ("cyclosporine", "ciclosporin"), ("CsA", "ciclosporin"),
    ("Mendrust", "montelukast"), ("omalizumab 300 mg", "omalizumab"),
    ("Xolair (omalizumab)", "omalizumab"), ("H1 antihistamines", "H1 antihistamine"),
    ("Bilaxten", "bilastine"), ("Prograf", "tacrolimus"), ("MMF", "mycophenolate mofetil"),
    ("IVIG", "intravenous immunoglobulin"), ("Nucala", "mepolizumab"), ("ketotifen", "ketotifen"),
    ("olopatadine", "olopatadine"), ("Litfulo", "ritlecitinib")])
def test_names_resolve(written, generic):
    match = default_index().resolve(written)
    assert match.drug is not None and match.drug.generic == generic
    assert match.conflicting_brand is None


def test_a_brand_of_another_drug_is_a_conflict_and_the_name_outside_brackets_wins():
    match = default_index().resolve("abrocitinib (Xeljanz, Pfizer)")
    assert match.drug.generic == "abrocitinib"
    assert match.conflicting_brand == ("Xeljanz", "tofacitinib")


def test_unrecognised_name():
    assert default_index().resolve("zyrtecc-xr").drug is None


def test_every_antihistamine_with_a_standard_dose_is_an_h1_antihistamine():
    for drug in default_index().catalog.drugs:
        if drug.standard_daily_mg:
            assert drug.drug_class == "sgah", drug.generic


def test_every_drug_class_is_declared():
    catalog = default_index().catalog
    assert {d.drug_class for d in catalog.drugs} <= set(catalog.classes)


def test_an_antihistamine_without_a_known_standard_dose_has_none():
    # clinical.md gives no standard oral dose for olopatadine: no multiple may be computed from it.
    assert default_index().resolve("olopatadine").drug.standard_daily_mg is None


@pytest.mark.parametrize("written", ["abrocitinib (Xeljanz, Pfizer)", "Xeljanz (abrocitinib)",
                                     "abrocitinib/Xeljanz", "abrocitinib Xeljanz"])
def test_every_way_of_writing_a_brand_of_another_drug_beside_a_generic_is_a_conflict(written):
    """'Xeljanz (abrocitinib)' read silently as tofacitinib before."""
    from ladder.drugs import default_index
    match = default_index().resolve(written)
    assert match.drug.generic == "abrocitinib"
    assert match.conflicting_brand is not None and match.conflicting_brand[1] == "tofacitinib"


def test_an_unknown_drug_gets_a_did_you_mean():
    import ladder
    report = ladder.audit({"id": "x", "courses": [{"drug": "Xoliar", "dose": 300, "unit": "mg"}]})
    [dq] = [f for f in report.patients[0].findings if f.code == "DQ002"]
    assert "did you mean Xolair?" in dq.message
