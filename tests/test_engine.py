from __future__ import annotations

import sys

import pytest

import ladder
from ladder.audit import audit_records, engine_for
from ladder.engine import Engine, compile_rulebook
from ladder.errors import EngineError
from ladder.readers import Failed, Record


def test_compiled_ruleset_has_a_rule_per_check_and_an_end_rule(book):
    rules = compile_rulebook(book)
    assert {c.code for c in book.checks} | {"__end"} == set(rules)


def test_a_fact_no_check_accepts_is_ignored_and_the_others_still_fire(book):
    # durable_rules reports the unhandled fact (result code 1) after asserting the rest.
    facts = [{"id": "x", "type": "no_check_tests_this"},
             {"id": "c1", "type": "course", "class": "calcineurin_inhibitor", "drug": "ciclosporin",
              "continues": "no"},
             {"id": "h", "type": "condition", "category": "hypertension", "name": "HTN"}]
    engine = Engine(book)
    engine.relevant = lambda fact: True  # type: ignore[method-assign]  # send it to the engine too
    codes = [m.code for m in engine.run(facts, patient="p")]
    assert "CSA001" in codes


def test_matches_carry_the_facts_by_alias(book):
    facts = [{"id": "c1", "type": "course", "class": "calcineurin_inhibitor", "drug": "ciclosporin",
              "continues": "no"},
             {"id": "h", "type": "condition", "category": "hypertension", "name": "HTN"}]
    matches = engine_for(book).run(facts, patient="p")
    [match] = [m for m in matches if m.code == "CSA001"]
    # Each fact as asserted, its kind included (reports describe a fact by its kind).
    assert match.facts == {"course": facts[0], "condition": facts[1]}


def test_state_is_deleted_after_every_patient(book):
    # durable_rules allows 1,024 live states per ruleset: 1,500 patients pass only if each is freed.
    engine = Engine(book)
    for _ in range(1500):
        assert engine.run([{"id": "patient", "type": "patient", "step_rank": 1,
                            "step_label": "x", "step": "AH1"}], patient="p")


def test_one_patients_engine_failure_is_an_error_record_and_the_audit_goes_on(book, monkeypatch):
    engine = engine_for(book)
    real = engine.run

    def flaky(facts, patient):
        if patient == "bad":
            raise EngineError("simulated crash", patient=patient)
        return real(facts, patient)

    monkeypatch.setattr(engine, "run", flaky)
    records = [Record("a.yaml", ladder.History(id="good")), Record("b.yaml", ladder.History(id="bad")),
               Failed("c.yaml", None, "not valid YAML"), Record("d.yaml", ladder.History(id="also-good"))]
    results = list(audit_records(records, book))
    assert len(results) == 4
    assert [type(r).__name__ for r in results] == ["PatientResult", "AuditError", "AuditError", "PatientResult"]
    assert results[1].patient == "bad" and results[1].message == "simulated crash"


def test_tiny_doses_never_reach_the_engine_in_exponent_form(book):
    history = ladder.History(id="p", courses=[{"drug": "cetirizine", "dose": 0.0000001,
                                               "unit": "mg", "frequency": "daily"}])
    assert ladder.audit(history, book).patients  # would be a C-parser error otherwise


def test_library_audit_accepts_a_history_a_list_and_a_path(book):
    from .conftest import ROOT
    one = ladder.audit(ladder.History(id="x"), book)
    many = ladder.audit([ladder.History(id="x"), ladder.History(id="y")], book)
    path = ladder.audit(ROOT / "cases" / "seed" / "patient-1.yaml", book)
    assert [len(r.patients) for r in (one, many, path)] == [1, 2, 1]
    assert isinstance(path.patients[0].findings[0], ladder.Finding)


def test_library_audit_names_what_it_cannot_take(book):
    with pytest.raises(TypeError, match="not NoneType"):
        ladder.audit(None, book)  # type: ignore[arg-type]
    report = ladder.audit([None, {"id": "ok"}], book)  # type: ignore[list-item]
    assert [p.id for p in report.patients] == ["ok"]
    assert report.errors[0].source == "<memory #1>" and "not NoneType" in report.errors[0].message


def test_threads_sharing_one_engine_get_each_patients_own_results(book):
    from concurrent.futures import ThreadPoolExecutor

    from ladder.synthetic import cohort
    histories = [ladder.History.model_validate(h) for h in cohort(120, seed=9)]
    alone = [ladder.audit(h, book).patients[0] for h in histories]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads between nearly every bytecode: interleave patients
    try:
        with ThreadPoolExecutor(6) as pool:
            together = list(pool.map(lambda h: ladder.audit(h, book).patients[0], histories))
    finally:
        sys.setswitchinterval(switch)
    assert together == alone


# --- Relevance: which facts are sent to the engine at all

from hypothesis import assume, given, settings, strategies as st  # noqa: E402

from ladder import conditions  # noqa: E402
from ladder.engine import Relevance  # noqa: E402
from ladder.fact_kinds import FACT_FIELDS  # noqa: E402


def test_a_fact_is_kept_unless_every_pattern_of_its_kind_is_false_for_it():
    relevance = Relevance([("course", {"class": "jak_inhibitor", "continues": "no"}),
                           ("course", {"drug": ["ciclosporin", "x"], "days": {"gt": 10}}),
                           ("course", {"any": [{"class": "sgah"}, {"drug": "y"}]}),
                           ("trial", {"verdict": {"in": ["too_short"]}})])
    assert relevance({"type": "course", "class": "jak_inhibitor", "continues": "no"})
    assert not relevance({"type": "course", "class": "jak_inhibitor", "continues": "yes", "drug": "z"})
    assert relevance({"type": "course", "drug": "ciclosporin", "days": 11})
    assert not relevance({"type": "course", "drug": "ciclosporin", "days": 10, "class": "csa"})
    assert relevance({"type": "course", "class": "sgah"})             # through `any`
    assert relevance({"type": "course", "continues": "no"})          # no class, no drug: unknown
    assert relevance({"type": "trial", "verdict": "too_short"})
    assert not relevance({"type": "trial", "verdict": "adequate"})
    assert relevance({"type": "trial"})                               # no verdict: unknown
    assert not relevance({"type": "patient", "age": 70})              # no pattern of that kind


def _values(book):
    """Values the pack's own tests use, and a few others, for every field."""
    seen: set = {None, 0, 1, 5, 65, 300, 21.4, "yes", "no", "other"}
    def walk(condition):
        for field, test in condition.items():
            if field == "any":
                for sub in test:
                    walk(sub)
            elif isinstance(test, list):
                seen.update(test)
            elif isinstance(test, dict):
                seen.update(v for v in test.values() if not isinstance(v, (dict, list)))
                seen.update(test.get("in", []))
            else:
                seen.add(test)
    for check in book.checks:
        for _, _, condition in check.patterns:
            walk(condition)
    return sorted(seen, key=repr)


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_relevance_agrees_with_the_patterns_evaluated_one_by_one(book, data):
    kind = data.draw(st.sampled_from(sorted(FACT_FIELDS)))
    values = st.sampled_from(_values(book))
    fact = {"type": kind, **{field: value for field, value in data.draw(
        st.dictionaries(st.sampled_from(FACT_FIELDS[kind]), values)).items() if value is not None}}
    patterns = [condition for check in book.checks for _, k, condition in check.patterns if k == kind]
    try:
        expected = any(conditions.compile_python(condition)(fact) is not False for condition in patterns)
        got = engine_for(book).relevant(fact)
    except TypeError:  # a number compared with text: no derived fact mixes them
        assume(False)
    assert got == expected


_ALLOCATE = """
import ctypes, sys
from ladder.engine import keep_freed_memory
libc = ctypes.CDLL(None)
class Mallinfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]
libc.mallinfo2.restype = Mallinfo2
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
if sys.argv[1] == "tuned":
    keep_freed_memory()
mapped = libc.mallinfo2().hblkhd
block = libc.malloc(640 * 1024)  # about one engine state
mapped = libc.mallinfo2().hblkhd - mapped
libc.free(block)
print(mapped, libc.mallinfo2().fordblks)
"""


def test_cohort_runners_keep_the_memory_of_deleted_states_for_reuse():
    """In a fresh process a block the size of an engine state gets its own mmap, handed back to the
    kernel when freed; after keep_freed_memory() it comes from the heap and stays there, for the
    next patient to reuse."""
    import ctypes
    import subprocess

    if not hasattr(ctypes.CDLL(None), "mallinfo2"):
        pytest.skip("not glibc")

    def allocate(mode: str) -> tuple[int, int]:
        out = subprocess.run([sys.executable, "-c", _ALLOCATE, mode], capture_output=True,
                             text=True, check=True).stdout
        mapped, kept = out.split()
        return int(mapped), int(kept)

    mapped, _ = allocate("default")
    assert mapped >= 640 * 1024                    # the premise: glibc's default
    mapped, kept = allocate("tuned")
    assert mapped == 0 and kept >= 640 * 1024


@pytest.mark.parametrize("end, fires", [("2023-12-20", False), ("2024-01-01", False), ("2024-01-02", True)])
def test_a_comparison_with_another_fact_after_an_any_is_honoured(book, end, fires):
    """durable_rules dropped a ref test that followed an $or: JAK011 fired for any ciclosporin
    course, overlapping or not. The compiler puts the $or last."""
    courses = [{"drug": "ciclosporin", "dose": 3, "unit": "mg/kg/day", "frequency": "daily",
                "start": "2023-10-01", "end": end},
               {"drug": "abrocitinib", "dose": 100, "unit": "mg", "frequency": "daily",
                "start": "2024-01-01", "end": "2024-04-01"}]
    report = ladder.audit({"id": "x", "courses": courses}, rules=book)
    assert ("JAK011" in {f.code for f in report.patients[0].findings}) is fires


def test_a_reaction_to_a_drug_and_a_later_course_of_it_are_joined_by_equality(book):
    event = {"date": "2024-02-01", "drug": "Xolair", "description": "serum sickness-like reaction"}
    first = {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 4 weeks",
             "start": "2024-01-01", "end": "2024-02-01"}
    again = {**first, "start": "2024-06-01", "end": "2024-09-01"}
    other = {**again, "drug": "dupilumab"}

    def codes(*courses):
        report = ladder.audit({"id": "x", "courses": list(courses), "adverse_events": [event]}, rules=book)
        return {f.code for f in report.patients[0].findings}
    assert "RXN001" in codes(first, again)
    assert "RXN001" not in codes(first, other)
    assert "RXN001" not in codes(first)
