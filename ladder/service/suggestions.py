"""What a card offers to do (CDS Hooks suggestions), and why a clinician may override it.

- A check's own suggestions, from its pack (`suggest:`): a label, and a ServiceRequest drafted for
  an order (TB or hepatitis screening before a JAK inhibitor), authored on the call's date.
- On order-select/order-sign, a critical finding about a draft order offers to remove that order
  (a `delete` action naming the draft's own FHIR id).
- Warning and critical cards carry `overrideReasons`, which feedback reports back per check.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..findings import render
from ..rulebook import Check

REASON_SYSTEM = "https://ladder.invalid/fhir/CodeSystem/override-reason"
OVERRIDE_REASONS = [
    {"system": REASON_SYSTEM, "code": "deliberate-deviation", "display": "Deliberate, documented clinical decision"},
    {"system": REASON_SYSTEM, "code": "recorded-elsewhere", "display": "Done or documented elsewhere (record incomplete)"},
    {"system": REASON_SYSTEM, "code": "benefit-outweighs-risk", "display": "Benefit outweighs the risk for this patient"},
    {"system": REASON_SYSTEM, "code": "patient-preference", "display": "Patient's informed preference"},
    {"system": REASON_SYSTEM, "code": "record-incorrect", "display": "The record ladder read is wrong"},
]


def suggestions(finding: dict[str, Any], check: Check | None, patient: str, as_of: str,
                drafts: dict[str, str], card_id: str) -> list[dict[str, Any]]:
    """The card's suggestions. `drafts`: ladder's course id of each draft order -> the order's own
    FHIR reference (MedicationRequest/<its id>)."""
    out = []
    for number, spec in enumerate(check.suggest if check else []):
        suggestion: dict[str, Any] = {"label": render(spec.label, finding["evidence"]),
                                      "uuid": _uuid(card_id, f"suggest-{number}"), "isRecommended": False}
        if spec.order:
            suggestion["actions"] = [{"type": "create", "description": suggestion["label"],
                                      "resource": service_request(render(spec.order, finding["evidence"]),
                                                                  patient, as_of, finding)}]
        out.append(suggestion)
    if finding["severity"] == "critical":
        about = [drafts[c] for c in _courses(finding) if c in drafts]
        if about:
            out.append({"label": "Remove the draft order", "uuid": _uuid(card_id, "remove-draft"),
                        "isRecommended": True,
                        "actions": [{"type": "delete", "description": f"Remove {ref}", "resourceId": [ref]}
                                    for ref in about]})
    return out


def service_request(text: str, patient: str, as_of: str, finding: dict[str, Any]) -> dict[str, Any]:
    """A draft order for what the finding says is missing, starting on the audit date."""
    request: dict[str, Any] = {
        "resourceType": "ServiceRequest", "status": "draft", "intent": "proposal",
        "code": {"text": text}, "subject": {"reference": f"Patient/{patient}"},
        "authoredOn": as_of, "occurrenceDateTime": as_of,
        "note": [{"text": f"Suggested by ladder ({finding['code']} {finding['name']}): {finding['message']}"}]}
    reasons = [ref for ref in _refs(finding) if "/" in ref and not ref.startswith("#")]
    if reasons:
        request["reasonReference"] = [{"reference": ref} for ref in reasons[:5]]
    return request


def _courses(finding: dict[str, Any]) -> set[str]:
    keys = ("id", "course", "to_course", "from_course", "reading_of")  # reading_of: a drug read two ways
    return {str(fact[k]) for fact in finding["evidence"].values() for k in keys if k in fact}


def _refs(finding: dict[str, Any]) -> list[str]:
    """The FHIR references the evidence came from (a course of several administrations names each)."""
    found: list[str] = []
    for fact in finding["evidence"].values():
        for ref in str(fact.get("ref", "")).replace(" .. ", ", ").split(", "):
            if ref and ref not in found and "(" not in ref:
                found.append(ref)
    return found


def _uuid(card_id: str, what: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{card_id}/{what}"))
