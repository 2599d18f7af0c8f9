"""The HTML report and the timeline pictures: what they hold, without a browser (the browser test is
tests/test_browser.py)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import orjson
import pytest
from click.testing import CliRunner

from ladder.cli import main
from ladder.report.cohort_figures import suppressed_pathways
from ladder.report.timeline import model
from ladder.audit import audit_item
from ladder.facts import derive
from ladder.model import History

from .conftest import ROOT

AS_OF = "2026-12-02"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def timeline_of(history: dict, book) -> dict:
    h = History.model_validate(history)
    item = audit_item(h, book, "t.yaml", dt.date(2026, 12, 2))
    return model(h, derive(h, book, as_of=dt.date(2026, 12, 2)), item, book)


def test_the_timeline_has_a_bar_per_course_undated_ones_apart_and_ongoing_ones_to_the_audit_date(book):
    data = timeline_of({"id": "t", "courses": [
        {"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily"},
        {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 4 weeks", "start": "2026-01-05",
         "ongoing": True},
        {"drug": "prednisolone", "dose": 20, "unit": "mg", "frequency": "daily", "start": "2026-02-01",
         "end": "2026-02-08"}],
        "assessments": [{"instrument": "UAS7", "score": 30, "date": "2026-03-01"}]}, book)
    bars = data["bars"]
    assert [b["n"] for b in bars] == [1, 2, 3]
    assert [b["dated"] for b in bars] == [False, True, True]
    assert bars[1]["end"] == AS_OF and bars[1]["ongoing"] and bars[1]["label"] == "omalizumab 300 mg every 4 weeks"
    assert bars[2]["lane"] == "corticosteroids" and "corticosteroids" in data["lanes"]
    assert data["lanes"][:3] == ["standard-dose second-generation antihistamine",
                                 "second-generation antihistamine up-dosed", "licensed add-on"]
    assert [s["score"] for s in data["scores"]] == [30] and "UAS7" in data["bands"]


def test_the_courses_that_decided_the_verdict_are_marked(book):
    data = timeline_of(orjson.loads(orjson.dumps(__import__("yaml").safe_load(
        (ROOT / "cases/seed/patient-1.yaml").read_text()), default=str)), book)
    marked = [b["n"] for b in data["bars"] if b["phase"]]
    assert marked == [2, 3] and data["bars"][1]["phase"].startswith("phase 1 met")


def test_explain_html_is_one_self_contained_page(tmp_path):
    out = tmp_path / "p1.html"
    assert run("explain", "cases/seed/patient-1.yaml", "--format", "html", "-o", str(out), "--as-of", AS_OF).exit_code == 0
    page = out.read_text(encoding="utf-8")
    assert "Plotly" in page and 'data-courses="6"' in page
    # No resource from elsewhere: no src or href to a network address, no stylesheet link (in the
    # page's own markup; the browser test watches the requests plotly.js itself might make).
    markup = re.sub(r"<script[^>]*>.*?</script>", "", page, flags=re.S)
    assert "<script src" not in page and not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", markup)
    assert "<link" not in markup
    # Findings with their evidence in words and the record they came from; UNCONFIRMED marked.
    assert "cases/seed/patient-1.yaml#/courses/" in page and "(UNCONFIRMED)" in page
    assert "start_day" not in page.split("timeline-layouts")[0].split("</head>")[1]


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG\r\n"), ("svg", b"<?xml")])
def test_explain_draws_the_timeline_alone_as_png_or_svg_reproducibly(tmp_path, fmt, magic):
    first, second = tmp_path / f"a.{fmt}", tmp_path / f"b.{fmt}"
    for out in (first, second):
        assert run("explain", "cases/seed/patient-3.yaml", "--format", fmt, "-o", str(out), "--as-of", AS_OF).exit_code == 0
    assert first.read_bytes().startswith(magic) and len(first.read_bytes()) > 10_000
    assert first.read_bytes() == second.read_bytes()


def test_the_cohort_report_with_min_cell_leaves_patients_out_and_hides_small_counts(tmp_path):
    cohort = tmp_path / "c.jsonl"
    cohort.write_text(run("synth", "60", "--seed", "3").output + '{"id": "secret-id-77", "courses": 5}\n')
    out = tmp_path / "c.html"
    result = run("audit", str(cohort), "--format", "html", "--min-cell", "5", "-o", str(out), "--exit-zero")
    assert result.exit_code == 2  # the bad record
    page = out.read_text(encoding="utf-8")
    assert 'class="patient"' not in page and "Cohort" in page and "left out of this report" in page
    assert "secret-id-77" not in page and "1 records could not be audited" in page
    counts = [int(n) for n in re.findall(r"<td>(\d+)(?: \(\d+%\))?</td>", page.split("<h2>Cohort</h2>")[1])]
    assert counts and all(n == 0 or n >= 5 for n in counts)
    full = tmp_path / "full.html"
    run("audit", str(cohort), "--format", "html", "-o", str(full), "--exit-zero")
    full_page = full.read_text(encoding="utf-8")
    assert full_page.count('<details class="patient"') == 60 and "secret-id-77" in full_page


def test_rare_pathways_are_pooled_and_a_small_pool_takes_the_next_rarest():
    paths = Counter({("A",): 40, ("A", "B"): 9, ("A", "C"): 2, ("A", "D"): 1})
    shown, pooled = suppressed_pathways(paths, 5)
    assert shown == {("A",): 40} and pooled == 12  # 3 alone would reveal that 1 + 2 patients exist
    shown, pooled = suppressed_pathways(Counter({("A",): 40, ("B",): 6}), 5)
    assert shown == {("A",): 40, ("B",): 6} and pooled == 0
    assert suppressed_pathways(Counter({("A",): 3}), 0) == ({("A",): 3}, 0)


def test_a_course_with_a_start_and_a_stated_length_is_drawn_on_its_dates(book):
    data = timeline_of({"id": "t", "courses": [
        {"drug": "cetirizine", "dose": 10, "unit": "mg", "frequency": "daily", "start": "2024-01-01"},
        {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 4 weeks", "start": "2024-02-01",
         "duration": "6 months"}]}, book)
    start_only, stated = data["bars"]
    assert not start_only["dated"] and start_only["when"] == "from 2024-01-01, end not recorded"
    assert stated["dated"] and stated["end"] == "2024-08-02" and stated["when"] == "end from the stated length"


def test_a_fact_of_an_unexpected_shape_is_still_described():
    from ladder.report.words import describe
    assert describe({"type": "trial", "drug": "x", "ref": "#/courses/0"}) == "drug x [#/courses/0]"
    assert describe({"type": "course", "written": "x"}, source="f.yaml").startswith("x, dose and schedule not recorded")


def test_a_picture_that_cannot_be_drawn_is_an_error_line_not_a_traceback(tmp_path, monkeypatch):
    import ladder.report.static_timeline as static

    def broken(data, fmt):
        raise ValueError("a marker matplotlib does not know")
    monkeypatch.setattr(static, "picture", broken)
    result = CliRunner().invoke(main, ["explain", "cases/seed/patient-3.yaml", "--format", "png",
                                       "-o", str(tmp_path / "x.png")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "could not draw this png (ValueError: a marker matplotlib does not know)" in result.output
    assert not (tmp_path / "x.png").exists()


def test_clinician_judgements_are_markers_on_the_timeline(book):
    data = timeline_of({"id": "t", "courses": [], "assessments": [
        {"instrument": "clinician", "judgement": "no_response", "date": "2024-03-01"}]}, book)
    assert [(e["kind"], e["label"]) for e in data["events"]] == [("clinician judgement", "clinician: no response")]


def test_a_shareable_cohort_report_makes_no_patient_pages_in_the_workers():
    from ladder.report.html import HtmlSink, _render, _render_counts
    sink = HtmlSink()
    assert sink.render is _render
    sink.min_cell = 5
    assert sink.render is _render_counts
    assert _render_counts({"error": {"source": "s", "patient": None, "message": "m"}})[0] == "error"
