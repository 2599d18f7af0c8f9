"""Rule packs compiled to durable_rules rulesets, and one patient's facts run through them.

We drive durable_rules' C module directly rather than through its Host class: the Host starts
timer threads, round-trips every action through json, and runs actions we never need. What the
reference (docs/durable-rules.md) taught us, and how this module answers it:
- a fact no rule accepts is "not handled": the Host raises, and in a list loses the patient's
  pending actions. The C call only reports it (result code 1) after asserting every other fact, so
  we accept that code; a fact no check could match is not even sent (`relevant`);
- delete_state can crash for a patient whose rules all stayed blocked: an end-of-patient sentinel
  fact, asserted last, fires a rule for every patient;
- no none(): absence is asserted as facts (e.g. a drug class with 0 courses);
- one state per patient (a fresh sid), deleted in a finally, so memory stays flat; a state is
  about 0.6 MB of C allocations, which glibc would hand back to the kernel after every patient:
  cohort runners call `keep_freed_memory()` (the C calls ran 2-3x slower without it);
- facts are validated and rounded before they get here (the C parser rejects 1e-07).
"""

from __future__ import annotations

import ctypes
import itertools
import json
import threading
from collections import defaultdict
from typing import Any, Iterable, NamedTuple

import durable_rules_engine as dre
import orjson

from . import conditions
from .conditions import Predicate
from .errors import EngineError
from .rulebook import Rulebook

END = {"id": "ladder:end", "type": "end"}
_END_RULE = "__end"
_OK, _NOT_HANDLED = 0, 1  # durable_rules result codes (rules.h: RULES_OK, ERR_EVENT_NOT_HANDLED)
_names = itertools.count(1)


class Match(NamedTuple):  # a tuple: several are made for every patient
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


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc malloc.h


def keep_freed_memory() -> None:
    """Tune this process's allocator for auditing many patients in a row (call it in a process you
    own, such as a cohort worker: it is process-wide, so the library never calls it for you).

    durable_rules allocates about 0.6 MB for each patient's state and frees it when the state is
    deleted. By default glibc serves a block that size with mmap, or gives the top of its heap back
    to the system on free, so every patient paid for fresh pages from the kernel: the C calls ran
    2-3 times slower than with the memory kept for reuse. Memory stays flat: each patient reuses
    what the previous one freed. glibc only; elsewhere nothing happens."""
    try:
        libc = ctypes.CDLL(None)  # the running process: glibc itself on Linux
        libc.mallopt(_M_MMAP_THRESHOLD, 32 * 1024 * 1024)
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024 * 1024)
    except (OSError, AttributeError):
        pass


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
        self.relevant = Relevance((kind, condition) for check in book.checks
                                  for _, kind, condition in check.patterns)

    def run(self, facts: list[dict[str, Any]], patient: str) -> list[Match]:
        """Assert one patient's facts, collect every check that fires, delete the state."""
        sid = str(next(self._sids))
        payload = [{**fact, "sid": sid} for fact in facts if self.relevant(fact)] + [{**END, "sid": sid}]
        if len({fact["id"] for fact in payload}) != len(payload):
            # durable_rules frees memory twice on a repeated fact id and kills the process: ids are
            # ladder's own, so this is a bug of ours, reported for this patient instead of a crash.
            raise EngineError("two derived facts share an id (a ladder bug; please report it)",
                              patient=patient)
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
                        for fact in found.values():  # freshly parsed: ours to trim
                            del fact["sid"]  # the type stays: reports describe each fact by its kind
                        matches.append(Match(rule, found))
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


class Relevance:
    """Whether some check could match a fact: no test of one of its patterns is false for it.

    Called for every derived fact, so each pattern is filed under one of its plain-value tests
    (`class: jak_inhibitor`, `verdict: [a, b]`): a fact is then tried only against the patterns
    its own value for that field selects (all of them when it lacks the field: unknown), and most
    facts (a drug class no check names, a trial verdict no check asks for) cost one lookup."""

    def __init__(self, patterns: Iterable[tuple[str, dict[str, Any]]]) -> None:
        # The field a kind's patterns test against the most different values sorts its facts best
        # (`class` rather than `continues: "no"`).
        plains = [(kind, condition, conditions.plain_tests(condition)) for kind, condition in patterns]
        spread: dict[tuple[str, str], set[Any]] = defaultdict(set)
        for kind, _, plain in plains:
            for field, values in plain:
                spread[kind, field].update(values)
        unkeyed: dict[str, list[Predicate]] = defaultdict(list)
        keyed: dict[str, dict[str, tuple[dict[Any, list[Predicate]], list[Predicate]]]] = \
            defaultdict(dict)
        for kind, condition, plain in plains:
            test = conditions.compile_python(condition)
            if not plain:
                unkeyed[kind].append(test)
                continue
            field, values = max(plain, key=lambda item: len(spread[kind, item[0]]))
            by_value, every = keyed[kind].setdefault(field, ({}, []))
            for value in values:
                by_value.setdefault(value, []).append(test)
            every.append(test)
        # Per kind: the patterns to try on every fact, then (field, tests by value, all tests).
        self._plans = {kind: (unkeyed[kind], [(field, *tests) for field, tests in keyed[kind].items()])
                       for kind in {*unkeyed, *keyed}}

    def __call__(self, fact: dict[str, Any]) -> bool:
        plan = self._plans.get(fact["type"])
        if plan is None:
            return False
        unkeyed, keyed = plan
        for test in unkeyed:
            if test(fact) is not False:
                return True
        for field, by_value, every in keyed:
            value = fact.get(field)
            for test in every if value is None else by_value.get(value, ()):
                if test(fact) is not False:
                    return True
        return False
