"""Rule packs compiled to durable_rules rulesets, and one patient's facts run through them.

We drive durable_rules' C module directly rather than through its Host class: the Host starts
timer threads, round-trips every action through json, and runs actions we never need. What the
reference (shared/reference/durable-rules.md) taught us, and how this module answers it:
- a fact no rule accepts is "not handled": the Host raises, and in a list loses the patient's
  pending actions. The C call only reports it (result code 1) after asserting every other fact, so
  we accept that code; a fact no check could match is not even sent (`relevant`);
- delete_state can crash for a patient whose rules all stayed blocked: an end-of-patient sentinel
  fact, asserted last, fires a rule for every patient;
- no none(): absence is asserted as facts (e.g. a drug class with 0 courses);
- one state per patient (a fresh sid), deleted in a finally, so memory stays flat;
- facts are validated and rounded before they get here (the C parser rejects 1e-07).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import durable_rules_engine as dre
import orjson

from . import conditions
from .errors import EngineError
from .rulebook import Rulebook

END = {"id": "end", "type": "end"}
_END_RULE = "__end"
_OK, _NOT_HANDLED = 0, 1  # durable_rules result codes (rules.h: RULES_OK, ERR_EVENT_NOT_HANDLED)
_names = itertools.count(1)


@dataclass(frozen=True)
class Match:
    """One check that fired, with the facts it matched by alias (the evidence)."""

    code: str
    facts: dict[str, dict[str, Any]]


def compile_rulebook(book: Rulebook) -> dict[str, Any]:
    """The pack's checks as a durable_rules JSON ruleset (one rule per check)."""
    rules: dict[str, Any] = {}
    for check in book.checks:
        rules[check.code] = {"all": [
            {alias: _and([{"type": kind}, *conditions.to_durable(condition)])}
            for alias, kind, condition in check.patterns]}
    rules[_END_RULE] = {"all": [{"end": {"type": "end"}}]}
    return rules


def _and(parts: list[dict[str, Any]]) -> dict[str, Any]:
    return parts[0] if len(parts) == 1 else {"$and": parts}


class Engine:
    """A compiled rule pack. One per pack per process: durable_rules cannot replace a ruleset."""

    def __init__(self, book: Rulebook) -> None:
        self.book = book
        self.ruleset = compile_rulebook(book)
        name = f"ladder-{book.pack.id}-{book.sha256[:12]}-{next(_names)}"
        try:
            self._handle = dre.create_ruleset(name, json.dumps(self.ruleset))
        except Exception as error:  # the C module raises its own error type
            raise EngineError(f"durable_rules rejected the compiled pack: {error}",
                              source=book.origin) from None
        self._sids = itertools.count(1)
        # One patient at a time per ruleset, for threaded hosts (the CDS Hooks service, embedding
        # apps): the assert/action loop spans several C calls. Interleaved threads showed no mixing
        # in our tests (state is per sid); the lock keeps it so in an engine we cannot fix.
        self._lock = threading.Lock()
        # A fact no check could match is not asserted: the engine would only store and ignore it.
        self._wanted: dict[str, list[conditions.Predicate]] = defaultdict(list)
        for check in book.checks:
            for _, kind, condition in check.patterns:
                self._wanted[kind].append(conditions.compile_python(condition))

    def relevant(self, fact: dict[str, Any]) -> bool:
        return any(test(fact) is not False for test in self._wanted.get(fact["type"], ()))

    def run(self, facts: list[dict[str, Any]], patient: str) -> list[Match]:
        """Assert one patient's facts, collect every check that fires, delete the state."""
        sid = str(next(self._sids))
        payload = [{**fact, "sid": sid} for fact in facts if self.relevant(fact)] + [{**END, "sid": sid}]
        with self._lock:
            return self._run(sid, payload, patient)

    def _run(self, sid: str, payload: list[dict[str, Any]], patient: str) -> list[Match]:
        matches: list[Match] = []
        try:
            code, state = dre.assert_facts(self._handle, orjson.dumps(payload).decode())
            if code not in (_OK, _NOT_HANDLED):
                raise EngineError(f"durable_rules refused the facts (result code {code})",
                                  patient=patient)
            action = dre.start_action_for_state(self._handle, state)
            while action:
                for rule, found in orjson.loads(action[1]).items():
                    if rule != _END_RULE:
                        matches.append(Match(rule, {alias: _clean(fact)
                                                    for alias, fact in found.items()}))
                following = dre.complete_and_start_action(self._handle, state)
                action = (None, following) if following else None
        except EngineError:
            raise
        except Exception as error:
            raise EngineError(f"durable_rules failed: {error}", patient=patient) from None
        finally:
            try:
                dre.delete_state(self._handle, sid)
            except Exception:
                pass  # a state that never got created; nothing to free
        return matches


def _clean(fact: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in fact.items() if key not in ("sid", "type")}
