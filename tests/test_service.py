"""The CDS Hooks service over real HTTP on loopback."""

from __future__ import annotations

import os
import time
import uuid

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ladder.service.auth import TokenVerifier

from .service_helpers import draft, hook_call, prefetch_from, running, seed_prefetch


@pytest.fixture(scope="module")
def url():
    with running() as base:
        yield base


def post(url: str, service: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}/cds-services/{service}", json=body, timeout=30, **kwargs)


def test_discovery_lists_the_hooks_with_prefetch_templates(url):
    services = httpx.get(f"{url}/cds-services").json()["services"]
    assert {s["hook"] for s in services} == {"patient-view", "order-select", "order-sign"}
    assert all(s["prefetch"]["statements"] == "MedicationStatement?patient={{context.patientId}}" for s in services)


def test_patient_view_summarises_the_verdict_and_flags_deviations(url):
    response = post(url, "ladder-patient-view", hook_call("patient-view", "seed-1", seed_prefetch(1)))
    assert response.status_code == 200
    cards = response.json()["cards"]
    assert cards[0]["summary"] == "CSU ladder: JAK inhibitor (off label) reached; refractory definition met"
    codes = [c["summary"].split()[0] for c in cards[1:]]
    assert codes == ["DQ001", "JAK008", "JAK008"]  # screened, says the paper: no date or result; REF001 is info
    for card in cards:
        assert len(card["summary"]) < 140 and card["indicator"] in ("info", "warning", "critical")
    dq = cards[1]
    assert dq["indicator"] == "warning" and "**Evidence**" in dq["detail"] and "**Source**" in dq["detail"]
    assert dq["links"][0]["url"] == f"{url}/rules/DQ001"
    assert httpx.get(dq["links"][0]["url"]).text.startswith("DQ001 brand-generic-mismatch (warning)")


def test_order_select_checks_a_jak_inhibitor_drafted_with_no_omalizumab(url):
    prefetch = prefetch_from({"entry": [{"resource": {"resourceType": "Patient", "id": "p9", "gender": "female",
                                                      "birthDate": "1990"}}]})
    body = hook_call("order-select", "p9", prefetch, draftOrders=draft("abrocitinib", 100))
    cards = post(url, "ladder-order-select", body).json()["cards"]
    assert [c["summary"].split()[0] for c in cards] == ["JAK002", "JAK003", "LAD006", "JAK001"]
    assert cards[0]["indicator"] == "critical"


def test_order_sign_checks_ciclosporin_for_a_hypertensive_patient(url):
    body = hook_call("order-sign", "seed-6", seed_prefetch(6),
                     draftOrders=draft("ciclosporin", 3, unit="mg/kg/d"))
    summaries = [c["summary"] for c in post(url, "ladder-order-sign", body).json()["cards"]]
    assert any(s.startswith("CSA001 ciclosporin") and "hypertension" in s for s in summaries)
    assert any(s.startswith("LAD006") for s in summaries)


def test_without_prefetch_the_service_says_what_it_needs(url):
    cards = post(url, "ladder-patient-view", hook_call("patient-view", "p1", None)).json()["cards"]
    assert len(cards) == 1 and cards[0]["summary"].startswith("ladder needs")
    assert "MedicationStatement?patient={{context.patientId}}" in cards[0]["detail"]


@pytest.mark.parametrize("service, body, status, reason", [
    ("ladder-patient-view", {"hook": "patient-view"}, 400, "hookInstance"),
    ("ladder-patient-view", {"hook": "order-sign", "hookInstance": "x", "context": {"patientId": "p"}}, 400,
     "answers the patient-view hook"),
    ("ladder-patient-view", {"hook": "patient-view", "hookInstance": "x", "context": {}}, 400, "patientId"),
    ("nope", {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p"}}, 404, "no service"),
    ("ladder-order-select", {"hook": "order-select", "hookInstance": "x", "context": {"patientId": "p"},
                             "prefetch": seed_prefetch(1)}, 400, "draftOrders"),
    ("ladder-patient-view", {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p"},
                             "prefetch": {**seed_prefetch(1), "observations": [1, 2]}}, 400, "prefetch.observations"),
])
def test_bad_requests_get_a_400_or_404_with_a_reason_never_a_500(url, service, body, status, reason):
    response = post(url, service, body)
    assert response.status_code == status
    assert reason in response.text and "Traceback" not in response.text


def test_not_json_and_oversized_bodies(url):
    response = httpx.post(f"{url}/cds-services/ladder-patient-view", content=b"{nope", timeout=10,
                          headers={"content-type": "application/json"})
    assert response.status_code == 400
    huge = b'{"hook": "' + b"x" * 2_100_000 + b'"}'
    assert httpx.post(f"{url}/cds-services/ladder-patient-view", content=huge, timeout=10).status_code == 413


@pytest.fixture(scope="module")
def signed():
    key = ec.generate_private_key(ec.SECP384R1())
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    with running(verifier=TokenVerifier(public_key=public, issuers=["https://ehr.example"])) as base:
        yield base, key


def token(key, audience: str, **claims) -> str:
    payload = {"iss": "https://ehr.example", "aud": audience, "exp": int(time.time()) + 300,
               "iat": int(time.time()), "jti": str(uuid.uuid4()), **claims}
    return jwt.encode(payload, key, algorithm="ES384")


def test_with_a_client_key_calls_need_a_valid_signed_jwt(signed):
    base, key = signed
    endpoint = f"{base}/cds-services/ladder-patient-view"
    body = hook_call("patient-view", "seed-1", seed_prefetch(1))

    def call(bearer: str | None) -> int:
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        return httpx.post(endpoint, json=body, headers=headers, timeout=30).status_code

    good = token(key, endpoint)
    assert call(None) == 401
    assert call(good) == 200
    assert call(good) == 401                                           # replayed jti
    assert call(token(key, f"{base}/cds-services/other")) == 401       # wrong audience
    assert call(token(key, endpoint, exp=int(time.time()) - 10)) == 401  # expired
    assert call(token(key, endpoint, iss="https://evil.example")) == 401
    assert call(token(ec.generate_private_key(ec.SECP384R1()), endpoint)) == 401  # not the client's key


def test_a_draft_sharing_an_id_with_a_prefetched_statement_does_not_kill_the_service(tmp_path):
    # It once killed the service process ("double free or corruption"): the order's id reached the
    # engine as a fact id. The server runs in its own process here, so a crash fails this test.
    import socket
    import subprocess
    import sys

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "ladder.cli", "serve", "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                httpx.get(f"{base}/cds-services", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        prefetch = seed_prefetch(1)
        statement = next(e["resource"] for e in prefetch["statements"]["entry"]
                         if "abrocitinib" in str(e["resource"]["medicationCodeableConcept"]))
        body = hook_call("order-select", "seed-1", prefetch,
                         draftOrders=draft("abrocitinib", 100, rid=statement["id"]))
        first = post(base, "ladder-order-select", body)
        assert first.status_code == 200
        normal = post(base, "ladder-patient-view", hook_call("patient-view", "seed-1", seed_prefetch(1)))
        assert normal.status_code == 200 and normal.json()["cards"]
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(10)


def _crash_on_seed_2(history):
    """A test seam: the engine 'segfaults' on one patient, as durable_rules does on input it dislikes."""
    import os
    import signal

    from ladder.service.engine import audit_one
    if history.id == "seed-2":
        os.kill(os.getpid(), signal.SIGSEGV)
    return audit_one(history)


def test_an_engine_crash_costs_one_card_never_the_service(book):
    from ladder.service.engine import Audits
    audits = Audits(book, 1, handle=_crash_on_seed_2)
    try:
        with running(rules=book, audits=audits) as base:
            crashed = post(base, "ladder-patient-view", hook_call("patient-view", "seed-2", seed_prefetch(2)))
            assert crashed.status_code == 200
            [failed] = crashed.json()["cards"]
            assert failed["indicator"] == "warning" and "could not check" in failed["summary"]
            assert "crashed" in failed["detail"]
            normal = post(base, "ladder-patient-view", hook_call("patient-view", "seed-1", seed_prefetch(1)))
            assert normal.status_code == 200 and "refractory" in normal.json()["cards"][0]["summary"]
    finally:
        audits.close()


def test_patient_view_shows_what_the_ladder_offers_next(url):
    import importlib.util

    from ladder.model import History
    from .conftest import ROOT
    spec = importlib.util.spec_from_file_location("history_to_fhir", ROOT / "tools" / "history_to_fhir.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)  # type: ignore[union-attr]
    history = History.model_validate({
        "id": "p-next", "observed_until": "2024-07-01",
        "courses": [{"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 4 weeks",
                     "start": "2024-01-01", "end": "2024-07-01"}],
        "assessments": [{"instrument": "UAS7", "score": 24, "date": "2024-06-20"}]})
    body = hook_call("patient-view", "p-next", prefetch_from(tool.bundle(history)))
    cards = post(url, "ladder-patient-view", body).json()["cards"]
    [offered] = [c for c in cards if c["summary"].startswith("NXT001")]
    assert "optimised omalizumab" in offered["detail"] and offered["indicator"] == "info"


def test_the_service_takes_a_selection(book):
    from ladder.selection import selection
    chosen = selection(book, select=("JAK",), min_severity="warning")
    with running(rules=book, selection=chosen) as base:
        cards = post(base, "ladder-patient-view", hook_call("patient-view", "seed-1", seed_prefetch(1))).json()["cards"]
    assert [c["summary"].split()[0] for c in cards[1:]] == ["JAK008", "JAK008"]  # DQ001 not selected


SERVICE_THEN_WAIT = """
import sys, threading, time
from ladder.pack_loader import load_rules
from ladder.service.engine import Audits
threading.Thread(target=time.sleep, args=(600,), daemon=True).start()  # a threaded parent, as a server is
audits = Audits(load_rules(None), 2)
print(*[w.pid for w in audits._all], flush=True)
time.sleep(600)
"""


def test_service_workers_come_from_a_forkserver_and_die_with_the_service():
    """The service forked its workers from a multi-threaded process (a lock held by another thread
    at the fork could hang a worker); they now come from a forkserver, and still end with the service."""
    import subprocess
    import sys

    process = subprocess.Popen([sys.executable, "-c", SERVICE_THEN_WAIT], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    workers = [int(pid) for pid in process.stdout.readline().split()]
    assert len(workers) == 2
    parents = {int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1]) for pid in workers}
    assert parents != {process.pid}  # started by the forkserver, not forked from the threaded service
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    while any(os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
              for pid in workers if os.path.exists(f"/proc/{pid}")) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in workers if os.path.exists(f"/proc/{pid}")
             and "Z" not in open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]]
    assert alive == []
