"""No record can crash the process that embeds ladder. durable_rules frees memory twice (and kills
the process) on a duplicate or reserved fact id, so every test here runs the engine in a child
process: a segfault is a failing test, not a dead test runner."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import ladder

from .conftest import ROOT


def run_child(code: str, timeout: int = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def assert_survives(code: str) -> str:
    done = run_child(code)
    assert done.returncode == 0, f"child died ({done.returncode}): {done.stderr[-2000:]}"
    return done.stdout


def test_a_course_whose_id_is_the_engines_own_sentinel_or_fact_id_is_audited():
    # `id: end` killed Python with "double free or corruption"; so could any id ladder uses itself.
    out = assert_survives("""
        import ladder
        for cid in ["end", "ladder:end", "patient", "control", "refractory", "course-2",
                    "trial-course-1", "step-OMA", "class-anti_ige", "screening-tb", "x" * 5000]:
            report = ladder.audit({"id": "x", "courses": [{"drug": "omalizumab", "id": cid},
                                                          {"drug": "omalizumab"}]})
            assert len(report.patients) == 1, report.errors
        print("audited")
    """)
    assert "audited" in out


def test_two_courses_sharing_an_id_are_an_input_error_not_a_crash():
    out = assert_survives("""
        import ladder
        report = ladder.audit({"id": "x", "courses": [{"drug": "omalizumab", "id": "a"},
                                                      {"drug": "cetirizine", "id": "a"}]})
        print(report.errors[0].message)
    """)
    assert "courses 0 and 1 share the id 'a'" in out


def test_a_record_id_travels_as_data():
    report = ladder.audit({"id": "x", "courses": [{"drug": "omalizumab", "id": "MedicationStatement/9"}]})
    [trial] = [f for f in report.patients[0].findings if f.code == "TRL004"]
    assert trial.evidence["trial"]["course"] == "course-1"
    dq = [f for f in report.patients[0].findings if f.code == "DQ004"]
    assert dq and report.patients[0].refractory.status == "indeterminate"


def test_rule_examples_with_duplicate_ids_are_refused_by_validation_not_a_crash(tmp_path):
    text = (ROOT / "rules" / "csu-international.yaml").read_text()
    bad = text.replace(
        "fires: {courses: [{drug: cetirizine, dose: 10, unit: mg, frequency: daily, start: 2024-01-01, end: 2024-02-01}]}",
        "fires: {courses: [{drug: cetirizine, id: a}, {drug: cetirizine, id: a}]}", 1)
    assert bad != text
    pack = tmp_path / "pack.yaml"
    pack.write_text(bad)
    done = subprocess.run([sys.executable, "-m", "ladder.cli", "rules", "validate", str(pack)],
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    assert "share the id" in done.stdout + done.stderr


def test_generated_valid_histories_never_crash_the_engine():
    # Hypothesis drives arbitrary valid histories, ids and free text included, through the whole
    # pipeline in a child process: a crash of the engine fails this test instead of the run.
    out = assert_survives("""
        from hypothesis import HealthCheck, given, settings, strategies as st
        import ladder
        from ladder.audit import audit_record_item
        from ladder.readers import Record

        BOOK = ladder.load_rules()
        text = st.text(max_size=12)
        # Mostly the ids ladder's own facts use (they once reached the engine as fact ids).
        own = st.sampled_from(["end", "patient", "control", "refractory", "course-1", "course-2",
                               "trial-course-1", "ladder:end", "step-OMA", "class-anti_ige"])
        ids = st.one_of(own, own, own, text)
        drugs = st.sampled_from(["omalizumab", "cetirizine", "ciclosporin", "abrocitinib", "Xolair",
                                 "prednisone", "montelukast", "methotrexate", "dupilumab", "zz"])
        days = st.dates(min_value=__import__("datetime").date(2000, 1, 1),
                        max_value=__import__("datetime").date(2030, 1, 1))
        course = st.fixed_dictionaries({"drug": drugs, "unit": st.just("mg")}, optional={
            "id": ids, "dose": st.sampled_from([1, 3, 10, 40, 150, 300, 600]), "frequency": st.sampled_from(["daily", "every 2 weeks", "every 4 weeks"]),
            "start": days, "end": days, "stop_reason": st.sampled_from(["ineffective", "remission"]),
            "notes": text})
        history = st.fixed_dictionaries({"id": st.text(min_size=1, max_size=10)}, optional={
            "age": st.integers(0, 120), "comorbidities": st.lists(text.filter(str.strip), max_size=3),
            "courses": st.lists(course, min_size=1, max_size=6),
            "assessments": st.lists(st.fixed_dictionaries({"instrument": st.just("UAS7"),
                                    "score": st.integers(0, 42)}, optional={"date": days}), max_size=4),
            "screenings": st.lists(st.fixed_dictionaries({"kind": st.sampled_from(["tb", "hepatitis_b"])},
                                   optional={"date": days, "result": st.sampled_from(["negative", "positive"])}),
                                   max_size=2)})

        @settings(max_examples=300, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(history)
        def run(data):
            item = audit_record_item(Record("gen", data), BOOK)
            assert ("error" in item) != ("findings" in item), item
            try:
                ladder.History.model_validate(data)
            except ValueError:
                return
            assert "findings" in item, item  # a valid history is audited: no engine error either
            valid.append(True)

        valid = []
        run()
        assert len(valid) > 150, "most generated histories must be valid ones"
        print("survived")
    """)
    assert "survived" in out


def test_a_pack_the_engine_refuses_is_compiled_once_not_per_patient(book, monkeypatch):
    """Each patient of a refused pack tried to compile it again, leaking ~1.35 MB in durable_rules."""
    pipeline = sys.modules["ladder.audit"]  # the module (ladder.audit is also the function)
    from ladder import engine as engine_module
    calls = []

    def refuse(name, ruleset):
        calls.append(name)
        raise RuntimeError("refused")
    monkeypatch.setattr(engine_module.dre, "create_ruleset", refuse)
    refused = book.model_copy(update={"sha256": "0" * 64})  # a pack no engine was made for
    monkeypatch.setattr(pipeline, "_refused", {})
    report = ladder.audit([{"id": f"p{n}"} for n in range(5)], rules=refused)
    assert len(report.errors) == 5 and not report.patients
    assert all("durable_rules rejected the compiled pack" in e.message for e in report.errors)
    assert len(calls) == 1
