"""The HTML report: one self-contained file (plotly.js, styles and data inlined; no network), to open
from a USB stick, forward, or print. Per patient: the timeline picture, the verdicts with what is
missing, the findings as a table with their evidence in words and the records they came from. Per
cohort: patients per step and per verdict, the treatment pathways, per check the patients and
findings, every count under --min-cell suppressed (and then the patients' own pages are left out, so
that the file can leave the institution).

Each patient's section is rendered in the worker that audited it (Jinja2); the parent keeps the
sections and assembles the document at the end. A cohort's timelines are drawn when opened.
"""

from __future__ import annotations

from collections import Counter
from functools import lru_cache
from typing import Any, Iterable

import orjson

from ..summary import Tally, digest
from .base import Item
from .text import VERDICT
from .timeline import model
from .words import describe, phase_course

MAX_PATIENTS = 5000  # patient sections kept in one file; the cohort pictures count every patient
_DRAWN_OPEN = 1  # a report of one patient opens (and draws) it at once


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, select_autoescape
    env = Environment(loader=PackageLoader("ladder.report", "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    # JSON inside <script type="application/json">: "<" written as \u003c (it occurs only within JSON
    # strings), so no "</script>" or "<!--" in a record's text can end or confuse the element.
    env.filters["json"] = lambda value: orjson.dumps(value).decode().replace("<", "\\u003c")
    return env


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs
    return get_plotlyjs()


def patient_section(item: Item, open_: bool = False) -> tuple[str, Any]:
    """One patient's section (verdicts, the timeline's figure JSON drawn by the page, findings) and
    the key of the layout its figure stands on (None without a timeline)."""
    from .plotly_timeline import figure
    timeline = item.get("timeline")
    try:
        drawn, key = figure(timeline) if timeline else (None, None)
    except Exception:  # noqa: BLE001  the verdicts and findings are shown without the picture
        drawn, key = None, None
    findings = [{**f, "evidence_words": [describe(fact, item["as_of"], item["source"])
                                         for fact in f["evidence"].values() if fact.get("type") != "patient"]}
                for f in sorted(item["findings"], key=lambda f: ({"critical": 0, "warning": 1}.get(f["severity"], 2), f["code"]))]
    phases = [{"label": p["phase"], "status": p["status"].replace("_", " "),
               "courses": [phase_course(c, item["as_of"], item["source"]) for c in p["courses"]]}
              for p in item["refractory"]["evidence"]["phases"]]
    return _environment().get_template("patient.html.j2").render(
        item=item, anchor=f"p{digest(item['id'] + item['source']):x}", open=open_, verdict=VERDICT, findings=findings,
        phases=phases, figure=drawn, courses=len(timeline["bars"]) if timeline else 0), key


def _render(item: Item) -> tuple[str, Any]:
    """In the worker: a patient's section, its layout key and its pathway (or the error)."""
    if "error" in item:
        return "error", item["error"]
    from .cohort_figures import pathway
    path = pathway(item["timeline"]) if item.get("timeline") else ("no ladder step",)
    return "patient", (*patient_section(item), path)


def _render_counts(item: Item) -> tuple[str, Any]:
    """In the worker, for a shareable cohort report: the pathway only."""
    if "error" in item:
        return "error", item["error"]
    from .cohort_figures import pathway
    return "patient", (None, None, pathway(item["timeline"]) if item.get("timeline") else ("no ladder step",))


# The worker adds the timeline's data to the item (audit.audit_item's annotate) for either render.
_render.annotate = _render_counts.annotate = model  # type: ignore[attr-defined]


class HtmlSink:
    """`ladder audit --format html`: sections kept in input order, the document written at the end."""

    def __init__(self, min_cell: int = 0) -> None:
        self._min_cell = min_cell
        self.sections: list[str] = []
        self.errors: list[dict[str, Any]] = []
        self.paths: Counter[tuple[str, ...]] = Counter()
        self.frames: set[Any] = set()
        self.left_out = 0

    @property
    def min_cell(self) -> int:
        return self._min_cell

    @min_cell.setter
    def min_cell(self, value: int) -> None:
        """A shareable cohort report (min_cell > 0) shows no patient's page: the workers then make
        only what the pictures count, not each patient's section."""
        self._min_cell = value
        self.render = _render_counts if value else _render  # type: ignore[method-assign]

    render = staticmethod(_render)  # patients' pages; _render_counts when min_cell is set

    def begin(self, ladder: str, rules: dict[str, str], as_of: str) -> str:
        self.head = {"ladder": ladder, "rules": rules, "as_of": as_of}
        return ""

    def write(self, rendered: tuple[str, Any]) -> str:
        kind, data = rendered
        if kind == "error":
            self.errors.append(data)
            return ""
        section, frame, path = data
        self.paths[path] += 1
        if self.min_cell:
            return ""  # a shareable cohort report: no patient's own page
        if len(self.sections) < MAX_PATIENTS:
            self.sections.append(section)
            if frame is not None:
                self.frames.add(frame)
        else:
            self.left_out += 1
        return ""

    def end(self, tally: Tally) -> str:
        if len(self.sections) == _DRAWN_OPEN and tally.audited == 1:
            self.sections = [self.sections[0].replace('<details class="patient"', '<details class="patient" open', 1)]
        return document(self.head, self.sections, self.errors, tally, self.paths, self.min_cell, self.left_out,
                        self.frames)




def document(head: dict[str, Any], sections: list[str], errors: list[dict[str, Any]], tally: Tally | None,
             paths: Counter[tuple[str, ...]] | None, min_cell: int = 0, left_out: int = 0,
             frames: Iterable[Any] = ()) -> str:
    from .cohort_figures import figures
    from .plotly_timeline import layouts
    cohort = figures(tally, paths or Counter(), min_cell) if tally is not None and tally.read > 1 else None
    return _environment().get_template("report.html.j2").render(
        head=head, sections=sections, errors=errors, cohort=cohort, min_cell=min_cell, left_out=left_out,
        max_patients=MAX_PATIENTS, plotly_js=plotly_js(), tally=tally, layouts=layouts(frames))


def explain_html(item: Item, head: dict[str, Any]) -> str:
    """`ladder explain FILE --format html`: one patient, opened and drawn."""
    section, frame = patient_section(item, open_=True)
    return document(head, [section], [], None, None, frames=[frame] if frame else [])
