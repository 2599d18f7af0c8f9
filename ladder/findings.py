"""What an audit returns: findings with their evidence, per-patient results, the whole report."""

from __future__ import annotations

import json
import re
from functools import lru_cache

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


class StepReached(Result):
    code: str
    label: str
    rank: int = Field(description="Place on the ladder, 1 = the first step; 0 = no step recorded.")


class Refractory(Result):
    status: RefractoryStatus
    definition: str
    missing: list[str]
    evidence: dict[str, Any]


class PatientResult(Result):
    id: str
    source: str
    step: StepReached
    refractory: Refractory
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
    rules: RulesUsed
    patients: list[PatientResult]
    errors: list[AuditError]

    def to_json(self) -> str:
        """Deterministic JSON: same input, byte-identical output."""
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=False,
                          ensure_ascii=False) + "\n"


def render(template: str, facts: dict[str, dict[str, Any]]) -> str:
    """Fill {alias.field} from the matched facts; a field the record lacks reads 'not recorded'."""
    return "".join(part if isinstance(part, str) else _value(facts, *part)
                   for part in _parts(template))


@lru_cache(maxsize=1024)
def _parts(template: str) -> tuple[str | tuple[str, str], ...]:
    """A message template split once into text and (alias, field) placeholders."""
    pieces = _FIELD.split(template)  # text, alias, field, text, alias, field, ..., text
    parts: list[str | tuple[str, str]] = []
    for n in range(0, len(pieces), 3):
        if pieces[n]:
            parts.append(pieces[n])
        if n + 2 < len(pieces):
            parts.append((pieces[n + 1], pieces[n + 2]))
    return tuple(parts)


def _value(facts: dict[str, dict[str, Any]], alias: str, field: str) -> str:
    got = facts.get(alias, {}).get(field)
    if got is None or got == "":
        return "not recorded"
    return f"{got:g}" if isinstance(got, float) else str(got)


def finding_items(book: Rulebook, matches: list[Match]) -> list[dict[str, Any]]:
    """Findings as JSON-ready data, in a stable order: by code, then by their evidence."""
    checks = _checks(book)
    made = []
    for match in matches:
        check, citation = checks[match.code]
        made.append({"code": check.code, "name": check.name, "severity": check.severity,
                     "message": render(check.message, match.facts),
                     "citation": dict(citation), "evidence": match.facts})
    return sorted(made, key=lambda f: (f["code"], orjson.dumps(f["evidence"], option=orjson.OPT_SORT_KEYS)))


@lru_cache(maxsize=16)
def _checks(book: Rulebook) -> dict[str, tuple[Check, dict[str, Any]]]:
    """Each check by code, with its citation as JSON-ready data (built once per pack)."""
    return {check.code: (check, _citation(check)) for check in book.checks}


def _citation(check: Check) -> dict[str, Any]:
    return {"source": check.citation.source, "clause": check.citation.clause,
            "confirmed": check.citation.confirmed}
