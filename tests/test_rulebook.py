from __future__ import annotations

import pytest
import yaml

import ladder
from ladder.errors import RulePackError
from ladder.rulebook import load_rules, packaged_packs

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

    from ladder.rulebook import load_rules, packaged_packs
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
