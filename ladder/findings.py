"""What an audit returns: findings with their evidence, per-patient results, the whole report."""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

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


def finding(check: Check, match: Match) -> Finding:
    return Finding(code=check.code, name=check.name, severity=check.severity,
                   message=render(check.message, match.facts), citation=check.citation,
                   evidence=match.facts)


def render(template: str, facts: dict[str, dict[str, Any]]) -> str:
    """Fill {alias.field} from the matched facts; a field the record lacks reads 'not recorded'."""
    def value(found: re.Match[str]) -> str:
        got = facts.get(found.group(1), {}).get(found.group(2))
        if got is None or got == "":
            return "not recorded"
        return f"{got:g}" if isinstance(got, float) else str(got)
    return _FIELD.sub(value, template)


def findings_for(book: Rulebook, matches: list[Match]) -> list[Finding]:
    """Findings in a stable order: by code, then by their evidence."""
    checks = {check.code: check for check in book.checks}
    made = [finding(checks[m.code], m) for m in matches]
    return sorted(made, key=lambda f: (f.code, json.dumps(f.evidence, sort_keys=True)))
