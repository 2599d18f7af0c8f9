"""HTTP CDS Hooks service (FastAPI). No patient data is logged: only service ids and status codes.

GET  /cds-services                    discovery, with prefetch templates
POST /cds-services/{id}               patient-view, order-select, order-sign -> cards
POST /cds-services/{id}/feedback      accepted / overridden cards, stored in SQLite (no patient data)
GET  /rules/{code}                    a check's documentation (cards link here)
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any, Literal, Sequence

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import LadderError
from ..model import History
from ..readers.fhir import history_from_bundle
from ..pack_loader import load_rules
from ..rulebook import Rulebook
from .auth import AuthError, TokenVerifier
from .cards import card, failed_card, needs_card, summary_card
from .feedback import FeedbackError, FeedbackStore
from .suggestions import OVERRIDE_REASONS, suggestions
from ..selection import Selection
from .engine import AuditFailed, Audits

log = logging.getLogger("ladder.service")

PREFETCH = {
    "patient": "Patient/{{context.patientId}}",
    "conditions": "Condition?patient={{context.patientId}}",
    "statements": "MedicationStatement?patient={{context.patientId}}",
    "requests": "MedicationRequest?patient={{context.patientId}}",
    "administrations": "MedicationAdministration?patient={{context.patientId}}",
    "observations": "Observation?patient={{context.patientId}}",
    "adverseEvents": "AdverseEvent?subject={{context.patientId}}",
    "allergies": "AllergyIntolerance?patient={{context.patientId}}",
}
SERVICES = {
    "ladder-patient-view": ("patient-view", "CSU treatment ladder",
                            "Step reached, refractory verdict and deviations from the CSU treatment ladder."),
    "ladder-order-select": ("order-select", "CSU ladder check of a draft order",
                            "Checks a drafted urticaria medication against the treatment ladder."),
    "ladder-order-sign": ("order-sign", "CSU ladder check before signing",
                          "Checks an urticaria medication order against the treatment ladder before signing."),
}
ERRORS = {400: {"description": "The request is not a valid CDS Hooks call; the body says why."},
          401: {"description": "Missing or invalid client JWT (when the service requires one)."},
          404: {"description": "No such service or rule."},
          413: {"description": "The request body is over the size limit."}}


class Card(BaseModel):
    model_config = ConfigDict(extra="allow")
    uuid: str
    summary: str = Field(max_length=140)
    indicator: str
    source: dict[str, Any]
    detail: str | None = None
    links: list[dict[str, Any]] = []


class Cards(BaseModel):
    cards: list[Card]


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="allow")
    hook: str
    hookInstance: str
    context: dict[str, Any]
    prefetch: dict[str, Any] | None = None
    fhirServer: str | None = None
    fhirAuthorization: dict[str, Any] | None = None


class FeedbackEntry(BaseModel):
    """One card's outcome (CDS Hooks feedback); what ladder stores of it is in service/feedback.py."""

    model_config = ConfigDict(extra="allow")
    card: str = Field(min_length=1, max_length=64)
    outcome: Literal["accepted", "overridden"]
    acceptedSuggestions: list[dict[str, Any]] | None = None
    overrideReason: dict[str, Any] | None = None
    outcomeTimestamp: str | None = None


class Feedback(BaseModel):
    model_config = ConfigDict(extra="allow")
    feedback: list[FeedbackEntry] = Field(max_length=1000)


class BadRequest(Exception):
    pass


def create_app(rules: Rulebook | str | None = None, verifier: TokenVerifier | None = None,
               max_body: int = 2_000_000, public_url: str | None = None, engines: int = 2,
               audits: Audits | None = None, selection: Selection = Selection(),
               feedback: FeedbackStore | str | Path | None = None,
               cors_origins: Sequence[str] = ("*",)) -> FastAPI:
    """The ASGI app. With a verifier, every call must carry a valid signed JWT (CDS Hooks security).
    Audits run in `engines` supervised worker processes (`audits`: a test seam). Card feedback is
    stored in `feedback` (a SQLite path; default: in memory). `cors_origins`: the browser origins
    allowed to call (the CDS Hooks sandbox, browser-based EHR clients); () for none."""
    if verifier is not None and not public_url:
        raise ValueError("with client keys configured, the service's public URL is required (--public-url): "
                         "the token's audience is never taken from the request's own headers")
    book = rules if isinstance(rules, Rulebook) else load_rules(rules)
    audits = audits or Audits(book, engines)
    rules_info = {"id": book.pack.id, "version": book.pack.version}
    store = feedback if isinstance(feedback, FeedbackStore) else FeedbackStore(feedback or ":memory:")
    app = FastAPI(title="ladder CDS Hooks service", version=book.pack.version,
                  description="Checks CSU treatment histories and draft orders against the ladder rule pack "
                              f"{book.pack.id} {book.pack.version}. Decision support, not a diagnosis.")
    app.router.on_shutdown.append(audits.close)
    app.state.feedback = store

    @app.middleware("http")
    async def guard(request: Request, call_next: Any) -> Any:
        """Authentication before anything else, the body limit while reading (a chunked body is
        not buffered past it), and no exception past this point: an error is a 500 answer on a
        connection that stays open (an exception reaching the server reset the connection)."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_body:
            return JSONResponse({"error": f"request body over {max_body} bytes"}, status_code=413)
        if request.method == "POST" and request.url.path.startswith("/cds-services/"):
            refused = authenticate(request)
            if refused is not None:
                return refused
        if request.method == "POST" and not declared:
            chunks, size = [], 0
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_body:
                    return JSONResponse({"error": f"request body over {max_body} bytes"}, status_code=413)
                chunks.append(chunk)
            request._body = b"".join(chunks)  # read once; Starlette hands the read body on
        try:
            return await call_next(request)
        except Exception as error:  # noqa: BLE001  logged by type only: no request text, no patient data
            log.error("internal error on %s: %s", request.url.path, type(error).__name__)
            return JSONResponse({"error": "internal error"}, status_code=500)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        reasons = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in error.errors()]
        return JSONResponse({"error": "invalid request", "reasons": reasons[:20]}, status_code=400)

    def authenticate(request: Request) -> JSONResponse | None:
        if verifier is None:
            return None
        audience = public_url.rstrip("/") + request.url.path  # never from the client's headers
        try:
            verifier.verify(request.headers.get("authorization"), audience)
        except AuthError as error:
            return JSONResponse({"error": str(error)}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return None

    @app.get("/cds-services", responses={401: ERRORS[401]})
    def discovery() -> dict[str, Any]:
        return {"services": [{"hook": hook, "id": sid, "title": title, "description": description,
                              "prefetch": PREFETCH} for sid, (hook, title, description) in SERVICES.items()]}

    @app.post("/cds-services/{service_id}", response_model=Cards, responses=ERRORS)
    def call(service_id: str, body: HookRequest, request: Request) -> dict[str, Any]:
        if service_id not in SERVICES:
            raise HTTPException(404, f"no service {service_id!r}; see /cds-services")
        hook = SERVICES[service_id][0]
        if body.hook != hook:
            raise HTTPException(400, f"service {service_id} answers the {hook} hook, not {body.hook!r}")
        try:
            made = respond(audits, rules_info, hook, body, str(request.base_url), selection, book)
        except BadRequest as error:
            raise HTTPException(400, str(error)) from None
        store.issued(service_id, [(made_card["uuid"], code, made_card["indicator"]) for code, made_card in made])
        log.info("%s answered with %d cards", service_id, len(made))
        return {"cards": [made_card for _, made_card in made]}

    @app.post("/cds-services/{service_id}/feedback", responses=ERRORS)
    def feedback_endpoint(service_id: str, body: Feedback, request: Request) -> dict[str, Any]:
        if service_id not in SERVICES:
            raise HTTPException(404, f"no service {service_id!r}")
        try:
            store.record(service_id, [entry.model_dump() for entry in body.feedback])
        except FeedbackError as error:
            raise HTTPException(400, str(error)) from None
        return {}

    @app.get("/rules/{code}", response_class=PlainTextResponse, responses={404: ERRORS[404]})
    def rule_doc(code: str) -> str:
        try:
            check = book.check(code)
        except KeyError:
            raise HTTPException(404, f"no check {code!r} in {book.pack.id}") from None
        confirmed = "confirmed" if check.citation.confirmed else "UNCONFIRMED: the primary text was not seen"
        return (f"{check.code} {check.name} ({check.severity})\n\n{check.summary}\n\n{check.rationale.strip()}\n\n"
                f"Source ({confirmed}): {check.citation.source}: {check.citation.clause}\n")

    if cors_origins:  # outermost: a preflight is answered before authentication, errors carry the headers
        from fastapi.middleware.cors import CORSMiddleware
        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "OPTIONS"],
                           allow_headers=["Authorization", "Content-Type"])
    return app


def respond(audits: Audits, rules: dict[str, str], hook: str, body: HookRequest, base_url: str,
            selection: Selection = Selection(), book: Rulebook | None = None) -> list[tuple[str, dict[str, Any]]]:
    """The cards of one call, each with the check it came from (SUMMARY, NEEDS, FAILED for ladder's own)."""
    patient = body.context.get("patientId")
    if not isinstance(patient, str) or not patient:
        raise BadRequest("context.patientId is required")
    missing = [key for key in PREFETCH if not body.prefetch or key not in body.prefetch]
    if missing:
        return [("NEEDS", needs_card(missing, PREFETCH, body.hookInstance))]
    drafts = _draft_orders(body.context) if hook != "patient-view" else []
    try:
        data = history_from_bundle(_bundle(patient, body.prefetch or {}, drafts))
    except ValueError as error:
        raise BadRequest(str(error)) from None
    rows = data.pop("_rows", {})
    # Findings about a draft order name its course by ladder's own fact id (course-N); the order's
    # FHIR id is data, never an engine id (a draft sharing an id with a prefetched resource is fine).
    own = {f"MedicationRequest/{d['id']}": d.get("_own") for d in drafts}
    draft_ids: set[str] = set()  # every draft's course
    removable: dict[str, str] = {}  # the drafts with an id of their own -> their FHIR reference
    for index, course in enumerate(data.get("courses", [])):
        if rows.get(f"courses.{index}") in own:
            original = own[rows[f"courses.{index}"]]
            course["source"] = f"MedicationRequest/{original}" if original else "the draft order"
            draft_ids.add(f"course-{index + 1}")
            if original:
                removable[f"course-{index + 1}"] = course["source"]
    try:
        history = History.model_validate(data)
        item = selection.shown(selection.selected(audits.audit(history)))
    except (ValidationError, LadderError) as error:
        raise BadRequest(f"the prefetched record cannot be audited: {_reason(error)}") from None
    except AuditFailed as error:
        log.error("an audit failed: %s", error)  # the reason is ladder's own words, no patient data
        return [("FAILED", failed_card(str(error), rules, body.hookInstance))]
    namespace = body.hookInstance

    def made(finding: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        made_card = card(finding, rules, base_url, namespace, item["as_of"])
        offered = suggestions(finding, _check(book, finding["code"]), patient, item["as_of"], removable,
                              made_card["uuid"])
        if offered:
            made_card.update(suggestions=offered, selectionBehavior="at-most-one")
        if finding["severity"] != "info":
            made_card["overrideReasons"] = OVERRIDE_REASONS
        return finding["code"], made_card

    if hook == "patient-view":
        # Warnings and criticals, and what the ladder offers next (a `next` fact in the evidence).
        chosen = [f for f in item["findings"] if not f.get("accepted") and (
            f["severity"] != "info" or any("offers" in fact for fact in f["evidence"].values()))]
        return [("SUMMARY", summary_card(item, rules, base_url, namespace))] + [
            made(f) for f in _by_severity(chosen)]
    about_draft = [f for f in item["findings"] if _mentions(f["evidence"], draft_ids)]
    return [made(f) for f in _by_severity(about_draft)]


def _check(book: Rulebook | None, code: str) -> Any:
    try:
        return book.check(code) if book is not None else None
    except KeyError:
        return None


def _bundle(patient: str, prefetch: dict[str, Any], drafts: list[dict[str, Any]]) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for key, value in prefetch.items():
        if value is None:
            continue  # the EHR found nothing for this template
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            raise BadRequest(f"prefetch.{key} is not a FHIR resource or Bundle")
        if value["resourceType"] == "Bundle":
            entries += _entries(value, f"prefetch.{key}")
        else:
            entries.append({"resource": value})
    if not any(e["resource"].get("resourceType") == "Patient" for e in entries):
        entries.insert(0, {"resource": {"resourceType": "Patient", "id": patient}})
    entries += [{"resource": {k: v for k, v in draft.items() if k != "_own"}} for draft in drafts]
    return {"resourceType": "Bundle", "id": patient, "type": "collection", "entry": entries}


def _entries(bundle: dict[str, Any], where: str) -> list[dict[str, Any]]:
    """A Bundle's entries that hold a resource; a malformed entry is the caller's error, named."""
    entries = bundle.get("entry")
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise BadRequest(f"{where}.entry must be a list of entries")
    for number, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise BadRequest(f"{where}.entry.{number} must be an object")
        resource = entry.get("resource")
        if resource is not None and not (isinstance(resource, dict)
                                         and isinstance(resource.get("resourceType"), str)):
            raise BadRequest(f"{where}.entry.{number}.resource is not a FHIR resource")
    return [e for e in entries if e.get("resource") is not None]


_DRAFT = "ladder-draft-order-"
_FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")  # FHIR's id type: the draft's own id, used only as data


def _draft_orders(context: dict[str, Any]) -> list[dict[str, Any]]:
    """Draft MedicationRequests as courses that start now (or when the order says)."""
    orders = context.get("draftOrders")
    if not isinstance(orders, dict) or orders.get("resourceType") != "Bundle":
        raise BadRequest("context.draftOrders must be a FHIR Bundle of draft orders")
    drafts = []
    for number, entry in enumerate(_entries(orders, "context.draftOrders"), start=1):
        resource = entry["resource"]
        if resource.get("resourceType") == "MedicationRequest":
            # A draft's own id may repeat a prefetched resource's: ladder names it by position.
            draft = {**resource, "id": f"{_DRAFT}{number}", "status": "active"}
            own = resource.get("id")
            draft["_own"] = own if isinstance(own, str) and _FHIR_ID.fullmatch(own) else None
            if "authoredOn" in draft and not isinstance(draft["authoredOn"], str):
                raise BadRequest(f"context.draftOrders.entry.{number - 1}.resource.authoredOn must be a date")
            draft.setdefault("authoredOn", dt.date.today().isoformat())
            drafts.append(draft)
    return drafts


def _mentions(evidence: dict[str, dict[str, Any]], ids: set[str]) -> bool:
    keys = ("id", "course", "to_course", "from_course", "reading_of")  # reading_of: a drug read two ways
    return any(str(fact.get(k)) in ids for fact in evidence.values() for k in keys)


def _by_severity(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rank = {"critical": 0, "warning": 1, "info": 2}
    return sorted(findings, key=lambda f: (rank[f["severity"]], f["code"]))


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        first = error.errors(include_url=False, include_input=False)[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
    return str(error)
