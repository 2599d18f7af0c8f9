"""Fuzz: bad histories, FHIR bundles and rule packs through the library, in a child process (a
crash fails the test, not the runner). Every call ends in a result or a documented LadderError:
never another exception, never a crash, never a hang. Bounded to about a minute."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from .conftest import ROOT

FUZZ = """
import json, math, random, sys, traceback
from hypothesis import HealthCheck, given, settings, strategies as st
import ladder
from ladder.errors import LadderError

TEXT = st.one_of(st.text(max_size=30), st.sampled_from(
    ["omalizumab", "Xolair", "abrocitinib (Xeljanz)", "cetirizine", "ciclosporin", "every 2 weeks",
     "daily", "bd", "prn", "2023-13-01", "2023-02-30", "0000-01-01", "9999-12-31", "\\ud800", "end",
     "ladder:end", "course-1", "", " ", "1e308", "NaN"]))
NUMBER = st.one_of(st.integers(min_value=-2**70, max_value=2**70), st.floats(allow_nan=True),
                   st.sampled_from([0, -1, 1e308, 10**30, float("inf")]))
LEAF = st.one_of(st.none(), st.booleans(), NUMBER, TEXT)
VALUE = st.recursive(LEAF, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                    st.dictionaries(TEXT, inner, max_size=4)), max_leaves=12)
COURSE = st.fixed_dictionaries({}, optional={
    "drug": TEXT, "dose": st.one_of(NUMBER, TEXT), "unit": st.sampled_from(["mg", "mg/kg/day", "g", 5]),
    "frequency": st.one_of(TEXT, NUMBER), "start": st.one_of(TEXT, NUMBER), "end": TEXT,
    "duration": TEXT, "duration_days": NUMBER, "ongoing": st.one_of(st.booleans(), TEXT),
    "stop_reason": TEXT, "id": TEXT, "gap_before": TEXT, "dose_multiple": NUMBER, "extra": VALUE})
HISTORY = st.fixed_dictionaries({"id": st.one_of(TEXT, NUMBER)}, optional={
    "courses": st.one_of(st.lists(COURSE, max_size=5), VALUE),
    "assessments": st.lists(st.fixed_dictionaries({}, optional={
        "instrument": st.sampled_from(["UAS7", "UCT", "clinician", "X"]), "score": NUMBER,
        "judgement": TEXT, "date": TEXT, "course": st.one_of(NUMBER, TEXT)}), max_size=3),
    "screenings": st.lists(st.fixed_dictionaries({}, optional={"kind": TEXT, "result": TEXT, "date": TEXT}), max_size=3),
    "sex": TEXT, "age": NUMBER, "observed_until": TEXT, "complete": VALUE, "anchor": VALUE, "diagnosis": VALUE,
    "exceptions": st.one_of(VALUE, st.lists(st.fixed_dictionaries({"code": TEXT, "reason": TEXT}, optional={"date": TEXT}), max_size=2)),
    "comorbidities": st.one_of(VALUE, st.lists(st.fixed_dictionaries({"name": TEXT}, optional={"onset": TEXT, "end": TEXT, "code": TEXT}), max_size=2)),
    "adverse_events": st.lists(st.fixed_dictionaries({"description": TEXT}, optional={"drug": TEXT, "date": TEXT, "kind": TEXT}), max_size=2)})
RESOURCE = st.fixed_dictionaries({"resourceType": st.one_of(st.sampled_from(
    ["Patient", "MedicationStatement", "MedicationRequest", "MedicationAdministration", "Observation",
     "Condition", "AdverseEvent", "Bundle", "Nope"]), NUMBER)}, optional={
    "id": TEXT, "status": TEXT, "medicationCodeableConcept": VALUE, "dosage": VALUE, "effectivePeriod": VALUE,
    "effectiveDateTime": TEXT, "code": VALUE, "valueInteger": NUMBER, "focus": VALUE, "extension": VALUE,
    "subject": VALUE, "entry": VALUE})
BUNDLE = st.fixed_dictionaries({"resourceType": st.just("Bundle"), "type": st.sampled_from(["collection", 5])},
                               optional={"entry": st.one_of(st.lists(st.fixed_dictionaries({"resource": RESOURCE}), max_size=5), VALUE),
                                         "id": TEXT})
unexpected = []

def call(subject):
    try:
        ladder.audit(subject)
    except LadderError:
        pass
    except Exception:
        unexpected.append(traceback.format_exc(limit=3))

@settings(max_examples=int(sys.argv[1]), deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
@given(st.one_of(HISTORY, BUNDLE, VALUE.filter(lambda v: isinstance(v, dict))))
def records(subject):
    call(subject)

BOOK = open("rules/csu-international.yaml", encoding="utf-8").read()
LINES = BOOK.splitlines()

@settings(max_examples=int(sys.argv[2]), deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
@given(st.integers(min_value=0, max_value=len(LINES) - 1), st.one_of(TEXT, NUMBER.map(str)), st.booleans())
def packs(line, replacement, whole):
    lines = list(LINES)
    lines[line] = replacement if whole else lines[line].split(":")[0] + ": " + replacement
    try:
        book = ladder.load_rules(text="\\n".join(lines))
    except LadderError:
        return
    except Exception:
        unexpected.append(traceback.format_exc(limit=3))
        return
    try:
        ladder.audit({"id": "p", "courses": [{"drug": "omalizumab", "dose": 300, "unit": "mg",
                                              "frequency": "every 4 weeks", "start": "2024-01-01"}]}, rules=book)
    except LadderError:
        pass
    except Exception:
        unexpected.append(traceback.format_exc(limit=3))

records()
packs()
print(f"unexpected: {len(unexpected)}")
for text in unexpected[:5]:
    print(text)
"""


def test_bad_records_and_packs_end_in_a_result_or_a_ladder_error():
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(FUZZ), "1500", "150"], capture_output=True,
                          text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-3000:]}"
    assert "unexpected: 0" in done.stdout, done.stdout[-5000:]
