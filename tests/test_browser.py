"""The HTML reports in a real browser: headless Chromium (Debian's package; .ci/run installs it),
driven by playwright. Each page loads with no console error and no network request, its timeline's
bars match the courses (count and order) in the DOM, and a screenshot is saved (build/screenshots).

Without Chromium these tests skip, saying so; under .ci/run (LADDER_REQUIRE_BROWSER=1) they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ladder.cli import main

from .conftest import ROOT

SHOTS = Path(os.environ.get("LADDER_SCREENSHOTS", ROOT / "build" / "screenshots"))
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and os.environ.get("LADDER_REQUIRE_BROWSER"):
    pytest.fail("the browser tests need Chromium: apt-get install chromium (.ci/run does)", pytrace=False)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine (apt-get install chromium)")
# Flags for a closed machine: no background calls home, no sandbox as root, no GPU.
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


def opened(browser, path: Path, shot: str, height: int = 1000):
    """The page, loaded, with what it logged and asked the network for."""
    page = browser.new_page(viewport={"width": 1280, "height": height})
    page.problems, page.requests = [], []
    page.on("console", lambda m: page.problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page.problems.append(f"page error: {e}"))
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(path.as_uri(), timeout=120_000)
    page.shot = shot
    return page


def finish(page) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / page.shot))
    assert page.problems == []
    assert [u for u in page.requests if not u.startswith(("file:", "data:", "blob:"))] == []
    page.close()


def bars_match_courses(page, section: str) -> None:
    """The DOM's bars: one per course, and the dated ones left to right in the order of their starts."""
    courses = int(page.get_attribute(section, "data-courses"))
    figure_id = page.get_attribute(f"{section} .timeline", "data-figure")
    figure = json.loads(page.text_content(f"#{figure_id}"))
    points = page.locator(f"{section} .timeline .barlayer .point")
    assert points.count() == courses
    dated = figure["data"][0]
    lefts = page.evaluate(f"""() => Array.from(document.querySelectorAll('{section} .timeline .barlayer .trace')[0]
                                 .querySelectorAll('.point')).map(p => p.getBoundingClientRect().left)""")
    assert len(lefts) == len(dated["base"])
    by_start = sorted(range(len(lefts)), key=lambda n: (dated["base"][n], n))
    assert [round(lefts[n]) for n in by_start] == sorted(round(x) for x in lefts)
    assert sorted(dated["customdata"] + (figure["data"][1]["customdata"] if figure["data"][1].get("type") == "bar"
                                         and len(figure["data"]) > 1 else [])) == list(range(1, courses + 1))


def test_a_seed_patients_page_draws_every_course(browser, tmp_path):
    out = tmp_path / "seed-3.html"
    result = CliRunner().invoke(main, ["explain", "cases/seed/patient-3.yaml", "--format", "html", "-o", str(out),
                                       "--as-of", "2026-12-02"])
    assert result.exit_code == 0, result.output
    page = opened(browser, out, "seed-3.png", height=1200)
    page.wait_for_selector("details.patient[open] .timeline .main-svg")
    bars_match_courses(page, "details.patient")
    assert page.locator("details.patient .timeline .barlayer .point").count() == 8  # 4 undated, 4 dated
    finish(page)


def test_a_2000_patient_cohort_page_loads_and_draws_what_is_opened(browser, tmp_path):
    cohort = tmp_path / "cohort.jsonl"
    cohort.write_text(CliRunner().invoke(main, ["synth", "2000", "--seed", "1"]).output)
    out = tmp_path / "cohort.html"
    # As a user runs it: the command in a process of its own, its workers drawing the timelines.
    result = subprocess.run([sys.executable, "-m", "ladder.cli", "audit", str(cohort), "--format", "html",
                             "-o", str(out), "--jobs", "2", "--exit-zero", "--as-of", "2026-12-02"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page = opened(browser, out, "cohort.png", height=1000)
    page.wait_for_selector(".figure .main-svg")
    assert page.locator(".figure[data-drawn]").count() == 3  # steps, verdicts, pathways
    assert page.locator("details.patient").count() == 2000
    for number in (1, 2, 3):
        section = f"details.patient:nth-of-type({number})"
        page.locator(f"{section} > summary").click()
        page.wait_for_selector(f"{section} .timeline .main-svg")
        bars_match_courses(page, section)
    finish(page)


HOSTILE = """id: "<img src=x onerror=alert(1)></script><script>alert(2)</script>"
courses:
  - {drug: "omalizumab<!--<script></script><b onmouseover=alert(3)>", dose: 300, unit: mg, frequency: every 4 weeks,
     start: 2024-01-01, end: 2024-07-01, notes: "<script>alert(4)</script>"}
adverse_events: [{date: 2024-02-01, description: "<img src=y onerror=alert(5)>"}]
"""


def test_markup_in_a_record_is_shown_as_text_never_run(browser, tmp_path):
    record, out = tmp_path / "hostile.yaml", tmp_path / "hostile.html"
    record.write_text(HOSTILE)
    assert CliRunner().invoke(main, ["explain", str(record), "--format", "html", "-o", str(out)]).exit_code == 0
    page = opened(browser, out, "hostile.png")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.wait_for_selector(".timeline .main-svg")
    page.hover(".timeline .barlayer .point", force=True)  # the hover text holds the drug's name
    page.wait_for_timeout(300)
    assert dialogs == []
    assert "<img src=x" in page.text_content("details.patient summary .pid")
    assert [u for u in page.requests if u.startswith("file:") and not u.endswith("hostile.html")] == []
    finish(page)


def test_printing_a_cohort_opens_and_draws_every_patient(browser, tmp_path):
    cohort = tmp_path / "small.jsonl"
    cohort.write_text(CliRunner().invoke(main, ["synth", "5", "--seed", "2"]).output)
    out = tmp_path / "small.html"
    assert CliRunner().invoke(main, ["audit", str(cohort), "--format", "html", "-o", str(out), "--exit-zero"]).exit_code == 0
    page = opened(browser, out, "printed.png")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.locator("details.patient[open]").count() == 5
    assert page.locator("details.patient .timeline[data-drawn]").count() == 5
    page.pdf(path=str(tmp_path / "small.pdf"))  # headless Chromium prints it
    assert (tmp_path / "small.pdf").read_bytes().startswith(b"%PDF")
    finish(page)
