"""The condition language of rule packs: parsed once, evaluated three-valued, compiled to durable_rules.

A condition is a mapping of fact field -> test, all of which must hold:
    {class: sgah}                      equal
    {class: [jak_inhibitor, anti_il4r]} one of
    {multiple: {gt: 4}}                 gt, gte, lt, lte, ne, in, present
    {start_day: {gte: {ref: course.start_day}}}   compare with a field of an earlier fact (checks only)
    {drug: {eq: {ref: reaction.drug}}}             the same value as an earlier fact's field
    {any: [{...}, {...}]}               at least one sub-condition holds
A field missing from a fact is unknown: a test on it is neither true nor false.
"""

from __future__ import annotations

import operator
from typing import Any, Callable, Iterable

OPERATORS = {"gt": "$gt", "gte": "$gte", "lt": "$lt", "lte": "$lte", "ne": "$neq", "eq": "$eq"}
Scalar = (str, int, float, bool)
MAX_DEPTH = 8  # `any` within `any`: packs need two or three levels
MAX_VALUES = 256  # values in one list test (the engine compiles each as an alternative)
_LARGEST = 2.0 ** 53


class ConditionError(ValueError):
    """A condition that does not fit the language; the message names the field."""


def validate(condition: Any, fields: Iterable[str], aliases: Iterable[str] = (),
             numeric: Iterable[str] = (), depth: int = 0) -> None:
    """Check a condition's shape, field names and value types (a `numeric` field takes numbers,
    any other text), nesting and sizes; `aliases` are the facts a `ref` may point to."""
    known, refs, numbers = set(fields), set(aliases), set(numeric)
    if depth > MAX_DEPTH:
        raise ConditionError(f"conditions nested more than {MAX_DEPTH} levels deep")
    if not isinstance(condition, dict) or not condition:
        raise ConditionError("a condition is a non-empty mapping of field: test")
    for field, test in condition.items():
        if field == "any":
            if not isinstance(test, list) or not test:
                raise ConditionError("any: takes a non-empty list of conditions")
            if len(test) > MAX_VALUES:
                raise ConditionError(f"any: takes at most {MAX_VALUES} conditions")
            for sub in test:
                validate(sub, known, refs, numbers, depth + 1)
            continue
        if field not in known:
            raise ConditionError(f"unknown field {field!r}; known fields: {', '.join(sorted(known))}")
        _validate_test(field, test, refs, field in numbers, numbers)


def _typed(field: str, value: Any, is_number: bool) -> None:
    """A value of the field's type: a finite number for a numeric field, else text (or yes/no)."""
    if isinstance(value, bool):
        if is_number:
            raise ConditionError(f"{field}: takes a number, not {value!r}")
        return
    if isinstance(value, (int, float)):
        if not is_number:
            raise ConditionError(f"{field}: holds text; compare it with text, not {value!r}")
        if value != value or abs(value) > _LARGEST:
            raise ConditionError(f"{field}: {value!r} is not a finite number ladder can compare")
    elif isinstance(value, str) and is_number:
        raise ConditionError(f"{field}: holds a number; compare it with a number, not {value!r}")


def _validate_test(field: str, test: Any, refs: set[str], is_number: bool = False,
                   numbers: set[str] = frozenset()) -> None:  # type: ignore[assignment]
    if isinstance(test, Scalar):
        _typed(field, test, is_number)
        return
    if isinstance(test, list):
        if not test or not all(isinstance(item, Scalar) for item in test):
            raise ConditionError(f"{field}: a list test needs plain values")
        if len(test) > MAX_VALUES:
            raise ConditionError(f"{field}: a list test takes at most {MAX_VALUES} values")
        for item in test:
            _typed(field, item, is_number)
        return
    if not isinstance(test, dict) or not test:
        raise ConditionError(f"{field}: a test is a value, a list or a mapping of operators")
    for op, operand in test.items():
        if op == "present":
            if not isinstance(operand, bool):
                raise ConditionError(f"{field}: present takes true or false")
        elif op == "in":
            _validate_test(field, operand if isinstance(operand, list) else None, refs, is_number, numbers)
        elif op in OPERATORS:
            if isinstance(operand, dict):
                ref = operand.get("ref")
                if set(operand) != {"ref"} or not isinstance(ref, str) or ref.count(".") != 1:
                    raise ConditionError(f"{field}: {op} takes a value or {{ref: fact.field}}")
                if ref.split(".")[0] not in refs:
                    raise ConditionError(f"{field}: ref {ref!r} names no earlier fact")
                if numbers and (ref.split(".")[1] in numbers) != is_number:
                    raise ConditionError(f"{field}: ref {ref!r} is not of the same type (number or text)")
            elif not isinstance(operand, (int, float, str)) or isinstance(operand, bool):
                raise ConditionError(f"{field}: {op} takes a number or a string")
            else:
                _typed(field, operand, is_number)
                if op not in ("ne", "eq") and isinstance(operand, str) and not is_number and numbers:
                    raise ConditionError(f"{field}: holds text; {op} compares numbers")
        else:
            raise ConditionError(f"{field}: unknown operator {op!r} "
                                 f"(use {', '.join([*OPERATORS, 'in', 'present'])})")


# --- three-valued evaluation (True, False, None = unknown) over one fact


def evaluate(condition: dict[str, Any], fact: dict[str, Any]) -> bool | None:
    return all3(_evaluate_field(field, test, fact) for field, test in condition.items())


def _evaluate_field(field: str, test: Any, fact: dict[str, Any]) -> bool | None:
    if field == "any":
        return any3(evaluate(sub, fact) for sub in test)
    value = fact.get(field)
    if isinstance(test, dict) and "present" in test:
        return (value is not None) == test["present"]
    if value is None:
        return None
    if isinstance(test, list):
        return value in test
    if not isinstance(test, dict):
        return value == test
    results = []
    for op, operand in test.items():
        if op == "in":
            results.append(value in operand)
        elif op == "ne":
            results.append(value != operand)
        elif op == "eq":
            results.append(value == operand)
        else:
            results.append(_compare(op, value, operand))
    return all3(results)


def _compare(op: str, value: Any, operand: Any) -> bool:
    if op == "gt":
        return value > operand
    if op == "gte":
        return value >= operand
    if op == "lt":
        return value < operand
    return value <= operand


def all3(results: Iterable[bool | None]) -> bool | None:
    """Kleene AND: False wins, then unknown."""
    seen_unknown = False
    for result in results:
        if result is False:
            return False
        seen_unknown |= result is None
    return None if seen_unknown else True


def any3(results: Iterable[bool | None]) -> bool | None:
    """Kleene OR: True wins, then unknown."""
    seen_unknown = False
    for result in results:
        if result is True:
            return True
        seen_unknown |= result is None
    return None if seen_unknown else False


# --- compilation to durable_rules' JSON expression form


def to_durable(condition: dict[str, Any]) -> list[dict[str, Any]]:
    """The tests of one condition as durable_rules expressions, to be joined with $and."""
    parts: list[dict[str, Any]] = []
    for field, test in condition.items():
        if field == "any":
            parts.append({"$or": [_and(to_durable(sub)) for sub in test]})
        elif isinstance(test, list):
            parts.append({"$or": [{field: item} for item in test]})
        elif not isinstance(test, dict):
            parts.append({field: test})
        else:
            parts.extend(_operator_tests(field, test))
    # durable_rules drops the tests that follow an $or within an $and when they compare with an
    # earlier fact (a ref): {any: [...], end_day: {gt: {ref: jak.start_day}}} matched every course
    # of the `any`. The $or goes last (an $and's order does not change its meaning).
    return sorted(parts, key=lambda part: "$or" in part)


def _operator_tests(field: str, test: dict[str, Any]) -> list[dict[str, Any]]:
    parts = []
    for op, operand in test.items():
        if op == "present":
            parts.append({"$ex" if operand else "$nex": {field: 1}})
        elif op == "in":
            parts.append({"$or": [{field: item} for item in operand]})
        else:
            if isinstance(operand, dict):
                alias, ref_field = operand["ref"].split(".")
                operand = {alias: ref_field}
            # A comparison on a missing field must stay unknown: durable_rules would read a
            # missing field as not-equal, so `ne` also requires the field to exist.
            if op == "ne":
                parts.append({"$ex": {field: 1}})
            if op == "eq":
                parts.append({field: operand})  # durable_rules writes equality as the plain field test
            else:
                parts.append({OPERATORS[op]: {field: operand}})
    return parts


def _and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": parts}


def fields(condition: dict[str, Any]) -> set[str]:
    """The fact fields a condition reads (through `any` too)."""
    found: set[str] = set()
    for field, test in condition.items():
        if field == "any":
            for sub in test:
                found |= fields(sub)
        else:
            found.add(field)
    return found


def plain_tests(condition: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """The fields a condition tests against plain values (equal, one of), each with its values:
    a fact whose value of such a field is another cannot match it."""
    plain = []
    for field, test in condition.items():
        if field == "any":
            continue
        if isinstance(test, list):
            plain.append((field, test))
        elif isinstance(test, dict) and set(test) == {"in"}:
            plain.append((field, test["in"]))
        elif not isinstance(test, dict):
            plain.append((field, [test]))
    return plain


# --- compilation to a Python predicate (three-valued), for hot paths


Predicate = Callable[[dict[str, Any]], "bool | None"]


def compile_python(condition: dict[str, Any]) -> Predicate:
    """The condition as a function of one fact, equivalent to `evaluate`. A `ref` to another fact
    cannot be known from one fact alone: it evaluates as unknown."""
    tests = [_compile_field(field, test) for field, test in condition.items()]
    if len(tests) == 1:
        return tests[0]

    def conjunction(fact: dict[str, Any]) -> bool | None:
        unknown = False
        for test in tests:
            result = test(fact)
            if result is False:
                return False
            unknown |= result is None
        return None if unknown else True
    return conjunction


def _compile_field(field: str, test: Any) -> Predicate:
    if field == "any":
        alternatives = [compile_python(sub) for sub in test]
        return lambda fact: any3(alt(fact) for alt in alternatives)
    if isinstance(test, dict) and "present" in test:
        wanted = test["present"]
        return lambda fact: (fact.get(field) is not None) == wanted
    if isinstance(test, list) or (isinstance(test, dict) and set(test) == {"in"}):
        members = frozenset(test if isinstance(test, list) else test["in"])
        return lambda fact: None if (v := fact.get(field)) is None else v in members
    if not isinstance(test, dict):
        return lambda fact: None if (v := fact.get(field)) is None else v == test
    if any(isinstance(operand, dict) for operand in test.values()):
        return lambda fact: None  # compares with another fact
    tests = [(_OPERATIONS[op], operand) for op, operand in test.items()]
    if len(tests) == 1:
        (operation, operand), = tests
        return lambda fact: None if (v := fact.get(field)) is None else operation(v, operand)
    return lambda fact: None if (v := fact.get(field)) is None else \
        all(operation(v, operand) for operation, operand in tests)


_OPERATIONS: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le, "ne": operator.ne,
    "eq": operator.eq,
    "in": lambda value, members: value in members}
