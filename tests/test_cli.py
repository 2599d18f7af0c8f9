from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from ladder.cli import main

from .conftest import ROOT


@pytest.fixture
def run(monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    return lambda *args: runner.invoke(main, list(args))


def test_audit_text_report_and_summary(run):
    result = run("audit", "cases/seed")
    assert result.exit_code == 0, result.output  # the seed has no critical finding
    assert "seed-1  (cases/seed/patient-1.yaml)" in result.output
    assert "6 read = 6 audited + 0 errors" in result.output
    assert "refractory: 1 met, 3 not met, 2 cannot be determined" in result.output


def test_audit_json_contract(run):
    data = json.loads(run("audit", "cases/seed/patient-1.yaml", "--format", "json", "--as-of", "2026-01-31").output)
    assert set(data) == {"ladder", "as_of", "rules", "patients", "errors"}
    assert data["as_of"] == "2026-01-31"
    assert set(data["rules"]) == {"id", "version", "sha256"}
    [patient] = data["patients"]
    assert set(patient) == {"id", "source", "as_of", "step", "refractory", "definitions", "findings"}
    assert [d["id"] for d in patient["definitions"]] == ["antihistamine-refractory", "licensed-add-on-refractory"]
    assert {d["status"] for d in patient["definitions"]} <= {"met", "not_met", "indeterminate"}
    assert patient["as_of"] == "2026-01-31"
    assert set(patient["refractory"]) == {"status", "definition", "missing", "evidence"}
    assert set(patient["findings"][0]) == {"code", "name", "severity", "message", "citation", "evidence",
                                           "accepted"}


def test_exit_codes(run):
    assert run("audit", "cases/synthetic/unsafe-escalation.yaml").exit_code == 1  # critical findings
    assert run("audit", "cases/synthetic/unsafe-escalation.yaml", "--exit-zero").exit_code == 0
    assert run("audit", "cases/synthetic/unsafe-escalation.yaml", "--fail-on", "never").exit_code == 0
    assert run("audit", "cases/synthetic/controlled-on-omalizumab.yaml", "--fail-on", "info").exit_code == 1
    assert run("audit", "cases/synthetic/controlled-on-omalizumab.yaml", "--fail-on", "warning").exit_code == 0
    assert run("audit", "--format", "xml", "cases").exit_code == 2


def test_unreadable_input_exits_2_and_still_reports_the_readable_records(run, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: [\n")
    result = run("audit", "cases/seed/patient-1.yaml", str(bad), "--format", "json")
    assert result.exit_code == 2
    data = json.loads(result.output)
    assert len(data["patients"]) == 1 and data["errors"][0]["source"] == str(bad)
    assert "Traceback" not in result.output


def test_explain_shows_timeline_phases_and_reasons(run):
    result = run("explain", "cases/seed/patient-1.yaml")
    assert result.exit_code == 0
    for text in ("Timeline", "2023-04-09 to 2023-10-09", "Refractory: MET", "phase met",
                 "DQ001 brand-generic-mismatch", "because: R24, R28", "every 4 weeks", "daily",
                 "[#/courses/"):
        assert text in result.output
    # Evidence in words: none of the engine's own fields or key=value pairs.
    findings = result.output.split("Findings")[1]
    for internal in ("start_day", "step_rank", "sid", "interval_days", "course-"):
        assert internal not in findings, internal
    assert not re.search(r"\w=\w", findings)


def test_explain_keeps_undated_courses_where_the_record_lists_them(run):
    lines = run("explain", "cases/seed/patient-4.yaml").output.splitlines()
    at = {name: next(n for n, line in enumerate(lines) if f" {name} " in line)
          for name in ("H1 antihistamines", "omalizumab", "abrocitinib")}
    assert at["H1 antihistamines"] < at["omalizumab"] < at["abrocitinib"]


def test_rules_list_show_validate(run):
    listing = run("rules", "list").output
    assert "REF001  refractory-definition-met" in listing
    shown = run("rules", "show", "ref001").output
    for text in ("REF001 refractory-definition-met (info)", "Why it matters:", "Example that fires:"):
        assert text in shown
    assert run("rules", "show", "XX999").exit_code == 2
    valid = run("rules", "validate", "rules/csu-international.yaml", "tests/fixtures/minimal-pack.yaml")
    assert valid.exit_code == 0 and valid.output.count("ok: ") == 2


def test_rules_validate_rejects_a_bad_pack_naming_file_rule_and_field(run, tmp_path):
    text = (ROOT / "tests/fixtures/minimal-pack.yaml").read_text().replace("class: sgah}\n    message", "klass: sgah}\n    message")
    bad = tmp_path / "bad-pack.yaml"
    bad.write_text(text)
    result = run("rules", "validate", str(bad))
    assert result.exit_code == 1
    assert f"invalid: {bad}: does not fit the rule-pack schema:" in result.output
    assert "checks[0] (MIN001): Value error, when[0].course: unknown field 'klass'" in result.output


def test_rules_validate_runs_each_checks_examples(run, tmp_path):
    text = (ROOT / "tests/fixtures/minimal-pack.yaml").read_text().replace(
        "passes: {courses: [{drug: omalizumab}]}", "passes: {courses: [{drug: cetirizine}]}")
    bad = tmp_path / "wrong-example.yaml"
    bad.write_text(text)
    result = run("rules", "validate", str(bad))
    assert result.exit_code == 1
    assert "checks (MIN001).examples.passes: the check fires on its example" in result.output


def test_a_second_pack_by_path(run):
    result = run("audit", "cases/seed/patient-2.yaml", "--rules", "tests/fixtures/minimal-pack.yaml")
    assert "MIN001" in result.output and result.exit_code == 1
    assert run("audit", "cases", "--rules", "nope.yaml").exit_code == 2


@pytest.mark.parametrize("jobs", ["0", "2"])
def test_select_ignore_and_min_severity(run, jobs):
    def codes(*options):
        out = run("audit", "cases/seed/patient-1.yaml", "--format", "json", "--as-of", "2026-12-02",
                  "--jobs", jobs, *options)
        return [f["code"] for f in json.loads(out.output)["patients"][0]["findings"]], out.exit_code
    every, _ = codes()
    assert set(codes("--select", "JAK,REF")[0]) == {c for c in every if c.startswith(("JAK", "REF"))}
    assert not any(c.startswith("JAK00") for c in codes("--ignore", "JAK00")[0])
    shown, exit_code = codes("--min-severity", "warning", "--fail-on", "info")
    assert "LAD001" not in shown and "DQ001" in shown
    assert exit_code == 1  # the hidden info findings still decide --fail-on
    assert codes("--ignore", "LAD,TRL,CTL,JAK001,DQ004", "--fail-on", "info")[1] == 1
    assert codes("--select", "DQ001", "--fail-on", "info")[1] == 1
    assert codes("--select", "AH001", "--fail-on", "info")[1] == 0  # nothing selected fired


def test_a_selection_naming_no_check_is_a_usage_error(run):
    result = run("audit", "cases/seed/patient-1.yaml", "--select", "JAK0100")
    assert result.exit_code == 2 and "has the code or prefix 'JAK0100'" in result.output


def test_a_documented_exception_is_kept_marked_and_does_not_fail_the_run(run, tmp_path):
    case = tmp_path / "p.yaml"
    case.write_text("id: p\nscreenings: [{kind: hepatitis_b, date: 2023-12-01, result: negative}]\n"
                    "courses: [{drug: abrocitinib, dose: 100, unit: mg, frequency: daily, start: 2024-01-01, "
                    "end: 2024-03-01}]\n")
    assert run("audit", str(case)).exit_code == 1  # JAK002: no TB screening (critical)
    case.write_text(case.read_text() + "exceptions: [{code: JAK002, reason: screened at another hospital, "
                                       "date: 2023-12-20}, {code: LAD099, reason: typo}]\n")
    result = run("audit", str(case), "--format", "json")
    assert result.exit_code == 0, result.output
    findings = {f["code"]: f for f in json.loads(result.output)["patients"][0]["findings"]}
    assert findings["JAK002"]["accepted"] == {"reason": "screened at another hospital", "date": "2023-12-20"}
    assert "LAD099" in findings["DQ006"]["message"]
    assert "[accepted: screened at another hospital]" in run("audit", str(case)).output


def test_settings_come_from_a_file_found_upward_and_the_command_line_wins(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text('[tool.ladder]\nselect = ["JAK00"]\nfail-on = "never"\n'
                                             'as-of = "2026-12-02"\n')
    (tmp_path / "deep" / "er").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "deep" / "er")
    runner = CliRunner()
    case = str(ROOT / "cases" / "seed" / "patient-1.yaml")
    out = runner.invoke(main, ["audit", case, "--format", "json"])
    data = json.loads(out.output)
    assert {f["code"][:5] for f in data["patients"][0]["findings"]} == {"JAK00"}
    assert data["as_of"] == "2026-12-02" and out.exit_code == 0
    wins = json.loads(runner.invoke(main, ["audit", case, "--format", "json", "--select", "REF"]).output)
    assert {f["code"] for f in wins["patients"][0]["findings"]} == {"REF001"}
    shown = runner.invoke(main, ["config"]).output
    assert "pyproject.toml" in shown and "JAK00" in shown and "default" in shown


def test_an_unknown_setting_is_a_usage_error_naming_the_file(tmp_path, monkeypatch):
    (tmp_path / "ladder.toml").write_text('selectt = ["JAK"]\n')
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["audit", str(ROOT / "cases" / "seed" / "patient-1.yaml")])
    assert result.exit_code == 2 and "ladder.toml" in result.output and "selectt" in result.output


def test_rules_packs_lists_the_packaged_packs(run):
    result = run("rules", "packs")
    ids = [line.split()[0] for line in result.output.splitlines()]
    assert result.exit_code == 0 and ids == ["csu-china-2022", "csu-international", "csu-japan-2018", "csu-us-2014"]
    assert "checks (" in result.output and "unconfirmed)" in result.output


def test_a_20_line_extends_pack_through_the_cli(tmp_path, monkeypatch):
    policy = tmp_path / "policy.yaml"
    policy.write_text('extends: csu-international\npack: {id: our-clinic, version: "1", title: Our clinic}\n'
                      "disable: [JAK001]\nseverity: {JAK008: info}\n")
    monkeypatch.chdir(ROOT)
    runner = CliRunner()
    out = runner.invoke(main, ["audit", "cases/seed/patient-1.yaml", "--rules", str(policy), "--format", "json",
                               "--as-of", "2026-12-02"])
    data = json.loads(out.stdout)
    codes = {f["code"]: f["severity"] for f in data["patients"][0]["findings"]}
    assert data["rules"]["id"] == "our-clinic" and "JAK001" not in codes and codes["JAK008"] == "info"
    assert runner.invoke(main, ["rules", "validate", str(policy)]).exit_code == 0


def test_rules_show_tells_where_a_step_came_from(run, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text('extends: csu-international\npack: {id: p, version: "1", title: p}\n'
                      "steps: [{code: BIO, trial: {min_days: 112}}]\n")
    shown = run("rules", "show", "BIO", "--rules", str(policy)).output
    assert f"From: {policy}" in shown and "min_days: 112" in shown
    assert "csu-international.yaml" in run("rules", "show", "CSA", "--rules", str(policy)).output


def test_explain_reads_standard_input_and_picks_one_patient(run, tmp_path):
    runner = CliRunner()
    text = (ROOT / "cases" / "seed" / "patient-1.yaml").read_text()
    out = runner.invoke(main, ["explain", "-", "--as-of", "2026-12-02"], input=text)
    assert out.exit_code == 0 and out.output.startswith("seed-1  (<stdin>)")
    cohort_text = runner.invoke(main, ["synth", "5", "--seed", "2"]).output
    picked = runner.invoke(main, ["explain", "-", "--patient", "syn-2-0000003", "--as-of", "2026-12-02"],
                           input=cohort_text)
    assert picked.exit_code == 0 and picked.output.startswith("syn-2-0000003  (<stdin>:3)")
    assert picked.output.count("Timeline") == 1
    missing = runner.invoke(main, ["explain", "cases/seed", "--patient", "seed-9"])
    assert missing.exit_code == 2 and "no patient 'seed-9'" in missing.output


def test_severity_is_coloured_on_a_terminal_unless_no_color(monkeypatch):
    from ladder.report import text
    monkeypatch.setattr(text.sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert text._colour_wanted()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not text._colour_wanted()
    sink = text.TextSink()
    sink.colour = True
    assert "\033[1;31mcritical" in sink.write("p\n  critical JAK006  m\n")


def test_the_progress_bar_shows_only_where_it_cannot_break_up_the_report():
    from ladder.progress import progress_wanted
    assert progress_wanted(None, to_file=False, stdout_tty=False, stderr_tty=True)      # piped to a file
    assert progress_wanted(None, to_file=True, stdout_tty=True, stderr_tty=True)        # -o report.html
    assert not progress_wanted(None, to_file=False, stdout_tty=True, stderr_tty=True)   # both on one screen
    assert not progress_wanted(None, to_file=True, stdout_tty=False, stderr_tty=False)  # no terminal at all
    assert progress_wanted(True, to_file=False, stdout_tty=True, stderr_tty=True)       # asked for


def test_the_progress_bar_runs_no_thread_while_workers_are_forked():
    """rich's bar redrew itself from a thread: the audit forked its workers from a threaded process."""
    import threading
    from ladder.progress import with_progress
    before = threading.active_count()
    seen = [threading.active_count() for _ in with_progress(range(450), 450)]
    assert max(seen) == before
