"""The human report: one block per patient, most serious findings first, then a summary. Not for parsing."""

from __future__ import annotations

import os
import sys
from typing import Any

from ..rulebook import SEVERITY_RANK
from ..summary import Tally
from .base import StreamSink
from .words import describe

VERDICT = {"met": "MET", "not_met": "NOT MET", "indeterminate": "CANNOT BE DETERMINED"}


# Severity in colour on a terminal, unless NO_COLOR is set (https://no-color.org).
_COLOURS = {"critical": "\033[1;31m", "warning": "\033[33m"}
_RESET = "\033[0m"


def _colour_wanted() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


class TextSink(StreamSink):
    def __init__(self) -> None:
        self.colour = _colour_wanted()

    def write(self, rendered: str | bytes) -> str | bytes:
        if not self.colour or not isinstance(rendered, str):
            return rendered
        for severity, colour in _COLOURS.items():
            rendered = rendered.replace(f"\n  {severity:<8} ", f"\n  {colour}{severity:<8}{_RESET} ")
        return rendered

    def begin(self, ladder: str, rules: dict[str, str], as_of: str) -> str:
        self.rules = f"rules {rules['id']} {rules['version']}, as of {as_of}"
        return ""

    @staticmethod
    def render(item: dict[str, Any]) -> str:
        if "error" in item:
            error = item["error"]
            who = f" (patient {error['patient']})" if error["patient"] else ""
            return f"ERROR {error['source']}{who}: {error['message']}\n\n"
        return patient_block(item) + "\n\n"

    def end(self, tally: Tally) -> str:
        verdicts = tally.verdicts
        return (f"{tally.read} read = {tally.audited} audited + {tally.errors} "
                f"error{'' if tally.errors == 1 else 's'} ({self.rules})\n"
                f"refractory: {verdicts['met']} met, {verdicts['not_met']} not met, "
                f"{verdicts['indeterminate']} cannot be determined\n"
                f"findings: {tally.severities['critical']} critical, {tally.severities['warning']} "
                f"warning, {tally.severities['info']} info\n")


def patient_block(patient: dict[str, Any]) -> str:
    refractory = patient["refractory"]
    lines = [f"{patient['id']}  ({patient['source']})",
             f"  step reached: {patient['step']['label']}",
             f"  refractory:   {VERDICT[refractory['status']]}"]
    lines += [f"                missing: {item}" for item in refractory["missing"]]
    for other in patient.get("definitions", []):
        lines.append(f"  {other['label']}: {VERDICT[other['status']]}")
        lines += [f"                missing: {item}" for item in other["missing"]]
    ordered = sorted(patient["findings"], key=lambda f: (-SEVERITY_RANK[f["severity"]], f["code"]))
    for f in ordered:
        lines.append(f"  {f['severity']:<8} {f['code']:<7} {f['message']}"
                     + ("" if f["citation"]["confirmed"] else "  [source UNCONFIRMED]")
                     + (f"  [accepted: {f['accepted']['reason']}]" if f.get("accepted") else ""))
        if f["severity"] != "info":  # what a warning rests on, in words, and where in the record
            lines += [f"{'':<19}on: {describe(fact, patient['as_of'], patient['source'])}"
                      for fact in f["evidence"].values() if fact.get("type") != "patient"]
    return "\n".join(lines)

