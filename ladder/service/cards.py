"""Findings -> CDS Hooks cards: summary under 140 characters, indicator from the severity, detail in
markdown with the evidence and the guideline source, and a link to the rule's documentation."""

from __future__ import annotations

import uuid
from typing import Any

from ..report.words import describe

SUMMARY_LIMIT = 139


def card(finding: dict[str, Any], rules: dict[str, str], base_url: str, namespace: str,
         as_of: str | None = None) -> dict[str, Any]:
    citation = finding["citation"]
    status = "" if citation["confirmed"] else " (source UNCONFIRMED: primary text not seen)"
    # In words, each with the FHIR resource it was read from ([MedicationStatement/abc]).
    evidence = "\n".join(f"- {describe(fact, as_of)}" for fact in finding["evidence"].values())
    detail = (f"{finding['message']}\n\n**Evidence**\n\n{evidence}\n\n"
              f"**Source**: {citation['source']}: {citation['clause']}{status}")
    return {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/{finding['code']}/{finding['message']}")),
            "summary": short(f"{finding['code']} {finding['message']}"),
            "indicator": finding["severity"], "detail": detail,
            "source": {"label": f"ladder: {rules['id']} {rules['version']}", "url": f"{base_url}rules/{finding['code']}"},
            "links": [{"label": f"{finding['code']} {finding['name']}: rule documentation",
                       "url": f"{base_url}rules/{finding['code']}", "type": "absolute"}]}


def summary_card(item: dict[str, Any], rules: dict[str, str], base_url: str, namespace: str) -> dict[str, Any]:
    refractory = item["refractory"]
    status = {"met": "met", "not_met": "not met", "indeterminate": "cannot be determined"}[refractory["status"]]
    missing = "".join(f"\n- {m}" for m in refractory["missing"])
    return {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/summary")),
            "summary": short(f"CSU ladder: {item['step']['label']} reached; refractory definition {status}"),
            "indicator": "info",
            "detail": (f"Highest step: {item['step']['label']}.\n\nRefractory definition ({status}): "
                       f"{refractory['definition']}\n\n{refractory['evidence']['reason']}"
                       + (f"\n\n**Missing**{missing}" if missing else "")),
            "source": {"label": f"ladder: {rules['id']} {rules['version']}"}}


def failed_card(reason: str, rules: dict[str, str], namespace: str) -> dict[str, Any]:
    return {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/failed")),
            "summary": "ladder could not check this record against the treatment ladder",
            "indicator": "warning",
            "detail": (f"The audit failed: {reason}. No verdict or safety check was made for this call; "
                       "check the ladder by hand, and please report it to the service's maintainers."),
            "source": {"label": f"ladder: {rules['id']} {rules['version']}"}}


def needs_card(missing: list[str], templates: dict[str, str], namespace: str) -> dict[str, Any]:
    wanted = "\n".join(f"- `{key}`: `{templates[key]}`" for key in missing)
    return {"uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{namespace}/needs")),
            "summary": "ladder needs the patient's medications, scores and conditions to check the ladder",
            "indicator": "info",
            "detail": f"No prefetched data was sent for:\n\n{wanted}\n\nladder does not guess without them.",
            "source": {"label": "ladder"}}


def short(text: str) -> str:
    return text if len(text) <= SUMMARY_LIMIT else text[:SUMMARY_LIMIT - 1].rstrip() + "…"
