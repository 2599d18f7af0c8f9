"""Adverse events -> reaction facts, so that checks can fire on them (re-exposure after anaphylaxis,
dosing continued through a reaction). The kind is the record's when it gives one, else read from the
description's own words; a description that names no kind stays unknown ("unknown", never "other")."""

from __future__ import annotations

from typing import Any

from ..drugs import DrugIndex
from ..model import History

Fact = dict[str, Any]
# Words that name a kind of reaction in free text; the first that matches decides.
_WORDS = (("anaphyla", "anaphylaxis"), ("serum sickness", "serum_sickness"),
          ("hypersensitiv", "hypersensitivity"), ("infection", "infection"))


def reactions(history: History, index: DrugIndex) -> list[Fact]:
    out = []
    for number, event in enumerate(history.adverse_events, start=1):
        text = event.description.lower()
        kind = event.kind or next((k for word, k in _WORDS if word in text), "unknown")
        fact: Fact = {"id": f"reaction-{number}", "type": "reaction", "kind": kind,
                      "description": event.description[:200], "ref": history.ref("adverse_events", number - 1)}
        if event.drug:
            drug = index.resolve(event.drug).drug
            fact.update(written=event.drug, drug=drug.generic if drug else event.drug)
        if event.date:
            fact.update(date=event.date.isoformat(), day=event.date.toordinal())
        out.append(fact)
    return out
