"""What the pack's guideline offers next: from the highest step reached, its latest trial and the
disease's control now. Nothing when the disease is controlled, or when control is not known on the
current treatment (the first thing to do is to assess it: CTL003/CTL004 say so)."""

from __future__ import annotations

from typing import Any

from ..rulebook import Rulebook

Fact = dict[str, Any]


def next_fact(book: Rulebook, patient: Fact, trials: list[Fact], control: Fact) -> list[Fact]:
    step = next((s for s in book.steps if s.code == patient["step"]), None)
    if step is None or step.next is None or control.get("status") != "uncontrolled":
        return []
    trial = next((t for t in reversed(trials) if t["step"] == step.code), None)
    action = "continue" if trial and trial["verdict"] == "ongoing" else "escalate"
    fact: Fact = {"id": "next", "type": "next", "step": step.code, "step_label": step.label,
                  "action": action, "offers": step.next.offers, "source": step.next.citation.source,
                  "clause": step.next.citation.clause,
                  "control_label": control.get("label", "not controlled"), "control_date": control.get("date", "")}
    if trial:
        fact["trial_verdict"] = trial["verdict"]
        fact["min_days"] = trial["min_days"]
        if "days" in trial:
            fact["trial_days"] = trial["days"]
    return [fact]
