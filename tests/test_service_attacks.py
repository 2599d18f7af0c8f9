"""The service under attack (issue 11 section 5): type-confused bodies, tokens, chunked bodies,
connections after an error, and logs. Each case here once gave a 500, a reset or an acceptance."""

from __future__ import annotations

import logging
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ladder.service import create_app
from ladder.service.auth import TokenVerifier

from .service_helpers import draft, hook_call, running, seed_prefetch


def _bundle(entry):
    return {"resourceType": "Bundle", "type": "searchset", "entry": entry}


def _with(prefetch_key, value):
    return hook_call("patient-view", "seed-1", {**seed_prefetch(1), prefetch_key: value})


def _draft_with(change):
    body = hook_call("order-select", "seed-1", seed_prefetch(1), draftOrders=draft("abrocitinib", 100))
    change(body["context"]["draftOrders"])
    return body


TYPE_CONFUSED = [
    (_with("statements", {"resourceType": "Bundle", "entry": 5}), "prefetch.statements.entry must be a list"),
    (_with("statements", _bundle([5, "x"])), "prefetch.statements.entry.0 must be an object"),
    (_with("statements", _bundle([{"resource": [1]}])), "prefetch.statements.entry.0.resource is not a FHIR resource"),
    (_with("patient", {"resourceType": 5}), "prefetch.patient is not a FHIR resource"),
    (_with("statements", _bundle([{"resource": {
        "resourceType": "MedicationStatement", "id": "m", "status": "active", "subject": {"reference": "Patient/seed-1"},
        "medicationCodeableConcept": {"text": "omalizumab"}, "dosage": 5}}])), "dosage: Input should be a valid list"),
    (_with("observations", _bundle([{"resource": {"resourceType": "Nope"}}])), "'Nope' is not an R4 resource type"),
    (_draft_with(lambda d: d.update(entry=7)), "context.draftOrders.entry must be a list"),
    (_draft_with(lambda d: d["entry"][0]["resource"].update(authoredOn=7)), "authoredOn must be a date"),
    (_draft_with(lambda d: d["entry"][0]["resource"].update(dosageInstruction=7)), "dosageInstruction"),
]


@pytest.fixture(scope="module")
def url(book):
    with running(rules=book) as base:
        yield base


@pytest.mark.parametrize("body, reason", TYPE_CONFUSED)
def test_type_confused_fhir_is_a_400_with_the_reason(url, body, reason):
    service = "ladder-order-select" if body["hook"] == "order-select" else "ladder-patient-view"
    response = httpx.post(f"{url}/cds-services/{service}", json=body, timeout=30)
    assert response.status_code == 400 and reason in response.text


def test_a_chunked_body_is_read_to_the_limit_only(url):
    body = hook_call("patient-view", "seed-1", seed_prefetch(1))
    import orjson
    small = orjson.dumps(body)

    def chunks(data, size=4096):
        for start in range(0, len(data), size):
            yield data[start:start + size]
    ok = httpx.post(f"{url}/cds-services/ladder-patient-view", content=chunks(small), timeout=30,
                    headers={"content-type": "application/json"})
    assert ok.status_code == 200 and ok.json()["cards"]

    def endless():
        yield b'{"hook": "'
        for _ in range(10_000):  # 80 MB if it were all read
            yield b"x" * 8192
    refused = httpx.post(f"{url}/cds-services/ladder-patient-view", content=endless(), timeout=30,
                         headers={"content-type": "application/json"})
    assert refused.status_code == 413


def _failing_handle(history):
    return "not a result"  # makes the handler fail after the audit: an internal error


def test_after_a_500_the_connection_still_answers(book):
    from ladder.service.engine import Audits
    audits = Audits(book, 1, handle=_failing_handle)
    try:
        with running(rules=book, audits=audits) as base, httpx.Client(timeout=30) as client:
            endpoint = f"{base}/cds-services/ladder-patient-view"
            body = hook_call("patient-view", "seed-1", seed_prefetch(1))
            for _ in range(3):
                assert client.post(endpoint, json=body).status_code == 500
                assert client.get(f"{base}/cds-services").status_code == 200  # same connection
    finally:
        audits.close()


@pytest.fixture(scope="module")
def signed(book):
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with running(rules=book, verifier=TokenVerifier(public_key=public, issuers=["https://ehr.example"])) as base:
        yield base, key


def token(key, audience: str, **claims) -> str:
    now = int(time.time())
    payload = {"iss": "https://ehr.example", "aud": audience, "exp": now + 300, "iat": now,
               "jti": str(uuid.uuid4()), **claims}
    return jwt.encode({k: v for k, v in payload.items() if v is not None}, key, algorithm="ES384")


@pytest.mark.parametrize("claims", [
    {"exp": int(time.time()) + 400 * 365 * 86400},       # centuries ahead
    {"exp": int(time.time()) + 3600, "iat": None},        # an hour, no iat
    {"exp": str(int(time.time()) + 60)},                  # exp as a string
    {"jti": ""},                                          # empty jti
    {"jti": 5},                                           # jti not a string
])
def test_tokens_that_outlive_their_use_or_lack_a_jti_are_refused(signed, claims):
    base, key = signed
    endpoint = f"{base}/cds-services/ladder-patient-view"
    body = hook_call("patient-view", "seed-1", seed_prefetch(1))
    response = httpx.post(endpoint, json=body, timeout=30,
                          headers={"Authorization": f"Bearer {token(key, endpoint, **claims)}"})
    assert response.status_code == 401


def test_authentication_comes_before_the_body_is_judged(signed):
    base, _ = signed
    endpoint = f"{base}/cds-services/ladder-patient-view"
    assert httpx.post(endpoint, content=b"{nope", timeout=10,
                      headers={"content-type": "application/json"}).status_code == 401
    assert httpx.post(endpoint, json={"hook": 5}, timeout=10).status_code == 401


def test_spoofed_host_headers_do_not_make_a_foreign_token_valid(signed):
    base, key = signed
    foreign = token(key, "https://other.example/cds-services/ladder-patient-view")
    response = httpx.post(f"{base}/cds-services/ladder-patient-view", timeout=30,
                          json=hook_call("patient-view", "seed-1", seed_prefetch(1)),
                          headers={"Authorization": f"Bearer {foreign}", "Host": "other.example",
                                   "X-Forwarded-Proto": "https"})
    assert response.status_code == 401


def test_keys_without_a_public_url_are_refused_at_start(book):
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with pytest.raises(ValueError, match="public URL is required"):
        create_app(book, TokenVerifier(public_key=public))


def test_the_log_carries_no_patient_data(book, caplog):
    import orjson

    from ladder.readers.fhir import history_from_bundle
    from .conftest import ROOT
    caplog.set_level(logging.DEBUG)
    secrets: set[str] = set()
    with running(rules=book) as base:
        for n in range(1, 7):
            bundle = orjson.loads((ROOT / f"cases/fhir/seed-{n}.json").read_bytes())
            history = history_from_bundle(bundle)
            secrets |= {f"seed-{n}"} | {c["drug"] for c in history.get("courses", [])}
            secrets |= {str(c[k]) for c in history.get("courses", []) for k in ("start", "end") if c.get(k)}
            for hook, service in (("patient-view", "ladder-patient-view"), ("order-select", "ladder-order-select")):
                extra = {"draftOrders": draft("abrocitinib", 100)} if hook == "order-select" else {}
                httpx.post(f"{base}/cds-services/{service}", timeout=30,
                           json=hook_call(hook, f"seed-{n}", seed_prefetch(n), **extra))
            httpx.post(f"{base}/cds-services/ladder-patient-view", timeout=30,
                       json=_with("statements", {"resourceType": "Bundle", "entry": 5}))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert logged  # the run did log
    assert not [s for s in secrets if s and s in logged]
