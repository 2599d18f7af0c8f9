from __future__ import annotations

import pytest

from ladder import conditions as c


@pytest.mark.parametrize("condition, fact, expected", [
    ({"a": 1}, {"a": 1}, True), ({"a": 1}, {"a": 2}, False), ({"a": 1}, {}, None),
    ({"a": [1, 2]}, {"a": 2}, True), ({"a": {"gt": 4}}, {"a": 4}, False),
    ({"a": {"gte": 4}}, {"a": 4}, True), ({"a": {"present": False}}, {}, True),
    ({"a": 1, "b": 2}, {"a": 2}, False),          # a known False beats an unknown
    ({"a": 1, "b": 2}, {"a": 1}, None),
    ({"any": [{"a": 1}, {"b": 2}]}, {"b": 2}, True),
    ({"any": [{"a": 1}, {"b": 2}]}, {"a": 3}, None),
])
def test_three_valued_evaluation(condition, fact, expected):
    assert c.evaluate(condition, fact) is expected


def test_compiles_to_durable_rules_expressions():
    assert c.to_durable({"class": ["sgah", "fgah"], "multiple": {"gt": 4},
                         "start_day": {"gte": {"ref": "course.start_day"}}}) == [
        {"$gt": {"multiple": 4}},
        {"$gte": {"start_day": {"course": "start_day"}}},
        {"$or": [{"class": "sgah"}, {"class": "fgah"}]}]  # an $or last: durable_rules drops a ref after one


def test_ne_requires_the_field_to_exist():
    assert c.to_durable({"a": {"ne": 1}}) == [{"$ex": {"a": 1}}, {"$neq": {"a": 1}}]


@pytest.mark.parametrize("condition, message", [
    ({"nope": 1}, "unknown field 'nope'"),
    ({"a": {"between": 1}}, "a: unknown operator 'between'"),
    ({"a": {"gt": {"ref": "later.x"}}}, "a: ref 'later.x' names no earlier fact"),
    ({"a": {"present": "yes"}}, "a: present takes true or false"),
    ({}, "a condition is a non-empty mapping"),
])
def test_validation_names_the_field(condition, message):
    with pytest.raises(c.ConditionError, match=message):
        c.validate(condition, ["a"])


@pytest.mark.parametrize("condition, fact, expected", [
    ({"a": 1}, {"a": 1}, True), ({"a": 1}, {}, None), ({"a": [1, 2]}, {"a": 3}, False),
    ({"a": {"gt": 4}}, {"a": 5}, True), ({"a": {"present": False}}, {"a": 1}, False),
    ({"a": 1, "b": 2}, {"a": 2}, False), ({"any": [{"a": 1}, {"b": 2}]}, {"a": 3}, None),
    ({"a": {"gt": {"ref": "x.y"}}}, {"a": 1}, None)])
def test_compiled_predicates_agree_with_evaluate(condition, fact, expected):
    assert c.compile_python(condition)(fact) is expected


from hypothesis import given, strategies as st  # noqa: E402

_numbers = st.integers(0, 6)
_tests = st.one_of(_numbers, st.lists(_numbers, min_size=1, max_size=3),
                   st.fixed_dictionaries({}, optional={op: _numbers for op in ("gt", "gte", "lt", "lte", "ne")})
                   .filter(bool),
                   st.builds(lambda v: {"in": v}, st.lists(_numbers, min_size=1, max_size=3)),
                   st.builds(lambda v: {"present": v}, st.booleans()))
_conditions = st.recursive(st.dictionaries(st.sampled_from("abc"), _tests, min_size=1, max_size=3),
                           lambda inner: st.builds(lambda alts, rest: {"any": alts, **rest},
                                                   st.lists(inner, min_size=1, max_size=3),
                                                   st.dictionaries(st.sampled_from("abc"), _tests, max_size=2)),
                           max_leaves=6)


@given(condition=_conditions, fact=st.dictionaries(st.sampled_from("abc"), _numbers))
def test_compiled_predicates_agree_with_evaluate_on_any_condition(condition, fact):
    assert c.compile_python(condition)(fact) is c.evaluate(condition, fact)
