from __future__ import annotations

import pytest
import yaml

import ladder
from ladder.errors import RulePackError
from ladder.pack_loader import load_rules, packaged_packs

from .conftest import ROOT

DEFAULT = (ROOT / "rules" / "csu-international.yaml").read_text(encoding="utf-8")
MINIMAL = ROOT / "tests" / "fixtures" / "minimal-pack.yaml"


def broken(edit) -> str:
    data = yaml.safe_load(DEFAULT)
    edit(data)
    return yaml.safe_dump(data, sort_keys=False)


def error_of(text: str) -> str:
    with pytest.raises(RulePackError) as caught:
        load_rules(text=text)
    return str(caught.value)


def test_default_pack_loads_with_a_content_hash():
    book = load_rules()
    assert book.pack.id == "csu-international"
    assert len(book.sha256) == 64 and book.sha256 == load_rules().sha256
    assert "csu-international" in packaged_packs()


def test_every_check_is_documented_and_cited():
    for check in load_rules().checks:
        assert check.summary and check.rationale and check.citation.clause, check.code


def test_unknown_field_in_a_check_names_file_rule_and_field():
    def edit(d):
        d["checks"][0]["when"] = [{"course": {"colour": "red"}}]
    message = error_of(broken(edit))
    assert message.startswith("<string>: does not fit the rule-pack schema:")
    assert "checks[0] (LAD001): Value error, when[0].course: unknown field 'colour'" in message


def test_unknown_fact_kind():
    def edit(d):
        d["checks"][1]["when"] = [{"prescription": {"drug": "x"}}]
    assert "checks[1] (LAD002): Value error, when[0]: 'prescription' is not a fact kind" in error_of(broken(edit))


def test_bad_code_duplicate_code_and_missing_citation():
    def bad_code(d):
        d["checks"][0]["code"] = "lad1"
    assert "checks[0] (lad1).code: Value error, a code is 2-4 capital letters and 3 digits" in error_of(broken(bad_code))

    def duplicate(d):
        d["checks"][1]["code"] = d["checks"][0]["code"]
    assert "duplicate check code: LAD001" in error_of(broken(duplicate))

    def uncited(d):
        del d["checks"][2]["citation"]
    assert "checks[2] (LAD006).citation: Field required" in error_of(broken(uncited))


def test_message_must_name_matched_fields():
    def edit(d):
        d["checks"][0]["message"] = "{course.drug}"
    assert "message: {course.drug} names no field of a matched fact" in error_of(broken(edit))


def test_retired_codes_are_never_reused():
    def edit(d):
        d["retired_codes"] = ["LAD001"]
    assert "retired codes are never reused: LAD001" in error_of(broken(edit))


def test_examples_must_be_valid_histories():
    def edit(d):
        d["checks"][0]["examples"]["fires"] = {"courses": [{"drug": "x", "dose": 10}]}
    assert "checks[0] (LAD001).examples.fires" in error_of(broken(edit))


def test_not_yaml_and_not_a_file():
    assert "not valid YAML" in error_of("pack: [unclosed")
    with pytest.raises(RulePackError, match="cannot read rule pack"):
        load_rules("/nonexistent/pack.yaml")


def test_a_second_pack_works_beside_the_default_in_one_process():
    history = ladder.History(id="p", courses=[{"drug": "cetirizine"}])
    minimal = ladder.audit(history, rules=MINIMAL)
    default = ladder.audit(history, rules=None)
    assert [f.code for f in minimal.patients[0].findings] == ["MIN001"]
    assert "MIN001" not in {f.code for f in default.patients[0].findings}
    assert minimal.rules.id == "minimal" and default.rules.id == "csu-international"


def test_a_pack_is_loaded_once_and_again_when_its_file_changes(tmp_path):
    """ladder.audit(history) with no rules re-read and recompiled the default pack per call (70 ms)."""
    import os

    from ladder.pack_loader import load_rules, packaged_packs
    assert load_rules() is load_rules()
    path = tmp_path / "pack.yaml"
    text = packaged_packs()["csu-international"].read_text()
    path.write_text(text)
    first = load_rules(path)
    assert load_rules(path) is first
    path.write_text(text + "\n# a local note changes the content\n")
    os.utime(path, ns=(1, 1))  # a new signature even within the clock's resolution
    changed = load_rules(path)
    assert changed is not first and changed.sha256 != first.sha256


# Reproducers from the mutated-pack attack (issue 11 section 4): each validated, then crashed,
# hung or ate memory. Now each is an error naming the check and field.

def _first_check(edit):
    def change(d):
        edit(d["checks"][0])
    return broken(change)


@pytest.mark.parametrize("when, message", [
    ([{"patient": {"age": {"gte": float("inf")}}}], "not a finite number"),
    ([{"patient": {"age": {"gte": "65"}}}], "holds a number; compare it with a number"),
    ([{"course": {"drug": {"gt": 3}}}], "holds text"),
    ([{"course": {"drug": [f"d{n}" for n in range(512)]}}], "at most 256 values"),
    ([{"course": {"start_day": {"gt": {"ref": "patient.sex"}}}}], "names no earlier fact"),
    ([{"patient": {"sex": "female"}}, {"course": {"start_day": {"gt": {"ref": "patient.sex"}}}}],
     "not of the same type"),
    ([{f"course as c{n}": {"class": "sgah"}} for n in range(6)], "at most 2 patterns"),
    ([{f"patient as p{n}": {"sex": "female"}} for n in range(7)], "at most 6 facts"),
])
def test_a_pack_test_of_the_wrong_type_size_or_join_is_refused(when, message):
    def edit(check):
        check["when"] = when
        check["message"] = "m"
    assert message in error_of(_first_check(edit))


def test_deeply_nested_conditions_are_refused_not_a_recursion_error():
    nested = "checks:\n  - when:\n    - course: " + "{any: [" * 3000 + "{class: sgah}" + "]}" * 3000 + "\n"
    assert "nested too deeply" in error_of(DEFAULT.split("\nchecks:")[0] + "\n" + nested)

    def edit(check):
        condition: dict = {"class": "sgah"}
        for _ in range(12):
            condition = {"any": [condition]}
        check["when"] = [{"course": condition}]
        check["message"] = "m"
    assert "nested more than 8 levels" in error_of(_first_check(edit))


def test_aliases_in_a_pack_are_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    assert "aliases (*name) are not allowed" in error_of(bomb + DEFAULT)


def test_duplicate_course_ids_in_an_example_are_an_error_not_a_segfault():
    def edit(check):
        course = {"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily", "id": "x"}
        check["examples"]["fires"] = {"courses": [course, dict(course)]}
    assert "share the id 'x'" in error_of(_first_check(edit))


def test_a_pack_over_a_megabyte_is_refused():
    assert "at most 1024 KB" in error_of(DEFAULT + "#" * (1024 * 1024))


def test_an_infinite_or_huge_trial_length_is_refused():
    def edit(d):
        d["steps"][0]["trial"]["min_days"] = 10 ** 12
    assert "steps[0] (AH1).trial.min_days: Input should be less than or equal to 3650" in error_of(broken(edit))


def test_a_pack_text_with_a_lone_surrogate_is_an_error():
    """Found by the fuzz test: the pack cache's hash raised UnicodeEncodeError."""
    assert "not UTF-8 text" in error_of(DEFAULT.replace("title:", "title: \ud800", 1))


# extends: a site's local policy in a few lines (issue 12, part).

POLICY = """extends: csu-international
pack: {id: our-clinic, version: "1", title: "Our clinic"}
disable: [JAK001]
severity: {CTL002: info}
steps:
  - {code: BIO, trial: {min_days: 112}}
checks:
  - code: LOC001
    name: any-jak-inhibitor
    severity: warning
    summary: Every JAK inhibitor course, for our pharmacy review.
    rationale: Local policy.
    citation: {source: local, clause: "Pharmacy review of every JAK inhibitor", confirmed: true}
    when: [{course: {class: jak_inhibitor}}]
    message: "{course.drug} for pharmacy review"
    examples:
      fires: {courses: [{drug: abrocitinib}]}
      passes: {courses: [{drug: cetirizine}]}
"""


def test_a_pack_extends_another_with_a_few_lines(tmp_path):
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    book = load_rules(path)
    base = load_rules()
    codes = {c.code for c in book.checks}
    assert "JAK001" not in codes and "LOC001" in codes and len(codes) == len(base.checks)
    assert book.check("CTL002").severity == "info"
    assert next(s for s in book.steps if s.code == "BIO").trial.min_days == 112
    assert book.provenance["check CTL002"] == f"{path} (severity)"
    assert book.provenance["check REF001"].endswith("csu-international.yaml")
    assert book.sha256 != base.sha256


def test_the_hash_of_an_extending_pack_covers_its_base(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text(DEFAULT)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY.replace("extends: csu-international", "extends: base.yaml"))
    first = load_rules(path)
    base.write_text(DEFAULT.replace("summary: The latest assessment shows the disease not controlled.",
                                    "summary: Not controlled at the latest assessment."))
    second = load_rules(path)
    assert first.sha256 != second.sha256
    assert second.check("CTL002").summary == "Not controlled at the latest assessment."


@pytest.mark.parametrize("change, message", [
    ("disable: [XYZ001]", "the base pack has no check 'XYZ001'"),
    ("extends: no-such-pack", "extends: cannot read 'no-such-pack'"),
    ("colour: blue", "not colour"),
    ("steps: [{code: NEW, label: x}]", "is no step of the base pack"),
])
def test_a_bad_extension_is_an_error_naming_it(change, message):
    text = POLICY.replace("disable: [JAK001]", change) if change.startswith(("disable", "colour", "steps")) \
        else POLICY.replace("extends: csu-international", change)
    if change.startswith("steps"):
        text = text.replace("steps:\n  - {code: BIO, trial: {min_days: 112}}\n", "")
    assert message in error_of(text)


def test_a_pack_sets_regional_standard_doses(tmp_path):
    """A Japanese standard of fexofenadine 120 mg a day makes 240 mg a day 2x, not 1.33x."""
    from ladder.facts import derive
    from ladder.model import History
    path = tmp_path / "jp.yaml"
    path.write_text('extends: csu-international\npack: {id: regional, version: "1", title: regional}\n'
                    'standard_doses: {fexofenadine: 120}\n')
    history = History.model_validate({"id": "x", "courses": [
        {"drug": "fexofenadine", "dose": 120, "unit": "mg", "frequency": "twice daily"}]})
    multiple = lambda book: next(f["multiple"] for f in derive(history, book).facts if f["type"] == "course")  # noqa: E731
    assert multiple(load_rules(path)) == 2 and multiple(load_rules()) == 1.333


def test_a_suggestion_must_name_matched_fields_too():
    def edit(d):
        d["checks"][0]["suggest"] = [{"label": "Order screening for {course.drug}"}]
    assert "suggest[0].label: {course.drug} names no field of a matched fact" in error_of(broken(edit))

    def too_many(d):
        d["checks"][0]["suggest"] = [{"label": f"x{n}"} for n in range(5)]
    assert "suggest" in error_of(broken(too_many))
