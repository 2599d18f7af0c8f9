"""Every check's own examples are its tests: the `fires` history must trigger it, `passes` must not."""

from __future__ import annotations

import re

import pytest

import ladder
from ladder.rulebook import load_rules

BOOK = load_rules()


@pytest.mark.parametrize("check", BOOK.checks, ids=lambda c: c.code)
def test_fires_on_its_example(check):
    history = ladder.History.model_validate({"id": f"{check.code}-fires", **check.examples.fires})
    found = [f for f in ladder.audit(history, BOOK).patients[0].findings if f.code == check.code]
    assert found, f"{check.code} did not fire on its own `fires` example"
    for finding in found:  # every field the message names is in the evidence
        for alias, field in re.findall(r"\{(\w+)\.(\w+)\}", check.message):
            assert field in finding.evidence[alias], (alias, field)


@pytest.mark.parametrize("check", BOOK.checks, ids=lambda c: c.code)
def test_does_not_fire_on_its_counter_example(check):
    history = ladder.History.model_validate({"id": f"{check.code}-passes", **check.examples.passes})
    fired = {f.code for f in ladder.audit(history, BOOK).patients[0].findings}
    assert check.code not in fired
