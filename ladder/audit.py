"""The pipeline: read -> model -> facts -> engine -> findings. One patient's failure never stops it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from pydantic import ValidationError

from .version import __version__
from .engine import Engine
from .errors import InputError, LadderError
from .facts import PatientFacts, derive
from .findings import AuditError, AuditReport, PatientResult, RulesUsed, finding_items
from .model import History
from .readers import Failed, Record, parse, patient_id, printable, read_paths
from .pack_loader import load_rules
from .rulebook import Rulebook

_engines: dict[str, Engine] = {}
_refused: dict[str, LadderError] = {}  # packs durable_rules would not compile: asked once, not per patient
_PHASE_STATUS = {True: "met", False: "not_met", None: "unknown"}


def engine_for(book: Rulebook) -> Engine:
    """One compiled engine per pack per process (durable_rules cannot replace a ruleset)."""
    key = f"{book.pack.id}:{book.sha256}"
    if key in _refused:
        raise _refused[key]
    if key not in _engines:
        try:
            _engines[key] = Engine(book)
        except LadderError as error:  # each new attempt leaked ~1.35 MB in the C module: remember it
            _refused[key] = error
            raise
    return _engines[key]


Annotate = Callable[[History, PatientFacts, dict[str, Any], Rulebook], dict[str, Any]]


def audit_item(history: History, book: Rulebook, source: str = "<memory>",
               as_of: dt.date | None = None, annotate: Annotate | None = None) -> dict[str, Any]:
    """Audit one patient into the JSON-ready result (the cohort fast path: no result models), as
    of `as_of` (default: today; an ongoing course runs to it). `annotate` adds what a format needs
    beyond the result (the HTML report's timeline) as item["timeline"]. Raises LadderError
    (EngineError) if the engine fails for this patient."""
    as_of = as_of or dt.date.today()
    derived = derive(history, book, as_of=as_of)
    matches = engine_for(book).run(derived.facts, patient=history.id)
    verdict = derived.verdict
    item = {"id": history.id, "source": source, "as_of": as_of.isoformat(),
            "step": {"code": derived.patient["step"], "label": derived.patient["step_label"],
                     "rank": derived.patient["step_rank"]},
            "refractory": {
                "status": verdict.status, "definition": book.refractory.definition,
                "missing": verdict.missing,
                "evidence": {"reason": verdict.reason,
                             "phases": [{"phase": p.label, "status": _PHASE_STATUS[p.status],
                                         "courses": p.evidence} for p in verdict.phases]}},
            "definitions": [{"id": spec.id, "label": spec.label or spec.id, "status": other.status,
                             "missing": other.missing, "reason": other.reason}
                            for spec, other in derived.definitions],
            "findings": _accepted(finding_items(book, matches), history)}
    if annotate is not None:
        try:
            item["timeline"] = annotate(history, derived, item, book)
        except Exception:  # noqa: BLE001  a picture that cannot be made never costs the audit itself
            item["timeline"] = None
    return item


def _accepted(findings: list[dict[str, Any]], history: History) -> list[dict[str, Any]]:
    """Mark the findings of the codes the record documents as deliberate (exceptions)."""
    if history.exceptions:
        documented = {e.code.upper(): {"reason": e.reason, "date": e.date.isoformat() if e.date else None}
                      for e in history.exceptions}
        for finding in findings:
            finding["accepted"] = documented.get(finding["code"])
    return findings


def audit_history(history: History, book: Rulebook, source: str = "<memory>",
                  as_of: dt.date | None = None) -> PatientResult:
    """Audit one patient into typed results. Raises LadderError if the engine fails for it."""
    return PatientResult.model_validate(audit_item(history, book, source, as_of))


def load_history(record: Record) -> History:
    """A record's History. Raises InputError naming the source, the patient and the field."""
    if isinstance(record.data, bytes) and b'"resourceType"' not in record.data:
        # A JSON Lines history, validated straight from its bytes (no intermediate mapping).
        # Anything wrong takes the path below, which names it as for every other record.
        try:
            return History.model_validate_json(record.data)
        except ValidationError:
            pass
    try:
        raw = parse(record)
    except ValueError as error:
        raise InputError(str(error), source=record.source) from None
    if isinstance(raw, History):
        return raw
    data = dict(raw)
    rows = data.pop("_rows", {})  # where each child record came from (CSV rows, FHIR resources)
    try:
        return History.model_validate(data)
    except ValidationError as error:
        raise InputError("; ".join(_located(error, rows)), source=record.source,
                         patient=patient_id(data)) from None


def audit_record_item(record: Record | Failed, book: Rulebook, as_of: dt.date | None = None,
                      annotate: Annotate | None = None) -> dict[str, Any]:
    """One input record -> exactly one result, or one {"error": {...}}: never an exception."""
    if isinstance(record, Failed):
        return error_item(record.source, record.patient, record.message)
    history: History | None = None
    try:
        history = load_history(record)
        return audit_item(history, book, printable(record.source), as_of, annotate)
    except LadderError as error:
        return error_item(record.source, error.patient, error.message)
    except Exception as error:  # noqa: BLE001  one record's failure, of any kind, is its own error record
        patient = history.id if history is not None else patient_id(record.data)
        return error_item(record.source, patient, f"ladder could not audit this record "
                                              f"({type(error).__name__}: {error}); please report it")


def audit_record(record: Record | Failed, book: Rulebook,
                 as_of: dt.date | None = None) -> PatientResult | AuditError:
    item = audit_record_item(record, book, as_of)
    if "error" in item:
        return AuditError.model_validate(item["error"])
    return PatientResult.model_validate(item)


def error_item(source: str, patient: str | None, message: str) -> dict[str, Any]:
    """The error record of one input record, in text every output can write."""
    return {"error": {"source": printable(source), "patient": patient and printable(patient),
                      "message": printable(message)}}


def _located(error: ValidationError, rows: dict[str, str]) -> list[str]:
    lines = []
    for item in error.errors(include_url=False):
        loc = [str(part) for part in item["loc"]]
        head = ".".join(loc[:2])
        where = f"{rows[head]}: {'.'.join(loc[2:]) or '(row)'}" if head in rows else \
            ".".join(loc) or "(top level)"
        lines.append(f"{where}: {item['msg']}{_did_you_mean(item)}")
    return lines


def _did_you_mean(item: dict[str, Any]) -> str:
    """A suggestion for a misspelt field or term: 'dosee' -> dose, 'remision' -> remission."""
    try:
        return _suggestion(item)
    except Exception:  # noqa: BLE001  a hint must never cost the error itself
        return ""


def _suggestion(item: dict[str, Any]) -> str:
    import difflib
    if item["type"] == "extra_forbidden" and item["loc"]:
        model: Any = History
        for part in item["loc"][:-1]:
            if isinstance(part, str):
                annotation = model.model_fields[part].annotation if part in model.model_fields else None
                model = next((a for a in getattr(annotation, "__args__", ()) if hasattr(a, "model_fields")),
                             annotation)
                if not hasattr(model, "model_fields"):
                    return ""
        options, written = list(model.model_fields), str(item["loc"][-1])
    elif item["type"] == "literal_error" and item.get("input") is not None:
        options, written = [o.strip(" '") for o in item["ctx"]["expected"].replace(" or ", ", ").split(", ")], \
            str(item["input"])
    else:
        return ""
    close = difflib.get_close_matches(written.lower(), options, n=1, cutoff=0.7)
    return f" (did you mean {close[0]}?)" if close else ""


def audit_records(records: Iterable[Record | Failed], book: Rulebook,
                  as_of: dt.date | None = None) -> Iterator[PatientResult | AuditError]:
    """Every record yields exactly one result or one error."""
    for record in records:
        yield audit_record(record, book, as_of)


def report(results: Iterable[PatientResult | AuditError], book: Rulebook,
           as_of: dt.date | None = None) -> AuditReport:
    patients, errors = [], []
    for result in results:
        (errors if isinstance(result, AuditError) else patients).append(result)
    return AuditReport(ladder=__version__, as_of=(as_of or dt.date.today()).isoformat(),
                       rules=RulesUsed(id=book.pack.id, version=book.pack.version, sha256=book.sha256),
                       patients=patients, errors=errors)


def audit(subject: History | dict[str, Any] | str | Path | Iterable[History | dict[str, Any]],
          rules: Rulebook | str | Path | None = None, as_of: dt.date | None = None) -> AuditReport:
    """Audit one history, a list of them, or the files at a path (case files, JSON Lines, CSV
    exports, FHIR bundles). A history may be a History, a mapping of the case-file shape, or a FHIR
    R4 Bundle as a mapping.

    `rules` is a loaded Rulebook, a path to a pack, a packaged pack's name, or None for the default
    international CSU ladder. `as_of` is the audit date (default: today): an ongoing course runs
    to it (or to the record's observed_until). Unreadable records become entries of `report.errors`.
    """
    book = rules if isinstance(rules, Rulebook) else load_rules(rules)
    if isinstance(subject, (History, dict)):
        records: Iterable[Record | Failed] = [Record("<memory>", subject)]
    elif isinstance(subject, (str, Path)):
        records = read_paths([Path(subject)])
    elif isinstance(subject, Iterable):
        records = (Record(f"<memory #{n}>", h) for n, h in enumerate(subject, start=1))
    else:
        raise TypeError(f"audit() takes a History, a mapping, a path or an iterable of histories, "
                        f"not {type(subject).__name__}")
    as_of = as_of or dt.date.today()
    return report(audit_records(records, book, as_of), book, as_of)
