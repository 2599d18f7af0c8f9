"""What an audit returns: findings with their evidence, per-patient results, the whole report."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from itertools import groupby
from operator import itemgetter

import orjson
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .engine import Match
from .rulebook import Check, Citation, Rulebook

RefractoryStatus = Literal["met", "not_met", "indeterminate"]
_FIELD = re.compile(r"\{(\w+)\.(\w+)\}")


class Result(BaseModel):
    model_config = ConfigDict(frozen=True)


class Finding(Result):
    """One check that fired for one patient: what, how serious, why, from which clause, on what facts."""

    code: str
    name: str
    severity: Literal["info", "warning", "critical"]
    message: str
    citation: Citation
    evidence: dict[str, dict[str, Any]]
    accepted: dict[str, Any] | None = Field(
        default=None, description="The record's documented exception (reason, date) when the "
                                  "deviation was deliberate; it does not count toward --fail-on.")


class StepReached(Result):
    code: str
    label: str
    rank: int = Field(description="Place on the ladder, 1 = the first step; 0 = no step recorded.")


class Refractory(Result):
    status: RefractoryStatus
    definition: str
    missing: list[str]
    evidence: dict[str, Any]


class DefinitionVerdict(Result):
    """A further definition of the pack (beside the refractory one), three-valued."""

    id: str
    label: str
    status: Literal["met", "not_met", "indeterminate"]
    missing: list[str]
    reason: str


class PatientResult(Result):
    id: str
    source: str
    as_of: str  # the audit date: an ongoing course ran to it
    step: StepReached
    refractory: Refractory
    definitions: list[DefinitionVerdict] = []
    findings: list[Finding]


class AuditError(Result):
    """A record that could not be audited: where it came from and why."""

    source: str
    patient: str | None
    message: str


class RulesUsed(Result):
    id: str
    version: str
    sha256: str


class AuditReport(Result):
    ladder: str
    as_of: str
    rules: RulesUsed
    patients: list[PatientResult]
    errors: list[AuditError]

    def to_json(self) -> str:
        """Deterministic JSON: same input, byte-identical output."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False,
                          ensure_ascii=False) + "\n"


def render(template: str, facts: dict[str, dict[str, Any]]) -> str:
    """Fill {alias.field} from the matched facts; a field the record lacks reads 'not recorded'."""
    text, places = _compiled(template)
    return text.format(*[_value(facts, alias, field) for alias, field in places])


@lru_cache(maxsize=1024)
def _compiled(template: str) -> tuple[str, tuple[tuple[str, str], ...]]:
    """A message template parsed once: str.format text with positional slots, and what fills them."""
    pieces = _FIELD.split(template)  # text, alias, field, text, alias, field, ..., text
    texts = [piece.replace("{", "{{").replace("}", "}}") for piece in pieces[::3]]
    return "{}".join(texts), tuple(zip(pieces[1::3], pieces[2::3]))


def _value(facts: dict[str, dict[str, Any]], alias: str, field: str) -> str:
    got = facts.get(alias, {}).get(field)
    if got is None or got == "":
        return "not recorded"
    return f"{got:g}" if isinstance(got, float) else str(got)


def finding_items(book: Rulebook, matches: list[Match]) -> list[dict[str, Any]]:
    """Findings as JSON-ready data, in a stable order: by code, then by date (the first date their
    evidence gives; undated last), then by their evidence."""
    checks = _checks(book)
    steps = _trial_citations(book)
    made = []
    for match in matches:
        head, template, citation, trial_alias = checks[match.code]
        if trial_alias is not None:
            citation = steps.get(match.facts.get(trial_alias, {}).get("step"), citation)
        made.append({**head, "message": render(template, match.facts), "citation": dict(citation),
                     "evidence": match.facts, "accepted": None})
    made.sort(key=itemgetter("code"))
    ordered = []
    for _, same_code in groupby(made, key=itemgetter("code")):
        run = list(same_code)
        if len(run) > 1:  # only ties pay for the JSON of their evidence
            run.sort(key=lambda f: (first_date(f["evidence"]),
                                    orjson.dumps(f["evidence"], option=orjson.OPT_SORT_KEYS)))
        ordered.extend(run)
    return ordered


@lru_cache(maxsize=16)
def _checks(book: Rulebook) -> dict[str, tuple[dict[str, str], str, dict[str, Any], str | None]]:
    """Each check by code: a finding's code, name and severity, its message template, its
    citation as JSON-ready data, and the alias of the trial whose step it cites instead, if any
    (built once per pack)."""
    return {check.code: ({"code": check.code, "name": check.name, "severity": check.severity},
                         check.message, _citation(check.citation), _trial_alias(check))
            for check in book.checks}


def _trial_alias(check: Check) -> str | None:
    if not check.cites_trial_step:
        return None
    return next((alias for alias, kind, _ in check.patterns if kind == "trial"), None)


@lru_cache(maxsize=16)
def _trial_citations(book: Rulebook) -> dict[str, dict[str, Any]]:
    return {step.code: _citation(step.trial.citation) for step in book.steps if step.trial}


def _citation(citation: Any) -> dict[str, Any]:
    return {"source": citation.source, "clause": citation.clause, "confirmed": citation.confirmed}


_DATE_FIELDS = ("start", "to_start", "date", "first_start", "end")


def first_date(evidence: dict[str, dict[str, Any]]) -> str:
    for fact in evidence.values():
        for field in _DATE_FIELDS:
            value = fact.get(field)
            if isinstance(value, str) and value[:1].isdigit():
                return value
    return "~"  # after every ISO date
