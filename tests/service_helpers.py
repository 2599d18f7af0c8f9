"""A real ladder CDS Hooks server on loopback for tests, and request builders."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator

import orjson
import uvicorn

from ladder.service import create_app

from .conftest import ROOT

KEYS = {"Patient": "patient", "Condition": "conditions", "MedicationStatement": "statements",
        "MedicationRequest": "requests", "MedicationAdministration": "administrations",
        "Observation": "observations", "AdverseEvent": "adverseEvents", "AllergyIntolerance": "allergies"}


@contextmanager
def running(**options: Any) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    if options.get("verifier") is not None:
        options.setdefault("public_url", f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(create_app(**options), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def prefetch_from(bundle: dict[str, Any]) -> dict[str, Any]:
    """Split a patient's bundle into the service's prefetch keys, as an EHR would send them."""
    prefetch: dict[str, Any] = {key: {"resourceType": "Bundle", "type": "searchset", "entry": []}
                                for key in KEYS.values() if key != "patient"}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        key = KEYS[resource["resourceType"]]
        if key == "patient":
            prefetch["patient"] = resource
        else:
            prefetch[key]["entry"].append({"resource": resource})
    return prefetch


def seed_prefetch(n: int) -> dict[str, Any]:
    return prefetch_from(orjson.loads((ROOT / f"cases/fhir/seed-{n}.json").read_bytes()))


def hook_call(hook: str, patient: str, prefetch: dict[str, Any] | None, **context: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"hook": hook, "hookInstance": str(uuid.uuid4()),
                            "context": {"patientId": patient, "userId": "Practitioner/1", **context}}
    if prefetch is not None:
        body["prefetch"] = prefetch
    return body


def draft(drug: str, dose: float, unit: str = "mg", rid: str = "draft1", **repeat: Any) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": rid, "status": "draft", "intent": "order",
        "subject": {"reference": "Patient/x"}, "authoredOn": "2024-06-01",
        "medicationCodeableConcept": {"text": drug},
        "dosageInstruction": [{"timing": {"repeat": repeat or {"frequency": 1, "period": 1, "periodUnit": "d"}},
                               "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit}}]}]}}]}
