"""Cards that help: FHIR references back to the record, suggestions (draft orders, removing a
draft), override reasons, feedback stored in SQLite and summarised per check, CORS."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import httpx
from click.testing import CliRunner

from ladder.cli import main

from .service_helpers import draft, hook_call, prefetch_from, running, seed_prefetch


def post(url: str, service: str, body: dict, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}/cds-services/{service}", json=body, timeout=30, **kwargs)


def test_fhir_ids_round_trip_into_the_cards(tmp_path):
    with running(feedback=tmp_path / "f.sqlite3") as url:
        cards = post(url, "ladder-patient-view", hook_call("patient-view", "seed-1", seed_prefetch(1))).json()["cards"]
    jak008 = [c for c in cards if c["summary"].startswith("JAK008")]
    # The screening the warning rests on, by the FHIR id it was read from, and the evidence in words.
    assert any("[Observation/screening-1]" in c["detail"] for c in jak008)
    assert all("start_day" not in c["detail"] and "=" not in c["detail"].split("**Source**")[0] for c in jak008)
    dq = next(c for c in cards if c["summary"].startswith("DQ001"))
    assert "[MedicationStatement/course-" in dq["detail"]


def order_select(url: str, **context):
    prefetch = prefetch_from({"entry": [{"resource": {"resourceType": "Patient", "id": "p9", "gender": "female",
                                                      "birthDate": "1990"}}]})
    body = hook_call("order-select", "p9", prefetch, draftOrders=draft("abrocitinib", 100, rid="rx-42"), **context)
    return post(url, "ladder-order-select", body).json()["cards"]


def test_a_jak_inhibitor_drafted_without_screening_suggests_the_orders_and_removing_the_draft(tmp_path):
    with running(feedback=tmp_path / "f.sqlite3") as url:
        cards = order_select(url)
    jak002 = next(c for c in cards if c["summary"].startswith("JAK002"))
    assert jak002["indicator"] == "critical" and jak002["selectionBehavior"] == "at-most-one"
    order, remove = jak002["suggestions"]
    [create] = order["actions"]
    request = create["resource"]
    assert create["type"] == "create" and request["resourceType"] == "ServiceRequest"
    assert request["status"] == "draft" and request["subject"] == {"reference": "Patient/p9"}
    assert "Tuberculosis screening" in request["code"]["text"]
    assert request["authoredOn"] == dt.date.today().isoformat()  # the call's date: the audit date
    assert request["reasonReference"] == [{"reference": "MedicationRequest/rx-42"}]
    # The critical finding is about the draft: remove it, by the draft's own id.
    assert remove["isRecommended"] and remove["actions"] == [
        {"type": "delete", "description": "Remove MedicationRequest/rx-42", "resourceId": ["MedicationRequest/rx-42"]}]
    jak003 = next(c for c in cards if c["summary"].startswith("JAK003"))
    assert [s["actions"][0]["resource"]["code"]["text"] for s in jak003["suggestions"]] == [
        "Hepatitis B and C screening before a JAK inhibitor"]  # a warning: no removal offered
    for c in cards:
        assert ("overrideReasons" in c) == (c["indicator"] != "info")
        assert all(set(r) == {"system", "code", "display"} for r in c.get("overrideReasons", []))


def test_feedback_is_stored_without_patient_data_and_summarised_per_check(tmp_path):
    db = tmp_path / "feedback.sqlite3"
    with running(feedback=db) as url:
        cards = order_select(url)
        jak002 = next(c for c in cards if c["summary"].startswith("JAK002"))
        jak003 = next(c for c in cards if c["summary"].startswith("JAK003"))
        reason = jak002["overrideReasons"][1]
        answer = httpx.post(f"{url}/cds-services/ladder-order-select/feedback", timeout=30, json={"feedback": [
            {"card": jak002["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-12-02T10:00:00Z",
             "overrideReason": {"reason": reason, "userComment": "p9 was screened at the other hospital"}},
            {"card": jak003["uuid"], "outcome": "accepted", "acceptedSuggestions": [{"id": jak003["suggestions"][0]["uuid"]}],
             "outcomeTimestamp": "2026-12-02T10:00:05Z"}]})
        assert answer.status_code == 200
        bad = httpx.post(f"{url}/cds-services/ladder-order-select/feedback", timeout=30,
                         json={"feedback": [{"card": jak002["uuid"], "outcome": "maybe"}]})
        assert bad.status_code == 400
    stored = sqlite3.connect(db)
    dump = "\n".join(stored.iterdump())
    assert "p9" not in dump and "other hospital" not in dump and "abrocitinib" not in dump
    result = CliRunner().invoke(main, ["feedback", "summary", "--db", str(db), "--format", "json"])
    rows = {row["code"]: row for row in json.loads(result.output)}
    assert rows["JAK002"]["overridden"] == 1 and rows["JAK002"]["override_rate"] == 1.0
    assert rows["JAK002"]["reasons"] == {reason["display"]: 1}
    assert rows["JAK003"]["accepted"] == 1 and rows["JAK003"]["override_rate"] == 0.0
    assert rows["JAK001"]["issued"] == 1 and rows["JAK001"]["override_rate"] is None
    text = CliRunner().invoke(main, ["feedback", "summary", "--db", str(db)]).output
    assert "JAK002" in text.splitlines()[1] and "100%" in text


def test_cors_lets_the_sandbox_call_and_is_configurable(tmp_path):
    preflight = {"Origin": "https://sandbox.cds-hooks.org", "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "authorization, content-type"}
    with running() as url:
        answer = httpx.options(f"{url}/cds-services/ladder-patient-view", headers=preflight)
        assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == "*"
        listed = httpx.get(f"{url}/cds-services", headers={"Origin": "https://ehr.example"})
        assert listed.headers["access-control-allow-origin"] == "*"
    with running(cors_origins=("https://sandbox.cds-hooks.org",)) as url:
        answer = httpx.options(f"{url}/cds-services/ladder-patient-view", headers=preflight)
        assert answer.headers["access-control-allow-origin"] == "https://sandbox.cds-hooks.org"
        other = httpx.get(f"{url}/cds-services", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
    with running(cors_origins=()) as url:
        assert "access-control-allow-origin" not in httpx.get(
            f"{url}/cds-services", headers={"Origin": "https://ehr.example"}).headers


def test_a_draft_without_an_id_is_still_checked_but_offers_no_removal(tmp_path):
    """Only a draft with an id of its own can be named in a delete action; every draft is checked."""
    bundle = draft("abrocitinib", 100)
    del bundle["entry"][0]["resource"]["id"]
    prefetch = prefetch_from({"entry": [{"resource": {"resourceType": "Patient", "id": "p9"}}]})
    with running() as url:
        cards = post(url, "ladder-order-select", hook_call("order-select", "p9", prefetch, draftOrders=bundle)).json()["cards"]
    jak002 = next(c for c in cards if c["summary"].startswith("JAK002"))
    assert [s["label"] for s in jak002["suggestions"]] == ["Order tuberculosis screening before abrocitinib starts"]
    assert "the draft order" in jak002["detail"]


def test_a_bad_feedback_database_is_a_usage_error_not_a_traceback(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_text("not a database")
    result = CliRunner().invoke(main, ["feedback", "summary", "--db", str(bad)])
    assert result.exit_code == 2 and "not a usable ladder feedback database" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(main, ["serve", "--feedback-db", str(tmp_path / "no" / "such" / "dir.sqlite3")])
    assert result.exit_code == 2 and "--feedback-db" in result.output


def test_a_drafted_drug_read_two_ways_gets_the_cards_of_both_readings(tmp_path):
    """'Neoral (abrocitinib)' drafted for a hypertensive patient: the ciclosporin reading's CSA001 is
    about the draft too (it named the draft's course only through its second reading)."""
    prefetch = prefetch_from({"entry": [
        {"resource": {"resourceType": "Patient", "id": "p9"}},
        {"resource": {"resourceType": "Condition", "id": "htn", "subject": {"reference": "Patient/p9"},
                      "code": {"text": "hypertension"}}}]})
    with running() as url:
        body = hook_call("order-select", "p9", prefetch, draftOrders=draft("Neoral (abrocitinib)", 100, rid="rx-7"))
        cards = post(url, "ladder-order-select", body).json()["cards"]
    codes = [c["summary"].split()[0] for c in cards]
    assert "CSA001" in codes and "JAK002" in codes and "DQ001" in codes
