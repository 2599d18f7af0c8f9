"""Every check's own examples are its tests: the `fires` history must trigger it, `passes` must not."""

from __future__ import annotations

import re

import pytest

import ladder
from ladder.pack_loader import load_rules

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


def test_an_omalizumab_episode_is_reported_once_for_skipped_up_dosing():
    # 4-weekly then 2-weekly without a break: one episode, one LAD004 (per-drug checks fire per episode).
    history = ladder.History.model_validate({"id": "p", "courses": [
        {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 4 weeks",
         "start": "2023-01-01", "end": "2023-07-01"},
        {"drug": "omalizumab", "dose": 300, "unit": "mg", "frequency": "every 2 weeks",
         "start": "2023-07-01", "end": "2023-10-01"}]})
    found = [f for f in ladder.audit(history, BOOK).patients[0].findings if f.code == "LAD004"]
    assert [f.evidence["course"]["id"] for f in found] == ["course-1"]
